//! Checking an open document through the CLI's pipeline (syntax, scope,
//! evaluation, typing per target, bounds) and turning unikc diagnostics
//! into LSP ones, grouped by the file they point at.

use super::catalogue::Catalogue;
use super::doc::{Analysis, Doc, Shift};
use super::uri;
use crate::ops::check::{self as op, Want};
use lsp_types::{
    CodeDescription, Diagnostic as LspDiagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
    DiagnosticTag, Location, NumberOrString, Position, Range,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use unik_lang::diag::{Diagnostic, FileId, Loc, Severity, SourceMap};
use unik_lang::eval::ModuleArena;
use unik_lang::syntax::Name;
use unik_resolver::session::Matrix;

/// The result of checking one document as a configuration root.
pub struct Checked {
    /// Diagnostics per file (the root's own entry is always present).
    pub files: BTreeMap<PathBuf, Vec<LspDiagnostic>>,
    /// Every file the check read (the root, its imports).
    pub read: BTreeSet<PathBuf>,
}

/// Files that are configurations (or say `register`) must evaluate to a
/// register; other files are libraries, imported for their value.
fn wants_register(path: &Path, text: &str) -> bool {
    path.file_name().is_some_and(|n| n == "config.unik") || text.contains("register")
}

pub fn check(
    doc: &Doc,
    overlays: BTreeMap<PathBuf, String>,
    cat: &Catalogue,
    arena: &ModuleArena,
) -> Checked {
    let text = doc.now.text();
    let req = op::Request {
        file: &doc.path,
        matrix: Matrix::Allowed,
        keys: BTreeMap::new(),
        want: Want::Diagnostics,
    };
    let mut files: BTreeMap<PathBuf, Vec<LspDiagnostic>> = BTreeMap::new();
    files.insert(doc.path.clone(), Vec::new());
    let mut read = BTreeSet::new();
    read.insert(doc.path.clone());
    match op::run_in_memory(&req, text, overlays, arena) {
        Err(message) => {
            files
                .entry(doc.path.clone())
                .or_default()
                .push(LspDiagnostic {
                    range: Range::default(),
                    severity: Some(DiagnosticSeverity::ERROR),
                    source: Some("unikc".into()),
                    message,
                    ..LspDiagnostic::default()
                });
        }
        Ok(checked) => {
            let keep_e0304 = wants_register(&doc.path, text);
            let conv = Converter {
                sources: &checked.sources,
                cat,
                root: &doc.path,
            };
            for d in &checked.diagnostics {
                if d.code == "E0304" && !keep_e0304 {
                    continue;
                }
                let (file, lsp) = conv.convert(d);
                // Published on the file it points at, and shown in the
                // open file too where it is called from there.
                let here = (file != doc.path).then(|| conv.in_root(d, &lsp)).flatten();
                for (file, lsp) in std::iter::once((file, lsp)).chain(here) {
                    let list = files.entry(file).or_default();
                    if !list.contains(&lsp) {
                        list.push(lsp);
                    }
                }
            }
            for (_, f) in checked.sources.files() {
                if !f.path.starts_with(unik_stdlib::DIR) {
                    read.insert(f.path.clone());
                }
            }
        }
    }
    Checked { files, read }
}

/// Codes the quick pass finds itself; the others come from evaluation.
const STATIC_CODES: &[&str] = &["E0101", "E0102", "E0103", "E0201", "E0212", "W0101"];

/// The last full check of a document's own file, and the text it saw.
pub struct LastCheck {
    pub analysis: Rc<Analysis>,
    pub diagnostics: Vec<LspDiagnostic>,
}

/// The quick pass, right after an edit: the file's static diagnostics,
/// plus the last full check's others, moved with the edit (those inside
/// the edited text are dropped until the full check reports again).
pub fn quick(
    doc: &Doc,
    cat: &Catalogue,
    globals: &[Name],
    last: Option<&LastCheck>,
) -> Vec<LspDiagnostic> {
    let mut sources = SourceMap::new();
    sources.add(doc.path.clone(), doc.now.text());
    let conv = Converter {
        sources: &sources,
        cat,
        root: &doc.path,
    };
    let mut out: Vec<LspDiagnostic> = doc
        .now
        .static_diagnostics(globals)
        .iter()
        .map(|d| conv.convert(d).1)
        .collect();
    if let Some(last) = last {
        let shift = Shift::between(last.analysis.text(), doc.now.text());
        let moved = |r: Range| -> Option<Range> {
            let start = shift.to_new(last.analysis.offset(r.start))?;
            let end = shift.to_new(last.analysis.offset(r.end))?;
            Some(Range::new(doc.now.position(start), doc.now.position(end)))
        };
        for d in &last.diagnostics {
            let is_static = matches!(&d.code, Some(NumberOrString::String(c)) if STATIC_CODES.contains(&c.as_str()));
            if is_static {
                continue;
            }
            let Some(range) = moved(d.range) else {
                continue;
            };
            let mut d = d.clone();
            d.range = range;
            if let Some(rel) = &mut d.related_information {
                rel.retain_mut(|r| {
                    if r.location.uri != doc.uri {
                        return true;
                    }
                    match moved(r.location.range) {
                        Some(m) => {
                            r.location.range = m;
                            true
                        }
                        None => false,
                    }
                });
            }
            out.push(d);
        }
    }
    out
}

struct Converter<'c> {
    sources: &'c SourceMap,
    cat: &'c Catalogue,
    root: &'c Path,
}

impl Converter<'_> {
    fn in_stdlib(&self, id: FileId) -> bool {
        self.sources.get(id).path.starts_with(unik_stdlib::DIR)
    }

    /// The file the editor can open for a source: catalogue files are
    /// shown from their materialised copies.
    fn path_of(&self, id: FileId) -> Option<PathBuf> {
        let p = &self.sources.get(id).path;
        match p.strip_prefix(unik_stdlib::DIR) {
            Ok(name) => self.cat.source_path(name.to_str()?),
            Err(_) => Some(p.clone()),
        }
    }

    fn range(&self, loc: Loc) -> Range {
        let f = self.sources.get(loc.file);
        let (sl, sc) = f.lsp_position(loc.span.start);
        let (el, ec) = f.lsp_position(loc.span.end);
        Range {
            start: Position::new(sl, sc),
            end: Position::new(el, ec),
        }
    }

    /// The diagnostic as the root file shows it, at its first label there.
    fn in_root(&self, d: &Diagnostic, lsp: &LspDiagnostic) -> Option<(PathBuf, LspDiagnostic)> {
        let l = d
            .labels
            .iter()
            .find(|l| self.sources.get(l.loc.file).path == self.root)?;
        let mut lsp = lsp.clone();
        lsp.range = self.range(l.loc);
        Some((self.root.to_path_buf(), lsp))
    }

    fn convert(&self, d: &Diagnostic) -> (PathBuf, LspDiagnostic) {
        // The first label in the user's files carries the diagnostic; one
        // that points only into the catalogue is shown at the file's start.
        let primary = d.labels.iter().position(|l| !self.in_stdlib(l.loc.file));
        let (file, range) = match primary {
            Some(i) => {
                let loc = d.labels[i].loc;
                (self.sources.get(loc.file).path.clone(), self.range(loc))
            }
            None => (self.root.to_path_buf(), Range::default()),
        };
        let mut related = Vec::new();
        for l in &d.labels {
            if l.message.is_empty() {
                continue;
            }
            let Some(path) = self.path_of(l.loc.file) else {
                continue;
            };
            let Some(uri) = uri::from_path(&path) else {
                continue;
            };
            related.push(DiagnosticRelatedInformation {
                location: Location {
                    uri,
                    range: self.range(l.loc),
                },
                message: l.message.clone(),
            });
        }
        let code_description = self
            .cat
            .explanation(d.code)
            .and_then(|p| uri::from_path(&p))
            .map(|href| CodeDescription { href });
        let tags = (d.code == "W0101").then(|| vec![DiagnosticTag::UNNECESSARY]);
        let lsp = LspDiagnostic {
            range,
            severity: Some(match d.severity {
                Severity::Error => DiagnosticSeverity::ERROR,
                Severity::Warning => DiagnosticSeverity::WARNING,
            }),
            code: Some(NumberOrString::String(d.code.to_string())),
            code_description,
            source: Some("unikc".into()),
            message: message(d),
            related_information: (!related.is_empty()).then_some(related),
            tags,
            data: None,
        };
        (file, lsp)
    }
}

/// The message with the targets it concerns (as `unikc check` heads it),
/// then the help and the notes.
pub fn message(d: &Diagnostic) -> String {
    let mut m = match d.targets.len() {
        0 => d.message.clone(),
        1 => format!("{} (target {})", d.message, d.targets[0]),
        _ => format!("{} (targets {})", d.message, d.targets.join(", ")),
    };
    if let Some(h) = &d.help {
        m.push_str("\nhelp: ");
        m.push_str(h);
    }
    for n in &d.notes {
        m.push_str("\nnote: ");
        m.push_str(n);
    }
    m
}
