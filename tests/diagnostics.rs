//! One failing configuration per diagnostic code under tests/diagnostics/:
//! `NAME.unik` or `NAME/config.unik`, where NAME starts with the code it
//! must produce. Both renderings are snapshot-tested, so wording changes
//! are reviewed, and the code itself is asserted, so a lost check fails.

mod common;

use std::path::Path;

fn check(path: &Path) {
    let dir = common::repo().join("tests/diagnostics");
    let rel = path.strip_prefix(&dir).expect("under tests/diagnostics");
    let name = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy()
        .into_owned();
    let name = name.trim_end_matches(".unik").to_string();
    let code = &name[..5];
    let arg = rel.to_str().unwrap();

    let human = common::unikc(&dir, &["check", arg]);
    let json = common::unikc(&dir, &["check", arg, "--message-format", "json"]);

    let warning = code.starts_with('W');
    assert_eq!(
        human.code,
        if warning { 0 } else { 1 },
        "{name}: exit code\n{}",
        human.stderr
    );
    assert_eq!(json.code, human.code, "{name}: same exit code in JSON mode");
    let codes: Vec<String> = json
        .stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON object per line");
            for field in [
                "code", "severity", "message", "target", "labels", "help", "notes",
            ] {
                assert!(v.get(field).is_some(), "{name}: JSON lacks `{field}`: {l}");
            }
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
fn every_code_has_a_failing_example() {
    insta::glob!("diagnostics/*.unik", check);
    insta::glob!("diagnostics/*/config.unik", check);
}
