//! The language commands end to end: `explain`, `fmt`, `eval`, exit codes.

mod common;

use std::fs;

#[test]
fn explain_knows_every_code_and_rejects_others() {
    for c in unik_lang::codes::all() {
        let out = common::unikc(common::repo(), &["explain", c.code]);
        assert_eq!(out.code, 0, "{}", c.code);
        assert!(
            out.stdout.starts_with(&format!("# {}: ", c.code)),
            "{}",
            out.stdout
        );
    }
    let lower = common::unikc(common::repo(), &["explain", "e0201"]);
    assert_eq!(lower.code, 0);
    let unknown = common::unikc(common::repo(), &["explain", "E9999"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stderr.contains("not a unikc diagnostic code"));
}

#[test]
fn fmt_check_reports_and_fmt_rewrites_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let messy = "let   a=1;  # one\n b = [1,2];\nin {inherit a b;}\n";
    fs::write(dir.path().join("config.unik"), messy).unwrap();

    let check = common::unikc(dir.path(), &["fmt", "--check"]);
    assert_eq!(check.code, 1, "{}", check.stderr);
    assert!(check.stdout.contains("would reformat config.unik"));
    assert_eq!(
        fs::read_to_string(dir.path().join("config.unik")).unwrap(),
        messy
    );

    let fmt = common::unikc(dir.path(), &["fmt"]);
    assert_eq!(fmt.code, 0, "{}", fmt.stderr);
    let formatted = fs::read_to_string(dir.path().join("config.unik")).unwrap();
    assert_ne!(formatted, messy);
    assert!(formatted.contains("# one"), "comment kept: {formatted}");
    let again = common::unikc(dir.path(), &["fmt", "--check"]);
    assert_eq!(again.code, 0, "formatting is idempotent: {}", again.stdout);
    // Nothing but the file itself is left in the directory (no temp files).
    let names: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("config.unik")]);

    let same = |args: &[&str]| common::unikc(dir.path(), args).stdout;
    fs::write(dir.path().join("before.unik"), messy).unwrap();
    assert_eq!(
        same(&["eval", "--json", "before.unik"]),
        same(&["eval", "--json", "config.unik"])
    );
}

#[test]
fn fmt_refuses_files_with_syntax_errors() {
    let dir = tempfile::tempdir().unwrap();
    let broken = "let a = ; in a\n";
    fs::write(dir.path().join("config.unik"), broken).unwrap();
    let out = common::unikc(dir.path(), &["fmt"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("E0101"), "{}", out.stderr);
    assert_eq!(
        fs::read_to_string(dir.path().join("config.unik")).unwrap(),
        broken
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        common::unikc(dir.path(), &["check"]).code,
        2,
        "no config.unik here"
    );
    assert_eq!(common::unikc(dir.path(), &["check", "-t", "plan9"]).code, 2);
    assert_eq!(common::unikc(dir.path(), &["frobnicate"]).code, 2);
}

#[test]
fn eval_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("config.unik"), "{ a = 1 + 2; t = target; }").unwrap();
    let out = common::unikc(dir.path(), &["eval", "--json", "-t", "spt"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), r#"{"a":3,"t":"spt"}"#);
}
