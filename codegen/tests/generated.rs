//! Snapshots of the generated workspace (`Cargo.toml`, `src/main.rs` and
//! each target's own files) for every target codegen builds, for hello,
//! block and the network example on the direct stack. Machine-specific
//! paths (the example's directory, the output and runtime cache
//! directories, `$CARGO_HOME`) are replaced by placeholders, so the
//! snapshots are the same on any machine and checkout path; a change to
//! the generator shows up as a reviewed snapshot diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_lang::Target;
use unik_resolver::session::{self, Matrix, Request};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// What `configure` reads for `$CARGO_HOME` (see `plan::cargo_home`).
fn cargo_home() -> PathBuf {
    let var = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("CARGO_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cargo")))
        .expect("the snapshots need CARGO_HOME or HOME set, as configure uses them")
}

/// The generated files of `example` on `target`, each under a header, with
/// machine paths replaced.
fn generated(example: &str, target: Target, keys: &[(&str, &str)]) -> String {
    let config = repo().join("examples").join(example).join("config.unik");
    let mut req = Request::new(&config, Matrix::Only(vec![target]));
    req.keys = keys
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let s = session::run(&req).unwrap();
    assert_eq!(s.errors(), 0, "{example} on {target}: {:?}", s.diagnostics);
    let resolved = s.resolved(target).expect("a resolved graph");

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let cache = tmp.path().join("cache");
    let c = unik_codegen::configure(&unik_codegen::Request {
        resolved,
        config: &config,
        out_dir: Some(&out),
        force: false,
        cache_dir: Some(&cache),
    })
    .unwrap_or_else(|e| panic!("{example} on {target}: {e:?}"));
    assert!(c.report.written.iter().any(|f| f == "src/main.rs"));

    // Longest first, so a path inside another is replaced whole.
    // The runtime's directory is named after its digest, which changes
    // with any runtime source: a placeholder of its own.
    let mut paths: Vec<(String, &str)> = vec![
        (c.runtime_dir.display().to_string(), "[RUNTIME]"),
        (c.project_dir.display().to_string(), "[PROJECT]"),
        (out.display().to_string(), "[OUT]"),
        (cache.display().to_string(), "[CACHE]"),
        (cargo_home().display().to_string(), "[CARGO_HOME]"),
    ];
    paths.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    let files: BTreeMap<&String, String> = c
        .report
        .written
        .iter()
        .map(|f| (f, std::fs::read_to_string(out.join(f)).unwrap()))
        .collect();
    let mut text = String::new();
    for (name, body) in files {
        let mut body = body;
        for (from, to) in &paths {
            body = body.replace(from.as_str(), to);
        }
        text.push_str(&format!("=== {name} ===\n{body}\n"));
    }
    text
}

fn snapshot_every_target(example: &str, keys: &[(&str, &str)]) {
    // Every target codegen builds: a target that starts building gets
    // snapshots of its own (insta refuses new ones in CI until reviewed).
    for target in Target::ALL.into_iter().filter(|t| t.builds()) {
        let text = generated(example, target, keys);
        insta::assert_snapshot!(format!("{example}-{target}"), text);
    }
}

#[test]
fn hello() {
    snapshot_every_target("hello", &[]);
}

#[test]
fn block() {
    snapshot_every_target("block", &[]);
}

/// `--net=direct`: the direct network stack on unix too (elsewhere it is
/// the only one).
#[test]
fn network_on_the_direct_stack() {
    snapshot_every_target("network", &[("net", "direct")]);
}
