//! The unikc device catalogue: `.unik` files embedded in the toolchain and
//! loaded, in order, as the prelude of every configuration (each file's
//! attributes become global names, and later files see earlier ones).
//!
//! Entries are documented with `##` comment lines right above their
//! attribute; a line `## Example: `EXPR`` gives an expression that uses the
//! entry (the reference generator evaluates it on every target).

use unik_lang::fmt::Note;
use unik_lang::syntax::{self, BindingKind, Expr, ExprKind, Module};

/// The catalogue files, in load order: (file name, text).
pub const FILES: &[(&str, &str)] = &[
    ("types.unik", include_str!("../catalogue/types.unik")),
    ("platform.unik", include_str!("../catalogue/platform.unik")),
    ("base.unik", include_str!("../catalogue/base.unik")),
    ("storage.unik", include_str!("../catalogue/storage.unik")),
    ("network.unik", include_str!("../catalogue/network.unik")),
    ("network6.unik", include_str!("../catalogue/network6.unik")),
    ("services.unik", include_str!("../catalogue/services.unik")),
    ("tls.unik", include_str!("../catalogue/tls.unik")),
    ("http.unik", include_str!("../catalogue/http.unik")),
    ("dns.unik", include_str!("../catalogue/dns.unik")),
];

/// The directory the catalogue files appear under in diagnostics. It is
/// not a real directory: the text comes from [`FILES`].
pub const DIR: &str = "<stdlib>";

/// The path a catalogue file is loaded under, e.g. `<stdlib>/base.unik`.
pub fn path_of(file: &str) -> String {
    format!("{DIR}/{file}")
}

/// One documented entry of a catalogue file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The catalogue file's name, e.g. `base.unik`.
    pub file: &'static str,
    /// The global name it defines.
    pub name: String,
    /// The `##` lines without the markers (and without `Example:` lines).
    pub doc: String,
    /// The expression of an `## Example: `…`` line.
    pub example: Option<String>,
    /// 1-based line of the attribute.
    pub line: usize,
    /// Byte range of the attribute's name in the file.
    pub name_span: (usize, usize),
}

/// Every top-level attribute of every file, with its documentation (an
/// attribute without `##` lines has an empty `doc`).
pub fn entries() -> Vec<Entry> {
    FILES
        .iter()
        .flat_map(|(file, text)| entries_of(file, text))
        .collect()
}

/// The file's attribute set: its expression, through any `let … in`.
fn top_attrs(module: &Module) -> Option<&Expr> {
    let mut e = module.expr.as_ref()?;
    loop {
        match &e.kind {
            ExprKind::Let { body, .. } => e = body,
            ExprKind::Attrs { .. } => return Some(e),
            _ => return None,
        }
    }
}

/// Whether the text between two things holds an empty line.
fn blank_between(text: &str, from: usize, to: usize) -> bool {
    let between = text.get(from..to).unwrap_or("");
    between.split('\n').count() >= 3
}

/// The `##` lines directly above a binding: the end of the comments the
/// formatter attaches right above it.
fn doc_lines(above: &[Note]) -> Vec<&str> {
    let start = above
        .iter()
        .rposition(|n| !n.text.starts_with("##"))
        .map_or(0, |i| i + 1);
    above[start..]
        .iter()
        .filter_map(|n| n.text.strip_prefix("##"))
        .collect()
}

fn entries_of(file: &'static str, text: &str) -> Vec<Entry> {
    let parsed = syntax::parse(0, text);
    let Some(attrs) = top_attrs(&parsed.module) else {
        return Vec::new();
    };
    let ExprKind::Attrs { bindings, .. } = &attrs.kind else {
        return Vec::new();
    };
    let above = unik_lang::fmt::above_bindings(&parsed.module, text);
    let mut out = Vec::new();
    for b in bindings {
        let BindingKind::Attr { path, .. } = &b.kind else {
            continue;
        };
        let [name] = path.as_slice() else {
            continue;
        };
        let mut doc: Vec<&str> = Vec::new();
        let mut example = None;
        let notes = above.get(&b.span.start).map_or(&[][..], Vec::as_slice);
        for line in doc_lines(notes) {
            let line = line.strip_prefix(' ').unwrap_or(line);
            match line
                .strip_prefix("Example: `")
                .and_then(|e| e.strip_suffix('`'))
            {
                Some(e) => example = Some(e.to_string()),
                None => doc.push(line),
            }
        }
        let at = name.span.start as usize;
        out.push(Entry {
            file,
            name: name.name.to_string(),
            doc: doc.join("\n"),
            example,
            line: text[..at].matches('\n').count() + 1,
            name_span: (at, name.span.end as usize),
        });
    }
    out
}

/// The leading `#` comment of a catalogue file (its introduction).
pub fn file_doc(text: &str) -> String {
    let parsed = syntax::parse(0, text);
    let notes = unik_lang::fmt::attach_comments(&parsed.module, text);
    let mut out: Vec<&str> = Vec::new();
    let mut next = 0;
    for n in notes.file() {
        let starts = if out.is_empty() {
            n.span.start == 0
        } else {
            !blank_between(text, next, n.span.start as usize)
        };
        if n.text.starts_with("##") || !n.text.starts_with('#') || !starts {
            break;
        }
        out.push(n.text.trim_start_matches('#').trim());
        next = n.span.end as usize;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_documented_once() {
        let all = entries();
        assert!(all.len() > 40, "catalogue too small: {}", all.len());
        let mut seen = std::collections::BTreeSet::new();
        for e in &all {
            assert!(
                !e.doc.trim().is_empty(),
                "{}:{} `{}` has no ## doc",
                e.file,
                e.line,
                e.name
            );
            assert!(seen.insert(e.name.clone()), "`{}` defined twice", e.name);
        }
    }

    #[test]
    fn parses_docs_and_examples() {
        let text =
            "{\n  ## A thing.\n  ## Example: `f 1`\n  f = x: x;\n  g = 1;\n    nested = 2;\n}\n";
        let e = entries_of("t.unik", text);
        assert_eq!(e.len(), 3);
        assert_eq!(e[0].name, "f");
        assert_eq!(e[0].doc, "A thing.");
        assert_eq!(e[0].example.as_deref(), Some("f 1"));
        assert_eq!((e[0].line, e[0].name_span), (4, (38, 39)));
        assert_eq!(e[1].name, "g");
        assert_eq!(e[1].doc, "");
        // Indentation does not matter: the parser says what is top-level.
        assert_eq!(e[2].name, "nested");
    }

    #[test]
    fn docs_come_from_the_comments_attached_to_bindings() {
        let text = "# Intro\n# more.\n\n# not intro\nrec {\n## Tab-less.\n##\n## Two.\na = 1; b = { ## inner\n c = 2; };\n   ## Spaced.\n\n   d = 3;\n  # plain\n  ## After.\n  e = 4; f = # moved\n  5;\n  ## One line.\n  # plain\n  g = 6;\n}\n";
        let e = entries_of("t.unik", text);
        let docs: Vec<(&str, &str)> = e
            .iter()
            .map(|e| (e.name.as_str(), e.doc.as_str()))
            .collect();
        assert_eq!(
            docs,
            [
                ("a", "Tab-less.\n\nTwo."),
                ("b", ""),
                ("d", ""),
                ("e", "After."),
                ("f", ""),
                ("g", ""),
            ]
        );
        assert_eq!(file_doc(text), "Intro more.");
    }
}
