//! Harness for the tests against the Linux kernel: the kernel's side of a tap device lives in
//! a network namespace made for the test and is the peer; the direct stack runs on the other
//! side of the tap, in this process, on the unix executor. Needs root, /dev/net/tun and the
//! tools each test names: a missing one fails the test, it never skips.
#![allow(dead_code)]

pub mod flood;
pub mod http;
pub mod impair;

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::thread::JoinHandle;

use unik_net::devices::{arp, ethernet, icmpv4, ipv4, stack, tcp, udp};
use unik_rt::Network;
use unik_unix::net::Tap;
use unik_unix::random::Random;
use unik_unix::{UnixPlatform, monotonic_ns};

/// The tests of one binary share two cores with everything else: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Fails (never skips) unless /dev/net/tun and every tool are there.
pub fn require(tools: &[&str]) {
    assert!(
        std::path::Path::new("/dev/net/tun").exists(),
        "/dev/net/tun is missing: these tests need the tun driver and root"
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let dirs: Vec<&str> = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .collect();
    for tool in tools {
        let found = dirs
            .iter()
            .any(|d| std::path::Path::new(d).join(tool).is_file());
        assert!(
            found,
            "`{tool}` is missing: install the Debian packages iproute2, iputils-ping, curl, \
             dnsmasq and radvd (tests against Linux never skip)"
        );
    }
}

/// Runs a command to completion; panics with its output if it fails.
pub fn sh(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A network namespace, deleted when dropped.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(tag: &str) -> Netns {
        let name = format!("unet-{tag}-{}", std::process::id());
        // A namespace left by a killed earlier run of the same pid would make `add` fail.
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        sh(Command::new("ip").args(["netns", "add", &name]));
        Netns { name }
    }

    /// A command run inside the namespace.
    pub fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    pub fn ip(&self, args: &[&str]) {
        sh(Command::new("ip").args(["-n", &self.name]).args(args));
    }

    /// Runs `f` on a thread whose sockets live in the namespace.
    pub fn thread<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let path = format!("/run/netns/{}", self.name);
        let ns = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        std::thread::spawn(move || {
            // SAFETY: setns on a namespace file descriptor; it only affects this thread.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// The direct stack's devices over one network device.
pub struct Stack<N: Network + 'static> {
    pub eth: &'static ethernet::Ethernet<N>,
    pub arp: &'static arp::Arp<N>,
    pub ip: &'static ipv4::Ipv4<N>,
    pub icmp: &'static icmpv4::Icmpv4<N>,
    pub udp: &'static udp::Udpv4<N>,
    pub tcp: &'static tcp::Tcpv4<N>,
    pub stack: &'static stack::Stack<N>,
}

/// Connects every layer as the catalogue's `direct_stackv4_with (create_ipv4 {…})` does, or
/// with `dhcp_stackv4` when `cidr` is `None`.
pub fn direct_stack<N: Network + 'static>(
    net: &'static N,
    cidr: Option<&str>,
    gateway: &str,
) -> Stack<N> {
    let random: &'static Random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let eth = unik_rt::leak(ethernet::connect(net).unwrap());
    let arp = unik_rt::leak(arp::connect(eth).unwrap());
    let ip = unik_rt::leak(match cidr {
        Some(c) => ipv4::connect(eth, arp, c, gateway).unwrap(),
        None => unik_net::devices::dhcp::connect(net, eth, arp, random).unwrap(),
    });
    let icmp = unik_rt::leak(icmpv4::connect(ip).unwrap());
    let udp = unik_rt::leak(udp::connect(ip).unwrap());
    let tcp = unik_rt::leak(tcp::connect(ip, random).unwrap());
    let stack = unik_rt::leak(stack::connect(net, eth, arp, ip, icmp, udp, tcp).unwrap());
    Stack {
        eth,
        arp,
        ip,
        icmp,
        udp,
        tcp,
        stack,
    }
}

/// A tap whose kernel side is in its own namespace with address `10.{subnet}.0.1/24`; our
/// side gets `.2`. Dropping it closes the tap and deletes the namespace.
pub struct Lab {
    pub tap: &'static Tap,
    pub tap_name: String,
    pub peer: Ipv4Addr,
    pub ours: Ipv4Addr,
    pub cidr: String,
    pub ns: Netns,
}

impl Lab {
    pub fn new(tag: &str, subnet: u8) -> Lab {
        Lab::with_mtu(tag, subnet, 1500)
    }

    /// The same with a tap of the given MTU (created before our side attaches, so that the
    /// device reports it).
    pub fn with_mtu(tag: &str, subnet: u8, mtu: usize) -> Lab {
        require(&["ip"]);
        let tap_name = format!("ut{tag}{}", std::process::id() % 100_000);
        if mtu != 1500 {
            let _ = Command::new("ip")
                .args(["link", "del", &tap_name])
                .stderr(Stdio::null())
                .status();
            sh(Command::new("ip").args(["tuntap", "add", "dev", &tap_name, "mode", "tap"]));
            sh(Command::new("ip").args(["link", "set", &tap_name, "mtu", &mtu.to_string()]));
        }
        let tap: &'static Tap = unik_rt::leak(
            unik_unix::net::connect(&tap_name)
                .unwrap_or_else(|e| panic!("cannot create tap {tap_name} (root?): {e}")),
        );
        let ns = Netns::new(tag);
        let lab = Lab {
            tap,
            peer: Ipv4Addr::new(10, subnet, 0, 1),
            ours: Ipv4Addr::new(10, subnet, 0, 2),
            cidr: format!("10.{subnet}.0.2/24"),
            tap_name,
            ns,
        };
        sh(Command::new("ip").args(["link", "set", &lab.tap_name, "netns", &lab.ns.name]));
        // IPv6 off so the kernel stays quiet on the link.
        sh(lab.ns.cmd("sysctl").args([
            "-q",
            "-w",
            &format!("net.ipv6.conf.{}.disable_ipv6=1", lab.tap_name),
        ]));
        lab.ns.ip(&["link", "set", "lo", "up"]);
        lab.ns.ip(&[
            "addr",
            "add",
            &format!("{}/24", lab.peer),
            "dev",
            &lab.tap_name,
        ]);
        lab.ns.ip(&["link", "set", &lab.tap_name, "up"]);
        lab
    }

    /// Our stack on the tap with the static address.
    pub fn stack(&self) -> Stack<Tap> {
        direct_stack(self.tap, Some(&self.cidr), &self.peer.to_string())
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        // Closing the descriptor removes a non-persistent tap, deleting it a persistent one
        // (`with_mtu`); then the namespace goes.
        self.tap.disconnect();
        let _ = Command::new("ip")
            .args(["-n", &self.ns.name, "link", "del", &self.tap_name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Runs `f` on the unix executor for at most `secs` seconds; panics when time runs out.
pub fn run<T>(secs: u64, f: impl Future<Output = T>) -> T {
    let deadline = monotonic_ns() + secs * 1_000_000_000;
    match unik_rt::block_on(&UnixPlatform::new(), unik_rt::time::timeout_at(deadline, f)) {
        Ok(Some(v)) => v,
        Ok(None) => panic!("timed out after {secs} s"),
        Err(e) => panic!("executor: {e}"),
    }
}

/// Waits (keeping the executor running) until a peer thread finished, and returns its result.
pub async fn join<T>(handle: JoinHandle<T>) -> T {
    while !handle.is_finished() {
        sleep_ms(5).await;
    }
    match handle.join() {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

pub async fn sleep_ms(ms: u64) {
    unik_rt::time::sleep_until(unik_rt::exec::now_ns() + ms * 1_000_000).await
}

/// Deterministic test content: byte `i` of an object, from a counter-based generator, so that
/// neither side needs the object in memory.
pub fn content(offset: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        let pos = offset + i as u64;
        let mut z = (pos / 8).wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        *b = (z >> ((pos % 8) * 8)) as u8;
    }
}

/// SHA-256 of the first `len` bytes of [`content`], as lowercase hex.
pub fn content_sha256(len: u64) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut off = 0;
    while off < len {
        let n = (len - off).min(buf.len() as u64) as usize;
        content(off, &mut buf[..n]);
        h.update(&buf[..n]);
        off += n as u64;
    }
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The size of the one-way transfers ([`peer_ten_megabytes`], [`our_ten_megabytes`]).
pub const TEN_MB: usize = 10 << 20;

/// Ten megabytes of [`content`] from `seed`: 1 is ours, 2 is Linux's.
pub fn ten_megabytes(seed: u64) -> Vec<u8> {
    let mut data = vec![0u8; TEN_MB];
    content(seed, &mut data);
    data
}

/// Linux's side of a one-way transfer on `stream`: reads to the end when `to_linux`
/// (returning what came), else writes [`ten_megabytes`]`(2)` and shuts down writing.
pub fn peer_ten_megabytes(mut stream: std::net::TcpStream, to_linux: bool) -> Vec<u8> {
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut got = Vec::with_capacity(TEN_MB);
    if to_linux {
        stream.read_to_end(&mut got).unwrap();
    } else {
        stream.write_all(&ten_megabytes(2)).unwrap();
        stream.shutdown(std::net::Shutdown::Write).unwrap();
    }
    got
}

/// Our side of it on `flow`: writes [`ten_megabytes`]`(1)` when `to_linux`, else reads to
/// the end (returning what came); then closes.
pub async fn our_ten_megabytes<A, F: unik_rt::TcpFlow<A>>(flow: &F, to_linux: bool) -> Vec<u8> {
    let mut got = Vec::with_capacity(TEN_MB);
    if to_linux {
        for chunk in ten_megabytes(1).chunks(1 << 16) {
            flow.write(chunk).await.unwrap();
        }
    } else {
        let mut buf = vec![0u8; 1 << 16];
        loop {
            match flow.read(&mut buf).await.unwrap() {
                0 => break,
                n => got.extend_from_slice(&buf[..n]),
            }
        }
    }
    flow.close().await.unwrap();
    got
}
