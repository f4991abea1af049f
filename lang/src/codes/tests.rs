use super::{all, lookup};
use crate::syntax;

/// The table of `cli.md` (the spec lives outside the repository).
const SPEC_CODES: &[&str] = &[
    "E0101", "E0102", "E0103", "E0201", "E0202", "E0203", "E0204", "E0205", "E0206", "E0207",
    "E0208", "E0209", "E0210", "E0211", "E0212", "E0301", "E0302", "E0303", "E0304", "E0305",
    "E0306", "E0401", "E0402", "E0501", "E0502", "E0503", "E0504", "E0505", "E0506", "E0601",
    "E0602", "E0604", "E0701", "E0702", "W0101", "W0301",
];

const SUMMARY: &str = include_str!("../../../book/src/SUMMARY.md");
const INDEX: &str = include_str!("../../../book/src/errors.md");
const LANGUAGE: &str = include_str!("../../../book/src/language.md");

/// A fenced block: its info string, its body, and the `##` section holding it.
struct Fence<'a> {
    info: &'a str,
    body: String,
    section: &'a str,
}

impl Fence<'_> {
    /// The language of the block: its info string up to the first comma
    /// (`unik,E0301` marks what the book test expects; mdBook ignores it).
    fn lang(&self) -> &str {
        self.info.split(',').next().unwrap_or("").trim()
    }
}

fn fences(text: &str) -> Vec<Fence<'_>> {
    let mut out = Vec::new();
    let mut section = "";
    let mut open: Option<Fence> = None;
    for line in text.lines() {
        if let Some(f) = open.as_mut() {
            if line.trim_end() == "```" {
                out.extend(open.take());
            } else {
                f.body.push_str(line);
                f.body.push('\n');
            }
        } else if let Some(info) = line.strip_prefix("```") {
            open = Some(Fence {
                info: info.trim(),
                body: String::new(),
                section,
            });
        } else if let Some(h) = line.strip_prefix("## ") {
            section = h.trim();
        }
    }
    assert!(open.is_none(), "unclosed code fence");
    out
}

#[test]
fn every_spec_code_is_documented() {
    for code in SPEC_CODES {
        let entry = lookup(code).unwrap_or_else(|| panic!("{code} has no entry"));
        assert_eq!(entry.code, *code);
    }
}

#[test]
fn codes_are_unique_well_formed_and_ordered() {
    let codes: Vec<&str> = all().iter().map(|c| c.code).collect();
    let mut sorted = codes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(codes, sorted, "codes must be sorted and unique");
    for c in codes {
        let b = c.as_bytes();
        assert!(
            b.len() == 5 && matches!(b[0], b'E' | b'W') && b[1..].iter().all(u8::is_ascii_digit),
            "malformed code {c}"
        );
    }
}

#[test]
fn lookup_is_exact_and_ignores_case() {
    assert_eq!(lookup("E0201").map(|c| c.code), Some("E0201"));
    assert_eq!(lookup("e0201").map(|c| c.code), Some("E0201"));
    assert_eq!(lookup("w0101").map(|c| c.code), Some("W0101"));
    for bad in ["E201", "E02010", " E0201", "E0201 ", "", "E0603", "X0201"] {
        assert!(lookup(bad).is_none(), "{bad:?} must not match");
    }
}

#[test]
fn pages_start_with_code_and_title() {
    for c in all() {
        let first = c.text.lines().next().unwrap_or("");
        assert_eq!(first, format!("# {}: {}", c.code, c.title));
        assert!(!c.title.is_empty() && !c.title.contains('\n'));
    }
}

#[test]
fn pages_have_the_explain_sections() {
    // Internal errors (E00xx) are bugs in unikc, not in the input: their
    // pages say what to report instead of showing an erroneous example.
    for c in all().iter().filter(|c| !c.code.starts_with("E00")) {
        let sections: Vec<&str> = c
            .text
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .collect();
        assert_eq!(
            sections,
            ["Erroneous example", "How to fix", "Corrected example"],
            "{}",
            c.code
        );
        // The explanation before the first section says what the code means.
        let intro = c.text.split("\n## ").next().unwrap_or("");
        assert!(
            intro.lines().count() >= 3,
            "{} lacks an explanation",
            c.code
        );
    }
}

#[test]
fn erroneous_examples_are_unik_and_fences_are_tagged() {
    for c in all().iter().filter(|c| !c.code.starts_with("E00")) {
        let fs = fences(c.text);
        let erroneous: Vec<&Fence> = fs
            .iter()
            .filter(|f| f.section == "Erroneous example")
            .collect();
        assert_eq!(
            erroneous.first().map(|f| f.lang()),
            Some("unik"),
            "{}: the erroneous example must open with a ```unik block",
            c.code
        );
        assert!(
            fs.iter().any(|f| f.section == "Corrected example"),
            "{} has no corrected example",
            c.code
        );
        for f in &fs {
            assert!(
                matches!(f.lang(), "unik" | "console"),
                "{}: fence tagged {:?}",
                c.code,
                f.info
            );
        }
    }
}

/// Syntax codes must really be produced by their erroneous examples; every
/// other `.unik` block in the book must parse cleanly.
#[test]
fn unik_examples_parse_as_documented() {
    for c in all() {
        let syntax_code = c.code.starts_with("E01");
        for f in fences(c.text).iter().filter(|f| f.lang() == "unik") {
            let parsed = syntax::parse(0, &f.body);
            let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
            if syntax_code && f.section == "Erroneous example" {
                assert!(
                    codes.contains(&c.code),
                    "{}: example gives {codes:?}:\n{}",
                    c.code,
                    f.body
                );
            } else {
                assert!(codes.is_empty(), "{}: {codes:?} in\n{}", c.code, f.body);
                assert!(parsed.module.expr.is_some(), "{}: empty example", c.code);
            }
        }
    }
}

#[test]
fn cross_references_name_known_codes() {
    for c in all() {
        for (i, _) in c.text.match_indices(".md)") {
            let name = &c.text[i.saturating_sub(5)..i];
            assert!(lookup(name).is_some(), "{} links to unknown {name}", c.code);
        }
    }
}

#[test]
fn book_lists_every_code() {
    for c in all() {
        let page = format!("errors/{}.md", c.code);
        assert!(SUMMARY.contains(&page), "SUMMARY.md lacks {page}");
        assert!(INDEX.contains(&page), "errors.md lacks {page}");
        assert!(
            INDEX.contains(c.title),
            "errors.md lacks the title of {}",
            c.code
        );
    }
}

#[test]
fn language_reference_examples_parse() {
    let blocks: Vec<Fence> = fences(LANGUAGE)
        .into_iter()
        .filter(|f| f.lang() == "unik")
        .collect();
    assert!(blocks.len() >= 10, "the reference lost its examples");
    for f in blocks {
        let parsed = syntax::parse(0, &f.body);
        let codes: Vec<&str> = parsed.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.is_empty(), "{codes:?} in\n{}", f.body);
    }
}
