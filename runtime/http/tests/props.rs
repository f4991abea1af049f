//! Property tests of the sans-IO readers: any bytes, cut anywhere, never
//! make them panic, and cutting does not change what they read; requests
//! built from parts read back as those parts.

use proptest::prelude::*;
use unik_http::client::{ResponseReader, Url};
use unik_http::server::{Limits, Request, RequestReader};

const LIMITS: Limits = Limits {
    max_head: 256,
    max_body: 1024,
};

fn read_requests(data: &[u8], cuts: &[usize]) -> (Vec<Request>, Option<u16>) {
    let mut r = RequestReader::new(LIMITS);
    let mut out = Vec::new();
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.push(data.len());
    points.sort();
    for p in points {
        r.push(&data[at..p]);
        at = p;
        loop {
            match r.next_request() {
                Ok(Some(req)) => out.push(req),
                Ok(None) => break,
                Err(e) => return (out, Some(e.status)),
            }
        }
    }
    (out, None)
}

fn read_response(data: &[u8], cuts: &[usize]) -> String {
    let mut r = ResponseReader::new(false, 256, 1024);
    let mut at = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (data.len() + 1)).collect();
    points.push(data.len());
    points.sort();
    for p in points {
        r.push(&data[at..p]);
        at = p;
        match r.next_response() {
            Ok(Some(resp)) => return format!("{resp:?}"),
            Ok(None) => {}
            Err(e) => return format!("{e:?}"),
        }
    }
    format!("{:?}", r.finish())
}

/// Bytes that look like HTTP often enough to get past the request line.
fn httpish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"GET / HTTP/1.1\r\n".to_vec()),
        Just(b"POST /x HTTP/1.1\r\n".to_vec()),
        Just(b"Host: a\r\n".to_vec()),
        Just(b"Content-Length: 3\r\n".to_vec()),
        Just(b"Transfer-Encoding: chunked\r\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"3\r\nabc\r\n".to_vec()),
        Just(b"0\r\n\r\n".to_vec()),
        Just(b"HTTP/1.1 200 OK\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..12),
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn any_bytes_cut_anywhere_read_the_same(
        data in prop_oneof![proptest::collection::vec(any::<u8>(), 0..600), httpish()],
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let whole = read_requests(&data, &[]);
        let cut = read_requests(&data, &cuts);
        prop_assert_eq!(&whole, &cut);
        if let Some(s) = whole.1 {
            prop_assert!([400, 413, 431, 501, 505].contains(&s), "status {}", s);
        }
        for r in &whole.0 {
            prop_assert!(r.body.len() <= LIMITS.max_body);
        }
        prop_assert_eq!(read_response(&data, &[]), read_response(&data, &cuts));
    }

    #[test]
    fn built_requests_read_back(
        path in "/[a-z0-9/._-]{0,40}",
        body in proptest::collection::vec(any::<u8>(), 0..300),
        chunk in 1usize..64,
        chunked in any::<bool>(),
    ) {
        let mut bytes = format!("PUT {path} HTTP/1.1\r\nHost: h\r\n").into_bytes();
        if chunked {
            bytes.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for c in body.chunks(chunk) {
                bytes.extend_from_slice(format!("{:X}\r\n", c.len()).as_bytes());
                bytes.extend_from_slice(c);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        } else {
            bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
            bytes.extend_from_slice(&body);
        }
        let (reqs, refused) = read_requests(&bytes, &[chunk]);
        prop_assert_eq!(refused, None);
        prop_assert_eq!(reqs.len(), 1);
        prop_assert_eq!(&reqs[0].target, &path);
        prop_assert_eq!(&reqs[0].body, &body);
    }

    #[test]
    fn urls_never_panic_and_parse_back(
        any in ".{0,80}",
        https in any::<bool>(),
        host in "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
        port in proptest::option::of(any::<u16>()),
        path in "(/[a-z0-9._~-]{0,12}){0,4}",
    ) {
        let _ = Url::parse(&any);
        let scheme = if https { "https" } else { "http" };
        let port_part = port.map(|p| format!(":{p}")).unwrap_or_default();
        let url = Url::parse(&format!("{scheme}://{host}{port_part}{path}")).unwrap();
        let default = if https { 443 } else { 80 };
        prop_assert_eq!(&url.host, &host);
        prop_assert_eq!(url.port, port.unwrap_or(default));
        prop_assert_eq!(url.target, if path.is_empty() { "/".to_string() } else { path });
    }
}
