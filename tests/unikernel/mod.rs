//! Helpers for tests that configure, build and run unikernels with the
//! real `unikc`. Builds share one cargo target directory and one runtime
//! cache under cargo's test scratch directory, so the runtime compiles once;
//! a lock serialises builds (cargo would anyway) so two tests never race on
//! an image of the same name.
#![allow(dead_code)]

pub mod http;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Asserts that the unikernel logged each of `expected` (see [`messages`]).
    pub fn assert_logged(&self, expected: &[&str]) {
        let lines = messages(&self.stdout);
        for e in expected {
            assert!(
                lines.iter().any(|l| l == e),
                "`{e}` was not logged\n{}",
                self.all()
            );
        }
    }

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

pub fn copy_dir(from: &Path, to: &Path) {
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

// ----- a network namespace whose `tap0` is the unikernel's peer -----

/// The unikernel's address in the namespace (the catalogue's defaults).
pub const OURS: &str = "10.0.0.2";

pub fn require(tools: &[&str]) {
    assert!(
        Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing: these tests need the tun driver and root"
    );
    for tool in tools {
        let found = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .any(|d| Path::new(d).join(tool).is_file());
        assert!(
            found,
            "`{tool}` is missing: install iproute2, iputils-ping and curl"
        );
    }
}

fn sh(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A namespace with a persistent, up `tap0` holding the peer 10.0.0.1/24;
/// deleted on drop.
pub struct Ns {
    pub name: String,
}

impl Ns {
    pub fn new(tag: &str) -> Ns {
        require(&["ip"]);
        let name = format!("untest-{tag}-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        sh(Command::new("ip").args(["netns", "add", &name]));
        let ns = Ns { name };
        let ip = |args: &[&str]| sh(Command::new("ip").args(["-n", &ns.name]).args(args));
        ip(&["tuntap", "add", "dev", "tap0", "mode", "tap"]);
        ip(&["link", "set", "lo", "up"]);
        ip(&["addr", "add", "10.0.0.1/24", "dev", "tap0"]);
        ip(&["link", "set", "tap0", "up"]);
        ns
    }

    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Gives `tap0` the IPv6 address `cidr` (`2001:db8::1/64`), usable at once (no DAD on
    /// the kernel's side).
    pub fn ipv6(&self, cidr: &str) {
        sh(self
            .cmd("sysctl")
            .args(["-q", "-w", "net.ipv6.conf.tap0.accept_dad=0"]));
        sh(self
            .cmd("sysctl")
            .args(["-q", "-w", "net.ipv6.conf.tap0.disable_ipv6=0"]));
        sh(Command::new("ip").args([
            "-n", &self.name, "-6", "addr", "add", cidr, "dev", "tap0", "nodad",
        ]));
    }

    /// `unikc run ARGS` in `dir`, inside the namespace (so `tap0` is the
    /// namespace's); stdout and stderr are captured.
    pub fn unikernel(&self, dir: &Path, args: &[&str]) -> Running {
        let _g = build_lock();
        Running(
            self.unikc_run(dir, args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run unikc"),
        )
    }

    /// `unikc run ARGS` in `dir`, inside the namespace, to its end; under the
    /// build lock throughout, since `unikc run` builds first.
    pub fn run(&self, dir: &Path, args: &[&str]) -> Output {
        let _g = build_lock();
        output(self.unikc_run(dir, args))
    }

    /// [`command`]'s `unikc` and environment, run through `ip netns exec`.
    fn unikc_run(&self, dir: &Path, args: &[&str]) -> Command {
        let model = command(dir, &[]);
        let mut c = self.cmd(model.get_program().to_str().unwrap());
        c.arg("run").args(args).current_dir(dir);
        for (k, v) in model.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        c.stdin(Stdio::null());
        c
    }

    /// Runs `f` on a thread whose sockets live in the namespace.
    pub fn thread<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let ns = File::open(format!("/run/netns/{}", self.name)).unwrap();
        std::thread::spawn(move || {
            // SAFETY: setns on a namespace descriptor; it affects only this thread.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .unwrap()
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Stops the unikernel (SIGTERM to unikc, which stops QEMU or the tender)
/// and returns everything it printed.
pub fn stop(mut server: Running) -> String {
    // SAFETY: signalling our own child.
    unsafe { libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.0.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = server.0.kill();
    let _ = server.0.wait();
    let mut out = String::new();
    let _ = server.0.stdout.take().unwrap().read_to_string(&mut out);
    let _ = server.0.stderr.take().unwrap().read_to_string(&mut out);
    out
}

/// Retries `f` until it succeeds or three minutes pass (building, then
/// booting under emulation).
pub fn eventually<T, E: std::fmt::Debug>(
    server: &mut Running,
    mut f: impl FnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) => {
                if let Ok(Some(status)) = server.0.try_wait() {
                    let mut out = String::new();
                    let _ = server.0.stderr.take().unwrap().read_to_string(&mut out);
                    panic!("the unikernel stopped ({status}): {e:?}\n{out}");
                }
                assert!(
                    Instant::now() < deadline,
                    "the unikernel never answered: {e:?}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Pings the unikernel from the namespace: first until it answers, then
/// with 1472 and 8000 bytes (fragmented both ways).
pub fn ping_answers(ns: &Ns, server: &mut Running) {
    require(&["ip", "ping"]);
    eventually(server, || {
        let out = ns
            .cmd("ping")
            .args(["-n", "-c", "1", "-W", "1", OURS])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(out.status)
        }
    });
    // `-w` makes ping wait for all three replies: without it, ping exits 0
    // on the first reply and gives a slow third one only two round trips.
    for size in ["1472", "8000"] {
        let out = ns
            .cmd("ping")
            .args(["-n", "-c", "3", "-w", "30", "-s", size, OURS])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ping -s {size}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Connects to port 7 of the unikernel from the namespace and checks that
/// `size` bytes come back unchanged.
pub fn tcp_echoes(ns: &Ns, server: &mut Running, size: u32) {
    tcp_echoes_to(
        ns,
        server,
        SocketAddrV4::new(OURS.parse().unwrap(), 7).into(),
        size,
    )
}

/// As [`tcp_echoes`], to `target` (either family).
pub fn tcp_echoes_to(ns: &Ns, server: &mut Running, target: std::net::SocketAddr, size: u32) {
    let stream = eventually(server, || {
        ns.thread(move || TcpStream::connect_timeout(&target, Duration::from_secs(1)))
            .map_err(|e| e.kind())
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let payload: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let writer = {
        let mut s = stream.try_clone().unwrap();
        let p = payload.clone();
        std::thread::spawn(move || {
            s.write_all(&p).unwrap();
            s.shutdown(Shutdown::Write).unwrap();
        })
    };
    let mut echoed = Vec::new();
    (&stream).read_to_end(&mut echoed).unwrap();
    writer.join().unwrap();
    assert_eq!(echoed.len(), payload.len());
    assert!(echoed == payload, "echoed bytes differ");
}

/// The block example on a `ramdisk` of 64 sectors (no file behind it).
pub const RAMDISK_CONFIG: &str = "let
  main = foreign \"block::Block\" (block @-> job);
in
register \"block\" [ main $ ramdisk { name = \"scratch\"; sectors = 64; } ]
";
