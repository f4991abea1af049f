//! The HTTP/1.1 readers of unik-http. The first byte picks the reader (even: requests, odd:
//! responses) and, with the second, how the rest is cut into pieces. Whatever the bytes, the
//! readers must not panic, a refused request must get a 4xx/5xx status, bodies stay within
//! their limit, and feeding the bytes in pieces must give what feeding them at once gives.

use unik_http::client::ResponseReader;
use unik_http::server::{Limits, Request, RequestReader};

const LIMITS: Limits = Limits {
    max_head: 512,
    max_body: 2048,
};

pub fn run(data: &[u8]) {
    let [which, cut, rest @ ..] = data else {
        return;
    };
    let step = usize::from(*cut % 17) + 1;
    if which % 2 == 0 {
        let whole = requests(rest, rest.len());
        let pieces = requests(rest, step);
        assert_eq!(whole, pieces, "pieces of {step} bytes");
    } else {
        let whole = response(rest, rest.len(), which & 2 != 0);
        let pieces = response(rest, step, which & 2 != 0);
        assert_eq!(whole, pieces, "pieces of {step} bytes");
    }
}

/// The requests read from `data` fed `step` bytes at a time, then the refusal if any.
fn requests(data: &[u8], step: usize) -> (Vec<Request>, Option<u16>) {
    let mut r = RequestReader::new(LIMITS);
    let mut out = Vec::new();
    for piece in data.chunks(step.max(1)) {
        r.push(piece);
        loop {
            match r.next_request() {
                Ok(Some(req)) => {
                    assert!(req.body.len() <= LIMITS.max_body);
                    out.push(req);
                }
                Ok(None) => break,
                Err(refusal) => {
                    assert!(
                        [400, 413, 431, 501, 505].contains(&refusal.status),
                        "{refusal:?}"
                    );
                    return (out, Some(refusal.status));
                }
            }
        }
    }
    (out, None)
}

/// The response read from `data` fed `step` bytes at a time, then at the end of the stream.
fn response(data: &[u8], step: usize, head: bool) -> String {
    let mut r = ResponseReader::new(head, LIMITS.max_head, LIMITS.max_body);
    for piece in data.chunks(step.max(1)) {
        r.push(piece);
        match r.next_response() {
            Ok(Some(resp)) => {
                assert!(resp.body.len() <= LIMITS.max_body);
                return format!("{resp:?}");
            }
            Ok(None) => {}
            Err(e) => return format!("{e:?}"),
        }
    }
    match r.finish() {
        Ok(resp) => {
            assert!(resp.body.len() <= LIMITS.max_body);
            format!("{resp:?}")
        }
        Err(e) => format!("{e:?}"),
    }
}

/// Requests and responses of the kinds the readers handle.
pub fn seeds() -> Vec<Vec<u8>> {
    let requests: [&[u8]; 5] = [
        b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n",
        b"POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
        b"PUT /u HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nbody",
        b"GET / HTTP/1.0\r\nConnection: keep-alive\r\nRange: bytes=0-9\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: a\r\n\r\n",
    ];
    let responses: [&[u8]; 3] = [
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"HTTP/1.0 206 Partial Content\r\nContent-Range: bytes 0-1/2\r\n\r\nhi",
    ];
    let mut out = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        out.push([&[0, i as u8 * 3][..], r].concat());
    }
    for (i, r) in responses.iter().enumerate() {
        out.push([&[1 + 2 * (i as u8 % 2), i as u8 * 5][..], r].concat());
    }
    out
}
