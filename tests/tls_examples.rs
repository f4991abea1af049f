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
            ns.run(&dir, &all)
        },
        "10.0.0.1",
    );
}

/// curl's checks (`unikernel::http::checks`: keep-alive, a range, a 404, a
/// too-large header, HEAD, a chunked upload) against static-website-tls at
/// `base` (`https://HOST:PORT`), over TLS 1.3 and then TLS 1.2, verifying
/// the server against the test CA; and a curl without the CA refused.
/// `curl` builds the command (inside a namespace or not).
fn https_checks(curl: &dyn Fn() -> Command, base: &str, dir: &Path) {
    let index = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    let ca = pki("ca.pem").display().to_string();
    for (flags, version) in [
        (["--tlsv1.3", "--tls-max", "1.3"], "TLSv1.3"),
        (["--tlsv1.2", "--tls-max", "1.2"], "TLSv1.2"),
    ] {
        let with = || {
            let mut c = curl();
            c.args(["--cacert", &ca]).args(flags);
            c
        };
        let (code, out, err) = unikernel::http::run(&with, &["-v", &format!("{base}/")]);
        assert_eq!(code, 0, "{version}: {err}");
        assert_eq!(out, index, "{version}");
        assert!(
            err.contains(&format!("SSL connection using {version}")),
            "{version}: {err}"
        );
        assert!(err.contains("ALPN: server accepted http/1.1"), "{err}");
        let mut again = vec!["--cacert", &ca];
        again.extend(flags);
        unikernel::http::checks_with(&with, base, &index, &again);
    }
    // Without the test CA, curl refuses the server (60: peer certificate
    // cannot be authenticated).
    let (code, _, err) = unikernel::http::run(curl, &["-o", "/dev/null", &format!("{base}/")]);
    assert_eq!(code, 60, "{err}");
}

/// Waits until static-website-tls answers `base` over HTTPS.
fn wait_https(curl: &dyn Fn() -> Command, base: &str, server: &mut unikernel::Running) {
    let ca = pki("ca.pem").display().to_string();
    unikernel::eventually(server, || {
        let with = || {
            let mut c = curl();
            c.args(["--cacert", &ca]);
            c
        };
        let (code, _, err) = unikernel::http::run(&with, &["-o", "/dev/null", &format!("{base}/")]);
        if code == 0 { Ok(()) } else { Err(err) }
    });
}

#[test]
fn static_website_tls_on_unix_sockets_answers_curl() {
    let _serial = serial();
    require(&["curl"]);
    let (_tmp, dir) = copy_example("static-website-tls");
    unikernel::build(&dir, &[]);
    let port = free_port();
    let mut server = serve(&dir, &["--", &format!("--https-port={port}")]);
    let base = format!("https://127.0.0.1:{port}");
    let curl = || Command::new("curl");
    wait_https(&curl, &base, &mut server);
    https_checks(&curl, &base, &dir);
    // By name too: the certificate names localhost.
    let (code, _, err) = unikernel::http::run(
        &|| {
            let mut c = Command::new("curl");
            c.arg("--cacert").arg(pki("ca.pem"));
            c
        },
        &[
            "-o",
            "/dev/null",
            "--resolve",
            &format!("localhost:{port}:127.0.0.1"),
            &format!("https://localhost:{port}/"),
        ],
    );
    assert_eq!(code, 0, "{err}");
    drop(stop(server));
}

/// static-website-tls on the direct stack of a target (build and run
/// arguments), in a namespace whose peer 10.0.0.1 runs curl.
fn static_website_tls_on_a_tap(tag: &str, build: &[&str], run: &[&str]) -> String {
    require(&["ip", "curl"]);
    let (_tmp, dir) = copy_example("static-website-tls");
    unikernel::build(&dir, build);
    let ns = Ns::new(tag);
    let mut server = ns.unikernel(&dir, run);
    let base = format!("https://{OURS}:4433");
    let curl = || ns.cmd("curl");
    wait_https(&curl, &base, &mut server);
    https_checks(&curl, &base, &dir);
    stop(server)
}

#[test]
fn static_website_tls_on_the_unix_direct_stack() {
    let _serial = serial();
    static_website_tls_on_a_tap(
        "httpsu",
        &["--net=direct"],
        &["--offline", "--net=direct", "--ipv4=10.0.0.2/24"],
    );
}

#[test]
fn static_website_tls_on_spt() {
    let _serial = serial();
    static_website_tls_on_a_tap(
        "httpss",
        &["-t", "spt"],
        &["-t", "spt", "--net:service=tap0"],
    );
}

#[test]
fn static_website_tls_on_virtio() {
    let _serial = serial();
    static_website_tls_on_a_tap(
        "httpsv",
        &["-t", "virtio"],
        &["-t", "virtio", "--net:service=tap0"],
    );
}

/// Python's http.server over TLS on `bind`:`port`, serving `site` with the
/// test certificate `cert` (`cert.pem`, `cert.key` in tests/tls), running
/// through `base`.
fn https_peer(
    mut base: Command,
    bind: &str,
    port: u16,
    cert: &str,
    site: &Path,
) -> unikernel::Running {
    const SERVER: &str = "import http.server, ssl, sys
bind, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
srv = http.server.ThreadingHTTPServer((bind, port), http.server.SimpleHTTPRequestHandler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
";
    let child = base
        .args(["-c", SERVER, bind, &port.to_string()])
        .arg(pki(&format!("{cert}.pem")))
        .arg(pki(&format!("{cert}.key")))
        .current_dir(site)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    unikernel::Running(child)
}

/// http-fetch's verdicts on `https://HOST:PORT/file.bin` (`url`) against an
/// HTTPS peer with each test certificate: the status and length with the
/// right CA; with an unknown authority, an expired certificate or another
/// name, one line saying why and status 1. `peer` starts the peer with a
/// certificate and returns once it listens; `fetch` runs http-fetch with
/// `--uri`.
fn fetch_verdicts(
    mut peer: impl FnMut(&str) -> unikernel::Running,
    mut fetch: impl FnMut(&str) -> unikernel::Output,
    url: &str,
) {
    let server = peer("rsa");
    let out = fetch(url);
    drop(stop(server));
    assert_eq!(out.code, 0, "{}", out.all());
    assert!(
        out.stdout
            .contains(&format!("{url}: 200 OK\nbody: 123456 bytes\n")),
        "{}",
        out.all()
    );
    for (cert, why) in [
        ("untrusted", "UnknownIssuer"),
        ("expired", "Expired"),
        ("wrong-name", "NotValidForName"),
    ] {
        let server = peer(cert);
        let out = fetch(url);
        drop(stop(server));
        assert_eq!(out.code, 1, "{cert}: {}", out.all());
        let all = out.all();
        let said: Vec<&str> = all
            .lines()
            .filter(|l| l.contains("invalid peer certificate"))
            .collect();
        assert_eq!(said.len(), 1, "{cert}: one line says why:\n{all}");
        assert!(said[0].contains(url), "{cert}: {all}");
        // rustls's words: `UnknownIssuer`, `certificate expired`, `NotValidForName…`.
        assert!(
            said[0]
                .to_lowercase()
                .replace(' ', "")
                .contains(&why.to_lowercase()),
            "{cert}: {all}"
        );
        assert!(!all.contains("panic"), "{cert}: {all}");
    }
}

#[test]
fn http_fetch_over_https_on_unix_sockets_verifies_the_server() {
    let _serial = serial();
    require(&["python3"]);
    let (_tmp, dir) = copy_example("http-fetch");
    unikernel::build(&dir, &[]);
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("file.bin"), vec![b'x'; 123_456]).unwrap();
    let port = free_port();
    fetch_verdicts(
        |cert| {
            let mut s = https_peer(
                Command::new("python3"),
                "127.0.0.1",
                port,
                cert,
                site.path(),
            );
            wait_listening(&mut s, port);
            s
        },
        |url| unikernel::run(&dir, &["--", &format!("--uri={url}")]),
        &format!("https://127.0.0.1:{port}/file.bin"),
    );
    // Without the scheme's TLS: plain HTTP to the same peer is refused by it,
    // a clear error too.
    let server = https_peer(
        Command::new("python3"),
        "127.0.0.1",
        port,
        "rsa",
        site.path(),
    );
    let mut server = server;
    wait_listening(&mut server, port);
    let out = unikernel::run(
        &dir,
        &["--", &format!("--uri=http://127.0.0.1:{port}/file.bin")],
    );
    drop(stop(server));
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(!out.all().contains("panic"), "{}", out.all());
}

/// http-fetch on the direct stack of `target` (build and run arguments) in
/// a namespace whose peer 10.0.0.1 serves HTTPS.
fn http_fetch_over_https_on_a_tap(tag: &str, build: &[&str], run: &[&str]) {
    require(&["ip", "python3"]);
    let (_tmp, dir) = copy_example("http-fetch");
    unikernel::build(&dir, build);
    let ns = Ns::new(tag);
    let ns = &ns;
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("file.bin"), vec![b'x'; 123_456]).unwrap();
    fetch_verdicts(
        |cert| tap_https_peer(ns, cert, site.path()),
        |url| fetch_on_tap(ns, &dir, run, url),
        "https://10.0.0.1:4443/file.bin",
    );
    fetch_by_name(ns, &dir, run, site.path());
}

/// [`https_peer`] on the namespace's 10.0.0.1:4443, once curl gets an answer.
fn tap_https_peer(ns: &Ns, cert: &str, site: &Path) -> unikernel::Running {
    let mut s = https_peer(ns.cmd("python3"), "10.0.0.1", 4443, cert, site);
    unikernel::eventually(&mut s, || {
        let ok = ns
            .cmd("curl")
            .args(["-sk", "-o", "/dev/null", "https://10.0.0.1:4443/"])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Ok(())
        } else {
            Err("the HTTPS peer is not up")
        }
    });
    s
}

/// http-fetch (built in `dir`) run in the namespace with `--uri=URL`.
fn fetch_on_tap(ns: &Ns, dir: &Path, run: &[&str], url: &str) -> unikernel::Output {
    let uri = format!("--uri={url}");
    let mut args = run.to_vec();
    args.extend(["--", &uri]);
    ns.run(dir, &args)
}

/// http-fetch by host name: `resolver_dns` asks dnsmasq on the peer (the
/// default `--dns-servers`, 10.0.0.1) for `localhost`, which it maps to the
/// peer, and the certificate is checked against that name (`DNS:localhost`
/// in the `rsa` certificate; `wrong-name` is refused for it).
fn fetch_by_name(ns: &Ns, dir: &Path, run: &[&str], site: &Path) {
    require(&["dnsmasq"]);
    let dns_log = tempfile::NamedTempFile::new().unwrap();
    let _dnsmasq = unikernel::Running(
        ns.cmd("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--pid-file=",
                "--user=root",
                "--listen-address=10.0.0.1",
                "--bind-interfaces",
                "--log-queries",
                "--log-facility=-",
                "--host-record=localhost,10.0.0.1",
            ])
            .stdout(Stdio::null())
            .stderr(dns_log.reopen().unwrap())
            .spawn()
            .expect("start dnsmasq"),
    );
    let url = "https://localhost:4443/file.bin";
    for (cert, code) in [("rsa", 0), ("wrong-name", 1)] {
        let server = tap_https_peer(ns, cert, site);
        let out = fetch_on_tap(ns, dir, run, url);
        drop(stop(server));
        let dns = std::fs::read_to_string(dns_log.path()).unwrap_or_default();
        assert_eq!(out.code, code, "{cert}: {}\ndnsmasq:\n{dns}", out.all());
        if code == 0 {
            assert!(
                out.stdout
                    .contains(&format!("{url}: 200 OK\nbody: 123456 bytes\n")),
                "{}",
                out.all()
            );
            assert!(dns.contains("query[A] localhost from 10.0.0.2"), "{dns}");
        } else {
            assert!(out.all().contains("NotValidForName"), "{}", out.all());
        }
    }
}

#[test]
fn http_fetch_over_https_on_the_unix_direct_stack() {
    let _serial = serial();
    http_fetch_over_https_on_a_tap("httpsf", &["--net=direct"], &["--offline", "--net=direct"]);
}

#[test]
fn http_fetch_over_https_on_spt() {
    let _serial = serial();
    http_fetch_over_https_on_a_tap(
        "httpsfs",
        &["-t", "spt"],
        &["-t", "spt", "--net:service=tap0"],
    );
}

/// Under QEMU (TCG): the guest's wall clock (CMOS) decides "expired".
#[test]
fn http_fetch_over_https_on_virtio() {
    let _serial = serial();
    http_fetch_over_https_on_a_tap(
        "httpsfv",
        &["-t", "virtio"],
        &["-t", "virtio", "--net:service=tap0"],
    );
}
