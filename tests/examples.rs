//! Every example configuration checks clean on every target its devices
//! allow, and its unix device graph (`unikc describe --json`) is
//! snapshot-tested.

mod common;

#[test]
fn examples_check_and_describe() {
    let root = common::repo();
    let mut dirs: Vec<_> = std::fs::read_dir(root.join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("config.unik").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "examples missing: {dirs:?}");
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let rel = format!("examples/{name}");
        let check = common::unikc(root, &["check", &rel]);
        assert_eq!(check.code, 0, "{name}: {}", check.stderr);
        assert!(
            check.stderr.contains("no problems"),
            "{name}: {}",
            check.stderr
        );
        let json = common::unikc(root, &["describe", &rel, "--json"]);
        assert_eq!(json.code, 0, "{name}: {}", json.stderr);
        let v: serde_json::Value =
            serde_json::from_str(&json.stdout).expect("describe --json is JSON");
        assert_eq!(v["format"], 1);
        // Absolute paths (embedded directories) depend on the checkout.
        let text = json.stdout.replace(&root.display().to_string(), "[repo]");
        insta::assert_snapshot!(format!("describe-{name}"), text);
    }
}

#[test]
fn describe_forms_are_deterministic() {
    let root = common::repo();
    for args in [
        vec!["describe", "examples/network", "-t", "hvt", "--dhcp=true"],
        vec!["describe", "examples/ping", "--dot"],
        vec![
            "describe",
            "examples/static-website",
            "--json",
            "--net=direct",
        ],
    ] {
        let a = common::unikc(root, &args);
        let b = common::unikc(root, &args);
        assert_eq!(a.code, 0, "{args:?}: {}", a.stderr);
        assert_eq!(a.stdout, b.stdout, "{args:?}");
    }
    let dot = common::unikc(root, &["describe", "examples/ping", "--dot"]);
    insta::assert_snapshot!("describe-ping-dot", dot.stdout);
    let text = common::unikc(
        root,
        &["describe", "examples/network", "-t", "hvt", "--dhcp=true"],
    );
    insta::assert_snapshot!("describe-network-hvt-dhcp", text.stdout);
}

#[test]
fn the_default_matrix_names_skipped_targets() {
    let out = common::unikc(common::repo(), &["check", "examples/block"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("note: skipped target muen"),
        "{}",
        out.stderr
    );
    let all = common::unikc(
        common::repo(),
        &["check", "examples/block", "--all-targets"],
    );
    assert_eq!(all.code, 1);
    assert!(all.stderr.contains("E0402"), "{}", all.stderr);
}
