//! Open documents: the current text with its parse and index, and the last
//! parse without syntax errors, which hover, definition and completion fall
//! back on while the file is broken (positions are carried across the edit
//! by the unchanged prefix and suffix of the two texts).

use super::index::{Def, DefKind, Index};
use super::probe::{self, Info};
use lsp_types::{Position, Range, TextDocumentContentChangeEvent, Uri};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use unik_lang::diag::{Diagnostic, SourceFile, Span};
use unik_lang::eval::ModuleArena;
use unik_lang::syntax::{self, Module, Name};

/// One text's parse and what is derived from it.
pub struct Analysis {
    pub path: PathBuf,
    pub file: SourceFile,
    pub index: Index,
    pub syntax_ok: bool,
    /// Syntax errors, with file id 0.
    pub syntax: Vec<Diagnostic>,
    module: Module,
    /// Top-level binding values per target, computed on demand.
    probes: RefCell<HashMap<String, Rc<HashMap<String, Info>>>>,
}

impl Analysis {
    pub fn new(path: &Path, text: String) -> Analysis {
        let parsed = syntax::parse(0, &text);
        let index = Index::build(&parsed.module, &text);
        Analysis {
            path: path.to_path_buf(),
            syntax_ok: !parsed.has_errors(),
            syntax: parsed.diagnostics,
            module: parsed.module,
            index,
            file: SourceFile::new(path.to_path_buf(), String::new(), text),
            probes: RefCell::new(HashMap::new()),
        }
    }

    /// What is known without evaluating: syntax errors, undefined names,
    /// duplicates and unused bindings (as the evaluator reports them when
    /// it loads the file), given the global names.
    pub fn static_diagnostics(&self, globals: &[Name]) -> Vec<Diagnostic> {
        let mut out = self.syntax.clone();
        let mut found = unik_lang::eval::scope::check(0, self.text(), &self.module, globals);
        if !self.syntax_ok {
            found.retain(|d| d.is_error());
        }
        out.extend(found);
        out
    }

    pub fn text(&self) -> &str {
        &self.file.text
    }

    /// The comments written directly above the binding that defines `def`
    /// (a `let` binding or an attribute of a `rec` set), without their
    /// markers; as the formatter attaches comments.
    pub fn doc_comment(&self, def: &Def) -> String {
        if !matches!(def.kind, DefKind::Let | DefKind::Rec) {
            return String::new();
        }
        let above = unik_lang::fmt::above_bindings(&self.module, self.text());
        let Some(notes) = above.get(&def.span.start) else {
            return String::new();
        };
        notes
            .iter()
            .map(|n| unik_lang::fmt::comment_body(&n.text))
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn offset(&self, p: Position) -> u32 {
        self.file.offset_of_lsp(p.line, p.character)
    }

    pub fn position(&self, offset: u32) -> Position {
        let (line, character) = self.file.lsp_position(offset);
        Position { line, character }
    }

    pub fn range(&self, span: Span) -> Range {
        Range {
            start: self.position(span.start),
            end: self.position(span.end),
        }
    }

    /// The values of the top-level bindings on `target` (empty when the file
    /// has no top-level `let`). Broken bindings evaluate to nothing; the
    /// others still do.
    pub fn probe(
        &self,
        target: &str,
        overlays: &BTreeMap<PathBuf, String>,
        arena: &ModuleArena,
    ) -> Rc<HashMap<String, Info>> {
        if let Some(p) = self.probes.borrow().get(target) {
            return p.clone();
        }
        let values = match self.index.top_body {
            Some(body) => {
                let names: Vec<&str> = self
                    .index
                    .defs
                    .iter()
                    .filter(|d| self.index.is_top(d))
                    .map(|d| &*d.name)
                    .collect();
                probe::run(
                    &self.path,
                    self.text(),
                    body,
                    &names,
                    &[],
                    target,
                    overlays,
                    arena,
                )
            }
            _ => HashMap::new(),
        };
        let values = Rc::new(values);
        self.probes
            .borrow_mut()
            .insert(target.to_string(), values.clone());
        values
    }
}

/// How offsets move between two versions of a text: the common prefix and
/// suffix stay, the middle was edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shift {
    prefix: u32,
    old_tail: u32,
    new_tail: u32,
}

impl Shift {
    pub fn between(old: &str, new: &str) -> Shift {
        let (o, n) = (old.as_bytes(), new.as_bytes());
        let mut prefix = o.iter().zip(n).take_while(|(a, b)| a == b).count();
        while !new.is_char_boundary(prefix) {
            prefix -= 1;
        }
        let max = o.len().min(n.len()) - prefix;
        let mut suffix = o
            .iter()
            .rev()
            .zip(n.iter().rev())
            .take(max)
            .take_while(|(a, b)| a == b)
            .count();
        while !new.is_char_boundary(n.len() - suffix) {
            suffix -= 1;
        }
        Shift {
            prefix: prefix as u32,
            old_tail: (o.len() - suffix) as u32,
            new_tail: (n.len() - suffix) as u32,
        }
    }

    /// An offset of the new text in the old one; `None` inside the edit.
    pub fn to_old(self, at: u32) -> Option<u32> {
        if at <= self.prefix {
            Some(at)
        } else if at >= self.new_tail {
            Some(at - self.new_tail + self.old_tail)
        } else {
            None
        }
    }

    /// An offset of the old text in the new one; `None` inside the edit.
    pub fn to_new(self, at: u32) -> Option<u32> {
        if at <= self.prefix {
            Some(at)
        } else if at >= self.old_tail {
            Some(at - self.old_tail + self.new_tail)
        } else {
            None
        }
    }

    pub fn span_to_new(self, s: Span) -> Option<Span> {
        Some(Span {
            start: self.to_new(s.start)?,
            end: self.to_new(s.end)?,
        })
    }
}

/// A view of a document for one position: an analysis, the offset in its
/// text, and how to carry its spans back to the current text.
pub struct View {
    pub analysis: Rc<Analysis>,
    pub offset: u32,
    pub shift: Option<Shift>,
}

impl View {
    /// A span of this view's text in the current text.
    pub fn to_current(&self, s: Span) -> Option<Span> {
        match self.shift {
            None => Some(s),
            Some(sh) => sh.span_to_new(s),
        }
    }
}

pub struct Doc {
    pub uri: Uri,
    pub path: PathBuf,
    pub version: i32,
    pub now: Rc<Analysis>,
    /// The last analysis without syntax errors.
    pub good: Option<Rc<Analysis>>,
}

impl Doc {
    pub fn new(uri: Uri, path: PathBuf, version: i32, text: String) -> Doc {
        let now = Rc::new(Analysis::new(&path, text));
        let good = now.syntax_ok.then(|| now.clone());
        Doc {
            uri,
            path,
            version,
            now,
            good,
        }
    }

    pub fn set_text(&mut self, text: String) {
        self.now = Rc::new(Analysis::new(&self.path, text));
        if self.now.syntax_ok {
            self.good = Some(self.now.clone());
        }
    }

    /// Applies incremental (or whole-text) changes in order.
    pub fn apply(&mut self, changes: Vec<TextDocumentContentChangeEvent>) {
        let mut text = self.now.text().to_string();
        for c in changes {
            match c.range {
                None => text = c.text,
                Some(r) => {
                    let file = SourceFile::new(PathBuf::new(), String::new(), text);
                    let start = file.offset_of_lsp(r.start.line, r.start.character) as usize;
                    let end = file.offset_of_lsp(r.end.line, r.end.character) as usize;
                    let mut t = file.text;
                    t.replace_range(start..end.max(start), &c.text);
                    text = t;
                }
            }
        }
        self.set_text(text);
    }

    /// The current analysis at `p`, then the last good one (when the text
    /// changed since and `p` lies outside the edit).
    pub fn views(&self, p: Position) -> Vec<View> {
        let offset = self.now.offset(p);
        let mut out = vec![View {
            analysis: self.now.clone(),
            offset,
            shift: None,
        }];
        if let Some(good) = &self.good
            && !Rc::ptr_eq(good, &self.now)
        {
            let shift = Shift::between(good.text(), self.now.text());
            if let Some(old) = shift.to_old(offset) {
                out.push(View {
                    analysis: good.clone(),
                    offset: old,
                    shift: Some(shift),
                });
            }
        }
        out
    }

    /// The analysis to use for whole-file answers (outline, hints): the
    /// current one if it parses, else the last good one.
    pub fn best(&self) -> (Rc<Analysis>, Option<Shift>) {
        match &self.good {
            Some(g) if !Rc::ptr_eq(g, &self.now) => {
                (g.clone(), Some(Shift::between(g.text(), self.now.text())))
            }
            _ => (self.now.clone(), None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shift_carries_offsets_around_an_edit() {
        let old = "let a = 1; in a";
        let new = "let a = 1;; ü in a";
        let s = Shift::between(old, new);
        assert_eq!(s.to_old(4), Some(4));
        assert_eq!(s.to_old(new.len() as u32), Some(old.len() as u32));
        assert_eq!(s.to_old(new.find('ü').unwrap() as u32 + 1), None);
        assert_eq!(
            s.to_new(old.find("in").unwrap() as u32),
            Some(new.find("in").unwrap() as u32)
        );
        let same = Shift::between(old, old);
        assert_eq!(same.to_old(7), Some(7));
    }

    #[test]
    fn incremental_changes_count_utf16_units() {
        let uri: Uri = "file:///x.unik".parse().expect("uri");
        let mut d = Doc::new(uri, PathBuf::from("/x.unik"), 0, "\"😀\" + a\nb".into());
        // 😀 is two UTF-16 units: `a` is at column 7 of line 0.
        d.apply(vec![TextDocumentContentChangeEvent {
            range: Some(Range {
                start: Position {
                    line: 0,
                    character: 7,
                },
                end: Position {
                    line: 0,
                    character: 8,
                },
            }),
            range_length: None,
            text: "xyz".into(),
        }]);
        assert_eq!(d.now.text(), "\"😀\" + xyz\nb");
        d.apply(vec![TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: "1".into(),
        }]);
        assert_eq!(d.now.text(), "1");
    }
}
