//! The operations as a library, below the command line: they print
//! nothing, report progress to the reporter they are given, and fail with
//! diagnostics that keep their places in the configuration.

use std::collections::BTreeMap;
use unik_lang::Target;
use unikc::ops::configure::{Project, configure};
use unikc::ops::failure::Exit;
use unikc::ops::report::Recorder;

fn project(dir: &std::path::Path, target: Target) -> Project {
    Project {
        file: Some(dir.join("config.unik")),
        target,
        keys: BTreeMap::new(),
        force: false,
    }
}

#[test]
fn configure_reports_progress_and_writes_the_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello");
    for f in ["config.unik", "Cargo.toml", "src/lib.rs"] {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(format!("{src}/{f}"), to).unwrap();
    }
    let mut rec = Recorder::default();
    let ready = configure(&project(dir.path(), Target::Spt), None, &mut rec).unwrap();
    assert_eq!(ready.configured.target, Target::Spt);
    assert!(ready.configured.out_dir.join("src/main.rs").is_file());
    assert_eq!(rec.lines.len(), 1, "{:?}", rec.lines);
    assert!(
        rec.lines[0].starts_with("Configured hello for spt in "),
        "{:?}",
        rec.lines
    );
}

#[test]
fn a_codegen_error_is_labelled_where_the_configuration_says_it() {
    let dir = tempfile::tempdir().unwrap();
    // The job names a crate that is not beside the configuration: E0703,
    // found by codegen, labelled at the `foreign` call.
    let text = "let\n  main = foreign \"nowhere::Job\" job;\nin\nregister \"x\" [ main ]\n";
    std::fs::write(dir.path().join("config.unik"), text).unwrap();
    let mut rec = Recorder::default();
    let f = match configure(&project(dir.path(), Target::Unix), None, &mut rec) {
        Err(f) => f,
        Ok(_) => panic!("configured without the user's crate"),
    };
    assert_eq!(f.exit, Exit::Errors);
    let d = &f.diagnostics[0];
    assert_eq!(d.code, "E0703", "{d:?}");
    let label = d.labels.first().expect("a place in the configuration");
    let file = f.sources.get(label.loc.file);
    assert!(
        file.path.ends_with("config.unik"),
        "{}",
        file.path.display()
    );
    let at = &file.text[label.loc.span.range()];
    assert!(at.starts_with("foreign"), "labelled at {at:?}");
    assert!(rec.lines.is_empty(), "{:?}", rec.lines);
}

#[test]
fn check_returns_diagnostics_without_printing_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.unik"), "let x = 1; in y\n").unwrap();
    let mut rec = Recorder::default();
    let checked = unikc::ops::check::check(
        Some(dir.path()),
        unik_resolver::session::Matrix::Only(vec![Target::Unix]),
        BTreeMap::new(),
        unikc::ops::check::Want::Diagnostics,
        &mut rec,
    )
    .unwrap();
    assert!(checked.diagnostics.iter().any(|d| d.code == "E0201"));
    assert!(rec.diagnostics.is_empty() && rec.lines.is_empty());
    // A missing configuration is a usage failure.
    let missing = unikc::ops::check::find_config(Some(&dir.path().join("none.unik")));
    assert_eq!(missing.unwrap_err().exit, Exit::Usage);
}
