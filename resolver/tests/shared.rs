//! One evaluation serves a whole target matrix when it never looked at the
//! target. These tests prove that it happens, that looking at the target
//! turns it off, and that a shared matrix gives exactly what checking each
//! target on its own gives, for every configuration in the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_lang::Target;
use unik_lang::diag::Diagnostic;
use unik_resolver::session::{self, Matrix, Request, Session};

fn run_file(file: &Path, matrix: Matrix, keys: &BTreeMap<String, String>) -> Session {
    let mut req = Request::new(file, matrix);
    req.keys = keys.clone();
    session::run(&req).unwrap()
}

fn run_text(text: &str) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.unik");
    std::fs::write(&file, text).unwrap();
    run_file(&file, Matrix::All, &BTreeMap::new())
}

/// The implementation of the registered job's first argument, per target.
fn chosen(s: &Session) -> Vec<(String, String)> {
    assert!(
        s.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        s.diagnostics
    );
    s.targets
        .iter()
        .map(|(t, run)| {
            let g = run.resolved.as_ref().unwrap();
            let job = &g.nodes[g.jobs[0].0];
            (t.to_string(), g.nodes[job.args[0].0].impl_name.clone())
        })
        .collect()
}

const DEVICES: &str = r#"
  t = typ "t";
  a = impl { name = "a"; module = "x::A"; type = t; connect = "{module}::new()"; doc = "a"; };
  b = impl { name = "b"; module = "x::B"; type = t; connect = "{module}::new()"; doc = "b"; };
  main = foreign "x::Main" (t @-> job);
"#;

fn expect(unix_or_solo5: impl Fn(&str) -> &'static str) -> Vec<(String, String)> {
    Target::NAMES
        .iter()
        .map(|t| (t.to_string(), unix_or_solo5(t).to_string()))
        .collect()
}

#[test]
fn choices_on_the_target_share_one_evaluation() {
    for (choice, want) in [
        (
            "match_impl target { unix = a; default = b; }",
            expect(|t| if t == "unix" { "a" } else { "b" }),
        ),
        (
            "if_impl is_unix a b",
            expect(|t| if t == "unix" { "a" } else { "b" }),
        ),
        (
            "if_impl (is_solo5) a b",
            expect(|t| {
                if ["hvt", "spt", "virtio", "muen", "genode"].contains(&t) {
                    "a"
                } else {
                    "b"
                }
            }),
        ),
        (
            "let on = target; in match_impl on { xen = a; default = b; }",
            expect(|t| if t == "xen" { "a" } else { "b" }),
        ),
        (
            "match_impl builtins.target { unix = a; default = b; }",
            expect(|t| if t == "unix" { "a" } else { "b" }),
        ),
    ] {
        let s = run_text(&format!(
            "let {DEVICES} in register \"r\" [ main $ ({choice}) ]"
        ));
        assert_eq!(chosen(&s), want, "{choice}");
        // `builtins.target` is a selection, which reads the target.
        let once = !choice.contains("builtins");
        assert_eq!(s.evaluations, if once { 1 } else { 7 }, "{choice}");
    }
}

#[test]
fn reading_the_target_evaluates_each_target() {
    for choice in [
        "if is_unix then a else b",
        "if target == \"unix\" then a else b",
        "match_impl \"${target}\" { unix = a; default = b; }",
        "match_impl (if is_unix then \"u\" else \"o\") { u = a; default = b; }",
        "if_impl (target == \"unix\") a b",
    ] {
        let s = run_text(&format!(
            "let {DEVICES} in register \"r\" [ main $ ({choice}) ]"
        ));
        assert_eq!(
            chosen(&s),
            expect(|t| if t == "unix" { "a" } else { "b" }),
            "{choice}"
        );
        assert_eq!(s.evaluations, 7, "{choice}");
    }
}

fn configs() -> Vec<(PathBuf, BTreeMap<String, String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["examples", "tests/device-diagnostics", "tests/diagnostics"] {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let (file, args) = if p.is_dir() {
                (p.join("config.unik"), p.join("args"))
            } else {
                (p.clone(), p.with_extension("args"))
            };
            if !file.is_file() || file.extension().is_none_or(|e| e != "unik") {
                continue;
            }
            let keys = std::fs::read_to_string(&args)
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|a| a.strip_prefix("--")?.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            out.push((file, keys));
        }
    }
    out
}

/// A diagnostic as it reads, whichever targets it names.
fn plain(d: &Diagnostic) -> String {
    let mut d = d.clone();
    d.targets.clear();
    format!("{d:?}")
}

fn concerning(s: &Session, target: &str) -> Vec<String> {
    let mut out: Vec<String> = s
        .diagnostics
        .iter()
        .filter(|d| d.targets.is_empty() || d.targets.iter().any(|t| t == target))
        .map(plain)
        .collect();
    out.sort();
    out
}

#[test]
fn a_shared_matrix_equals_each_target_alone() {
    let mut shared = 0;
    let configs = configs();
    assert!(configs.len() > 40, "found {} configurations", configs.len());
    for (file, keys) in &configs {
        let all = run_file(file, Matrix::All, keys);
        shared += usize::from(all.evaluations == 1);
        // The examples choose by target only through the resolver, as the catalogue does.
        if file.components().any(|c| c.as_os_str() == "examples") {
            assert_eq!(
                all.evaluations,
                1,
                "{} read a target constant",
                file.display()
            );
        }
        for t in Target::ALL {
            let one = run_file(file, Matrix::Only(vec![t]), keys);
            let what = format!("{} on {t}", file.display());
            assert_eq!(
                concerning(&all, t.name()),
                concerning(&one, t.name()),
                "{what}"
            );
            let json = |s: &Session| serde_json::to_string(&s.resolved(t)).unwrap();
            assert_eq!(json(&all), json(&one), "{what}");
        }
    }
    // Most configurations choose by target only through the resolver.
    assert!(
        shared * 2 > configs.len(),
        "{shared} of {} shared",
        configs.len()
    );
}
