//! `unikc configure`, `build`, `new` and `clean`: deterministic output,
//! hand edits refused, and bad inputs reported clearly with nothing
//! half-written.

mod unikernel;

use std::path::Path;
use unikernel::{copy_example, repo, tree, unikc};

#[test]
fn configuring_twice_gives_identical_trees() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("ws");
    let dir_s = dir.to_str().unwrap();
    // kv_ro embeds a directory and reads a configure key: the most varied output.
    let first = unikc(repo(), &["configure", "examples/kv_ro", "-o", dir_s]);
    assert_eq!(first.code, 0, "{}", first.all());
    let a = tree(&dir);
    assert_eq!(
        a.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            ".cargo/config.toml",
            ".unikc-manifest",
            "Cargo.toml",
            "deps/project",
            "deps/runtime",
            "src/main.rs"
        ]
    );
    std::fs::remove_dir_all(&dir).unwrap();
    // Again from another directory, naming the configuration absolutely.
    let config = repo().join("examples/kv_ro/config.unik");
    let second = unikc(
        Path::new("/"),
        &["configure", config.to_str().unwrap(), "-o", dir_s],
    );
    assert_eq!(second.code, 0, "{}", second.all());
    assert!(tree(&dir) == a, "the trees differ");

    // A third run changes nothing, not even modification times.
    let mtime = std::fs::metadata(dir.join("src/main.rs"))
        .unwrap()
        .modified()
        .unwrap();
    let third = unikc(repo(), &["configure", "examples/kv_ro", "-o", dir_s]);
    assert!(
        third.stderr.contains("(0 written, 3 unchanged)"),
        "{}",
        third.all()
    );
    assert_eq!(
        std::fs::metadata(dir.join("src/main.rs"))
            .unwrap()
            .modified()
            .unwrap(),
        mtime
    );

    let main = String::from_utf8(a["src/main.rs"].clone()).unwrap();
    assert!(
        main.contains("// crunch: kv_ro, config.unik:7:27"),
        "{main}"
    );
    assert!(
        main.contains("\"dir/hello.txt\",") && main.contains("t/dir/hello.txt\")"),
        "{main}"
    );
    let manifest = String::from_utf8(a["Cargo.toml"].clone()).unwrap();
    // Local crates through `deps/`, so their paths are not in the image.
    assert!(
        manifest.contains("kv_ro = { path = \"deps/project\" }"),
        "{manifest}"
    );
    assert!(manifest.contains("exclude = [\"deps\"]"), "{manifest}");
    assert!(
        manifest.contains("unik-rt = { version = \">=0.1.0, <0.2.0\", path = "),
        "{manifest}"
    );
}

#[test]
fn hand_edits_are_detected_and_kept() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("ws");
    let dir_s = dir.to_str().unwrap();
    let ok = unikc(repo(), &["configure", "examples/hello", "-o", dir_s]);
    assert_eq!(ok.code, 0, "{}", ok.all());
    let main = dir.join("src/main.rs");
    let mut text = std::fs::read_to_string(&main).unwrap();
    text.push_str("// my change\n");
    std::fs::write(&main, &text).unwrap();

    let refused = unikc(repo(), &["configure", "examples/hello", "-o", dir_s]);
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(refused.stderr.contains("E0704"), "{}", refused.all());
    assert!(refused.stderr.contains("src/main.rs"), "{}", refused.all());
    assert!(refused.stderr.contains("--force"), "{}", refused.all());
    assert_eq!(
        std::fs::read_to_string(&main).unwrap(),
        text,
        "the edit survives"
    );

    let forced = unikc(
        repo(),
        &["configure", "examples/hello", "-o", dir_s, "--force"],
    );
    assert_eq!(forced.code, 0, "{}", forced.all());
    assert!(
        !std::fs::read_to_string(&main)
            .unwrap()
            .contains("my change")
    );

    // A directory unikc did not write is not overwritten either.
    let other = out.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("Cargo.toml"), "[package]\n").unwrap();
    let refused = unikc(
        repo(),
        &["configure", "examples/hello", "-o", other.to_str().unwrap()],
    );
    assert_eq!(refused.code, 1, "{}", refused.all());
    assert!(
        refused.stderr.contains("not written by unikc"),
        "{}",
        refused.all()
    );
    assert_eq!(
        std::fs::read_to_string(other.join("Cargo.toml")).unwrap(),
        "[package]\n"
    );
}

#[test]
fn a_missing_user_crate_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("examples/hello/config.unik"),
        tmp.path().join("config.unik"),
    )
    .unwrap();
    let out = unikc(tmp.path(), &["configure"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0703"), "{}", out.all());
    assert!(
        out.stderr.contains("there is no Cargo.toml"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("cargo init --lib --name hello"),
        "{}",
        out.all()
    );
    assert!(!tmp.path().join("_build").exists(), "nothing is written");

    // A crate of another name is named in the error.
    std::fs::write(
        tmp.path().join("Cargo.toml"),
        "[package]\nname = \"greeter\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("src")).unwrap();
    std::fs::write(tmp.path().join("src/lib.rs"), "").unwrap();
    let out = unikc(tmp.path(), &["configure"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(
        out.stderr
            .contains("names the crate `hello`, but the crate in"),
        "{}",
        out.all()
    );
    assert!(!tmp.path().join("_build").exists());
}

#[test]
fn a_missing_embedded_directory_writes_nothing() {
    let (_tmp, dir) = copy_example("kv_ro");
    std::fs::remove_dir_all(dir.join("t")).unwrap();
    let out = unikc(&dir, &["configure"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0705"), "{}", out.all());
    assert!(!dir.join("_build").exists());
    // Reading the directory from the host at run time needs no embedding.
    let out = unikc(&dir, &["configure", "--kv_ro=direct"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn an_unbundled_runtime_crate_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("config.unik"),
        r#"let
  dev = impl {
    name = "gadget";
    type = console;
    module = "unik_gadget";
    packages = [ (package "unik-gadget" { min = "0.1.0"; }) ];
    connect = "{module}::connect()";
  };
in
register "x" [ (foreign "x::X" (console @-> job)) $ dev ]
"#,
    )
    .unwrap();
    let out = unikc(tmp.path(), &["configure"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0706"), "{}", out.all());
    assert!(
        out.stderr.contains("unik-gadget is not bundled"),
        "{}",
        out.all()
    );
    assert!(!tmp.path().join("_build").exists());
}

#[test]
fn a_compile_error_in_the_users_crate() {
    let (_tmp, dir) = copy_example("hello");
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    std::fs::write(
        &lib,
        text.replace("console.log(\"hello\")?;", "console.log(42)?;"),
    )
    .unwrap();
    let out = {
        let _g = unikernel::build_lock();
        unikc(&dir, &["build"])
    };
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr.contains("error[E0308]: mismatched types"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("E0702"), "{}", out.all());
    assert!(
        out.stderr.contains("the failing crate is yours: `hello`"),
        "{}",
        out.all()
    );
    assert!(!dir.join("dist").exists(), "no image is left behind");
}

#[test]
fn a_start_signature_that_does_not_match_the_configuration() {
    let (_tmp, dir) = copy_example("hello");
    let lib = dir.join("src/lib.rs");
    let text = std::fs::read_to_string(&lib).unwrap();
    // One device too few: the generated call no longer compiles.
    let text = text
        .replace("        time: &'static impl Sleep,\n", "")
        .replace("time.sleep_ns(100_000_000).await;", "")
        .replace(
            "use unik_rt::{Console, JobError, Sleep};",
            "use unik_rt::{Console, JobError};",
        );
    std::fs::write(&lib, text).unwrap();
    let out = {
        let _g = unikernel::build_lock();
        unikc(&dir, &["build"])
    };
    // The input's error (exit 1), shown at the declaration and at `start`
    // (tests/start_mismatch.rs covers the cases), not in generated code.
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0703"), "{}", out.all());
    assert!(
        out.stderr.contains(
            "`hello::Hello::start` does not match the declared type `console @-> time @-> job`"
        ),
        "{}",
        out.all()
    );
    assert!(!out.stderr.contains("main.rs:"), "{}", out.all());
}

#[test]
fn a_missing_cargo_is_e0701_before_anything_is_written() {
    let (_tmp, dir) = copy_example("hello");
    let empty = tempfile::tempdir().unwrap();
    let mut c = unikernel::command(&dir, &["build"]);
    c.env("PATH", empty.path());
    let out = unikernel::output(c);
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("E0701"), "{}", out.all());
    assert!(out.stderr.contains("rustup"), "{}", out.all());
    assert!(!dir.join("_build").exists());
}

/// `direct_kv_rw` over a directory the unikernel cannot write: the job
/// fails with the key and the OS error, and the directory is untouched.
#[test]
fn a_read_only_kv_directory() {
    let (_tmp, dir) = copy_example("kv_rw");
    std::fs::write(
        dir.join("config.unik"),
        "register \"kv_rw\" [ (foreign \"kv_rw::KvRw\" (kv_rw @-> job)) $ direct_kv_rw \"data\" ]\n",
    )
    .unwrap();
    let data = dir.join("data");
    std::fs::create_dir(&data).unwrap();
    unikernel::build(&dir, &[]);
    let image = dir.join("dist/kv_rw");

    // Writable: the store is the directory.
    let mut c = std::process::Command::new(&image);
    c.current_dir(&dir);
    let ok = unikernel::output(c);
    assert_eq!(ok.code, 0, "{}", ok.all());
    assert_eq!(
        std::fs::read_to_string(data.join("greeting")).unwrap(),
        "hello"
    );
    std::fs::remove_file(data.join("greeting")).unwrap();

    // Read-only: as root, permissions do not stop writes, so the directory
    // is bind-mounted read-only in a private mount namespace.
    let is_root = unsafe_free_uid() == 0;
    let out = if is_root {
        let script = format!(
            "mount --bind -o ro {d} {d} && exec {i}",
            d = data.display(),
            i = image.display()
        );
        let mut c = std::process::Command::new("unshare");
        c.args(["--mount", "sh", "-c", &script]).current_dir(&dir);
        unikernel::output(c)
    } else {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
        let mut c = std::process::Command::new(&image);
        c.current_dir(&dir);
        unikernel::output(c)
    };
    assert_eq!(out.code, 1, "the job fails: {}", out.all());
    assert!(out.stdout.contains("cannot set /greeting"), "{}", out.all());
    assert!(
        out.stdout.contains("os error 30") || out.stdout.contains("os error 13"),
        "{}",
        out.all()
    );
    assert_eq!(
        std::fs::read_dir(&data).unwrap().count(),
        0,
        "nothing half-written"
    );
}

/// The user id, from `/proc` (no libc dependency in tests).
fn unsafe_free_uid() -> u32 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

#[test]
fn new_scaffolds_a_project_that_runs_and_clean_removes_the_output() {
    let tmp = tempfile::tempdir().unwrap();
    let out = unikc(tmp.path(), &["new", "demo-app"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let dir = tmp.path().join("demo-app");
    for f in ["config.unik", "Cargo.toml", "src/lib.rs", ".gitignore"] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
    let again = unikc(tmp.path(), &["new", "demo-app"]);
    assert_eq!(again.code, 2, "{}", again.all());
    let bad = unikc(tmp.path(), &["new", "9lives"]);
    assert_eq!(bad.code, 2, "{}", bad.all());

    let check = unikc(&dir, &["check"]);
    assert_eq!(check.code, 0, "{}", check.all());
    let ran = unikernel::run(&dir, &["--", "--greeting=hi there"]);
    assert_eq!(ran.code, 0, "{}", ran.all());
    assert_eq!(ran.stdout, "hi there\n".repeat(3));
    assert!(dir.join("dist/demo-app").is_file());

    let cleaned = unikc(&dir, &["clean"]);
    assert_eq!(cleaned.code, 0, "{}", cleaned.all());
    assert!(!dir.join("_build").exists() && !dir.join("dist").exists());
    assert!(dir.join("config.unik").is_file(), "clean keeps the project");
}

/// Every example is a template of `unikc new --template`: the copy, renamed
/// after the project, checks clean on its targets; one is built and run, so
/// the renamed crate really is the one its configuration names.
#[test]
fn new_from_every_example_template() {
    let tmp = tempfile::tempdir().unwrap();
    let mut templates: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("config.unik").is_file() && p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    templates.sort();
    assert!(templates.len() >= 13, "{templates:?}");
    let book = std::fs::read_to_string(repo().join("book/src/cli.md")).unwrap();
    for t in &templates {
        assert!(
            book.contains(&format!("`{t}`")),
            "book/src/cli.md does not list `{t}`"
        );
        let name = format!("from-{}", t.replace('_', "-"));
        let out = unikc(tmp.path(), &["new", &name, "--template", t]);
        assert_eq!(out.code, 0, "{t}: {}", out.all());
        let dir = tmp.path().join(&name);
        let config = std::fs::read_to_string(dir.join("config.unik")).unwrap();
        assert!(
            config.contains(&format!("register \"{name}\"")),
            "{t}: {config}"
        );
        assert!(dir.join(".gitignore").is_file());
        let check = unikc(&dir, &["check"]);
        assert_eq!(check.code, 0, "{t}: {}", check.all());
    }
    let dir = tmp.path().join("from-hello-key");
    let ran = unikernel::run(&dir, &["--", "--hello=hi from a template"]);
    assert_eq!(ran.code, 0, "{}", ran.all());
    assert_eq!(ran.stdout, "hi from a template\n".repeat(4));
    assert!(dir.join("dist/from-hello-key").is_file());

    let unknown = unikc(tmp.path(), &["new", "x", "--template", "nope"]);
    assert_eq!(unknown.code, 2, "{}", unknown.all());
    assert!(!tmp.path().join("x").exists());
}

/// Generated code reads like hand-written code: rustfmt leaves it alone.
#[test]
fn generated_main_is_rustfmt_clean() {
    let out = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for entry in std::fs::read_dir(repo().join("examples")).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.join("Cargo.toml").is_file() {
            continue;
        }
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        // Embedded files are named by paths relative to the output, so
        // lines grow with the output's depth: try a shallow and a deep one.
        for under in [
            String::new(),
            format!("{}/{}", "d".repeat(40), "e".repeat(40)),
        ] {
            let ws = out.path().join(&under).join(&name);
            let c = unikc(&dir, &["configure", "-o", ws.to_str().unwrap()]);
            assert_eq!(c.code, 0, "{name}: {}", c.all());
            let mut fmt = std::process::Command::new("rustfmt");
            fmt.args(["--edition", "2024", "--check"])
                .arg(ws.join("src/main.rs"));
            let f = unikernel::output(fmt);
            assert_eq!(f.code, 0, "{name}: rustfmt would change it:\n{}", f.all());
        }
        checked += 1;
    }
    assert!(checked >= 8, "only {checked} example crates");
}

/// One embedded file whose entry is too wide for the `static` line but
/// narrow enough for the next: rustfmt's middle layout.
#[test]
fn a_one_file_embed_takes_the_next_line_when_it_fits_there() {
    let (_tmp, dir) = copy_example("http-fetch");
    let ws = dir.join("a/b/c/d/e");
    let c = unikc(&dir, &["configure", "-o", ws.to_str().unwrap()]);
    assert_eq!(c.code, 0, "{}", c.all());
    let main = std::fs::read_to_string(ws.join("src/main.rs")).unwrap();
    assert!(
        main.contains(
            " =\n    &[(\"ca.pem\", include_bytes!(\"../../../../../../ca/ca.pem\"))];\n"
        ),
        "{main}"
    );
    let mut fmt = std::process::Command::new("rustfmt");
    fmt.args(["--edition", "2024", "--check"])
        .arg(ws.join("src/main.rs"));
    let f = unikernel::output(fmt);
    assert_eq!(f.code, 0, "rustfmt would change it:\n{}", f.all());
}

/// A crate of the graph that fails to compile is traced to the device that
/// asked for it (here a pinned path crate, which also checks pins).
#[test]
fn a_failing_dependency_names_the_device_that_pulled_it() {
    let (_tmp, dir) = copy_example("hello");
    std::fs::write(
        dir.join("config.unik"),
        r#"let
  main = foreign "hello::Hello" {
    packages = [ (package "broken" { min = "0.1.0"; pin = { path = "./broken"; }; }) ];
  } (console @-> time @-> job);
in
register "hello" [ main $ default_console $ default_time ]
"#,
    )
    .unwrap();
    let broken = dir.join("broken");
    std::fs::create_dir_all(broken.join("src")).unwrap();
    std::fs::write(
        broken.join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    )
    .unwrap();
    std::fs::write(broken.join("src/lib.rs"), "pub fn f() -> u8 { \"no\" }\n").unwrap();
    let out = {
        let _g = unikernel::build_lock();
        unikc(&dir, &["build"])
    };
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(
        out.stderr
            .contains("the failing crate `broken` (>=0.1.0) was pulled in by hello::Hello"),
        "{}",
        out.all()
    );
    let manifest = std::fs::read_to_string(dir.join("_build/hello-unix/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("broken = { version = \">=0.1.0\", path = \"deps/pin/broken\" }"),
        "{manifest}"
    );
}
