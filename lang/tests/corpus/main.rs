//! The evaluation corpus: every `NAME.unik` in this directory evaluates, on
//! every target, to the JSON value in `NAME.json` (see README.md).

use std::fs;
use std::path::{Path, PathBuf};
use unik_lang::eval::{self, Evaluator, ModuleArena, Options, Stop};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn cases() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir())
        .expect("the corpus directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "unik"))
        .collect();
    out.sort();
    out
}

/// Evaluates on a thread with a large stack, as the `unikc` binary does, so
/// the depth limit and not the test thread's small stack bounds recursion.
fn evaluate(file: &Path, target: &str) -> Result<serde_json::Value, String> {
    let (file, target) = (file.to_path_buf(), target.to_string());
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || evaluate_here(&file, &target))
        .expect("an evaluation thread")
        .join()
        .unwrap_or_else(|_| Err("the evaluator panicked".into()))
}

/// The file's value as JSON, or every error met on the way.
fn evaluate_here(file: &Path, target: &str) -> Result<serde_json::Value, String> {
    let text = fs::read_to_string(file).map_err(|e| e.to_string())?;
    let arena = ModuleArena::new();
    let ev = Evaluator::new(&arena, Options::new(target.parse().expect("a target")));
    let (_, result) = ev.eval_root(&unik_lang::path::absolute(file), &text);
    let value = result.and_then(|v| eval::to_json(&ev, &v));
    let mut errors: Vec<String> = ev
        .diagnostics
        .borrow()
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    match value {
        Ok(v) if errors.is_empty() => Ok(v),
        Ok(_) | Err(Stop::Poison) => Err(errors.join("; ")),
        Err(Stop::Error(d)) => {
            errors.push(format!("{}: {}", d.code, d.message));
            Err(errors.join("; "))
        }
    }
}

#[test]
fn every_case_evaluates_to_its_expected_value() {
    let cases = cases();
    assert!(
        cases.len() >= 40,
        "the corpus shrank to {} cases",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        let expected_text = fs::read_to_string(case.with_extension("json"))
            .unwrap_or_else(|e| panic!("{name}.json: {e}"));
        let expected: serde_json::Value = serde_json::from_str(&expected_text)
            .unwrap_or_else(|e| panic!("{name}.json is not JSON: {e}"));
        for target in unik_lang::Target::NAMES {
            match evaluate(case, target) {
                Ok(got) if got == expected => {}
                Ok(got) => failures.push(format!(
                    "{name} ({target}):\n  expected {expected}\n  got      {got}"
                )),
                Err(e) => failures.push(format!("{name} ({target}): {e}")),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_expected_value_has_its_program() {
    for entry in fs::read_dir(dir()).expect("the corpus directory") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "json") {
            assert!(
                path.with_extension("unik").is_file(),
                "{} has no program",
                path.display()
            );
        }
    }
}

/// Library files exist to be imported; one that no case reaches is dead.
#[test]
fn every_library_file_is_imported() {
    let mut sources = String::new();
    let mut libs = Vec::new();
    let mut stack = vec![dir()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("a corpus directory") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "unik") {
                sources.push_str(&fs::read_to_string(&path).expect("a corpus file"));
                if d != dir() {
                    libs.push(path);
                }
            }
        }
    }
    for lib in libs {
        let name = lib.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        assert!(
            sources.contains(name),
            "{} is never imported",
            lib.display()
        );
    }
}
