//! Helpers for tests that configure, build and run unikernels with the
//! real `unikc`. Builds share one cargo target directory and one runtime
//! cache under cargo's test scratch directory, so the runtime compiles once;
//! a lock serialises builds (cargo would anyway) so two tests never race on
//! an image of the same name.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Everything printed, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

static BUILDS: Mutex<()> = Mutex::new(());

/// Held while a test builds (a failed test must not block the others).
pub fn build_lock() -> MutexGuard<'static, ()> {
    BUILDS.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scratch() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// `unikc` with the shared target directory and runtime cache.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unikc"));
    c.args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("CARGO_TARGET_DIR", scratch().join("unikc-target"))
        .env("UNIKC_CACHE_DIR", scratch().join("unikc-cache"))
        .stdin(Stdio::null());
    c
}

/// Runs `unikc ARGS` in `dir` and captures everything.
pub fn unikc(dir: &Path, args: &[&str]) -> Output {
    output(command(dir, args))
}

pub fn output(mut c: Command) -> Output {
    let out = c.output().expect("running a program");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Builds a project (under the build lock), asserting success.
pub fn build(dir: &Path, args: &[&str]) {
    let _g = build_lock();
    let mut all = vec!["build"];
    all.extend_from_slice(args);
    let out = unikc(dir, &all);
    assert_eq!(
        out.code,
        0,
        "unikc {all:?} in {}:\n{}",
        dir.display(),
        out.all()
    );
}

/// Builds then runs (`unikc run ARGS`), capturing the unikernel's output.
pub fn run(dir: &Path, args: &[&str]) -> Output {
    let _g = build_lock();
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    unikc(dir, &all)
}

/// A copy of `examples/NAME` (config, crate, data; no build output) in a
/// fresh temporary directory; the project is `TMP/NAME`.
pub fn copy_example(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dest = tmp.path().join(name);
    copy_dir(&repo().join("examples").join(name), &dest);
    (tmp, dest)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        // Build outputs: `unikc build` writes `unik.lock` beside a config too,
        // so a copy must not inherit one from an earlier run in the repo.
        if name == "_build" || name == "dist" || name == "Cargo.lock" || name == "unik.lock" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Every file under `dir` (relative path → contents), skipping cargo's
/// `target/` and `Cargo.lock`; a symbolic link is listed with its target
/// as contents (`deps/` links back into projects, so it is not followed).
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let p = entry.path();
            let name = entry.file_name();
            if name == "target" || name == "Cargo.lock" {
                continue;
            }
            let rel = || p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_symlink() {
                let target = std::fs::read_link(&p).unwrap();
                out.insert(rel(), target.to_string_lossy().into_owned().into_bytes());
            } else if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel(), std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Log lines without their timestamp (`… INF [src] message` → `[src] message`).
pub fn messages(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.find(" [").map(|i| l[i + 1..].to_string()))
        .collect()
}

/// A child killed when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TCP port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
