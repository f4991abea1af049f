//! Helpers for the tests that boot images of the virtio, spt and hvt
//! targets with `unikc run`: test projects, a network namespace with a tap
//! device whose Linux side is the peer, and a TCP echo check. Needs root,
//! /dev/net/tun and iproute2 (ping from iputils-ping); a missing one fails
//! the test, it never skips.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::unikernel::{self, Running};

/// The unikernel's address in the namespace (the catalogue's defaults).
pub const OURS: &str = "10.0.0.2";

/// A copy of `tests/bootable/NAME` in a fresh temporary directory.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dest = tmp.path().join(name);
    copy_dir(&unikernel::repo().join("tests/bootable").join(name), &dest);
    (tmp, dest)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

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
            "`{tool}` is missing: install iproute2 and iputils-ping"
        );
    }
}

fn sh(cmd: &mut Command) -> Output {
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
        let name = format!("unboot-{tag}-{}", std::process::id());
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

    /// `unikc run ARGS` in `dir`, inside the namespace (so `tap0` is the
    /// namespace's); stdout and stderr are captured.
    pub fn unikernel(&self, dir: &Path, args: &[&str]) -> Running {
        let _g = unikernel::build_lock();
        let model = unikernel::command(dir, &[]);
        let mut c = self.cmd(model.get_program().to_str().unwrap());
        c.arg("run").args(args).current_dir(dir);
        for (k, v) in model.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        Running(
            c.stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run unikc"),
        )
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
    let ping = |size: &str, count: &str| {
        ns.cmd("ping")
            .args(["-n", "-c", count, "-W", "1", "-s", size, OURS])
            .output()
            .unwrap()
    };
    eventually(server, || {
        let out = ping("56", "1");
        if out.status.success() {
            Ok(())
        } else {
            Err(out.status)
        }
    });
    for size in ["1472", "8000"] {
        let out = ping(size, "3");
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
    let target = SocketAddrV4::new(OURS.parse().unwrap(), 7);
    let stream = eventually(server, || {
        ns.thread(move || TcpStream::connect_timeout(&target.into(), Duration::from_secs(1)))
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

/// The 1 MiB pattern the block example writes: sector `s` byte `i` is
/// `s * 31 + i` (mod 256), over its first 8 sectors.
pub fn check_block_pattern(disk: &Path) {
    let data = std::fs::read(disk).unwrap();
    assert_eq!(data.len(), 1 << 20, "the device never grows the file");
    for sector in 0..8usize {
        let s = &data[sector * 512..(sector + 1) * 512];
        assert!(
            s.iter()
                .enumerate()
                .all(|(i, b)| *b == (sector * 31 + i) as u8),
            "sector {sector} does not hold the pattern"
        );
    }
    assert!(
        data[8 * 512..].iter().all(|b| *b == 0xa5),
        "sectors past 8 changed"
    );
}
