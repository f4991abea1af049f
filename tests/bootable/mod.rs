//! Helpers for the tests that boot images of the virtio, spt and hvt
//! targets with `unikc run`: test projects, a network namespace with a tap
//! device whose Linux side is the peer, and a TCP echo check. Needs root,
//! /dev/net/tun and iproute2 (ping from iputils-ping); a missing one fails
//! the test, it never skips.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::unikernel;
pub use crate::unikernel::{Ns, ping_answers, stop, tcp_echoes};

/// A copy of `tests/bootable/NAME` in a fresh temporary directory.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dest = tmp.path().join(name);
    unikernel::copy_dir(&unikernel::repo().join("tests/bootable").join(name), &dest);
    (tmp, dest)
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

// ----- IPv6: the ping6 and network-v6 examples against Linux over the tap -----

/// The unikernel's IPv6 address in the namespace's `2001:db8::/64`; `tap0` is [`PEER6`].
pub const OURS6: &str = "2001:db8::2";
pub const PEER6: &str = "2001:db8::1";

/// The unikernel's standard output read as it comes, so a test can wait for a line.
pub struct Watch {
    out: std::sync::Arc<std::sync::Mutex<String>>,
    reader: std::thread::JoinHandle<()>,
}

impl Watch {
    /// Takes over `server`'s standard output.
    pub fn new(server: &mut unikernel::Running) -> Watch {
        use std::io::Read;
        let mut stdout = server.0.stdout.take().expect("the unikernel's stdout");
        let out = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = out.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Watch { out, reader }
    }

    pub fn log(&self) -> String {
        self.out.lock().unwrap().clone()
    }

    /// Waits up to `secs` for a line satisfying `want` and returns it.
    pub fn line(
        &self,
        server: &mut unikernel::Running,
        secs: u64,
        want: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            if let Some(l) = self.log().lines().find(|l| want(l)) {
                return l.to_string();
            }
            let exited = server.0.try_wait().ok().flatten();
            assert!(
                exited.is_none() && std::time::Instant::now() < deadline,
                "no such line within {secs} s (exit: {exited:?}):\n{}",
                self.log()
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    /// Stops the unikernel as [`stop`] does; returns its standard output and error.
    pub fn stop(self, mut server: unikernel::Running) -> String {
        use std::io::Read;
        // SAFETY: signalling our own child.
        unsafe { libc::kill(server.0.id() as libc::pid_t, libc::SIGTERM) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while server.0.try_wait().ok().flatten().is_none() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = server.0.kill();
        let _ = server.0.wait();
        let Watch { out, reader } = self;
        let _ = reader.join();
        let mut out = out.lock().unwrap().clone();
        let _ = server.0.stderr.take().unwrap().read_to_string(&mut out);
        out
    }
}

/// `ping6` under `unikc run ARGS` with [`OURS6`], pinging [`PEER6`] (`--ping`): Linux's
/// pings of 56 and 3000 bytes answered (the 3000-byte ones fragmented each way) and logged,
/// and the unikernel's own echo requests of 56 and 3000 bytes answered by Linux. Returns
/// the log.
pub fn ping6_both_ways(tag: &str, dir: &Path, args: &[&str]) -> String {
    let ns = Ns::new(tag);
    ns.ipv6(&format!("{PEER6}/64"));
    let ours = format!("--ipv6={OURS6}/64");
    let peer = format!("--ping={PEER6}");
    let mut all = args.to_vec();
    all.extend([ours.as_str(), peer.as_str()]);
    let mut server = ns.unikernel(dir, &all);
    let watch = Watch::new(&mut server);
    let ping = |args: &[&str]| {
        ns.cmd("ping")
            .args(["-6", "-n"])
            .args(args)
            .arg(OURS6)
            .output()
            .unwrap()
    };
    unikernel::eventually(&mut server, || {
        let out = ping(&["-c", "1", "-W", "1"]);
        if out.status.success() {
            Ok(())
        } else {
            Err(out.status)
        }
    });
    // `-w`: wait for all three replies.
    for size in ["56", "3000"] {
        let out = ping(&["-c", "3", "-w", "30", "-s", size]);
        assert!(
            out.status.success(),
            "ping -6 -s {size}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            watch.log()
        );
    }
    // The unikernel's six requests, a second apart, 3000-byte ones last.
    watch.line(&mut server, 60, |l| {
        l.contains(&format!("echo reply from {PEER6}: seq 6, 3000 bytes"))
    });
    let log = watch.stop(server);
    for (from, len) in [(PEER6, 56), (PEER6, 3000)] {
        let seen = log
            .lines()
            .filter(|l| {
                l.contains(&format!("echo request from {from}"))
                    && l.ends_with(&format!(", {len} bytes"))
            })
            .count();
        assert!(seen >= 3, "{seen} {len}-byte requests logged:\n{log}");
    }
    for (seq, len) in [(1, 56), (2, 56), (3, 56), (4, 3000), (5, 3000), (6, 3000)] {
        let reply = format!("echo reply from {PEER6}: seq {seq}, {len} bytes");
        assert!(log.contains(&reply), "`{reply}` missing:\n{log}");
    }
    assert!(
        log.contains(&format!("{OURS6}/64 (Static, Preferred)")),
        "{log}"
    );
    log
}

/// Echoes datagrams of each size (1 to 8000 bytes: 8000 is fragmented) from the namespace
/// to `target` and checks the answers: from `target`, byte for byte. A datagram or its
/// answer may be lost on the way (three tries each).
pub fn udp_echoes_to(ns: &Ns, server: &mut unikernel::Running, target: std::net::SocketAddr) {
    let any = if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let sock = ns.thread(move || std::net::UdpSocket::bind(any).unwrap());
    sock.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    unikernel::eventually(server, || {
        sock.send_to(b"hello?", target).map_err(|e| e.kind())?;
        sock.recv_from(&mut buf).map_err(|e| e.kind())
    });
    for size in [1usize, 1200, 8000] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        let echoed = (0..3).any(|_| {
            sock.send_to(&msg, target).unwrap();
            // A late answer to an earlier try is skipped by its length.
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                if n == size {
                    assert_eq!(from, target);
                    assert!(buf[..n] == msg[..], "echo of {size} bytes differs");
                    return true;
                }
            }
            false
        });
        assert!(echoed, "no echo of {size} bytes from {target}");
    }
}

/// `network-v6` under `unikc run ARGS` on the direct dual stack with 10.0.0.2 and
/// [`OURS6`]: `tcp_bytes` echoed over TCP and datagrams over UDP, over IPv6 and over IPv4.
/// Returns the log.
pub fn network_v6_echoes(tag: &str, dir: &Path, args: &[&str], tcp_bytes: u32) -> String {
    let ns = Ns::new(tag);
    ns.ipv6(&format!("{PEER6}/64"));
    let ours = format!("--ipv6={OURS6}/64");
    let mut all = args.to_vec();
    all.extend(["--ipv4=10.0.0.2/24", ours.as_str(), "--port=7"]);
    let mut server = ns.unikernel(dir, &all);
    let six: std::net::SocketAddr = format!("[{OURS6}]:7").parse().unwrap();
    let four: std::net::SocketAddr = format!("{}:7", unikernel::OURS).parse().unwrap();
    let echoed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        unikernel::tcp_echoes_to(&ns, &mut server, six, tcp_bytes);
        unikernel::tcp_echoes_to(&ns, &mut server, four, tcp_bytes);
        udp_echoes_to(&ns, &mut server, six);
        udp_echoes_to(&ns, &mut server, four);
    }));
    let log = stop(server);
    assert!(echoed.is_ok(), "echo failed; the unikernel's log:\n{log}");
    for peer in [format!("[{PEER6}]:"), "10.0.0.1:".to_string()] {
        assert!(
            log.lines()
                .any(|l| l.contains(&peer) && l.ends_with(&format!("echoed {tcp_bytes} bytes"))),
            "no TCP echo from {peer} logged:\n{log}"
        );
    }
    log
}

/// Runs `ping6` (built in `dir`) with no static address on a link where radvd
/// advertises `2001:db8:1::/64`: the unikernel must form its address by SLAAC,
/// log it once DAD passed, and answer Linux's pings there.
pub fn slaac_from_radvd(tag: &str, dir: &Path, args: &[&str]) {
    unikernel::require(&["ip", "ping", "radvd"]);
    let ns = Ns::new(tag);
    ns.ipv6("2001:db8:1::1/64");
    let sysctl = ns
        .cmd("sysctl")
        .args(["-q", "-w", "net.ipv6.conf.all.forwarding=1"])
        .status()
        .unwrap();
    assert!(sysctl.success());
    let conf_dir = tempfile::tempdir().unwrap();
    let conf = conf_dir.path().join("radvd.conf");
    std::fs::write(
        &conf,
        "interface tap0 {\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  \
         prefix 2001:db8:1::/64 {\n    AdvOnLink on;\n    AdvAutonomous on;\n  };\n};\n",
    )
    .unwrap();
    let radvd_log = conf_dir.path().join("radvd.log");
    let _radvd = unikernel::Running(
        ns.cmd("radvd")
            .args(["-n", "-C"])
            .arg(&conf)
            .arg("-p")
            .arg(conf_dir.path().join("radvd.pid"))
            .args(["-m", "stderr"])
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&radvd_log).unwrap())
            .spawn()
            .expect("start radvd"),
    );
    let mut server = ns.unikernel(dir, args);
    let watch = Watch::new(&mut server);
    // Solicited or not, an advertisement comes within MaxRtrAdvInterval; then DAD.
    let line = watch.line(&mut server, 120, |l| {
        l.contains("(Slaac, Preferred)") && l.contains(" 2001:db8:1:")
    });
    let address = line
        .split_whitespace()
        .find_map(|w| {
            w.strip_suffix("/64")
                .filter(|a| a.starts_with("2001:db8:1:"))
        })
        .unwrap_or_else(|| panic!("no address in {line}"))
        .to_string();
    let out = ns
        .cmd("ping")
        .args(["-6", "-n", "-c", "3", "-w", "30", &address])
        .output()
        .unwrap();
    let log = watch.stop(server);
    assert!(
        out.status.success(),
        "ping {address}: {}\n{log}\nradvd: {}",
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(&radvd_log).unwrap_or_default()
    );
    assert!(log.contains("echo request from 2001:db8:1::1"), "{log}");
}
