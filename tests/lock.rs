//! `unik.lock` and reproducible images: the lock round trip, stale locks
//! refused with what changed (E0504), a missing lock (E0505), a tampered
//! lock (E0506), `--locked` never writing, pins reaching the lock, and the
//! same image from two directories for every target codegen supports.

mod unikernel;

use std::path::{Path, PathBuf};
use std::time::SystemTime;
use unik_codegen::lock::{Lock, TargetLock, cargo_lock};
use unikernel::{build_lock, command, copy_example, output, unikc};

/// A copy of `examples/hello` whose configuration imports `sub/lib.unik`,
/// bounds `libc`, and pins a path crate declared in the imported file
/// (`./helper`, relative to `sub/`).
fn project() -> (tempfile::TempDir, PathBuf) {
    let (tmp, dir) = copy_example("hello");
    write(
        &dir.join("config.unik"),
        r#"let
  lib = import ./sub/lib.unik;
  main = foreign "hello::Hello" {
    packages = [ (package "libc" { min = "0.2.0"; max = "0.3.0"; }), lib.helper ];
  } (console @-> time @-> job);
in
register "hello" [ main $ default_console $ default_time ]
"#,
    );
    write(
        &dir.join("sub/lib.unik"),
        "{ helper = package \"helper\" { min = \"0.1.0\"; pin = { path = \"./helper\"; }; }; }\n",
    );
    write(
        &dir.join("sub/helper/Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(&dir.join("sub/helper/src/lib.rs"), "#![no_std]\n");
    (tmp, dir)
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn edit(p: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(p).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", p.display());
    std::fs::write(p, text.replacen(from, to, 1)).unwrap();
}

fn read_lock(dir: &Path) -> Lock {
    Lock::read(&dir.join("unik.lock"))
        .unwrap()
        .expect("unik.lock exists")
}

/// The lock file's bytes and modification time.
fn snapshot(dir: &Path) -> (Vec<u8>, SystemTime) {
    let p = dir.join("unik.lock");
    (
        std::fs::read(&p).unwrap(),
        std::fs::metadata(&p).unwrap().modified().unwrap(),
    )
}

/// `unikc build ARGS` under the build lock.
fn build(dir: &Path, args: &[&str]) -> unikernel::Output {
    let _g = build_lock();
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    unikc(dir, &all)
}

fn unix(lock: &Lock) -> &TargetLock {
    lock.targets.get("unix").expect("a unix entry")
}

#[test]
fn lock_round_trip_and_locked_build() {
    let (_tmp, dir) = project();
    let out = {
        let _g = build_lock();
        unikc(&dir, &["lock", "-t", "unix"])
    };
    assert_eq!(out.code, 0, "{}", out.all());
    let lock = read_lock(&dir);
    assert_eq!(lock.config, "config.unik");
    assert!(!lock.toolchain.rustc.is_empty() && lock.toolchain.cargo.starts_with("cargo "));
    let t = unix(&lock);

    // Inputs: the configuration, its import, the user's and the pinned manifests.
    let files: Vec<&str> = t.inputs.files.keys().map(String::as_str).collect();
    assert_eq!(
        files,
        [
            "Cargo.toml",
            "config.unik",
            "sub/helper/Cargo.toml",
            "sub/lib.unik"
        ]
    );
    assert_eq!(t.inputs.runtime, unik_codegen::bundle::DIGEST);

    // The graph and every crate, with exact versions and sources.
    assert!(t.graph.iter().any(|n| n.implementation == "hello::Hello"));
    let get = |name: &str| t.crates.iter().find(|c| c.name == name).unwrap();
    let libc = get("libc");
    assert!(libc.source.starts_with("registry+"), "{libc:?}");
    assert_eq!(libc.checksum.as_ref().map(String::len), Some(64));
    assert_eq!(libc.version.split('.').count(), 3, "{libc:?}");
    let original = libc.original.as_ref().expect("libc was asked for");
    assert_eq!(original.req, ">=0.2.0, <0.3.0");
    assert_eq!(original.required_by[0].at, "config.unik:4:19");
    assert_eq!(original.required_by[0].chain, ["hello::Hello"]);
    let helper = get("helper");
    assert_eq!(helper.source, "path+sub/helper");
    assert_eq!(
        helper.original.as_ref().unwrap().pin,
        Some(unik_codegen::lock::Pin::Path {
            path: "sub/helper".into()
        })
    );
    assert_eq!(get("unik-rt").source, "bundled");
    assert_eq!(get("hello").source, "path+.");
    assert_eq!(get("unikernel-hello").source, "generated");

    // Locking again changes nothing.
    let before = snapshot(&dir);
    let again = unikc(&dir, &["lock", "-t", "unix", "--offline"]);
    assert_eq!(again.code, 0, "{}", again.all());
    assert!(
        again.stderr.contains("Up to date hello for unix"),
        "{}",
        again.all()
    );
    assert_eq!(snapshot(&dir), before);

    // A locked build uses exactly the lock's Cargo.lock and writes no lock.
    let out = build(&dir, &["--locked"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(snapshot(&dir), before);
    let generated = std::fs::read_to_string(dir.join("_build/hello-unix/Cargo.lock")).unwrap();
    assert_eq!(generated, cargo_lock::render(&t.cargo_lock()));
    let manifest = std::fs::read_to_string(dir.join("_build/hello-unix/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("helper = { version = \">=0.1.0\", path = \"deps/pin/helper\" }"),
        "{manifest}"
    );

    // The build record names the lock and the image.
    let record: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("dist/hello.unix.build.json")).unwrap(),
    )
    .unwrap();
    let image = std::fs::read(dir.join("dist/hello")).unwrap();
    assert_eq!(record["image"]["sha256"], sha256(&image));
    assert_eq!(record["lock"]["sha256"], sha256(&before.0));
    assert_eq!(record["locked"], true);
    assert_eq!(record["inputs"], serde_json::to_value(&t.inputs).unwrap());
}

/// `pin = { path = ./helper; }`, a path literal in `sub/lib.unik`, is
/// `sub/helper`: the build uses that crate, not the decoy `helper` beside
/// the root configuration (which does not compile), and the lock and the
/// manifest name it.
#[test]
fn a_path_literal_pin_in_an_imported_file_builds_that_crate() {
    let (_tmp, dir) = project();
    edit(
        &dir.join("sub/lib.unik"),
        "pin = { path = \"./helper\"; }",
        "pin = { path = ./helper; }",
    );
    write(
        &dir.join("helper/Cargo.toml"),
        "[package]\nname = \"helper\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    write(
        &dir.join("helper/src/lib.rs"),
        "compile_error!(\"the pin was resolved against the wrong file\");\n",
    );
    let out = build(&dir, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let lock = read_lock(&dir);
    let helper = unix(&lock)
        .crates
        .iter()
        .find(|c| c.name == "helper")
        .unwrap();
    assert_eq!(helper.source, "path+sub/helper");
    assert_eq!(
        std::fs::canonicalize(dir.join("_build/hello-unix/deps/pin/helper")).unwrap(),
        std::fs::canonicalize(dir.join("sub/helper")).unwrap()
    );
}

fn sha256(data: &[u8]) -> String {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f");
    std::fs::write(&p, data).unwrap();
    unik_codegen::record::file_digest(&p).unwrap()
}

/// `build --locked` on a stale lock: E0504 naming the change, the lock
/// untouched.
fn refused(dir: &Path, expect: &[&str]) {
    let before = snapshot(dir);
    let out = build(dir, &["--locked"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0504"), "{}", out.all());
    for e in expect {
        assert!(out.stderr.contains(e), "expected {e:?}:\n{}", out.all());
    }
    assert_eq!(snapshot(dir), before, "--locked wrote the lock");
    let frozen = build(dir, &["--frozen"]);
    assert_eq!(frozen.code, 1, "{}", frozen.all());
    assert!(frozen.stderr.contains("E0504"), "{}", frozen.all());
}

/// Rewrites the lock as a unikc with another catalogue or runtime would.
fn rewrite_lock(dir: &Path, f: impl FnOnce(&mut TargetLock)) {
    let mut lock = read_lock(dir);
    f(lock.targets.get_mut("unix").unwrap());
    lock.write(&dir.join("unik.lock")).unwrap();
}

#[test]
fn every_kind_of_change_makes_the_lock_stale() {
    let (_tmp, dir) = project();
    let out = {
        let _g = build_lock();
        unikc(&dir, &["lock"])
    };
    assert_eq!(out.code, 0, "{}", out.all());
    let locked = snapshot(&dir);
    let restore = |dir: &Path| std::fs::write(dir.join("unik.lock"), &locked.0).unwrap();

    // The configuration file.
    let config = dir.join("config.unik");
    let original_config = std::fs::read_to_string(&config).unwrap();
    edit(&config, "let\n", "# a comment\nlet\n");
    refused(&dir, &["input `config.unik` changed"]);
    std::fs::write(&config, &original_config).unwrap();

    // An imported file.
    let lib = dir.join("sub/lib.unik");
    let original_lib = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(&lib, format!("{original_lib}# edited\n")).unwrap();
    refused(&dir, &["input `sub/lib.unik` changed"]);
    std::fs::write(&lib, &original_lib).unwrap();

    // The user's crate manifest.
    let manifest = dir.join("Cargo.toml");
    let original_manifest = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{original_manifest}# edited\n")).unwrap();
    refused(
        &dir,
        &["input `Cargo.toml` (the user crate's manifest) changed"],
    );
    std::fs::write(&manifest, &original_manifest).unwrap();

    // A lock written by a unikc with another catalogue, or another runtime.
    rewrite_lock(&dir, |t| t.inputs.catalogue = "0".repeat(64));
    refused(&dir, &["the device catalogue changed"]);
    restore(&dir);
    rewrite_lock(&dir, |t| t.inputs.runtime = "0".repeat(64));
    refused(
        &dir,
        &["the bundled runtime changed (digest 000000000000 → "],
    );
    restore(&dir);

    // A bound.
    edit(&config, "min = \"0.2.0\"", "min = \"0.2.100\"");
    refused(
        &dir,
        &[
            "input `config.unik` changed",
            "the bound of crate `libc` changed from `>=0.2.0, <0.3.0` to `>=0.2.100, <0.3.0`",
            "still satisfies it",
        ],
    );

    // Without --locked, the build updates the entry and keeps the versions
    // that still fit; then --locked builds again.
    let libc = |l: &Lock| {
        unix(l)
            .crates
            .iter()
            .find(|c| c.name == "libc")
            .map(|c| c.version.clone())
            .unwrap()
    };
    let before = read_lock(&dir);
    let out = build(&dir, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    let after = read_lock(&dir);
    assert_eq!(libc(&after), libc(&before));
    assert_eq!(
        unix(&after)
            .crates
            .iter()
            .find(|c| c.name == "libc")
            .unwrap()
            .original
            .as_ref()
            .unwrap()
            .req,
        ">=0.2.100, <0.3.0"
    );
    let out = build(&dir, &["--locked"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn a_missing_or_tampered_lock_is_refused() {
    let (_tmp, dir) = project();
    let out = build(&dir, &["--locked"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0505"), "{}", out.all());
    assert!(!dir.join("unik.lock").exists(), "--locked created the lock");

    let out = {
        let _g = build_lock();
        unikc(&dir, &["lock", "-t", "unix"])
    };
    assert_eq!(out.code, 0, "{}", out.all());
    let path = dir.join("unik.lock");
    let text = std::fs::read_to_string(&path).unwrap();
    let libc = unix(&read_lock(&dir))
        .crates
        .iter()
        .find(|c| c.name == "libc")
        .unwrap()
        .version
        .clone();
    // A version edited by hand.
    std::fs::write(&path, text.replace(&format!("\"{libc}\""), "\"0.2.0\"")).unwrap();
    for args in [&["--locked"][..], &[]] {
        let out = build(&dir, args);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.stderr.contains("E0506"), "{}", out.all());
        assert!(out.stderr.contains("integrity"), "{}", out.all());
    }
    // Merge conflict markers.
    std::fs::write(
        &path,
        format!("<<<<<<< HEAD\n{text}=======\n{text}>>>>>>> b\n"),
    )
    .unwrap();
    let out = build(&dir, &["--locked"]);
    assert!(out.stderr.contains("E0506"), "{}", out.all());
    let out = unikc(&dir, &["lock"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0506"), "{}", out.all());
}

/// A crate pinned to a git commit reaches the generated `Cargo.toml` and
/// the lock (cargo's source with the full commit).
#[test]
fn a_git_pin_reaches_the_manifest_and_the_lock() {
    let (tmp, dir) = copy_example("hello");
    let repo = tmp.path().join("gitdep");
    write(
        &repo.join("Cargo.toml"),
        "[package]\nname = \"gitdep\"\nversion = \"0.3.1\"\nedition = \"2024\"\n",
    );
    write(&repo.join("src/lib.rs"), "#![no_std]\n");
    let git = |args: &[&str]| {
        let mut c = std::process::Command::new("git");
        c.args(args)
            .current_dir(&repo)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org");
        let out = output(c);
        assert_eq!(out.code, 0, "git {args:?}: {}", out.all());
        out.stdout.trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "gitdep"]);
    let commit = git(&["rev-parse", "HEAD"]);
    let url = format!("file://{}", repo.display());
    edit(
        &dir.join("config.unik"),
        "foreign \"hello::Hello\"",
        &format!(
            "foreign \"hello::Hello\" {{ packages = [ (package \"gitdep\" {{ min = \"0.3.0\"; pin = {{ git = \"{url}\"; rev = \"{}\"; }}; }}) ]; }}",
            &commit[..10]
        ),
    );
    let out = {
        let _g = build_lock();
        unikc(&dir, &["lock", "-t", "unix"])
    };
    assert_eq!(out.code, 0, "{}", out.all());
    let lock = read_lock(&dir);
    let c = unix(&lock)
        .crates
        .iter()
        .find(|c| c.name == "gitdep")
        .unwrap()
        .clone();
    assert_eq!(c.version, "0.3.1");
    assert!(
        c.source
            .starts_with(&format!("git+{url}?rev={}", &commit[..10]))
            && c.source.ends_with(&format!("#{commit}")),
        "{c:?}"
    );
    assert_eq!(
        c.original.unwrap().pin,
        Some(unik_codegen::lock::Pin::Git {
            git: url.clone(),
            rev: commit[..10].to_string()
        })
    );
    let manifest = std::fs::read_to_string(dir.join("_build/hello-unix/Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!(
            "gitdep = {{ version = \">=0.3.0\", git = \"{url}\", rev = \"{}\" }}",
            &commit[..10]
        )),
        "{manifest}"
    );
}

/// The targets codegen can build: new targets are covered as they come.
fn targets() -> Vec<&'static str> {
    unik_lang::Target::ALL
        .into_iter()
        .filter(|t| unik_codegen::backends::lookup(*t).is_ok())
        .map(|t| t.name())
        .collect()
}

#[test]
fn two_directories_two_times_one_image() {
    let targets = targets();
    assert!(targets.contains(&"unix"));
    let (_a, first) = copy_example("hello");
    let (_b, second) = copy_example("hello");
    let fresh = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for t in &targets {
        let _g = build_lock();
        let a = unikc(&first, &["build", "-t", t]);
        assert_eq!(a.code, 0, "{t}: {}", a.all());
        // Another directory, another time, a fresh target directory and
        // runtime cache, and the first build's lock.
        std::fs::copy(first.join("unik.lock"), second.join("unik.lock")).unwrap();
        let mut c = command(&second, &["build", "-t", t, "--frozen"]);
        c.env("SOURCE_DATE_EPOCH", "1000000000")
            .env("CARGO_TARGET_DIR", fresh.path().join("target"))
            .env("UNIKC_CACHE_DIR", fresh.path().join("cache"));
        let b = output(c);
        assert_eq!(b.code, 0, "{t}: {}", b.all());
        let image = |dir: &Path| {
            let record: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("dist/hello.{t}.build.json"))).unwrap(),
            )
            .unwrap();
            let file = dir.join(record["image"]["file"].as_str().unwrap());
            assert_eq!(
                record["image"]["sha256"],
                sha256(&std::fs::read(&file).unwrap())
            );
            (
                record["image"]["sha256"].as_str().unwrap().to_string(),
                file,
            )
        };
        let ((ha, fa), (hb, fb)) = (image(&first), image(&second));
        let diff = unik_codegen::record::difference(&fa, &fb).unwrap();
        assert_eq!(ha, hb, "{t}: the images differ: {diff:?}");
        seen.push(*t);
    }
    assert_eq!(seen, targets);
}

#[test]
fn verify_rebuilds_and_compares() {
    let (_tmp, dir) = copy_example("hello");
    let out = build(&dir, &["--verify"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stderr.contains("the fresh build is identical (sha256 "),
        "{}",
        out.all()
    );
}
