//! One failing configuration per device-model code (E03xx resolver typing,
//! E04xx targets, E05xx crate bounds, E06xx keys) under
//! tests/device-diagnostics/NAME/config.unik, NAME starting with the code.
//! An optional `args` file holds extra `unikc check` arguments (a target,
//! `--KEY=VALUE`). Both renderings are snapshot-tested and the code is
//! asserted.

mod common;

use std::path::Path;

fn check(dir: &Path) {
    let root = common::repo().join("tests/device-diagnostics");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let code = &name[..5];
    let extra = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let mut args: Vec<&str> = vec!["check", &name];
    args.extend(extra.split_whitespace());
    let human = common::unikc(&root, &args);
    args.extend(["--message-format", "json"]);
    let json = common::unikc(&root, &args);

    assert_eq!(human.code, 1, "{name}: exit code\n{}", human.stderr);
    assert_eq!(json.code, 1, "{name}: exit code in JSON mode");
    let codes: Vec<String> = json
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            v["code"].as_str().unwrap().to_string()
        })
        .collect();
    assert!(
        codes.iter().any(|c| c == code),
        "{name}: {code} not reported, got {codes:?}"
    );
    insta::assert_snapshot!(format!("{name}.human"), human.stderr);
    insta::assert_snapshot!(format!("{name}.json"), json.stdout);
}

#[test]
fn every_device_code_has_a_failing_configuration() {
    let root = common::repo().join("tests/device-diagnostics");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("config.unik").is_file())
        .collect();
    dirs.sort();
    let mut covered: Vec<String> = dirs
        .iter()
        .map(|d| d.file_name().unwrap().to_string_lossy()[..5].to_string())
        .collect();
    covered.dedup();
    for code in [
        "E0301", "E0302", "E0303", "E0305", "E0306", "E0401", "E0402", "E0501", "E0502", "E0503",
        "E0601", "E0602", "E0604",
    ] {
        assert!(
            covered.iter().any(|c| c == code),
            "no failing configuration for {code}"
        );
    }
    for d in &dirs {
        check(d);
    }
}
