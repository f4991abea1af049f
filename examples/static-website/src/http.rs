//! One HTTP/1.1 connection: requests parsed with `httparse`, answered from the store.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use unik_rt::{EntryKind, Key, KvRo, TcpFlow};

/// Request heads larger than this are refused.
const MAX_HEAD: usize = 16 * 1024;

struct Request {
    head: bool,
    path: Option<String>,
    close: bool,
}

/// Serves requests until the client closes, asks to, or errs.
pub async fn serve<K: KvRo, F: TcpFlow>(kv: &'static K, flow: F) {
    let peer = flow.peer();
    if let Err(e) = requests(kv, &flow).await {
        unik_rt::log::debug!(target: "http", "{peer}: {e}");
    }
    let _ = flow.close().await;
}

async fn requests<K: KvRo, F: TcpFlow>(kv: &K, flow: &F) -> Result<(), unik_rt::TcpError> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut have = 0;
    loop {
        let (used, req) = loop {
            match parse(&buf[..have]) {
                Ok(Some(r)) => break r,
                Ok(None) if have < buf.len() => {
                    let n = flow.read(&mut buf[have..]).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    have += n;
                }
                _ => {
                    flow.write(&response(400, "Bad Request", "text/plain", 0, true))
                        .await?;
                    return Ok(());
                }
            }
        };
        buf.copy_within(used..have, 0);
        have -= used;
        let close = answer(kv, flow, &req).await?;
        if close {
            return Ok(());
        }
    }
}

/// `Ok(None)`: the head is not complete yet.
fn parse(bytes: &[u8]) -> Result<Option<(usize, Request)>, httparse::Error> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut req = httparse::Request::new(&mut headers);
    let used = match req.parse(bytes)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let method = req.method.unwrap_or("");
    let asks_close = req.headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("connection") && h.value.eq_ignore_ascii_case(b"close")
    });
    Ok(Some((
        used,
        Request {
            head: method == "HEAD",
            path: (method == "GET" || method == "HEAD")
                .then(|| req.path.unwrap_or("/").to_string()),
            close: asks_close || req.version == Some(0),
        },
    )))
}

/// Writes the answer; true if the connection must close afterwards.
async fn answer<K: KvRo, F: TcpFlow>(
    kv: &K,
    flow: &F,
    req: &Request,
) -> Result<bool, unik_rt::TcpError> {
    let Some(path) = &req.path else {
        flow.write(&response(
            405,
            "Method Not Allowed",
            "text/plain",
            0,
            req.close,
        ))
        .await?;
        return Ok(req.close);
    };
    match lookup(kv, path).await {
        Some((key, body)) => {
            let kind = content_type(key.basename().unwrap_or(""));
            flow.write(&response(200, "OK", kind, body.len(), req.close))
                .await?;
            if !req.head {
                flow.write(&body).await?;
            }
        }
        None => {
            let body = b"not found\n";
            flow.write(&response(
                404,
                "Not Found",
                "text/plain",
                body.len(),
                req.close,
            ))
            .await?;
            if !req.head {
                flow.write(body).await?;
            }
        }
    }
    Ok(req.close)
}

/// The file a request path names: query dropped, `index.html` for the root and directories.
async fn lookup<K: KvRo>(kv: &K, path: &str) -> Option<(Key, Vec<u8>)> {
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_matches('/');
    let mut key = if path.is_empty() {
        Key::root()
    } else {
        Key::parse(path).ok()?
    };
    if key.is_root() || kv.exists(&key).await.ok()? == Some(EntryKind::Dictionary) {
        key = key.child("index.html").ok()?;
    }
    match kv.exists(&key).await.ok()? {
        Some(EntryKind::Value) => {
            let body = kv.get(&key).await.ok()?;
            Some((key, body))
        }
        _ => None,
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("css") => "text/css",
        Some("js") => "text/javascript",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn response(code: u16, reason: &str, kind: &str, len: usize, close: bool) -> Vec<u8> {
    format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len}\r\n{}\r\n",
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes()
}
