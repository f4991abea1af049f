//! Differential test of the two parsers: the hand-written fast path must
//! accept every program pest reads without errors, and build exactly the
//! same tree (spans included) and comment list; it must reject everything
//! pest reports an error for.

use proptest::collection::vec;
use proptest::prelude::*;
use unik_lang::syntax::{Expr, ExprKind, Module, parse_fast, parse_pest};

mod common;
use common::files::{repo, unik_files};
use common::programs::*;

// ---------------------------------------------------------------- the check

/// Compares both parsers on one input; `Err` describes the first difference.
fn diff(src: &str) -> Result<(), String> {
    let pest = parse_pest(0, src);
    let fast = parse_fast(src);
    match fast {
        Some(m) => {
            if pest.has_errors() {
                return Err(format!(
                    "fast path accepted a program pest rejects: {:?}",
                    pest.diagnostics.first()
                ));
            }
            if format!("{m:?}") != format!("{:?}", pest.module) {
                let (a, b) = (format!("{m:#?}"), format!("{:#?}", pest.module));
                let line = a
                    .lines()
                    .zip(b.lines())
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                let around = |s: &str| {
                    s.lines()
                        .skip(line.saturating_sub(8))
                        .take(12)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                return Err(format!(
                    "trees differ at debug line {line}\nfast:\n{}\npest:\n{}",
                    around(&a),
                    around(&b)
                ));
            }
            Ok(())
        }
        None if !pest.has_errors() && !has_error_node(&pest.module) => {
            Err("fast path rejected a valid program".into())
        }
        None => Ok(()),
    }
}

/// `build.rs` gives up below a nesting depth with an `Error` node but no
/// diagnostic; the fast path leaves such files to it.
fn has_error_node(m: &Module) -> bool {
    let mut stack: Vec<&Expr> = m.expr.iter().collect();
    while let Some(e) = stack.pop() {
        if matches!(e.kind, ExprKind::Error) {
            return true;
        }
        stack.extend(e.children());
    }
    false
}

/// Every `.unik` file of the repository the brief names, plus the book's
/// code blocks marked `unik`.
fn sources() -> Vec<(String, String)> {
    let root = repo();
    let mut files = Vec::new();
    for dir in [
        "lang/tests/corpus",
        "lang/tests/fmt",
        "tests/diagnostics",
        "tests/device-diagnostics",
        "examples",
        "stdlib-devices",
    ] {
        files.extend(unik_files(&root.join(dir)));
    }
    let mut out: Vec<(String, String)> = files
        .into_iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(&p).ok()?)))
        .collect();
    if let Ok(entries) = std::fs::read_dir(root.join("book/src")) {
        let mut pages: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        pages.sort();
        for page in pages
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
        {
            let Ok(text) = std::fs::read_to_string(page) else {
                continue;
            };
            let mut block: Option<String> = None;
            for (i, line) in text.lines().enumerate() {
                match &mut block {
                    None if line.trim_start().starts_with("```unik") => block = Some(String::new()),
                    Some(b) if line.trim_start().starts_with("```") => {
                        out.push((format!("{}:{i}", page.display()), std::mem::take(b)));
                        block = None;
                    }
                    Some(b) => {
                        b.push_str(line);
                        b.push('\n');
                    }
                    None => {}
                }
            }
        }
    }
    out
}

#[test]
fn repository_files_parse_the_same() {
    let srcs = sources();
    assert!(srcs.len() > 50, "found only {} inputs", srcs.len());
    let mut failures = Vec::new();
    let mut accepted = 0;
    for (name, src) in &srcs {
        if parse_fast(src).is_some() {
            accepted += 1;
        }
        if let Err(e) = diff(src) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Both outcomes are exercised: valid files and the diagnostics suite.
    assert!(accepted > 10 && accepted < srcs.len(), "{accepted}");
}

/// Every prefix (at character boundaries) of the corpus and fmt files: most
/// are broken programs, which the fast path must reject.
#[test]
fn prefixes_parse_the_same() {
    let root = repo();
    let mut files = Vec::new();
    files.extend(unik_files(&root.join("lang/tests/corpus")));
    files.extend(unik_files(&root.join("lang/tests/fmt")));
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("readable");
        for (at, _) in src.char_indices().chain([(src.len(), ' ')]) {
            if let Err(e) = diff(&src[..at]) {
                failures.push(format!("{} prefix {at}: {e}", f.display()));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn edge_cases_parse_the_same() {
    for src in [
        "",
        "  # only a comment\n",
        "/* a */ 1 /* b */",
        "a or b",
        "a.b or c",
        "f x.y or z w",
        "import ./a or b",
        "a../x",
        "a./x",
        "x: y: x",
        "let: let",
        "{ a ? 1, ... }@args: a",
        "args @ { a }: a",
        "{ }: 1",
        "x @-> y $ z",
        "1 + x ? a.b",
        "- -x ? a",
        "!a ? b",
        "a ++ b ++ c // d // e",
        "a - b - c * d / e",
        "1 + if a then b else c + 2",
        "1 + let a = 1; in a",
        "[ 1, 2, ]",
        "[ ]",
        "{ inherit (x) a \"b\" in; in = 1; or.\"c d\" = 2; }",
        "{ a = 1; } ? a",
        "\"a${ b # c\n}d\\n\\$\"",
        "''\n  a\n    b ${c}\n  ''$x'''\\n\n''",
        "''''\\",
        "\"\\q\"",
        "99999999999999999999",
        "{ \"a${b}\" = 1; }",
        "let a = 1; b",
        "[ 1 2, ]",
        "[ , ]",
        "x:",
        "a.b.c",
        "a . b",
        "12abc",
        "rec { a = 1; }",
        "true false null",
        "assert a; b",
    ] {
        if let Err(e) = diff(src) {
            panic!("{src:?}: {e}");
        }
    }
}

#[test]
fn deep_nesting_falls_back() {
    for n in [100, 511, 512, 513, 600, 5000] {
        for (open, close) in [("(", ")"), ("[", "]"), ("-", ""), ("f ", "")] {
            let src = format!("{}x{}", open.repeat(n), close.repeat(n));
            let r = std::thread::Builder::new()
                .stack_size(16 << 20)
                .spawn(move || diff(&src))
                .expect("thread")
                .join()
                .expect("no panic");
            if let Err(e) = r {
                panic!("depth {n} of {open:?}: {e}");
            }
        }
        let chain = vec!["a"; n].join(" ++ ");
        diff(&chain).unwrap_or_else(|e| panic!("chain {n}: {e}"));
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_programs_parse_the_same(g in document(), noise in vec(0u8..16, 0..48)) {
        let src = render(&g, &noise);
        diff(&src).map_err(|e| TestCaseError::fail(format!("{src}\n{e}")))?;
        prop_assert!(parse_fast(&src).is_some(), "generated programs are valid:\n{}", src);
    }

    #[test]
    fn random_programs_without_noise_parse_the_same(g in document()) {
        let src = render(&g, &[]);
        diff(&src).map_err(|e| TestCaseError::fail(format!("{src}\n{e}")))?;
    }
}
