//! The unikc device catalogue: `.unik` files embedded in the toolchain and
//! loaded, in order, as the prelude of every configuration (each file's
//! attributes become global names, and later files see earlier ones).
//!
//! Entries are documented with `##` comment lines right above their
//! attribute; a line `## Example: `EXPR`` gives an expression that uses the
//! entry (the reference generator evaluates it on every target).

/// The catalogue files, in load order: (file name, text).
pub const FILES: &[(&str, &str)] = &[
    ("types.unik", include_str!("../catalogue/types.unik")),
    ("platform.unik", include_str!("../catalogue/platform.unik")),
    ("base.unik", include_str!("../catalogue/base.unik")),
    ("storage.unik", include_str!("../catalogue/storage.unik")),
    ("network.unik", include_str!("../catalogue/network.unik")),
    ("services.unik", include_str!("../catalogue/services.unik")),
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
}

/// Every top-level attribute of every file, with its documentation (an
/// attribute without `##` lines has an empty `doc`).
pub fn entries() -> Vec<Entry> {
    FILES
        .iter()
        .flat_map(|(file, text)| entries_of(file, text))
        .collect()
}

fn entries_of(file: &'static str, text: &str) -> Vec<Entry> {
    let mut out = Vec::new();
    let mut doc: Vec<String> = Vec::new();
    let mut example = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some(rest) = trimmed.strip_prefix("##") {
            let rest = rest.strip_prefix(' ').unwrap_or(rest);
            match rest
                .strip_prefix("Example: `")
                .and_then(|e| e.strip_suffix('`'))
            {
                Some(e) => example = Some(e.to_string()),
                None => doc.push(rest.to_string()),
            }
            continue;
        }
        // Top-level attributes are indented by exactly two spaces.
        if let Some(name) = top_level_name(line) {
            out.push(Entry {
                file,
                name: name.to_string(),
                doc: doc.join("\n"),
                example: example.take(),
                line: i + 1,
            });
        }
        doc.clear();
        example = None;
    }
    out
}

fn top_level_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("  ")?;
    if rest.starts_with(' ') {
        return None;
    }
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\''))
        .unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    let starts_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    (starts_ok && after.trim_start().starts_with('=')).then_some(name)
}

/// The leading `#` comment of a catalogue file (its introduction).
pub fn file_doc(text: &str) -> String {
    text.lines()
        .take_while(|l| l.starts_with('#') && !l.starts_with("##"))
        .map(|l| l.trim_start_matches('#').trim())
        .collect::<Vec<_>>()
        .join(" ")
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
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].name, "f");
        assert_eq!(e[0].doc, "A thing.");
        assert_eq!(e[0].example.as_deref(), Some("f 1"));
        assert_eq!(e[1].name, "g");
        assert_eq!(e[1].doc, "");
    }
}
