//! A minimal LSP client speaking JSON-RPC to the real `unikc lsp` process,
//! for the protocol tests and the benchmark.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// How long any single answer may take before a test fails (generous: the
/// machine is shared and debug builds are slow).
pub const TIMEOUT: Duration = Duration::from_secs(60);

pub struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    /// Notifications and server requests seen while waiting for something else.
    pub backlog: VecDeque<Value>,
    next_id: i64,
}

/// `file://` URI of an absolute path (test paths are plain ASCII or
/// percent-encoded by the caller).
pub fn uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for b in path.to_str().expect("UTF-8 path").bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The 0-based line and UTF-16 column of the `nth` occurrence of `needle`
/// in `text`, plus `delta` characters.
pub fn pos(text: &str, needle: &str, nth: usize, delta: usize) -> Value {
    let at = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        .0;
    let at = at
        + text[at..]
            .chars()
            .take(delta)
            .map(char::len_utf8)
            .sum::<usize>();
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line = text[..at].matches('\n').count();
    let character: usize = text[line_start..at].chars().map(char::len_utf16).sum();
    json!({ "line": line, "character": character })
}

impl Client {
    /// Starts `unikc lsp` with its cache in `cache` and initialises it.
    pub fn start(cache: &Path) -> Client {
        Client::start_with(env!("CARGO_BIN_EXE_unikc"), cache)
    }

    pub fn start_with(exe: impl AsRef<std::ffi::OsStr>, cache: &Path) -> Client {
        let mut child = Command::new(exe)
            .arg("lsp")
            .env("UNIKC_CACHE_DIR", cache)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting unikc lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = None;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length: ") {
                        len = v.parse::<usize>().ok();
                    }
                }
                let mut body = vec![0; len.expect("a Content-Length header")];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("JSON from the server");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let mut c = Client {
            child,
            stdin,
            incoming: rx,
            backlog: VecDeque::new(),
            next_id: 0,
        };
        let init = c.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": {} }),
        );
        assert_eq!(init["serverInfo"]["name"], "unikc", "{init}");
        c.notify("initialized", json!({}));
        c
    }

    fn write(&mut self, v: Value) {
        let body = v.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .expect("writing to the server");
        self.stdin.flush().expect("flushing");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.write(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn recv(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.incoming.recv_timeout(left) {
            Ok(v) => v,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server in time"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    /// Sends a request and returns its result (panics on an error response).
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let r = self.request_raw(method, params);
        assert!(r.get("error").is_none(), "{method} failed: {r}");
        r["result"].clone()
    }

    pub fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let m = self.recv(deadline);
            if m["id"] == json!(id) && m.get("method").is_none() {
                return m;
            }
            self.backlog.push_back(m);
        }
    }

    pub fn open(&mut self, path: &Path, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri(path), "languageId": "unik", "version": 1, "text": text } }),
        );
    }

    /// Replaces the whole text.
    pub fn change(&mut self, path: &Path, version: i32, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(path), "version": version },
                    "contentChanges": [ { "text": text } ] }),
        );
    }

    /// Replaces `range` (LSP positions) with `text`.
    pub fn edit(&mut self, path: &Path, version: i32, range: Value, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri(path), "version": version },
                    "contentChanges": [ { "range": range, "text": text } ] }),
        );
    }

    /// The next `publishDiagnostics` for `path` whose list satisfies `pred`
    /// (earlier ones, e.g. the quick pass before the full check, are skipped).
    pub fn diagnostics_until(
        &mut self,
        path: &Path,
        pred: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let want = uri(path);
        let deadline = Instant::now() + TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let m = match self.backlog.pop_front() {
                Some(m) => m,
                None => {
                    if Instant::now() >= deadline {
                        panic!("no matching diagnostics for {want}; saw {seen:#?}");
                    }
                    match self
                        .incoming
                        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    {
                        Ok(m) => m,
                        Err(_) => panic!("no matching diagnostics for {want}; saw {seen:#?}"),
                    }
                }
            };
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == want {
                let list = m["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                if pred(&list) {
                    return list;
                }
                seen.push(list);
            }
        }
    }

    /// The next `publishDiagnostics` for `path`, whatever it holds.
    pub fn next_diagnostics(&mut self, path: &Path) -> Vec<Value> {
        self.diagnostics_until(path, |_| true)
    }

    pub fn hover(&mut self, path: &Path, at: Value) -> Value {
        self.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri(path) }, "position": at }),
        )
    }

    pub fn definition(&mut self, path: &Path, at: Value) -> Value {
        self.request(
            "textDocument/definition",
            json!({ "textDocument": { "uri": uri(path) }, "position": at }),
        )
    }

    /// Labels of the completion items at `at`.
    pub fn completion(&mut self, path: &Path, at: Value) -> Vec<Value> {
        let r = self.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": uri(path) }, "position": at }),
        );
        match r {
            Value::Array(items) => items,
            Value::Object(_) => r["items"].as_array().cloned().unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Shuts the server down; it must exit with status 0.
    pub fn shutdown(mut self) {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting") {
                assert!(status.success(), "unikc lsp exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "unikc lsp did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A scratch directory with files copied or written in.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("a temporary directory"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::create_dir_all(p.parent().expect("a parent")).expect("mkdir");
        std::fs::write(&p, text).expect("writing a scratch file");
        p
    }
}
