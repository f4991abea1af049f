use super::*;

fn sample() -> Lock {
    let mut lock = Lock::new(
        "config.unik",
        parse_toolchain(
            "rustc 1.95.0 (abc 2026-03-21)\nbinary: rustc\ncommit-hash: abc\ncommit-date: 2026-03-21\nhost: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 20.1.8\n",
            "cargo 1.95.0 (def 2026-03-10)\n",
        ),
    );
    lock.targets.insert(
        "unix".into(),
        TargetLock {
            inputs: Inputs {
                files: BTreeMap::from([("config.unik".into(), "00".repeat(32))]),
                catalogue: "11".repeat(32),
                runtime: "22".repeat(32),
                keys: BTreeMap::new(),
            },
            graph: vec![GraphNode {
                node: "console_0".into(),
                implementation: "default_console".into(),
                module: "unik_unix::console".into(),
                ty: "console".into(),
                args: vec![],
                deps: vec![],
                crates: vec!["unik-unix".into()],
            }],
            crates: vec![LockedCrate {
                name: "libc".into(),
                version: "0.2.177".into(),
                source: "registry+https://github.com/rust-lang/crates.io-index".into(),
                checksum: Some("33".repeat(32)),
                dependencies: vec![],
                original: Some(Original {
                    req: ">=0.2.0, <0.3.0".into(),
                    features: vec![],
                    pin: None,
                    required_by: vec![Requirement {
                        min: Some("0.2.0".into()),
                        max: Some("0.3.0".into()),
                        at: "config.unik:3:5".into(),
                        chain: vec!["hello::Hello".into()],
                    }],
                }),
            }],
            unused_patches: vec![],
            cargo_lock_version: 4,
        },
    );
    lock
}

#[test]
fn round_trip_is_byte_identical() {
    let lock = sample();
    let text = lock.render();
    assert!(text.ends_with("}\n"));
    let back = Lock::parse(&text).unwrap();
    assert_eq!(back, lock);
    assert_eq!(back.render(), text);
    // Keys are sorted: `config` before `format` before `integrity`.
    let (c, f, i) = (
        text.find("\"config\"").unwrap(),
        text.find("\"format\"").unwrap(),
        text.find("\"integrity\"").unwrap(),
    );
    assert!(c < f && f < i, "{text}");
}

#[test]
fn toolchain_fields_are_parsed() {
    let t = sample().toolchain;
    assert_eq!(t.rustc, "1.95.0");
    assert_eq!(t.host, "x86_64-unknown-linux-gnu");
    assert_eq!(t.llvm, "20.1.8");
    assert_eq!(t.cargo, "cargo 1.95.0 (def 2026-03-10)");
}

#[test]
fn an_edited_lock_is_refused() {
    let text = sample().render();
    let edited = text.replace("0.2.177", "0.2.178");
    assert_ne!(edited, text);
    let e = Lock::parse(&edited).unwrap_err();
    assert!(e.contains("integrity"), "{e}");
    // Layout alone is not content.
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&text).unwrap()).unwrap();
    assert_eq!(Lock::parse(&compact).unwrap(), sample());
}

#[test]
fn conflicts_and_other_formats_are_refused() {
    let text = sample().render();
    let merged = format!("<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> feature\n");
    assert!(Lock::parse(&merged).unwrap_err().contains("JSON"));
    let v2 = text.replace("\"format\": 1", "\"format\": 2");
    assert!(Lock::parse(&v2).unwrap_err().contains("format 2"));
    let bare = text
        .lines()
        .filter(|l| !l.contains("\"integrity\""))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(Lock::parse(&bare).is_err());
}

#[test]
fn read_distinguishes_missing_from_unusable() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(FILE_NAME);
    assert_eq!(Lock::read(&p).unwrap(), None);
    assert!(sample().write(&p).unwrap());
    assert!(
        !sample().write(&p).unwrap(),
        "unchanged bytes are not rewritten"
    );
    assert_eq!(Lock::read(&p).unwrap(), Some(sample()));
    std::fs::write(&p, "{").unwrap();
    assert_eq!(Lock::read(&p).unwrap_err().code, Some("E0506"));
}

#[test]
fn the_cargo_lock_comes_from_the_entry() {
    let mut t = sample().targets["unix"].clone();
    t.crates.push(LockedCrate {
        name: "unik-rt".into(),
        version: "0.1.0".into(),
        source: "bundled".into(),
        checksum: None,
        dependencies: vec!["libc".into()],
        original: None,
    });
    let text = cargo_lock::render(&t.cargo_lock());
    assert!(text.contains("name = \"libc\"\nversion = \"0.2.177\"\nsource = \"registry+"));
    assert!(
        text.contains("name = \"unik-rt\"\nversion = \"0.1.0\"\ndependencies = [\n \"libc\",\n]\n")
    );
    assert_eq!(cargo_lock::parse(&text).unwrap(), t.cargo_lock());
}
