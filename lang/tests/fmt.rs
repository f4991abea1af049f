//! `unikc fmt`: snapshots of representative inputs (lang/tests/fmt/*.unik),
//! and idempotence and faithfulness over every `.unik` file of the repo.

mod common;

use common::files::{repo, unik_files};
use std::path::PathBuf;
use unik_lang::fmt::{WIDTH, comment_texts, format, same_expr};
use unik_lang::syntax::parse;

fn inputs() -> Vec<PathBuf> {
    let v = unik_files(&repo().join("lang/tests/fmt"));
    assert!(v.len() >= 10, "the formatter's inputs are missing");
    v
}

/// Formats, and checks what must hold of any formatting: the tree and the
/// comments are kept, and formatting again changes nothing.
fn faithful(name: &str, src: &str) -> String {
    let out = format(src).unwrap_or_else(|d| panic!("{name}: format failed: {d:?}"));
    let (before, after) = (parse(0, src), parse(0, &out));
    assert!(!after.has_errors(), "{name}: output does not parse:\n{out}");
    match (&before.module.expr, &after.module.expr) {
        (Some(a), Some(b)) => assert!(same_expr(a, b), "{name}: tree changed:\n{out}"),
        (None, None) => {}
        _ => panic!("{name}: expression appeared or vanished"),
    }
    assert_eq!(
        comment_texts(&before.module.comments),
        comment_texts(&after.module.comments),
        "{name}: comments changed"
    );
    let again = format(&out).unwrap_or_else(|d| panic!("{name}: output refused: {d:?}"));
    assert_eq!(again, out, "{name}: formatting is not idempotent");
    out
}

#[test]
fn snapshots() {
    for path in inputs() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(&path).unwrap();
        let out = faithful(&name, &src);
        insta::with_settings!({
            snapshot_path => repo().join("lang/tests/fmt/snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, out);
        });
    }
}

/// Every file of the repository that parses formats faithfully and
/// idempotently; one that does not is refused.
#[test]
fn repository_files() {
    let root = repo();
    let mut files = Vec::new();
    for dir in [
        "examples",
        "stdlib-devices",
        "lang/tests/corpus",
        "tests",
        "book",
    ] {
        files.extend(unik_files(&root.join(dir)));
    }
    let mut formatted = 0;
    for path in &files {
        let name = path.display().to_string();
        let src = std::fs::read_to_string(path).unwrap();
        if parse(0, &src).has_errors() {
            assert!(
                format(&src).is_err(),
                "{name}: a file with syntax errors was formatted"
            );
        } else {
            faithful(&name, &src);
            formatted += 1;
        }
    }
    assert!(
        formatted >= 10,
        "expected a corpus, formatted {formatted} files"
    );
}

#[test]
fn refuses_syntax_errors_with_their_diagnostics() {
    let diags = format("let a = ; in a").unwrap_err();
    assert!(diags.iter().any(|d| d.code == "E0101"), "{diags:?}");
    let diags = format("\"unterminated").unwrap_err();
    assert!(diags.iter().any(|d| d.code == "E0102"), "{diags:?}");
}

#[test]
fn ends_with_exactly_one_newline() {
    assert_eq!(format("1").unwrap(), "1\n");
    assert_eq!(format("\n\n1\n\n\n").unwrap(), "1\n");
    assert_eq!(format("1 # c\n\n\n").unwrap(), "1 # c\n");
    assert_eq!(format("").unwrap(), "");
    assert_eq!(format("  \n").unwrap(), "");
}

#[test]
fn let_is_always_multi_line() {
    assert_eq!(format("let a = 1; in a").unwrap(), "let\n  a = 1;\nin\na\n");
}

#[test]
fn containers_are_flat_when_they_fit_and_hold_no_comment() {
    assert_eq!(format("{a=1;b=2;}").unwrap(), "{ a = 1; b = 2; }\n");
    assert_eq!(format("[a,b,]").unwrap(), "[ a, b ]\n");
    assert_eq!(format("{a,b?1,...}:a").unwrap(), "{ a, b ? 1, ... }: a\n");
    assert_eq!(format("[ a /* c */ ]").unwrap(), "[\n  a, /* c */\n]\n");
}

#[test]
fn long_lines_break_within_the_width() {
    let items: Vec<String> = (0..30).map(|i| format!("item_{i}")).collect();
    let src = format!("[ {} ]", items.join(", "));
    let out = format(&src).unwrap();
    assert_eq!(out.lines().count(), 32, "{out}");
    assert!(out.lines().all(|l| l.len() <= WIDTH));
}

#[test]
fn blank_lines_are_kept_as_one() {
    let out = format("{\n  a = 1;\n\n\n\n  b = 2; # c\n}").unwrap();
    assert_eq!(out, "{\n  a = 1;\n\n  b = 2; # c\n}\n");
}

#[test]
fn parentheses_are_kept() {
    assert_eq!(format("((a)) + (b * c)").unwrap(), "((a)) + (b * c)\n");
}

#[test]
fn strings_are_verbatim() {
    let src = "''\n    a\n      ${ b # c\n }\n''";
    assert_eq!(format(src).unwrap(), format!("{src}\n"));
}

#[test]
fn crlf_input_gives_lf_output() {
    let out = format("let\r\n  a = 1; # c\r\n\r\n  b = 2;\r\nin\r\na\r\n").unwrap();
    assert_eq!(out, "let\n  a = 1; # c\n\n  b = 2;\nin\na\n");
}
