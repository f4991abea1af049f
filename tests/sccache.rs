//! `unikc build` under `RUSTC_WRAPPER=sccache`: the same project checked
//! out at two paths gives the same cache keys. The second checkout's
//! clean build (its own target directory) must find every cacheable
//! rustc call in the cache the first filled, and make the same image.
//!
//! Needs sccache 0.10 or newer (`SCCACHE=PATH`, else `sccache` on PATH):
//! older ones, Debian's 0.4 among them, refuse `--remap-path-prefix`, which
//! every generated workspace passes for reproducible images, so nothing
//! of a unikc build would be cached. `.ci/run` installs one.

mod unikernel;

use std::path::{Path, PathBuf};
use std::process::Command;
use unikernel::{build_lock, command, copy_example, free_port, output};

/// The sccache to test with: `SCCACHE`, else the first of those on PATH
/// and in cargo's `bin/` that is new enough; a missing or too old one is
/// an error.
fn sccache() -> PathBuf {
    let candidates: Vec<PathBuf> = match std::env::var_os("SCCACHE") {
        Some(p) => vec![PathBuf::from(p)],
        None => {
            let home = std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
            which::which_all("sccache")
                .into_iter()
                .flatten()
                .chain(home.map(|h| h.join("bin/sccache")).filter(|p| p.is_file()))
                .collect()
        }
    };
    let mut seen = Vec::new();
    for path in candidates {
        let Ok(out) = Command::new(&path).arg("--version").output() else {
            continue;
        };
        // "sccache 0.17.0"
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let version: Vec<u32> = text
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .split(['.', '-'])
            .take(2)
            .map(|n| n.parse().unwrap_or(0))
            .collect();
        if version.as_slice() >= [0, 10].as_slice() {
            return path;
        }
        seen.push(format!("{} is `{text}`", path.display()));
    }
    panic!(
        "no sccache 0.10 or newer ({}): older ones, Debian's 0.4 among them, refuse \
         --remap-path-prefix, so no rustc call of a unikc build is cacheable; install one \
         (`cargo install sccache --locked`, as .ci/run does) or set SCCACHE=PATH",
        if seen.is_empty() {
            "none found".to_string()
        } else {
            seen.join("; ")
        }
    )
}

/// An sccache server of our own: its port, its disk cache.
struct Server {
    bin: PathBuf,
    port: String,
    _dir: tempfile::TempDir,
}

impl Server {
    fn start() -> Server {
        let bin = sccache();
        let dir = tempfile::tempdir().unwrap();
        let s = Server {
            bin,
            port: free_port().to_string(),
            _dir: dir,
        };
        let out = s.cmd(&["--start-server"]).output().unwrap();
        assert!(
            out.status.success(),
            "sccache --start-server: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        s
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.bin);
        c.args(args)
            .env("SCCACHE_SERVER_PORT", &self.port)
            .env("SCCACHE_DIR", self._dir.path().join("cache"))
            .env("SCCACHE_IDLE_TIMEOUT", "0")
            .env_remove("SCCACHE_REDIS")
            .env_remove("SCCACHE_REDIS_ENDPOINT")
            .env_remove("SCCACHE_BUCKET")
            .env_remove("RUSTC_WRAPPER");
        c
    }

    /// The server's counters: (hits, misses, non-cacheable by reason).
    fn stats(&self) -> (u64, u64, Vec<(String, u64)>) {
        let out = self
            .cmd(&["--show-stats", "--stats-format", "json"])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        let s = &v["stats"];
        let count = |k: &str| {
            s[k]["counts"]
                .as_object()
                .map(|m| m.values().filter_map(|n| n.as_u64()).sum::<u64>())
                .unwrap_or(0)
        };
        let reasons = s["not_cached"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                    .collect()
            })
            .unwrap_or_default();
        (count("cache_hits"), count("cache_misses"), reasons)
    }

    fn zero(&self) {
        assert!(
            self.cmd(&["--zero-stats"])
                .output()
                .unwrap()
                .status
                .success()
        );
    }

    /// `unikc build -t T` in `dir` through this server, with a target
    /// directory of its own (a clean build).
    fn build(&self, dir: &Path, target: &str, target_dir: &Path) -> unikernel::Output {
        let mut c = command(dir, &["build", "-t", target]);
        c.env("RUSTC_WRAPPER", &self.bin)
            .env("SCCACHE_SERVER_PORT", &self.port)
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_TARGET_DIR", target_dir);
        output(c)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.cmd(&["--stop-server"]).output();
    }
}

fn sha256(p: &Path) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(std::fs::read(p).unwrap()))
}

/// One target: a build in the first checkout fills the cache, the second
/// checkout's clean build hits it for every cacheable call.
fn two_checkouts(target: &str, image: &str) {
    let server = Server::start();
    let (_a, first) = copy_example("hello");
    // Another parent and another name: nothing of the path is shared.
    let other = tempfile::tempdir().unwrap();
    let second = other.path().join("checkout").join("elsewhere");
    unikernel::copy_dir(&first, &second);
    let targets = tempfile::tempdir().unwrap();
    let _g = build_lock();

    let a = server.build(&first, target, &targets.path().join("a"));
    assert_eq!(a.code, 0, "{target}: {}", a.all());
    let (hits_a, misses_a, reasons_a) = server.stats();
    // What the first build compiled is the cacheable work: the runtime
    // crates, the user's crate and any registry crate.
    assert!(
        misses_a >= 3,
        "{target}: the first build compiled {misses_a} cacheable crates ({hits_a} hits, not cached: {reasons_a:?})"
    );

    std::fs::copy(first.join("unik.lock"), second.join("unik.lock")).unwrap();
    server.zero();
    let b = server.build(&second, target, &targets.path().join("b"));
    assert_eq!(b.code, 0, "{target}: {}", b.all());
    let (hits, misses, reasons) = server.stats();
    assert_eq!(
        (hits, misses),
        (misses_a, 0),
        "{target}: the second checkout's build should hit the cache for each of the \
         {misses_a} crates the first compiled (not cached: {reasons:?})"
    );
    // Only what sccache never caches: the image's binary crate (it links)
    // and build scripts (binaries too), `crate-type`; and cargo's queries,
    // which compile nothing: `rustc -vV` (`missing input`) and the target
    // probe reading stdin (`-`).
    assert!(
        reasons
            .iter()
            .all(|(why, _)| ["crate-type", "missing input", "-"].contains(&why.as_str())),
        "{target}: rustc calls refused for another reason: {reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|(why, n)| why == "crate-type" && *n >= 1),
        "{target}: the image's binary crate was not seen: {reasons:?}"
    );
    let linked = |r: &[(String, u64)]| {
        r.iter()
            .find(|(why, _)| why == "crate-type")
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(
        linked(&reasons),
        linked(&reasons_a),
        "{target}: the same binaries were built: {reasons:?} vs {reasons_a:?}"
    );

    let (ia, ib) = (
        first.join("dist").join(image),
        second.join("dist").join(image),
    );
    assert_eq!(
        sha256(&ia),
        sha256(&ib),
        "{target}: the images differ: {:?}",
        unik_codegen::record::difference(&ia, &ib).unwrap()
    );
}

/// The control: a checkout whose parent has a `.cargo/config.toml` is
/// built in place (`_build/`, which cargo would read that file from), so
/// its own crates run rustc in a directory of their own and miss the warm
/// cache; only registry crates, compiled in `$CARGO_HOME`, hit.
#[test]
fn a_checkout_built_in_place_misses_for_its_own_crates() {
    let server = Server::start();
    let (_a, first) = copy_example("hello");
    let other = tempfile::tempdir().unwrap();
    let second = other.path().join("hello");
    unikernel::copy_dir(&first, &second);
    std::fs::create_dir(other.path().join(".cargo")).unwrap();
    std::fs::write(other.path().join(".cargo/config.toml"), "# empty\n").unwrap();
    let targets = tempfile::tempdir().unwrap();
    let _g = build_lock();
    let a = server.build(&first, "unix", &targets.path().join("a"));
    assert_eq!(a.code, 0, "{}", a.all());
    std::fs::copy(first.join("unik.lock"), second.join("unik.lock")).unwrap();
    server.zero();
    let b = server.build(&second, "unix", &targets.path().join("b"));
    assert_eq!(b.code, 0, "{}", b.all());
    let (hits, misses, reasons) = server.stats();
    // unik-rt, unik-unix and hello.
    assert!(
        misses >= 3 && hits >= 1,
        "in place: {hits} hits, {misses} misses (not cached: {reasons:?})"
    );
}

#[test]
fn a_second_checkout_hits_the_cache_on_unix() {
    two_checkouts("unix", "hello");
}

#[test]
fn a_second_checkout_hits_the_cache_on_spt() {
    two_checkouts("spt", "hello.spt");
}
