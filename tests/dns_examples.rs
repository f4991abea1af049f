//! The `dns` example (mirage-skeleton's applications/dns, on the dual stack) against
//! dnsmasq, the Linux peer in a network namespace whose `tap0` holds 10.0.0.1/24 and
//! 2001:db8::1/64: on unix over the host's sockets and over the direct stack, on spt and on
//! virtio. dnsmasq listens on both addresses, answers only from the records given on its
//! command line (`--local=/test/`: unknown names under `test` are NXDOMAIN) and logs every
//! query it receives, which is how the tests see that a cached answer sent nothing.
//! Happy eyeballs connects by name (`--connect-port`) to a TCP service of the namespace
//! listening on both families: over IPv6 when both work, over IPv4 when ip6tables drops the
//! IPv6 SYNs without an answer.
//! Needs root, /dev/net/tun, iproute2, ip6tables, dnsmasq and (virtio) qemu-system-x86_64:
//! a missing one fails the test, it never skips.

mod unikernel;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use unikernel::{Ns, Running, copy_example, require};

/// The name with both families, its addresses, and the records' TTL (seconds).
const NAME: &str = "a.test";
const V4: &str = "10.0.0.50";
const V6: &str = "fd00::50";
/// The namespace's side of the link (dnsmasq and the TCP service), and the unikernel's
/// IPv6 address on the direct stack.
const PEER6: &str = "2001:db8::1";
const OURS6: &str = "2001:db8::2";
/// A name for the namespace itself, both families: the service happy eyeballs connects to.
const SVC: &str = "svc.test";
/// A name with more A records than fit a 512-byte UDP answer.
const BIG: &str = "big.test";
const BIG_COUNT: usize = 40;

/// dnsmasq in the namespace, logging to a file; killed on drop.
struct Dnsmasq {
    _child: Running,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Dnsmasq {
    /// Gives the namespace's `tap0` its IPv6 address first, so dnsmasq can listen there.
    fn start(ns: &Ns) -> Dnsmasq {
        require(&["dnsmasq"]);
        ns.ipv6(&format!("{PEER6}/64"));
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("dnsmasq.log");
        let mut args: Vec<String> = [
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--pid-file=",
            "--user=root",
            "--listen-address=10.0.0.1",
            "--listen-address=2001:db8::1",
            "--bind-interfaces",
            "--log-queries",
            "--log-facility=-",
            "--local=/test/",
            "--local-ttl=300",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--host-record={NAME},{V4},{V6}"));
        args.push(format!("--cname=www.test,{NAME}"));
        args.push(format!("--host-record={SVC},10.0.0.1,{PEER6}"));
        for i in 0..BIG_COUNT {
            args.push(format!("--host-record={BIG},10.0.1.{}", i + 1));
        }
        let child = ns
            .cmd("dnsmasq")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start dnsmasq");
        let d = Dnsmasq {
            _child: Running(child),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !d.log().contains("started, version") {
            assert!(
                Instant::now() < deadline,
                "dnsmasq did not start:\n{}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many `query[TYPE] NAME` lines the log holds.
    fn queries(&self, qtype: &str, name: &str) -> usize {
        let needle = format!("query[{qtype}] {name} from");
        self.log().lines().filter(|l| l.contains(&needle)).count()
    }
}

/// Runs the unikernel in the namespace until it exits; its exit code and everything it
/// printed.
fn run_to_end(ns: &Ns, dir: &Path, args: &[&str]) -> (i32, String) {
    let mut server = ns.unikernel(dir, args);
    let deadline = Instant::now() + Duration::from_secs(240);
    let status = loop {
        if let Some(s) = server.0.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "the unikernel never exited");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    use std::io::Read;
    let _ = server.0.stdout.take().unwrap().read_to_string(&mut out);
    let _ = server.0.stderr.take().unwrap().read_to_string(&mut out);
    (status.code().unwrap_or(-1), out)
}

/// The messages the `dns` source logged (`… [dns] MESSAGE`), in order.
fn dns_lines(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.find("[dns] ").map(|i| l[i + 6..].to_string()))
        .collect()
}

/// Resolves NAME three times (A and AAAA answered, IPv6 first, the second and third from
/// the cache: dnsmasq sees one query of each type), a CNAME, a truncated answer that goes
/// over TCP, NXDOMAIN, and (unless `quick`) a dead server.
fn scenarios(ns: &Ns, dns: &Dnsmasq, dir: &Path, base: &[&str], quick: bool) {
    let with = |extra: &[&str]| -> (i32, String) {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        run_to_end(ns, dir, &args)
    };

    let (code, out) = with(&[&format!("--domain-name={NAME}"), "--repeat=3"]);
    assert_eq!(code, 0, "{out}");
    let lines = dns_lines(&out);
    let expected: Vec<String> = (0..3)
        .flat_map(|_| [format!("{NAME}: {V6}"), format!("{NAME}: {V4}")])
        .collect();
    assert_eq!(lines[..6], expected, "{out}");
    // The UDP count may include a retry: on spt a first query was once seen to go
    // unanswered within its 1 s; the cause is not established.
    assert!(
        lines[6].ends_with("UDP and 0 TCP queries sent, cache hits 4 misses 2"),
        "{out}"
    );
    // The cache: three lookups, at most one query of each type and its retry (the
    // first query after boot was seen answered too late for its 1 s round on spt and,
    // under load, on the unix direct stack: dnsmasq logged it twice; cause not found).
    for qtype in ["A", "AAAA"] {
        let n = dns.queries(qtype, NAME);
        assert!((1..=2).contains(&n), "{n} {qtype} queries:\n{}", dns.log());
    }

    let (code, out) = with(&["--domain-name=www.test"]);
    assert_eq!(code, 0, "{out}");
    let lines = dns_lines(&out);
    assert_eq!(
        lines[..2],
        [format!("www.test: {V6}"), format!("www.test: {V4}")],
        "{out}"
    );

    let (code, out) = with(&[&format!("--domain-name={BIG}")]);
    assert_eq!(code, 0, "{out}");
    let lines = dns_lines(&out);
    let got: Vec<&String> = lines.iter().filter(|l| l.starts_with(BIG)).collect();
    assert_eq!(got.len(), BIG_COUNT, "{out}");
    assert!(
        lines.contains(&format!("{BIG}: 10.0.1.{BIG_COUNT}")),
        "{out}"
    );
    // AAAA (no record, a small answer) and A over UDP; A again over TCP after TC.
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with("UDP and 1 TCP queries sent, cache hits 0 misses 2"),
        "{out}"
    );
    assert_eq!(dns.queries("A", BIG), 2, "UDP then TCP:\n{}", dns.log());

    let (code, out) = with(&["--domain-name=nope.test"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("nope.test: no such domain (NXDOMAIN)"),
        "{out}"
    );

    if !quick {
        let started = Instant::now();
        let (code, out) = with(&[
            &format!("--domain-name={NAME}"),
            "--dns-servers=udp:10.0.0.1:5353",
        ]);
        assert_eq!(code, 1, "{out}");
        assert!(
            out.contains(&format!(
                "{NAME}: no answer from 1 name server(s) after 2 round(s) (timeout)"
            )),
            "{out}"
        );
        // AAAA, then A, each waiting 1 s then 2 s.
        assert!(started.elapsed() >= Duration::from_secs(6), "{out}");
    }
}

/// A TCP service in the namespace on `[::]:PORT`, both families: each connection gets back
/// what it sent first; the peers it served, in order.
struct Service {
    port: u16,
    peers: std::sync::Arc<std::sync::Mutex<Vec<std::net::SocketAddr>>>,
}

impl Service {
    fn start(ns: &Ns) -> Service {
        use std::io::{Read, Write};
        // A socket made in the namespace stays there; `[::]` takes IPv4 too (bindv6only=0).
        let listener = ns.thread(|| std::net::TcpListener::bind("[::]:0").expect("bind [::]:0"));
        let port = listener.local_addr().unwrap().port();
        let peers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = peers.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut c) = conn else { continue };
                if let Ok(p) = c.peer_addr() {
                    seen.lock().unwrap().push(p);
                }
                let mut buf = [0u8; 512];
                if let Ok(n) = c.read(&mut buf) {
                    let _ = c.write_all(&buf[..n]);
                }
            }
        });
        Service { port, peers }
    }

    fn peers(&self) -> Vec<std::net::SocketAddr> {
        self.peers.lock().unwrap().clone()
    }
}

/// Over the dual stack: A and AAAA from dnsmasq's IPv6 address (a truncated answer then over
/// TCP to it), and happy eyeballs connecting by name to a service listening on both
/// families: IPv6 wins while it works, IPv4 once ip6tables drops the IPv6 SYNs.
fn dual_stack_scenarios(ns: &Ns, dns: &Dnsmasq, dir: &Path, base: &[&str]) {
    require(&["ip6tables"]);
    let with = |extra: &[&str]| -> (i32, String) {
        let mut args = base.to_vec();
        args.extend_from_slice(extra);
        run_to_end(ns, dir, &args)
    };
    let server6 = format!("--dns-servers=udp:[{PEER6}]:53");
    let from6 = |qtype: &str, name: &str| {
        let needle = format!("query[{qtype}] {name} from 2001:db8::");
        dns.log().lines().filter(|l| l.contains(&needle)).count()
    };

    let (code, out) = with(&[&server6, &format!("--domain-name={NAME}")]);
    assert_eq!(code, 0, "{out}");
    let lines = dns_lines(&out);
    assert_eq!(
        lines[..2],
        [format!("{NAME}: {V6}"), format!("{NAME}: {V4}")],
        "{out}"
    );
    // One query each: the first waits to leave until the stack's IPv6 address passed
    // duplicate address detection, and its answer's wait starts then.
    assert!(
        lines[2].ends_with("2 UDP and 0 TCP queries sent, cache hits 0 misses 2"),
        "{out}"
    );
    assert_eq!(from6("AAAA", NAME), 1, "{}", dns.log());
    assert_eq!(from6("A", NAME), 1, "{}", dns.log());

    let (code, out) = with(&[&server6, &format!("--domain-name={BIG}")]);
    assert_eq!(code, 0, "{out}");
    let lines = dns_lines(&out);
    assert_eq!(
        lines.iter().filter(|l| l.starts_with(BIG)).count(),
        BIG_COUNT,
        "{out}"
    );
    assert!(
        lines.last().unwrap().contains(" 1 TCP queries sent"),
        "{out}"
    );
    assert_eq!(from6("A", BIG), 2, "UDP then TCP over IPv6:\n{}", dns.log());

    let svc = Service::start(ns);
    let port = format!("--connect-port={}", svc.port);
    let name = format!("--domain-name={SVC}");
    let (code, out) = with(&[&server6, &name, &port]);
    assert_eq!(code, 0, "{out}");
    let winner = format!("[{PEER6}]:{}", svc.port);
    assert!(
        dns_lines(&out).contains(&format!("connected to {winner}")),
        "IPv6 should win while it works:\n{out}"
    );
    assert!(out.contains(&format!("{winner} answered")), "{out}");

    let drop = [
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        &svc.port.to_string(),
        "-j",
        "DROP",
    ];
    let rule = ns.cmd("ip6tables").args(drop).output().unwrap();
    assert!(rule.status.success(), "ip6tables: {rule:?}");
    let (code, out) = with(&[&server6, &name, &port]);
    assert_eq!(code, 0, "{out}");
    let winner = format!("10.0.0.1:{}", svc.port);
    assert!(
        dns_lines(&out).contains(&format!("connected to {winner}")),
        "IPv4 should win when IPv6 is black-holed:\n{out}"
    );
    assert!(out.contains(&format!("{winner} answered")), "{out}");

    // The service saw one IPv6 peer, then one IPv4 peer (as ::ffff:a.b.c.d).
    let peers = svc.peers();
    assert_eq!(peers.len(), 2, "{peers:?}");
    let v4_mapped = |p: &std::net::SocketAddr| match p {
        std::net::SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
        std::net::SocketAddr::V4(_) => true,
    };
    assert!(!v4_mapped(&peers[0]), "{peers:?}");
    assert!(v4_mapped(&peers[1]), "{peers:?}");
}

#[test]
fn dns_example_on_unix_over_host_sockets() {
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("dnsv6-u");
    let dns = Dnsmasq::start(&ns);
    scenarios(&ns, &dns, &dir, &["--offline"], false);
    dual_stack_scenarios(&ns, &dns, &dir, &["--offline"]);
}

#[test]
fn dns_example_on_unix_over_the_direct_stack() {
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("dnsv6-d");
    let dns = Dnsmasq::start(&ns);
    let v6 = format!("--ipv6={OURS6}/64");
    let base = ["--offline", "--net=direct", v6.as_str()];
    scenarios(&ns, &dns, &dir, &base, false);
    dual_stack_scenarios(&ns, &dns, &dir, &base);
}

#[test]
fn dns_example_on_spt() {
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &["-t", "spt"]);
    let ns = Ns::new("dnsv6-s");
    let dns = Dnsmasq::start(&ns);
    let v6 = format!("--ipv6={OURS6}/64");
    let base = ["-t", "spt", "--net:service=tap0", v6.as_str()];
    scenarios(&ns, &dns, &dir, &base, false);
    dual_stack_scenarios(&ns, &dns, &dir, &base);
}

#[test]
fn dns_example_on_virtio() {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("qemu-system-x86_64").is_file())
    });
    assert!(
        found,
        "qemu-system-x86_64 is missing: apt-get install qemu-system-x86"
    );
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &["-t", "virtio"]);
    let ns = Ns::new("dnsv6-v");
    let dns = Dnsmasq::start(&ns);
    let v6 = format!("--ipv6={OURS6}/64");
    let base = ["-t", "virtio", "--net:service=tap0", v6.as_str()];
    scenarios(&ns, &dns, &dir, &base, true);
    dual_stack_scenarios(&ns, &dns, &dir, &base);
}

/// The other targets the dual stack builds on: the example's devices build there too.
#[test]
fn dns_example_builds_on_hvt_xen_muen_and_genode() {
    let (_tmp, dir) = copy_example("dns");
    for target in ["hvt", "xen", "muen", "genode"] {
        unikernel::build(&dir, &["-t", target]);
        let image = dir.join("dist").join(format!("dns.{target}"));
        assert!(image.is_file(), "no {}", image.display());
    }
}
