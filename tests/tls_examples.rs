//! The TLS examples (`conduit-server`, a TLS echo, and `conduit-client`)
//! against OpenSSL: `openssl s_client` talks TLS 1.3 and 1.2 to the server,
//! verifying its certificate against the test CA; the client talks to
//! `openssl s_server -rev` and must refuse an unknown authority, an expired
//! certificate and another name, with a clear message and status 1. On
//! unix over the host's sockets, and on the direct stack (unix, spt,
//! virtio) inside a namespace whose `tap0` is the peer 10.0.0.1. The test
//! PKI is tests/tls (tests/tls/generate.sh). Needs `openssl` (and for the
//! namespace tests root, /dev/net/tun, iproute2; qemu for virtio).

mod unikernel;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use unikernel::{Ns, OURS, copy_example, free_port, repo, require, stop};

/// One test at a time: `unikc run` rebuilds (a no-op) in the target
/// directory the tests share, and waits on cargo's lock of it while another
/// test builds, which under load outlasts the wait for the unikernel to
/// answer.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn pki(file: &str) -> PathBuf {
    repo().join("tests/tls").join(file)
}

fn require_openssl() {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`openssl` is missing: install the Debian package openssl"
    );
}

/// What one `openssl s_client` session saw.
#[derive(Debug)]
struct Session {
    /// The application data received.
    echoed: String,
    /// `-brief`'s summary (protocol version, verification).
    summary: String,
}

/// `openssl s_client` (from `base`, a command running `openssl`) to `addr`
/// with `version` (`-tls1_3`, `-tls1_2`), verifying against the test CA for
/// `name`: sends `line` and waits for it to come back, then closes.
fn s_client(
    mut base: Command,
    addr: &str,
    version: &str,
    name: &str,
    line: &str,
) -> Result<Session, String> {
    // An IP address is checked with -verify_ip and never sent by SNI (RFC 6066).
    let by_ip = name.parse::<std::net::IpAddr>().is_ok();
    let (check, sni): (&str, &[&str]) = if by_ip {
        ("-verify_ip", &["-noservername"])
    } else {
        ("-verify_hostname", &["-servername", name])
    };
    let mut child = base
        .args(["s_client", "-brief", "-connect", addr, version])
        .args(sni)
        .args(["-verify_return_error", check, name, "-CAfile"])
        .arg(pki("ca.pem"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("openssl s_client: {e}"))?;
    let mut stdin = child.stdin.take().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { break };
            if tx.send(l).is_err() {
                break;
            }
        }
    });
    let _ = writeln!(stdin, "{line}");
    let _ = stdin.flush();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut echoed = String::new();
    while !echoed.contains(line) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(l) => {
                echoed.push_str(&l);
                echoed.push('\n');
            }
            Err(_) => break,
        }
    }
    drop(stdin);
    let waited = Instant::now();
    while child.try_wait().ok().flatten().is_none() && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    let summary = String::from_utf8_lossy(&out.stderr).into_owned();
    if echoed.contains(line) {
        Ok(Session { echoed, summary })
    } else {
        Err(format!("no echo of {line:?}; got {echoed:?}\n{summary}"))
    }
}

/// Both versions against a running server at `addr`, whose certificate is
/// valid for `name`; `openssl` runs through `base()`.
fn s_client_both_versions(
    base: impl Fn() -> Command,
    addr: &str,
    name: &str,
    server: &mut unikernel::Running,
) {
    // The first session waits for the unikernel to boot.
    unikernel::eventually(server, || s_client(base(), addr, "-tls1_3", name, "first"));
    for (flag, version) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
        let line = format!("hello over {version}");
        let s = s_client(base(), addr, flag, name, &line).unwrap();
        assert!(
            s.summary.contains(&format!("Protocol version: {version}")),
            "{flag}: {s:?}"
        );
        assert!(s.summary.contains("Verification: OK"), "{flag}: {s:?}");
        assert_eq!(s.echoed.trim_end(), line, "{flag}: {s:?}");
    }
    // A megabyte-long line crosses many records both ways.
    let long = "0123456789abcdef".repeat(1 << 16);
    let s = s_client(base(), addr, "-tls1_3", name, &long).unwrap();
    assert_eq!(s.echoed.trim_end().len(), long.len());
}

fn openssl() -> Command {
    Command::new("openssl")
}

#[test]
fn conduit_server_on_unix_sockets_speaks_tls_1_3_and_1_2() {
    let _serial = serial();
    require_openssl();
    let (_tmp, dir) = copy_example("conduit-server");
    unikernel::build(&dir, &[]);
    let port = free_port();
    let mut server = serve(&dir, &["--", &format!("--port={port}")]);
    let addr = format!("127.0.0.1:{port}");
    s_client_both_versions(openssl, &addr, "localhost", &mut server);
    // Also by IP address: the certificate names 127.0.0.1.
    s_client(openssl(), &addr, "-tls1_3", "127.0.0.1", "by address").unwrap();
    // A client that does not trust the server's authority is refused, and
    // the server logs why and keeps serving.
    let refused = Command::new("openssl")
        .args([
            "s_client",
            "-brief",
            "-connect",
            &addr,
            "-verify_return_error",
            "-CAfile",
        ])
        .arg(pki("other-ca.pem"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    s_client(openssl(), &addr, "-tls1_2", "localhost", "still serving").unwrap();
    let log = stop(server);
    assert!(log.contains("TLSv1.3 echoed"), "{log}");
    assert!(log.contains("TLSv1.2 echoed"), "{log}");
    assert!(
        log.contains("TLS: "),
        "the refused handshake is logged:\n{log}"
    );
}

fn serve(dir: &Path, args: &[&str]) -> unikernel::Running {
    let _g = unikernel::build_lock();
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    let child = unikernel::command(dir, &all)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    unikernel::Running(child)
}

/// `openssl s_server -rev` on `port` with the test certificate `cert`
/// (`cert.pem`, `cert.key` in tests/tls), running through `base`.
fn s_server(mut base: Command, port: u16, cert: &str, extra: &[&str]) -> unikernel::Running {
    let child = base
        .args(["s_server", "-rev", "-accept", &port.to_string(), "-cert"])
        .arg(pki(&format!("{cert}.pem")))
        .arg("-key")
        .arg(pki(&format!("{cert}.key")))
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl s_server");
    unikernel::Running(child)
}

/// The client's verdicts against s_server with each test certificate;
/// `client` runs the client with extra boot arguments.
fn client_verdicts(
    mut s_server_at: impl FnMut(&str, &[&str]) -> unikernel::Running,
    mut client: impl FnMut(&[&str]) -> unikernel::Output,
    name: &str,
) {
    let mut ok = |version: &str, extra: &[&str]| {
        let server = s_server_at("rsa", extra);
        let out = client(&[&format!("--name={name}"), "--alpn=http/1.1"]);
        drop(stop(server));
        assert_eq!(out.code, 0, "{}", out.all());
        assert!(
            out.stdout
                .contains(&format!("connected to {name}: {version}")),
            "{}",
            out.all()
        );
        assert!(
            out.stdout.contains("answer: SLT revo olleh"),
            "{}",
            out.all()
        );
        out
    };
    let out = ok("TLSv1.3", &["-alpn", "h2,http/1.1"]);
    assert!(out.stdout.contains("alpn http/1.1"), "{}", out.all());
    ok("TLSv1.2", &["-tls1_2"]);

    for (cert, why) in [
        ("untrusted", "UnknownIssuer"),
        ("expired", "Expired"),
        ("wrong-name", "NotValidForName"),
    ] {
        let server = s_server_at(cert, &[]);
        let out = client(&[&format!("--name={name}")]);
        drop(stop(server));
        assert_eq!(out.code, 1, "{cert}: {}", out.all());
        let all = out.all();
        assert!(all.contains("invalid peer certificate"), "{cert}: {all}");
        assert!(
            all.to_lowercase()
                .replace(' ', "")
                .contains(&why.to_lowercase()),
            "{cert}: {all}"
        );
        assert!(!all.contains("panic"), "{cert}: {all}");
    }
}

#[test]
fn conduit_client_on_unix_sockets_verifies_the_server() {
    let _serial = serial();
    require_openssl();
    let (_tmp, dir) = copy_example("conduit-client");
    unikernel::build(&dir, &[]);
    let port = free_port();
    let p = port.to_string();
    client_verdicts(
        |cert, extra| {
            let mut s = s_server(openssl(), port, cert, extra);
            wait_listening(&mut s, port);
            s
        },
        |args| {
            let mut all: Vec<String> = vec![
                "--".into(),
                "--host=127.0.0.1".into(),
                format!("--port={p}"),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            unikernel::run(&dir, &all)
        },
        "localhost",
    );
}

/// Waits until something accepts on 127.0.0.1:`port`.
fn wait_listening(server: &mut unikernel::Running, port: u16) {
    unikernel::eventually(server, || {
        std::net::TcpStream::connect(("127.0.0.1", port)).map(drop)
    });
}

/// The server on the direct stack of `target` (build and run arguments),
/// in a namespace: s_client from the peer 10.0.0.1, both versions.
fn conduit_server_on_a_tap(tag: &str, build: &[&str], run: &[&str]) -> String {
    require_openssl();
    require(&["ip"]);
    let (_tmp, dir) = copy_example("conduit-server");
    unikernel::build(&dir, build);
    let ns = Ns::new(tag);
    let mut server = ns.unikernel(&dir, run);
    let addr = format!("{OURS}:4433");
    s_client_both_versions(|| ns.cmd("openssl"), &addr, "localhost", &mut server);
    stop(server)
}

#[test]
fn conduit_server_on_the_unix_direct_stack() {
    let _serial = serial();
    let log = conduit_server_on_a_tap(
        "tlsu",
        &["--net=direct"],
        &["--offline", "--net=direct", "--ipv4=10.0.0.2/24"],
    );
    assert!(log.contains("TLSv1.2 echoed"), "{log}");
}

#[test]
fn conduit_server_on_spt() {
    let _serial = serial();
    let log = conduit_server_on_a_tap("tlss", &["-t", "spt"], &["-t", "spt", "--net:service=tap0"]);
    assert!(log.contains("TLSv1.2 echoed"), "{log}");
}

#[test]
fn conduit_server_on_virtio() {
    let _serial = serial();
    let log = conduit_server_on_a_tap(
        "tlsv",
        &["-t", "virtio"],
        &["-t", "virtio", "--net:service=tap0"],
    );
    assert!(log.contains("TLSv1.2 echoed"), "{log}");
}

/// The client on spt, in a namespace whose peer runs s_server: the wall
/// clock of a freestanding image decides "expired", its random source the
/// key shares.
#[test]
fn conduit_client_on_spt_verifies_the_server() {
    let _serial = serial();
    require_openssl();
    require(&["ip"]);
    let (_tmp, dir) = copy_example("conduit-client");
    unikernel::build(&dir, &["-t", "spt"]);
    let ns = Ns::new("tlsc");
    let ns = &ns;
    client_verdicts(
        |cert, extra| {
            let mut s = s_server(ns.cmd("openssl"), 4433, cert, extra);
            // Listening once a local connection gets through.
            unikernel::eventually(&mut s, || {
                let ok = ns
                    .cmd("openssl")
                    .args(["s_client", "-connect", "127.0.0.1:4433"])
                    .stdin(Stdio::null())
                    .output()
                    .map(|o| o.status.success());
                if ok.unwrap_or(false) {
                    Ok(())
                } else {
                    Err("s_server not up")
                }
            });
            s
        },
        |args| {
            let mut all: Vec<String> = vec![
                "-t".into(),
                "spt".into(),
                "--net:service=tap0".into(),
                "--".into(),
            ];
            all.extend(args.iter().map(|a| a.to_string()));
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            let mut c = ns.cmd(env!("CARGO_BIN_EXE_unikc"));
            let model = unikernel::command(&dir, &[]);
            for (k, v) in model.get_envs() {
                if let Some(v) = v {
                    c.env(k, v);
                }
            }
            let _g = unikernel::build_lock();
            c.arg("run")
                .args(&all)
                .current_dir(&dir)
                .stdin(Stdio::null());
            unikernel::output(c)
        },
        "10.0.0.1",
    );
}
