//! The server side, sans-IO: bytes in, complete requests (or the error
//! status to answer with) out; responses encoded to bytes.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::chunked::{ChunkError, Decoder};
use crate::{Headers, header, lists};

/// Most header lines parsed; more is answered 431.
pub const MAX_HEADERS: usize = 64;

/// How much a request may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of the request line and headers (431 beyond).
    pub max_head: usize,
    /// Bytes of the body, decoded (413 beyond).
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 8 * 1024,
            max_body: 1024 * 1024,
        }
    }
}

/// A complete request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    /// The request target as sent (`/index.html?x`).
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Headers,
    /// The body, chunked coding removed.
    pub body: Vec<u8>,
}

impl Request {
    /// The value of header `name`, the first if repeated.
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header(&self.headers, name)
    }

    /// The target's path, without query or fragment.
    pub fn path(&self) -> &str {
        self.target.split(['?', '#']).next().unwrap_or("")
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if lists(&self.headers, "connection", "close") {
            return false;
        }
        self.minor >= 1 || lists(&self.headers, "connection", "keep-alive")
    }
}

/// A request refused: answer with `status` and close the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub why: &'static str,
}

fn refuse(status: u16, why: &'static str) -> Refusal {
    Refusal { status, why }
}

#[derive(Clone, Debug)]
enum Body {
    Length(usize),
    Chunked(Decoder),
}

#[derive(Clone, Debug)]
enum State {
    Head,
    Body {
        req: Request,
        body: Body,
    },
    /// A request was refused: nothing more is read.
    Failed,
}

/// Turns the bytes of a connection into requests, in order (pipelined
/// requests wait in the buffer for their turn).
pub struct RequestReader {
    buf: Vec<u8>,
    state: State,
    limits: Limits,
    continue_due: bool,
}

impl RequestReader {
    pub fn new(limits: Limits) -> RequestReader {
        RequestReader {
            buf: Vec::new(),
            state: State::Head,
            limits,
            continue_due: false,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received and not yet part of a returned request.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// True once for a request that sent `Expect: 100-continue` and whose
    /// body has not arrived: the driver answers `100 Continue`.
    pub fn take_continue(&mut self) -> bool {
        core::mem::take(&mut self.continue_due)
    }

    /// The next complete request: `Ok(None)` until its bytes are all here;
    /// `Err` for a request to refuse (the reader then stays failed).
    pub fn next_request(&mut self) -> Result<Option<Request>, Refusal> {
        let r = self.step();
        if r.is_err() {
            self.state = State::Failed;
            self.buf.clear();
        }
        r
    }

    fn step(&mut self) -> Result<Option<Request>, Refusal> {
        loop {
            match &mut self.state {
                State::Failed => return Err(refuse(400, "the connection already failed")),
                State::Head => {
                    // Empty lines before a request are ignored (RFC 9112 §2.2).
                    let skip = self
                        .buf
                        .iter()
                        .position(|b| *b != b'\r' && *b != b'\n')
                        .unwrap_or(self.buf.len());
                    self.buf.drain(..skip);
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    let Some((used, req, body)) = self.head()? else {
                        return Ok(None);
                    };
                    self.buf.drain(..used);
                    self.continue_due = lists(&req.headers, "expect", "100-continue")
                        && req.minor >= 1
                        && !matches!(body, Body::Length(0));
                    self.state = State::Body { req, body };
                }
                State::Body { req, body } => {
                    let done = match body {
                        Body::Length(n) => {
                            let take = (*n).min(self.buf.len());
                            req.body.extend_from_slice(&self.buf[..take]);
                            self.buf.drain(..take);
                            *n -= take;
                            *n == 0
                        }
                        Body::Chunked(d) => {
                            let (used, done) = d
                                .decode(
                                    &self.buf,
                                    &mut req.body,
                                    self.limits.max_body,
                                    self.limits.max_head,
                                )
                                .map_err(|e| match e {
                                    ChunkError::Malformed => refuse(400, "malformed chunked body"),
                                    ChunkError::TooLarge => refuse(413, "body too large"),
                                    ChunkError::TrailerTooLarge => {
                                        refuse(431, "trailer section too large")
                                    }
                                })?;
                            self.buf.drain(..used);
                            done
                        }
                    };
                    if !done {
                        return Ok(None);
                    }
                    self.continue_due = false;
                    let State::Body { req, .. } = core::mem::replace(&mut self.state, State::Head)
                    else {
                        unreachable!("matched above")
                    };
                    return Ok(Some(req));
                }
            }
        }
    }

    /// Parses the head at the start of the buffer, if complete.
    fn head(&self) -> Result<Option<(usize, Request, Body)>, Refusal> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        // Only the first `max_head` bytes are parsed, so that the answer does
        // not depend on how many bytes arrived together.
        let window = &self.buf[..self.buf.len().min(self.limits.max_head)];
        let used = match parsed.parse(window) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) => {
                if self.buf.len() > self.limits.max_head {
                    return Err(refuse(431, "request head too large"));
                }
                return Ok(None);
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(refuse(431, "too many header fields"));
            }
            Err(httparse::Error::Version) => {
                // `HTTP/2.` may yet become `HTTP/2.0` (505) or something else (400).
                if !window.contains(&b'\n')
                    && self.buf.len() <= self.limits.max_head
                    && may_become_version(version_of(window))
                {
                    return Ok(None);
                }
                return Err(version_refusal(window));
            }
            Err(_) => return Err(refuse(400, "malformed request head")),
        };
        if used > self.limits.max_head {
            return Err(refuse(431, "request head too large"));
        }
        let minor = parsed.version.unwrap_or(1);
        let req = Request {
            method: parsed.method.unwrap_or("").to_string(),
            target: parsed.path.unwrap_or("").to_string(),
            minor,
            headers: parsed
                .headers
                .iter()
                .map(|h| (h.name.to_string(), h.value.to_vec()))
                .collect(),
            body: Vec::new(),
        };
        if minor >= 1 && req.header("host").is_none() {
            return Err(refuse(400, "HTTP/1.1 request without Host"));
        }
        let body = framing(&req, self.limits.max_body)?;
        Ok(Some((used, req, body)))
    }
}

/// What follows the method and the target on the request line.
fn version_of(buf: &[u8]) -> &[u8] {
    let line = buf.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.splitn(3, |b| *b == b' ').nth(2).unwrap_or(&[])
}

/// Whether `v` (without line end) is the start of `HTTP/D.D`.
fn may_become_version(v: &[u8]) -> bool {
    let v = v.strip_suffix(b"\r").unwrap_or(v);
    v.len() <= 8
        && v.iter().zip(b"HTTP/0.0").all(|(b, p)| match p {
            b'0' => b.is_ascii_digit(),
            p => b == p,
        })
}

/// A version httparse refused: 505 for a well-formed `HTTP/x.y` it does
/// not speak, 400 for anything else.
fn version_refusal(buf: &[u8]) -> Refusal {
    match version_of(buf) {
        [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
            if major.is_ascii_digit() && minor.is_ascii_digit() =>
        {
            refuse(505, "unsupported HTTP version")
        }
        [b'H', b'T', b'T', b'P', b'/', major] if major.is_ascii_digit() => {
            refuse(505, "unsupported HTTP version")
        }
        _ => refuse(400, "malformed request line"),
    }
}

/// How the body is delimited (RFC 9112 §6.3), refusing the ambiguous.
fn framing(req: &Request, max_body: usize) -> Result<Body, Refusal> {
    let te: Vec<&[u8]> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("transfer-encoding"))
        .map(|(_, v)| v.as_slice())
        .collect();
    let cl: Vec<&[u8]> = req
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .map(|(_, v)| v.as_slice())
        .collect();
    if !te.is_empty() {
        // Both would let two parsers disagree on where the body ends.
        if !cl.is_empty() {
            return Err(refuse(400, "both Transfer-Encoding and Content-Length"));
        }
        if req.minor == 0 {
            return Err(refuse(400, "Transfer-Encoding in an HTTP/1.0 request"));
        }
        let codings: Vec<&[u8]> = te
            .iter()
            .flat_map(|v| v.split(|b| *b == b','))
            .map(|c| c.trim_ascii())
            .collect();
        return match codings.as_slice() {
            [c] if c.eq_ignore_ascii_case(b"chunked") => Ok(Body::Chunked(Decoder::new())),
            _ => Err(refuse(501, "unsupported transfer coding")),
        };
    }
    let Some(first) = cl.first() else {
        return Ok(Body::Length(0));
    };
    if cl.iter().any(|v| v != first) {
        return Err(refuse(400, "conflicting Content-Length"));
    }
    let n = parse_length(first).ok_or(refuse(400, "malformed Content-Length"))?;
    if n > max_body as u64 {
        return Err(refuse(413, "body too large"));
    }
    Ok(Body::Length(n as usize))
}

/// A Content-Length value: digits only, at most 18 of them.
pub(crate) fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 18 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(v.iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')))
}

/// The status line and headers of a response, ending with the empty line.
pub fn encode_head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", crate::reason(status)).into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(n.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// The whole answer to a refused request (it closes the connection).
pub fn encode_refusal(r: &Refusal) -> Vec<u8> {
    let body = format!("{}\n", r.why);
    let len = body.len().to_string();
    let mut out = encode_head(
        r.status,
        &[
            ("Content-Type", "text/plain"),
            ("Content-Length", &len),
            ("Connection", "close"),
        ],
    );
    out.extend_from_slice(body.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader() -> RequestReader {
        RequestReader::new(Limits {
            max_head: 256,
            max_body: 64,
        })
    }

    fn one(bytes: &[u8]) -> Result<Option<Request>, Refusal> {
        let mut r = reader();
        r.push(bytes);
        r.next_request()
    }

    #[test]
    fn pipelined_requests_come_out_in_order() {
        let mut r = reader();
        r.push(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /c HTTP/1.1\r\nHo");
        let a = r.next_request().unwrap().unwrap();
        assert_eq!((a.method.as_str(), a.target.as_str()), ("GET", "/a"));
        let b = r.next_request().unwrap().unwrap();
        assert_eq!(b.body, b"abc");
        assert_eq!(r.next_request().unwrap(), None);
        r.push(b"st: x\r\n\r\n");
        assert_eq!(r.next_request().unwrap().unwrap().target, "/c");
        assert_eq!(r.next_request().unwrap(), None);
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        let req = one(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(req.body, b"abc");
    }

    #[test]
    fn limits_and_errors_have_their_status() {
        let status = |b: &[u8]| one(b).unwrap_err().status;
        let big = alloc::format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
            "a".repeat(300)
        );
        assert_eq!(status(big.as_bytes()), 431);
        // Incomplete but already too large.
        assert_eq!(status(&[b'a'; 300][..]), 431);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n"),
            413
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n"),
            413
        );
        assert_eq!(status(b"GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / FTP/1.1\r\nHost: x\r\n\r\n"), 400);
        assert_eq!(status(b"G\x01T / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
            400
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            400
        );
        assert_eq!(
            status(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501
        );
    }

    #[test]
    fn a_version_cut_short_waits_for_the_rest() {
        let mut r = reader();
        r.push(b"GET / HTTP/2.");
        assert_eq!(r.next_request().unwrap(), None);
        r.push(b"0\r\nHost: x\r\n\r\n");
        assert_eq!(r.next_request().unwrap_err().status, 505);
        let mut r = reader();
        r.push(b"GET / HTTP/2.x");
        assert_eq!(r.next_request().unwrap_err().status, 400);
        // The version is the third word, whatever comes later (found by fuzzing).
        let mut r = reader();
        r.push(b"GET / HTTP/T / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(r.next_request().unwrap_err().status, 400);
    }

    #[test]
    fn a_partial_head_too_large_is_431() {
        let mut r = reader();
        r.push(b"GET / HTTP/1.1\r\nHost: x\r\n");
        assert_eq!(r.next_request().unwrap(), None);
        r.push(&[b'a'; 300]);
        assert_eq!(r.next_request().unwrap_err().status, 431);
    }

    #[test]
    fn keep_alive_follows_the_version_and_connection() {
        let ka = |b: &[u8]| one(b).unwrap().unwrap().keep_alive();
        assert!(ka(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(!ka(
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        ));
        assert!(!ka(b"GET / HTTP/1.0\r\n\r\n"));
        assert!(ka(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    }

    #[test]
    fn expect_continue_is_signalled_once() {
        let mut r = reader();
        r.push(b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n");
        assert_eq!(r.next_request().unwrap(), None);
        assert!(r.take_continue());
        assert!(!r.take_continue());
        r.push(b"ok");
        assert_eq!(r.next_request().unwrap().unwrap().body, b"ok");
    }
}
