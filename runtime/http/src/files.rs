//! A [`Handler`] serving the files of a read-only store: GET and HEAD,
//! `index.html` for directories, single byte ranges (206, 416), 404 and
//! 405.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use unik_rt::{EntryKind, Key, KvRo};

use crate::io::{Handler, Response};
use crate::range::{self, Range};
use crate::server::Request;

/// The files of `kv`, by request path.
pub struct Files<K: KvRo + 'static> {
    kv: &'static K,
}

impl<K: KvRo + 'static> Files<K> {
    pub fn new(kv: &'static K) -> Files<K> {
        Files { kv }
    }

    /// The key a path names: `index.html` for the root and directories.
    async fn lookup(&self, path: &str) -> Option<Key> {
        let path = path.trim_matches('/');
        let mut key = if path.is_empty() {
            Key::root()
        } else {
            Key::parse(path).ok()?
        };
        if key.is_root() || self.kv.exists(&key).await.ok()? == Some(EntryKind::Dictionary) {
            key = key.child("index.html").ok()?;
        }
        match self.kv.exists(&key).await.ok()? {
            Some(EntryKind::Value) => Some(key),
            _ => None,
        }
    }
}

impl<K: KvRo + 'static> Handler for Files<K> {
    async fn handle(&self, req: &Request) -> Response {
        if req.method != "GET" && req.method != "HEAD" {
            return Response::new(405, "text/plain", b"method not allowed\n".to_vec())
                .with_header("Allow", "GET, HEAD");
        }
        let Some(key) = self.lookup(req.path()).await else {
            return Response::new(404, "text/plain", b"not found\n".to_vec());
        };
        let kind = content_type(key.basename().unwrap_or(""));
        let Ok(size) = self.kv.size(&key).await else {
            return Response::new(500, "text/plain", b"store error\n".to_vec());
        };
        let want = if req.method == "GET" {
            range::of(req.header("range"), size)
        } else {
            Range::Whole
        };
        let (status, offset, len, content_range) = match want {
            Range::Whole => (200, 0, size, None),
            Range::Part { start, end } => (
                206,
                start,
                end - start,
                Some(format!("bytes {start}-{}/{size}", end - 1)),
            ),
            Range::Unsatisfiable => {
                return Response::new(416, "text/plain", b"range not satisfiable\n".to_vec())
                    .with_header("Content-Range", &format!("bytes */{size}"));
            }
        };
        let body = if req.method == "HEAD" {
            // Only the length is sent: a body of that length, never read.
            Vec::new()
        } else {
            match self
                .kv
                .get_partial(&key, offset, usize::try_from(len).unwrap_or(usize::MAX))
                .await
            {
                Ok(b) => b,
                Err(_) => return Response::new(500, "text/plain", b"store error\n".to_vec()),
            }
        };
        let mut resp = Response::new(status, kind, body).with_header("Accept-Ranges", "bytes");
        if req.method == "HEAD" {
            resp.headers
                .push((String::from("Content-Length"), format!("{size}")));
        }
        if let Some(cr) = content_range {
            resp = resp.with_header("Content-Range", &cr);
        }
        resp
    }
}

/// The media type of a file name's extension.
pub fn content_type(name: &str) -> &'static str {
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
