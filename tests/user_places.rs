//! Every diagnostic the repository's failing fixtures produce
//! (tests/diagnostics, tests/device-diagnostics, tests/catalogue-diagnostics)
//! has its primary label in the files the test wrote: each fixture is
//! copied to a fresh directory and checked there, and no primary label may
//! be in the catalogue (`<stdlib>/…`) or outside that directory. None of
//! these fixtures has its error in the catalogue itself.

mod common;

use std::path::Path;

fn copy(from: &Path, to: &Path) {
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            copy(&e.path(), &to.join(e.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap();
    }
}

/// The fixtures: (path, extra arguments).
fn fixtures() -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for dir in [
        "tests/diagnostics",
        "tests/device-diagnostics",
        "tests/catalogue-diagnostics",
    ] {
        for e in std::fs::read_dir(common::repo().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let unik = p.extension().is_some_and(|x| x == "unik");
            if unik || p.join("config.unik").is_file() {
                let args = std::fs::read_to_string(p.join("args")).unwrap_or_default();
                out.push((p, args));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_primary_label_is_in_the_files_the_test_wrote() {
    let fixtures = fixtures();
    assert!(fixtures.len() > 40, "the fixtures are there");
    let mut labelled = 0;
    for (path, extra) in &fixtures {
        let tmp = tempfile::tempdir().unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        copy(path, &tmp.path().join(&name));
        let mut args = vec!["check", name.as_str(), "--message-format", "json"];
        args.extend(extra.split_whitespace());
        let out = common::unikc(tmp.path(), &args);
        assert!(out.code != 0 || name.starts_with('W'), "{name} fails");
        for line in out.stdout.lines() {
            let d: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
            let Some(primary) = d["labels"].as_array().and_then(|l| l.first()) else {
                continue;
            };
            labelled += 1;
            let file = primary["file"].as_str().unwrap();
            let inside =
                !file.starts_with('/') && !file.starts_with("..") && !file.starts_with('<');
            assert!(
                inside && tmp.path().join(file).is_file(),
                "{name}: primary label in {file}, not in the files the test wrote:\n{line}"
            );
        }
    }
    assert!(labelled > 40, "diagnostics with labels were checked");
}
