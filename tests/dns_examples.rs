//! The `dns` example (mirage-skeleton's applications/dns) against dnsmasq, the Linux peer in
//! a network namespace whose `tap0` holds 10.0.0.1/24: on unix over the host's sockets and
//! over the direct stack, on spt and on virtio. dnsmasq answers only from the records given
//! on its command line (`--local=/test/`: unknown names under `test` are NXDOMAIN) and logs
//! every query it receives, which is how the tests see that a cached answer sent nothing.
//! Needs root, /dev/net/tun, iproute2, dnsmasq and (virtio) qemu-system-x86_64: a missing
//! one fails the test, it never skips.

mod unikernel;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use unikernel::{Ns, Running, copy_example, require};

/// The name with both families, its addresses, and the records' TTL (seconds).
const NAME: &str = "a.test";
const V4: &str = "10.0.0.50";
const V6: &str = "fd00::50";
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
    fn start(ns: &Ns) -> Dnsmasq {
        require(&["dnsmasq"]);
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
    assert_eq!(dns.queries("A", NAME), 1, "{}", dns.log());
    assert_eq!(dns.queries("AAAA", NAME), 1, "{}", dns.log());

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

#[test]
fn dns_example_on_unix_over_host_sockets() {
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("dnsu");
    let dns = Dnsmasq::start(&ns);
    scenarios(&ns, &dns, &dir, &["--offline"], false);
}

#[test]
fn dns_example_on_unix_over_the_direct_stack() {
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("dnsd");
    let dns = Dnsmasq::start(&ns);
    scenarios(&ns, &dns, &dir, &["--offline", "--net=direct"], false);
}

#[test]
fn dns_example_on_spt() {
    let (_tmp, dir) = copy_example("dns");
    unikernel::build(&dir, &["-t", "spt"]);
    let ns = Ns::new("dnss");
    let dns = Dnsmasq::start(&ns);
    scenarios(&ns, &dns, &dir, &["-t", "spt", "--net:service=tap0"], false);
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
    let ns = Ns::new("dnsv");
    let dns = Dnsmasq::start(&ns);
    scenarios(
        &ns,
        &dns,
        &dir,
        &["-t", "virtio", "--net:service=tap0"],
        true,
    );
}

/// The other targets the IPv4 stack builds on: the example's devices build there too.
#[test]
fn dns_example_builds_on_hvt_xen_muen_and_genode() {
    let (_tmp, dir) = copy_example("dns");
    for target in ["hvt", "xen", "muen", "genode"] {
        unikernel::build(&dir, &["-t", target]);
        let image = dir.join("dist").join(format!("dns.{target}"));
        assert!(image.is_file(), "no {}", image.display());
    }
}
