//! Request handlers: hover, definition, completion, formatting, document
//! symbols and inlay hints.

use super::catalogue::{Global, example_key};
use super::complete::{self, Context};
use super::doc::{Analysis, Doc};
use super::hover;
use super::index::{Def, SymKind};
use super::lock::Locked;
use super::probe::Info;
use super::{World, uri};
use lsp_server::{ErrorCode, Request};
use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionParams, CompletionResponse,
    DocumentFormattingParams, DocumentSymbol, DocumentSymbolParams, DocumentSymbolResponse,
    Documentation, GotoDefinitionParams, GotoDefinitionResponse, Hover, HoverContents, HoverParams,
    InlayHint, InlayHintKind, InlayHintLabel, InlayHintParams, Location, MarkupContent, MarkupKind,
    Position, Range, SymbolKind, TextDocumentIdentifier, TextEdit,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::rc::Rc;
use unik_lang::Target;
use unik_lang::diag::{SourceFile, Span};
use unik_lang::eval::builtins::NAMED;

type Answer = Result<Value, (i32, String)>;

fn params<P: DeserializeOwned>(req: Request) -> Result<P, (i32, String)> {
    serde_json::from_value(req.params).map_err(|e| (ErrorCode::InvalidParams as i32, e.to_string()))
}

fn json<T: serde::Serialize>(v: T) -> Answer {
    Ok(serde_json::to_value(v).expect("LSP types serialise"))
}

pub fn handle(s: &World, req: Request) -> Answer {
    match req.method.as_str() {
        "textDocument/hover" => {
            let p: HoverParams = params(req)?;
            let pp = p.text_document_position_params;
            json(with_doc(s, &pp.text_document, |s, d| {
                hover(s, d, pp.position)
            }))
        }
        "textDocument/definition" => {
            let p: GotoDefinitionParams = params(req)?;
            let pp = p.text_document_position_params;
            json(with_doc(s, &pp.text_document, |s, d| {
                definition(s, d, pp.position)
            }))
        }
        "textDocument/completion" => {
            let p: CompletionParams = params(req)?;
            let pp = p.text_document_position;
            json(with_doc(s, &pp.text_document, |s, d| {
                Some(CompletionResponse::Array(completion(s, d, pp.position)))
            }))
        }
        "textDocument/formatting" => {
            let p: DocumentFormattingParams = params(req)?;
            json(with_doc(s, &p.text_document, |_, d| format(d)))
        }
        "textDocument/documentSymbol" => {
            let p: DocumentSymbolParams = params(req)?;
            json(with_doc(s, &p.text_document, |_, d| {
                Some(DocumentSymbolResponse::Nested(symbols(d)))
            }))
        }
        "textDocument/inlayHint" => {
            let p: InlayHintParams = params(req)?;
            json(with_doc(s, &p.text_document, |s, d| {
                Some(inlay_hints(s, d, p.range))
            }))
        }
        other => Err((
            ErrorCode::MethodNotFound as i32,
            format!("unikc lsp does not handle {other}"),
        )),
    }
}

fn with_doc<T>(
    s: &World,
    id: &TextDocumentIdentifier,
    f: impl FnOnce(&World, &Doc) -> Option<T>,
) -> Option<T> {
    let path = uri::to_path(&id.uri)?;
    let doc = s.docs.get(&path)?;
    f(s, doc)
}

/// The analysis whose top-level bindings are evaluated: the current one
/// when it parses, else the last good one, else the broken current one.
fn evaluable(doc: &Doc) -> Rc<Analysis> {
    match &doc.good {
        Some(g) if !doc.now.syntax_ok => g.clone(),
        _ => doc.now.clone(),
    }
}

/// A top-level binding's value on every target.
fn top_values(s: &World, doc: &Doc, name: &str) -> Vec<(&'static str, Info)> {
    let a = evaluable(doc);
    if a.index.top_def(name).is_none() {
        return Vec::new();
    }
    let overlays = s.overlays(&doc.path);
    Target::NAMES
        .iter()
        .filter_map(|t| Some((*t, a.probe(t, &overlays, &s.arena).get(name)?.clone())))
        .collect()
}

/// A top-level binding's value on unix (completion and hints need one).
fn top_value(s: &World, doc: &Doc, name: &str) -> Option<Info> {
    let a = evaluable(doc);
    a.index.top_def(name)?;
    a.probe("unix", &s.overlays(&doc.path), &s.arena)
        .get(name)
        .cloned()
}

fn markdown(value: String) -> HoverContents {
    HoverContents::Markup(MarkupContent {
        kind: MarkupKind::Markdown,
        value,
    })
}

pub fn hover(s: &World, doc: &Doc, pos: Position) -> Option<Hover> {
    let locked = Locked::beside(&doc.path);
    for view in doc.views(pos) {
        let ix = &view.analysis.index;
        let (def, span, global) = if let Some(r) = ix.ref_at(view.offset) {
            (r.def, r.span, Some(r.name.clone()))
        } else if let Some(i) = ix.def_at(view.offset) {
            (Some(i), ix.defs[i].span, None)
        } else if let Some((span, p)) = ix.path_at(view.offset) {
            let base = doc.path.parent()?;
            let abs = unik_lang::path::normalize(&base.join(p));
            let state = if abs.is_file() { "" } else { " (missing)" };
            return Some(Hover {
                contents: markdown(format!("`{}`{state}", abs.display())),
                range: view.to_current(*span).map(|sp| doc.now.range(sp)),
            });
        } else {
            continue;
        };
        let text = match def {
            Some(i) => {
                let d: &Def = &ix.defs[i];
                let per_target = if ix.is_top(d) {
                    top_values(s, doc, &d.name)
                } else {
                    Vec::new()
                };
                let doc_text = view.analysis.doc_comment(d);
                hover::local(d, view.analysis.text(), &doc_text, &per_target, &locked)
            }
            None => hover::global(&s.cat, &global?, &locked, &s.arena)?,
        };
        return Some(Hover {
            contents: markdown(text),
            range: view.to_current(span).map(|sp| doc.now.range(sp)),
        });
    }
    None
}

fn location(path: &std::path::Path, text: &str, span: Span) -> Option<Location> {
    let f = SourceFile::new(path.to_path_buf(), String::new(), text.to_string());
    let (sl, sc) = f.lsp_position(span.start);
    let (el, ec) = f.lsp_position(span.end);
    Some(Location {
        uri: uri::from_path(path)?,
        range: Range::new(Position::new(sl, sc), Position::new(el, ec)),
    })
}

pub fn definition(s: &World, doc: &Doc, pos: Position) -> Option<GotoDefinitionResponse> {
    for view in doc.views(pos) {
        let ix = &view.analysis.index;
        let local = |i: usize| -> Option<GotoDefinitionResponse> {
            let span = view.to_current(ix.defs[i].span)?;
            Some(GotoDefinitionResponse::Scalar(Location {
                uri: doc.uri.clone(),
                range: doc.now.range(span),
            }))
        };
        if let Some(r) = ix.ref_at(view.offset) {
            return match r.def {
                Some(i) => local(i),
                None => match s.cat.lookup(&r.name)? {
                    Global::Entry(e) => {
                        let (path, span) = s.cat.location(e)?;
                        let text = unik_stdlib::FILES.iter().find(|(f, _)| *f == e.file)?.1;
                        location(&path, text, span).map(GotoDefinitionResponse::Scalar)
                    }
                    _ => None,
                },
            };
        }
        if let Some(i) = ix.def_at(view.offset) {
            return local(i);
        }
        if let Some((_, p)) = ix.path_at(view.offset) {
            let abs = unik_lang::path::normalize(&doc.path.parent()?.join(p));
            let file = if abs.is_dir() {
                abs.join("config.unik")
            } else {
                abs
            };
            return Some(GotoDefinitionResponse::Scalar(Location {
                uri: uri::from_path(&file)?,
                range: Range::default(),
            }));
        }
    }
    None
}

fn item(
    label: &str,
    kind: CompletionItemKind,
    detail: Option<String>,
    doc: Option<String>,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail,
        documentation: doc.filter(|d| !d.is_empty()).map(|value| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            })
        }),
        ..CompletionItem::default()
    }
}

fn info_kind(info: Option<&Info>) -> CompletionItemKind {
    match info {
        Some(Info::Device(..)) => CompletionItemKind::CONSTRUCTOR,
        Some(Info::Function) => CompletionItemKind::FUNCTION,
        Some(Info::Type(_)) => CompletionItemKind::INTERFACE,
        Some(Info::Key(_)) => CompletionItemKind::PROPERTY,
        Some(Info::Package(_)) => CompletionItemKind::MODULE,
        _ => CompletionItemKind::VARIABLE,
    }
}

pub(super) fn info_detail(info: Option<&Info>) -> Option<String> {
    match info? {
        Info::Device(d, t) => super::probe::device_type(d, t).map(|t| t.to_string()),
        Info::Type(t) => Some(format!("type {t}")),
        Info::Key(k) => Some(format!("key --{} : {}", k.name, k.ty.as_str())),
        Info::Package(p) => Some(format!("package {} {}", p.name, super::probe::bounds(p))),
        Info::Function => Some("function".into()),
        Info::Other(k) => Some((*k).into()),
        Info::Failed => None,
    }
}

/// Names of top-level bindings and locals visible at the cursor, from the
/// current parse and the last good one.
fn local_names(doc: &Doc, pos: Position) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |n: &str| {
        if !out.iter().any(|o| o == n) {
            out.push(n.to_string());
        }
    };
    for view in doc.views(pos) {
        for d in view.analysis.index.visible(view.offset) {
            push(&d.name);
        }
    }
    if let Some(g) = &doc.good {
        for d in g.index.defs.iter().filter(|d| g.index.is_top(d)) {
            push(&d.name);
        }
    }
    out
}

pub fn completion(s: &World, doc: &Doc, pos: Position) -> Vec<CompletionItem> {
    let offset = doc.now.offset(pos) as usize;
    let (ctx, _prefix) = complete::context(&doc.now.text()[..offset]);
    match ctx {
        Context::Nothing => Vec::new(),
        Context::Strings(values) => values
            .iter()
            .map(|v| item(v, CompletionItemKind::VALUE, None, None))
            .collect(),
        Context::Fields(fields) => fields
            .iter()
            .map(|(f, d)| item(f, CompletionItemKind::FIELD, Some((*d).into()), None))
            .collect(),
        Context::TargetCases => Target::NAMES
            .iter()
            .chain(&["default"])
            .map(|t| item(t, CompletionItemKind::ENUM_MEMBER, None, None))
            .collect(),
        Context::Builtins => NAMED
            .iter()
            .map(|(n, _, d)| item(n, CompletionItemKind::FUNCTION, Some((*d).into()), None))
            .collect(),
        Context::Device { head, index } => devices(s, doc, pos, head.as_deref(), index),
        Context::Names => {
            let mut items = Vec::new();
            let locals = local_names(doc, pos);
            for n in &locals {
                let info = top_value(s, doc, n);
                items.push(item(
                    n,
                    info_kind(info.as_ref()),
                    info_detail(info.as_ref()),
                    None,
                ));
            }
            let unix = s.cat.values("unix", &s.arena);
            for n in s.cat.names() {
                if locals.iter().any(|l| l == n) {
                    continue;
                }
                let (detail, doc_text) = match s.cat.lookup(n) {
                    Some(Global::Builtin { doc, .. }) => (Some(doc.to_string()), None),
                    Some(Global::Constant { doc, .. }) => (Some(doc.to_string()), None),
                    Some(Global::Entry(e)) => (info_detail(unix.get(n)), Some(e.doc.clone())),
                    None => (None, None),
                };
                let kind = match s.cat.lookup(n) {
                    Some(Global::Builtin { .. }) => CompletionItemKind::FUNCTION,
                    Some(Global::Constant { .. }) => CompletionItemKind::CONSTANT,
                    _ => info_kind(unix.get(n)),
                };
                items.push(item(n, kind, detail, doc_text));
            }
            items
        }
    }
}

/// The device type of a name at the cursor (a local top-level binding or a
/// catalogue entry), on unix.
fn type_of_name(
    s: &World,
    doc: &Doc,
    pos: Position,
    name: &str,
) -> Option<Rc<unik_lang::eval::DevType>> {
    let local = local_names(doc, pos).iter().any(|n| n == name);
    if local {
        return top_value(s, doc, name)?.device_type();
    }
    s.cat.values("unix", &s.arena).get(name)?.device_type()
}

/// Devices for the `index`-th `$` argument of `head`: those of the
/// expected type when it is known, else every device.
fn devices(
    s: &World,
    doc: &Doc,
    pos: Position,
    head: Option<&str>,
    index: usize,
) -> Vec<CompletionItem> {
    let expected: Option<String> = head
        .and_then(|h| type_of_name(s, doc, pos, h))
        .and_then(|t| t.unfold().0.get(index).map(|p| p.to_string()));
    let fits = |ty: &str| expected.as_deref().is_none_or(|e| e == ty);
    let mut items = Vec::new();
    let mut seen = BTreeSet::new();
    let locals = local_names(doc, pos);
    let mut local_values: HashMap<String, Info> = HashMap::new();
    for n in &locals {
        if let Some(i) = top_value(s, doc, n) {
            local_values.insert(n.clone(), i);
        }
    }
    for n in &locals {
        if let Some(t) = local_values.get(n).and_then(Info::device_type)
            && fits(&t.to_string())
            && Some(n.as_str()) != head
            && seen.insert(n.clone())
        {
            items.push(item(
                n,
                CompletionItemKind::VARIABLE,
                Some(t.to_string()),
                None,
            ));
        }
    }
    let unix = s.cat.values("unix", &s.arena);
    for e in &s.cat.entries {
        if locals.contains(&e.name) {
            continue;
        }
        if let Some(t) = unix.get(&e.name).and_then(Info::device_type)
            && fits(&t.to_string())
            && seen.insert(e.name.clone())
        {
            items.push(item(
                &e.name,
                CompletionItemKind::CONSTRUCTOR,
                Some(t.to_string()),
                Some(e.doc.clone()),
            ));
        } else if let Some(ex) = &e.example
            && let Some(t) = unix.get(&example_key(&e.name)).and_then(Info::device_type)
            && matches!(unix.get(&e.name), Some(Info::Function))
            && fits(&t.to_string())
            && seen.insert(e.name.clone())
        {
            // A device-making function: insert its example call.
            let mut it = item(
                &e.name,
                CompletionItemKind::FUNCTION,
                Some(format!("{t} (e.g. {ex})")),
                Some(e.doc.clone()),
            );
            it.insert_text = Some(ex.clone());
            items.push(it);
        }
    }
    items
}

pub fn format(doc: &Doc) -> Option<Vec<TextEdit>> {
    let text = doc.now.text();
    // A file with syntax errors is left alone (the diagnostics say why).
    let formatted = unik_lang::fmt::format(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    let end = doc.now.position(text.len() as u32);
    Some(vec![TextEdit {
        range: Range::new(Position::new(0, 0), end),
        new_text: formatted,
    }])
}

fn symbol_kind(k: SymKind) -> SymbolKind {
    match k {
        SymKind::Variable => SymbolKind::VARIABLE,
        SymKind::Function => SymbolKind::FUNCTION,
        SymKind::Set => SymbolKind::OBJECT,
        SymKind::Key => SymbolKind::KEY,
        SymKind::Package => SymbolKind::PACKAGE,
        SymKind::Device => SymbolKind::CLASS,
        SymKind::Type => SymbolKind::INTERFACE,
        SymKind::Register => SymbolKind::MODULE,
    }
}

pub fn symbols(doc: &Doc) -> Vec<DocumentSymbol> {
    let (a, shift) = doc.best();
    let map = |s: Span| match shift {
        None => Some(s),
        Some(sh) => sh.span_to_new(s),
    };
    fn convert(
        syms: &[super::index::Sym],
        doc: &Doc,
        map: &dyn Fn(Span) -> Option<Span>,
    ) -> Vec<DocumentSymbol> {
        syms.iter()
            .filter_map(|s| {
                let span = map(s.span)?;
                let name = map(s.name_span).unwrap_or(span);
                #[allow(deprecated)]
                Some(DocumentSymbol {
                    name: s.name.clone(),
                    detail: None,
                    kind: symbol_kind(s.kind),
                    tags: None,
                    deprecated: None,
                    range: doc.now.range(span),
                    selection_range: doc.now.range(name),
                    children: Some(convert(&s.children, doc, map)).filter(|c| !c.is_empty()),
                })
            })
            .collect()
    }
    convert(&a.index.symbols, doc, &map)
}

pub fn inlay_hints(s: &World, doc: &Doc, range: Range) -> Vec<InlayHint> {
    let (a, shift) = doc.best();
    let map = |o: u32| match shift {
        None => Some(o),
        Some(sh) => sh.to_new(o),
    };
    let lo = doc.now.offset(range.start);
    let hi = doc.now.offset(range.end);
    let mut hints = Vec::new();
    let mut hint = |at: u32, label: String, kind: Option<InlayHintKind>| {
        if at >= lo && at <= hi {
            hints.push(InlayHint {
                position: doc.now.position(at),
                label: InlayHintLabel::String(label),
                kind,
                text_edits: None,
                tooltip: None,
                padding_left: Some(kind.is_none()),
                padding_right: None,
                data: None,
            });
        }
    };
    let values = a.probe("unix", &s.overlays(&doc.path), &s.arena);
    for d in a.index.defs.iter().filter(|d| a.index.is_top(d)) {
        if let Some(t) = values.get(&*d.name).and_then(Info::device_type)
            && let Some(at) = map(d.span.end)
        {
            hint(at, format!(": {t}"), Some(InlayHintKind::TYPE));
        }
    }
    let locked = Locked::beside(&doc.path);
    for p in &a.index.packages {
        if let Some(v) = locked.version(&p.name)
            && let Some(at) = map(p.name_span.end)
        {
            hint(at, format!("locked {v}"), None);
        }
    }
    hints.sort_by_key(|h| (h.position.line, h.position.character));
    hints
}
