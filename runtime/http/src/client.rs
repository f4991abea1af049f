//! The client side, sans-IO: requests encoded to bytes; bytes in,
//! complete responses out.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::chunked::{ChunkError, Decoder};
use crate::server::{MAX_HEADERS, parse_length};
use crate::{Headers, header, lists};

/// A complete response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor: u8,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        header(&self.headers, name)
    }

    /// Whether the server keeps the connection open after this response.
    pub fn keep_alive(&self) -> bool {
        if lists(&self.headers, "connection", "close") {
            return false;
        }
        self.minor >= 1 || lists(&self.headers, "connection", "keep-alive")
    }
}

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The URL is not `http[s]://HOST[:PORT][/PATH]`.
    Url(String),
    /// The host's name could not be resolved.
    Resolve(String),
    /// The server's bytes are not HTTP/1.x.
    Malformed(&'static str),
    /// The response head or body exceeds the limits.
    TooLarge,
    /// The connection closed before the response was complete.
    Truncated,
    Tcp(unik_rt::TcpError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Url(u) => write!(f, "not an http[s]://host[:port]/path URL: {u}"),
            ClientError::Resolve(why) => write!(f, "cannot resolve the host: {why}"),
            ClientError::Malformed(why) => write!(f, "malformed response: {why}"),
            ClientError::TooLarge => f.write_str("response too large"),
            ClientError::Truncated => f.write_str("connection closed before the response ended"),
            ClientError::Tcp(e) => write!(f, "{e}"),
        }
    }
}

impl From<unik_rt::TcpError> for ClientError {
    fn from(e: unik_rt::TcpError) -> ClientError {
        ClientError::Tcp(e)
    }
}

/// Encodes a request. A body is sent with `Content-Length`.
pub fn encode_request(
    method: &str,
    target: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT") {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

#[derive(Debug)]
enum Body {
    Length(usize),
    Chunked(Decoder),
    /// Delimited by the end of the connection.
    ToEof,
}

#[derive(Debug)]
enum State {
    Head,
    Body(Response, Body),
}

/// Turns a connection's bytes into the response to one request.
pub struct ResponseReader {
    buf: Vec<u8>,
    state: State,
    /// The request was HEAD: no body whatever the headers say.
    head_request: bool,
    max_head: usize,
    max_body: usize,
}

impl ResponseReader {
    pub fn new(head_request: bool, max_head: usize, max_body: usize) -> ResponseReader {
        ResponseReader {
            buf: Vec::new(),
            state: State::Head,
            head_request,
            max_head,
            max_body,
        }
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes received beyond the response (a server must not send any).
    pub fn leftover(&self) -> usize {
        match self.state {
            State::Head => self.buf.len(),
            State::Body(..) => 0,
        }
    }

    /// The response, once complete. Interim (1xx) responses are skipped.
    pub fn next_response(&mut self) -> Result<Option<Response>, ClientError> {
        loop {
            match &mut self.state {
                State::Head => {
                    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                    let mut parsed = httparse::Response::new(&mut headers);
                    // Only the first `max_head` bytes are parsed, so that the
                    // answer does not depend on how the bytes arrived.
                    let window = &self.buf[..self.buf.len().min(self.max_head)];
                    let used = match parsed.parse(window) {
                        Ok(httparse::Status::Complete(n)) => n,
                        Ok(httparse::Status::Partial) => {
                            if self.buf.len() > self.max_head {
                                return Err(ClientError::TooLarge);
                            }
                            return Ok(None);
                        }
                        Err(httparse::Error::TooManyHeaders) => return Err(ClientError::TooLarge),
                        Err(_) => return Err(ClientError::Malformed("bad status line or header")),
                    };
                    if used > self.max_head {
                        return Err(ClientError::TooLarge);
                    }
                    let status = parsed.code.unwrap_or(0);
                    let resp = Response {
                        status,
                        reason: parsed.reason.unwrap_or("").to_string(),
                        minor: parsed.version.unwrap_or(1),
                        headers: parsed
                            .headers
                            .iter()
                            .map(|h| (h.name.to_string(), h.value.to_vec()))
                            .collect(),
                        body: Vec::new(),
                    };
                    self.buf.drain(..used);
                    if (100..200).contains(&status) {
                        continue;
                    }
                    let body = self.framing(&resp)?;
                    self.state = State::Body(resp, body);
                }
                State::Body(resp, body) => {
                    let done = match body {
                        Body::Length(n) => {
                            let take = (*n).min(self.buf.len());
                            resp.body.extend_from_slice(&self.buf[..take]);
                            self.buf.drain(..take);
                            *n -= take;
                            *n == 0
                        }
                        Body::Chunked(d) => {
                            let (used, done) = d
                                .decode(&self.buf, &mut resp.body, self.max_body, self.max_head)
                                .map_err(|e| match e {
                                    ChunkError::Malformed => {
                                        ClientError::Malformed("bad chunked body")
                                    }
                                    ChunkError::TooLarge | ChunkError::TrailerTooLarge => {
                                        ClientError::TooLarge
                                    }
                                })?;
                            self.buf.drain(..used);
                            done
                        }
                        Body::ToEof => {
                            if resp.body.len() + self.buf.len() > self.max_body {
                                return Err(ClientError::TooLarge);
                            }
                            resp.body.append(&mut self.buf);
                            false
                        }
                    };
                    if !done {
                        return Ok(None);
                    }
                    let State::Body(resp, _) = core::mem::replace(&mut self.state, State::Head)
                    else {
                        unreachable!("matched above")
                    };
                    return Ok(Some(resp));
                }
            }
        }
    }

    /// The connection ended: the response if it was delimited by the end,
    /// otherwise [`ClientError::Truncated`].
    pub fn finish(&mut self) -> Result<Response, ClientError> {
        if let Some(r) = self.next_response()? {
            return Ok(r);
        }
        match core::mem::replace(&mut self.state, State::Head) {
            State::Body(resp, Body::ToEof) => Ok(resp),
            _ => Err(ClientError::Truncated),
        }
    }

    fn framing(&self, resp: &Response) -> Result<Body, ClientError> {
        if self.head_request || resp.status == 204 || resp.status == 304 {
            return Ok(Body::Length(0));
        }
        if let Some(te) = resp.header("transfer-encoding") {
            let last = te.rsplit(|b| *b == b',').next().unwrap_or(&[]).trim_ascii();
            return Ok(if last.eq_ignore_ascii_case(b"chunked") {
                Body::Chunked(Decoder::new())
            } else {
                Body::ToEof
            });
        }
        let lengths: Vec<&[u8]> = resp
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map(|(_, v)| v.as_slice())
            .collect();
        match lengths.first() {
            None => Ok(Body::ToEof),
            Some(first) => {
                if lengths.iter().any(|v| v != first) {
                    return Err(ClientError::Malformed("conflicting Content-Length"));
                }
                let n = parse_length(first).ok_or(ClientError::Malformed("bad Content-Length"))?;
                if n > self.max_body as u64 {
                    return Err(ClientError::TooLarge);
                }
                Ok(Body::Length(n as usize))
            }
        }
    }
}

/// A URL's scheme.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Http,
    /// HTTP over TLS: the server is verified against the client's authorities.
    Https,
}

impl Scheme {
    /// The port a URL without one means.
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// An `http://` or `https://` URL split into host, port and request target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    pub scheme: Scheme,
    /// An IPv4 address or a DNS name (lower case), as written.
    pub host: String,
    pub port: u16,
    /// The path and query, `/` when the URL has none.
    pub target: String,
}

impl Url {
    /// Parses `http[s]://HOST[:PORT][/PATH]`, HOST an IPv4 address or a
    /// DNS name.
    pub fn parse(url: &str) -> Result<Url, ClientError> {
        let bad = || ClientError::Url(url.to_string());
        let (scheme, rest) = match url.split_once("://") {
            Some((s, rest)) if s.eq_ignore_ascii_case("http") => (Scheme::Http, rest),
            Some((s, rest)) if s.eq_ignore_ascii_case("https") => (Scheme::Https, rest),
            _ => return Err(bad()),
        };
        let (authority, target) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        // The fragment is the client's own business: never sent.
        let target = target.split('#').next().unwrap_or("");
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (authority, scheme.default_port()),
        };
        let name_like = host.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
        if host.is_empty() || host.len() > 253 || !name_like {
            return Err(bad());
        }
        // A dotted all-digit host must be an IPv4 address, not a name.
        let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if numeric && host.parse::<core::net::Ipv4Addr>().is_err() {
            return Err(bad());
        }
        let target = if target.is_empty() {
            "/".to_string()
        } else if target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_string()
        };
        Ok(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            target,
        })
    }

    /// The host as an IPv4 address, if it is one.
    pub fn ipv4(&self) -> Option<core::net::Ipv4Addr> {
        self.host.parse().ok()
    }

    /// The `Host` header's value.
    pub fn authority(&self) -> String {
        if self.port == self.scheme.default_port() {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether a connection made for `self` can carry a request for `other`.
    pub fn same_origin(&self, other: &Url) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], head: bool) -> Result<Option<Response>, ClientError> {
        let mut r = ResponseReader::new(head, 1024, 1024);
        r.push(bytes);
        r.next_response()
    }

    #[test]
    fn content_length_chunked_and_eof_bodies() {
        let r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", false)
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"abc"[..]));
        assert!(r.keep_alive());
        let r = read(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n",
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, &b"hi"[..]));
        let mut eof = ResponseReader::new(false, 1024, 1024);
        eof.push(b"HTTP/1.0 200 OK\r\n\r\nall of it");
        assert_eq!(eof.next_response().unwrap(), None);
        let r = eof.finish().unwrap();
        assert_eq!(r.body, b"all of it");
        assert!(!r.keep_alive());
    }

    #[test]
    fn head_responses_have_no_body() {
        let r = read(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", true)
            .unwrap()
            .unwrap();
        assert!(r.body.is_empty());
    }

    #[test]
    fn truncated_and_malformed_responses_are_errors() {
        let mut r = ResponseReader::new(false, 1024, 1024);
        r.push(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        assert_eq!(r.next_response().unwrap(), None);
        assert_eq!(r.finish().unwrap_err(), ClientError::Truncated);
        assert!(matches!(
            read(b"SMTP 200\r\n\r\n", false),
            Err(ClientError::Malformed(_))
        ));
        assert_eq!(
            read(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n", false).unwrap_err(),
            ClientError::TooLarge
        );
    }

    #[test]
    fn urls() {
        let u = Url::parse("http://10.0.0.1:8080/a/b?c").unwrap();
        assert_eq!(
            (u.ipv4().unwrap().octets(), u.port, u.target.as_str()),
            ([10, 0, 0, 1], 8080, "/a/b?c")
        );
        assert_eq!(u.authority(), "10.0.0.1:8080");
        let u = Url::parse("http://10.0.0.1").unwrap();
        assert_eq!((u.port, u.target.as_str()), (80, "/"));
        let u = Url::parse("HTTPS://Example.COM/x#frag").unwrap();
        assert_eq!(
            (u.scheme, u.host.as_str(), u.port, u.target.as_str()),
            (Scheme::Https, "example.com", 443, "/x")
        );
        assert_eq!(u.ipv4(), None);
        assert_eq!(u.authority(), "example.com");
        let u = Url::parse("https://localhost:4443?q").unwrap();
        assert_eq!(
            (u.authority().as_str(), u.target.as_str()),
            ("localhost:4443", "/?q")
        );
        assert!(!u.same_origin(&Url::parse("http://localhost:4443/").unwrap()));
        assert!(Url::parse("ftp://10.0.0.1/").is_err());
        assert!(Url::parse("http://10.0.0.1:99999/").is_err());
        assert!(Url::parse("http://10.0.0.300/").is_err());
        assert!(Url::parse("http://a..b/").is_err());
        assert!(Url::parse("http:///x").is_err());
        assert!(Url::parse("http://user@host/").is_err());
    }

    #[test]
    fn requests_encode_their_body_length() {
        let r = encode_request("POST", "/x", "h", &[("A", "b")], b"hey");
        assert_eq!(
            r,
            b"POST /x HTTP/1.1\r\nHost: h\r\nA: b\r\nContent-Length: 3\r\n\r\nhey"
        );
    }
}
