//! `unikc lsp`: the language server, on stdio.
//!
//! Synchronous, like rust-analyzer's `lsp-server` loop: one thread reads
//! messages in order. Every change reparses the whole file at once (the
//! index serves requests); the full check (evaluation and resolution for
//! every target, as `unikc check` does) runs once no message is waiting, so
//! a burst of edits is checked once, at its end.

mod catalogue;
mod complete;
mod diagnostics;
mod doc;
mod hover;
mod index;
mod lock;
mod probe;
mod requests;
#[cfg(test)]
mod tests;
mod uri;

use catalogue::Catalogue;
use doc::Doc;
use lsp_server::{Connection, Message, Notification, Request, Response};
use lsp_types::{
    CompletionOptions, Diagnostic as LspDiagnostic, DidChangeTextDocumentParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams,
    HoverProviderCapability, InlayHintOptions, InlayHintServerCapabilities, OneOf,
    PublishDiagnosticsParams, SaveOptions, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions, Uri,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use unik_lang::eval::ModuleArena;

/// Runs the server until the client says `exit`; the exit code of the CLI.
/// True when the session ended cleanly (an `exit` after `shutdown`).
pub fn serve() -> bool {
    let (conn, io) = Connection::stdio();
    let caps = serde_json::to_value(capabilities()).expect("capabilities serialise");
    let init = serde_json::json!({
        "capabilities": caps,
        "serverInfo": ServerInfo { name: "unikc".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    let ok = match conn.initialize_start() {
        Ok((id, _params)) => conn.initialize_finish(id, init).is_ok(),
        Err(e) => {
            eprintln!("unikc lsp: {e}");
            false
        }
    };
    let clean = ok && Server::new(&conn).run();
    drop(conn);
    let joined = io.join().is_ok();
    clean && joined
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["$".into(), ".".into(), "\"".into(), " ".into()]),
            ..CompletionOptions::default()
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        inlay_hint_provider: Some(OneOf::Right(InlayHintServerCapabilities::Options(
            InlayHintOptions::default(),
        ))),
        ..ServerCapabilities::default()
    }
}

/// What requests are answered from: the open documents, the global names
/// and the parse cache. Fixture tests (`tests.rs`) build one without a
/// connection and call the analysis functions directly.
pub struct World {
    pub docs: HashMap<PathBuf, Doc>,
    pub cat: Catalogue,
    /// Parses kept across checks and probes (the catalogue is parsed once);
    /// replaced now and then, since an arena only grows.
    pub arena: ModuleArena,
}

impl World {
    pub fn new(cat: Catalogue) -> World {
        World {
            docs: HashMap::new(),
            cat,
            arena: ModuleArena::new(),
        }
    }

    /// Texts of the open documents other than `except`, for imports.
    pub fn overlays(&self, except: &Path) -> BTreeMap<PathBuf, String> {
        self.docs
            .iter()
            .filter(|(p, _)| p.as_path() != except)
            .map(|(p, d)| (p.clone(), d.now.text().to_string()))
            .collect()
    }
}

pub struct Server<'c> {
    conn: &'c Connection,
    world: World,
    /// Open documents to check once the queue is empty.
    pending: BTreeSet<PathBuf>,
    /// Per checked document: the files its last check read.
    read: HashMap<PathBuf, BTreeSet<PathBuf>>,
    /// Per file: per checked document, the diagnostics it has there.
    published: HashMap<PathBuf, BTreeMap<PathBuf, Vec<LspDiagnostic>>>,
    /// Per checked document: its last full check of itself.
    last: HashMap<PathBuf, diagnostics::LastCheck>,
    /// Every global name, for the quick pass's scope check.
    globals: Vec<unik_lang::syntax::Name>,
    arena_checks: usize,
}

/// Checks after which the parse arena is started afresh.
const ARENA_CHECKS: usize = 100;

impl<'c> Server<'c> {
    fn new(conn: &'c Connection) -> Server<'c> {
        let cat = Catalogue::new();
        let globals = cat.names().map(Into::into).collect();
        Server {
            conn,
            world: World::new(cat),
            last: HashMap::new(),
            globals,
            arena_checks: 0,
            pending: BTreeSet::new(),
            read: HashMap::new(),
            published: HashMap::new(),
        }
    }

    /// The message loop; false when the connection broke off.
    fn run(&mut self) -> bool {
        loop {
            let Ok(msg) = self.conn.receiver.recv() else {
                return false;
            };
            match msg {
                Message::Request(req) => match self.conn.handle_shutdown(&req) {
                    Ok(true) => return true,
                    Ok(false) => self.request(req),
                    Err(_) => return false,
                },
                Message::Notification(n) => {
                    if n.method == "exit" {
                        return false;
                    }
                    self.notification(n);
                }
                Message::Response(_) => {}
            }
            if self.conn.receiver.is_empty() {
                self.check_pending();
            }
        }
    }

    fn send(&self, msg: Message) {
        // A closed channel means the client is gone; the loop ends on recv.
        let _ = self.conn.sender.send(msg);
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(p) = serde_json::from_value::<DidOpenTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(path) = uri::to_path(&p.text_document.uri) else {
                    return;
                };
                let d = Doc::new(
                    p.text_document.uri,
                    path.clone(),
                    p.text_document.version,
                    p.text_document.text,
                );
                self.world.docs.insert(path.clone(), d);
                self.changed(&path);
                self.quick(&path);
            }
            "textDocument/didChange" => {
                let Ok(p) = serde_json::from_value::<DidChangeTextDocumentParams>(n.params) else {
                    return;
                };
                let Some(path) = uri::to_path(&p.text_document.uri) else {
                    return;
                };
                if let Some(d) = self.world.docs.get_mut(&path) {
                    d.version = p.text_document.version;
                    d.apply(p.content_changes);
                    self.changed(&path);
                    self.quick(&path);
                }
            }
            "textDocument/didSave" => {
                if let Ok(p) = serde_json::from_value::<DidSaveTextDocumentParams>(n.params)
                    && let Some(path) = uri::to_path(&p.text_document.uri)
                {
                    // The lock or an imported file may have changed on disk too.
                    self.changed(&path);
                    self.pending.extend(self.world.docs.keys().cloned());
                }
            }
            "textDocument/didClose" => {
                if let Ok(p) = serde_json::from_value::<DidCloseTextDocumentParams>(n.params)
                    && let Some(path) = uri::to_path(&p.text_document.uri)
                {
                    self.world.docs.remove(&path);
                    self.read.remove(&path);
                    self.last.remove(&path);
                    self.pending.remove(&path);
                    let files: Vec<PathBuf> = self.published.keys().cloned().collect();
                    for f in files {
                        self.set_contribution(&f, &path, Vec::new());
                    }
                    // Checks that read its buffer now read the disk.
                    self.changed(&path);
                }
            }
            _ => {}
        }
    }

    /// Queues the document (when open) and every document whose last
    /// check read it.
    fn changed(&mut self, path: &Path) {
        if self.world.docs.contains_key(path) && self.world.cat.stdlib_file_of(path).is_none() {
            self.pending.insert(path.to_path_buf());
        }
        for (root, read) in &self.read {
            if read.contains(path) && self.world.docs.contains_key(root) {
                self.pending.insert(root.clone());
            }
        }
    }

    /// Publishes the quick pass of a document that is checked.
    fn quick(&mut self, path: &Path) {
        if !self.pending.contains(path) {
            return;
        }
        let Some(doc) = self.world.docs.get(path) else {
            return;
        };
        let diags = diagnostics::quick(doc, &self.world.cat, &self.globals, self.last.get(path));
        self.set_contribution(path, path, diags);
    }

    fn check_pending(&mut self) {
        for path in std::mem::take(&mut self.pending) {
            if !self.world.docs.contains_key(&path) {
                continue;
            }
            self.arena_checks += 1;
            if self.arena_checks > ARENA_CHECKS {
                self.world.arena = ModuleArena::new();
                self.arena_checks = 0;
            }
            let doc = &self.world.docs[&path];
            let checked = diagnostics::check(
                doc,
                self.world.overlays(&path),
                &self.world.cat,
                &self.world.arena,
            );
            let analysis = doc.now.clone();
            let before: Vec<PathBuf> = self
                .published
                .iter()
                .filter(|(_, by)| by.contains_key(&path))
                .map(|(f, _)| f.clone())
                .collect();
            for f in before {
                if !checked.files.contains_key(&f) {
                    self.set_contribution(&f, &path, Vec::new());
                }
            }
            let own = checked.files.get(&path).cloned().unwrap_or_default();
            self.last.insert(
                path.clone(),
                diagnostics::LastCheck {
                    analysis,
                    diagnostics: own,
                },
            );
            for (f, diags) in checked.files {
                self.set_contribution(&f, &path, diags);
            }
            self.read.insert(path, checked.read);
        }
    }

    /// Records what `root`'s check found in `file` and republishes `file`
    /// if the union over every check changed. A checked document's own
    /// diagnostics are always published: the client learns its check ended.
    fn set_contribution(&mut self, file: &Path, root: &Path, diags: Vec<LspDiagnostic>) {
        let always = file == root && self.world.docs.contains_key(root);
        let by = self.published.entry(file.to_path_buf()).or_default();
        let old = union(by);
        if diags.is_empty() {
            by.remove(root);
        } else {
            by.insert(root.to_path_buf(), diags);
        }
        let new = union(by);
        if new == old && !always {
            return;
        }
        let Some(uri) = self.uri_of(file) else {
            return;
        };
        let version = self.world.docs.get(file).map(|d| d.version);
        let params = PublishDiagnosticsParams::new(uri, new, version);
        self.send(Message::Notification(Notification::new(
            "textDocument/publishDiagnostics".into(),
            params,
        )));
    }

    fn uri_of(&self, path: &Path) -> Option<Uri> {
        match self.world.docs.get(path) {
            Some(d) => Some(d.uri.clone()),
            None => uri::from_path(path),
        }
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        let response = match requests::handle(&self.world, req) {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code, message),
        };
        self.send(Message::Response(response));
    }
}

/// Every check's diagnostics for one file, without duplicates.
fn union(by: &BTreeMap<PathBuf, Vec<LspDiagnostic>>) -> Vec<LspDiagnostic> {
    let mut out: Vec<LspDiagnostic> = Vec::new();
    for d in by.values().flatten() {
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    out.sort_by_key(|d| (d.range.start.line, d.range.start.character));
    out
}
