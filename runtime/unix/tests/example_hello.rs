//! Runs the hand-written generated main (`examples/hello.rs`), which
//! `cargo test` builds before running the tests.

use std::path::PathBuf;
use std::process::{Command, Output};

fn hello(args: &[&str]) -> Output {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    let bin: PathBuf = dir.join("examples").join("hello");
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test -p unik-unix`",
        bin.display()
    );
    Command::new(bin).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn greets_with_keys_and_logs() {
    let out = hello(&["--count=2"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0], "hello 0");
    assert!(lines[1].ends_with("INF [hello] greeted 0"), "{}", lines[1]);
    assert_eq!(lines[2], "hello 1");
}

#[test]
fn quiet_logs_and_default_count() {
    let out = hello(&["--logs=quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "hello 0\nhello 1\nhello 2\n");
}

#[test]
fn exit_statuses() {
    let bad = hello(&["--count=x"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("invalid value \"x\" for --count: expected int"));
    let unknown = hello(&["--bogus=1"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("unknown key --bogus"));
    let help = hello(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(text(&help.stdout).contains("--count=int (default 3)"));
    let failed = hello(&["--count=5000"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(
        text(&failed.stdout)
            .contains("ERR [unik] job hello::Hello failed: count 5000 is too large")
    );
}
