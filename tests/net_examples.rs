//! The network examples on the direct stack, run with `unikc run` inside a network namespace
//! whose `tap0` (the unix `default_network`) has the Linux peer 10.0.0.1/24; the unikernel is
//! 10.0.0.2. Needs root, /dev/net/tun, and the Debian packages iproute2, iputils-ping and
//! curl: a missing one fails the test, it never skips.

mod unikernel;

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use unikernel::{Running, copy_example};

const OURS: &str = "10.0.0.2";

fn require(tools: &[&str]) {
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

/// A namespace holding a persistent `tap0` with the peer's address; deleted on drop.
struct Ns {
    name: String,
}

impl Ns {
    fn new(tag: &str) -> Ns {
        require(&["ip"]);
        let name = format!("unex-{tag}-{}", std::process::id());
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

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// `unikc run --offline ARGS` in the example's directory, inside the namespace.
    fn unikernel(&self, dir: &Path, args: &[&str]) -> Running {
        let _g = unikernel::build_lock();
        let model = unikernel::command(dir, &[]);
        let mut c = self.cmd(model.get_program().to_str().unwrap());
        c.arg("run").arg("--offline").args(args).current_dir(dir);
        for (k, v) in model.get_envs() {
            if let Some(v) = v {
                c.env(k, v);
            }
        }
        Running(
            c.stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run unikc"),
        )
    }

    /// Runs `f` on a thread whose sockets live in the namespace.
    fn thread<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
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

/// Stops the unikernel and returns what it printed.
fn stop(mut server: Running) -> String {
    let _ = server.0.kill();
    let _ = server.0.wait();
    let mut out = String::new();
    server
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    server
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    out
}

/// Retries `f` until it succeeds or two minutes pass (the unikernel is still booting).
fn eventually<T, E: std::fmt::Debug>(
    server: &mut Running,
    mut f: impl FnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) => {
                if let Ok(Some(status)) = server.0.try_wait() {
                    panic!("the unikernel stopped ({status}): {e:?}");
                }
                assert!(
                    Instant::now() < deadline,
                    "the unikernel never answered: {e:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[test]
fn ping_example_answers_fragmented_pings_and_logs_them() {
    require(&["ip", "ping"]);
    let (_tmp, dir) = copy_example("ping");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("ping");
    let mut server = ns.unikernel(&dir, &[]);
    let ping = |size: &str, count: &str| {
        ns.cmd("ping")
            .args(["-n", "-c", count, "-W", "1", "-s", size, OURS])
            .output()
            .unwrap()
    };
    eventually(&mut server, || {
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
    let log = stop(server);
    for len in [1472, 8000] {
        let seen = log
            .lines()
            .filter(|l| {
                l.contains("echo request from 10.0.0.1") && l.ends_with(&format!("{len} bytes"))
            })
            .count();
        assert_eq!(seen, 3, "{len}-byte requests logged:\n{log}");
    }
}

#[test]
fn udp_echo_example_echoes_datagrams() {
    let (_tmp, dir) = copy_example("udp-echo");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("udp");
    let mut server = ns.unikernel(&dir, &["--port=7"]);
    let target = SocketAddrV4::new(OURS.parse().unwrap(), 7);
    let sock = ns.thread(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    eventually(&mut server, || {
        sock.send_to(b"hello?", target).map_err(|e| e.kind())?;
        sock.recv_from(&mut buf).map_err(|e| e.kind())
    });
    for size in [1usize, 1472, 8000] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        sock.send_to(&msg, target).unwrap();
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        assert_eq!(from, target.into());
        assert!(buf[..n] == msg[..], "echo of {size} bytes differs");
    }
    let log = stop(server);
    assert!(log.contains("echoing on UDP port 7"), "{log}");
}

#[test]
fn tcp_echo_example_echoes_a_megabyte() {
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("tcp");
    let mut server = ns.unikernel(&dir, &["--net=direct", "--ipv4=10.0.0.2/24", "--port=7"]);
    let target = SocketAddrV4::new(OURS.parse().unwrap(), 7);
    let stream = eventually(&mut server, || {
        ns.thread(move || TcpStream::connect_timeout(&target.into(), Duration::from_secs(1)))
            .map_err(|e| e.kind())
    });
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let payload: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
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
    let log = stop(server);
    assert!(
        log.contains(&format!("echoed {} bytes", payload.len())),
        "{log}"
    );
}

#[test]
fn static_website_example_on_the_direct_stack() {
    require(&["ip", "curl"]);
    let (_tmp, dir) = copy_example("static-website");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("web");
    let mut server = ns.unikernel(&dir, &["--net=direct", "--port=80"]);
    let curl = |path: &str| {
        let out = ns
            .cmd("curl")
            .args([
                "-sS",
                "--max-time",
                "5",
                "-w",
                "\n%{http_code} %{content_type}",
            ])
            .arg(format!("http://{OURS}{path}"))
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    let index = eventually(&mut server, || curl("/"));
    let expected = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    assert_eq!(index, format!("{expected}\n200 text/html; charset=utf-8"));
    let css = curl("/css/site.css").unwrap();
    let expected = std::fs::read_to_string(dir.join("htdocs/css/site.css")).unwrap();
    assert_eq!(css, format!("{expected}\n200 text/css"));
    assert!(curl("/nope.html").unwrap().ends_with("\n404 text/plain"));
    assert!(
        curl("/../etc/passwd")
            .unwrap()
            .ends_with("\n404 text/plain")
    );
    drop(stop(server));
}
