//! A mistake passed through each catalogue function that takes devices or
//! builds them (stacks, kv stores, block devices, DHCP, interfaces, HTTP,
//! `by_platform`, an implementation a catalogue function chose that the
//! target lacks), one per directory under tests/catalogue-diagnostics/:
//! `config.unik`, `at` (the text the primary label must cover) and an
//! optional `args`. Each gives exactly one diagnostic, whose primary label
//! is in the user's file at the mistake, never inside the catalogue.
//! Both renderings are snapshot-tested.

mod common;

use std::path::Path;

fn check(dir: &Path) {
    let root = common::repo().join("tests/catalogue-diagnostics");
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let extra = std::fs::read_to_string(dir.join("args")).unwrap_or_default();
    let at = std::fs::read_to_string(dir.join("at")).expect("an `at` file");
    let text = std::fs::read_to_string(dir.join("config.unik")).unwrap();
    let mut args: Vec<&str> = vec!["check", &name];
    args.extend(extra.split_whitespace());
    let human = common::unikc(&root, &args);
    args.extend(["--message-format", "json"]);
    let json = common::unikc(&root, &args);

    assert_eq!(human.code, 1, "{name}: exit code\n{}", human.stderr);
    let diags: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(
        diags.len(),
        1,
        "{name}: one mistake, one diagnostic\n{}",
        json.stdout
    );
    let primary = &diags[0]["labels"][0];
    assert_eq!(
        primary["file"].as_str(),
        Some(format!("{name}/config.unik").as_str()),
        "{name}: primary label in the user's file\n{}",
        json.stdout
    );
    let (start, end) = (
        primary["start"].as_u64().unwrap() as usize,
        primary["end"].as_u64().unwrap() as usize,
    );
    assert_eq!(
        &text[start..end],
        at.trim_end(),
        "{name}: primary label at the mistake"
    );
    insta::assert_snapshot!(format!("{name}.human"), human.stderr);
    insta::assert_snapshot!(format!("{name}.json"), json.stdout);
}

#[test]
fn mistakes_through_catalogue_functions_are_shown_where_they_were_written() {
    let root = common::repo().join("tests/catalogue-diagnostics");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("config.unik").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "the fixtures are there");
    for d in &dirs {
        check(d);
    }
}
