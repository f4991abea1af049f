//! Helpers for the Solo5 target tests: build the test images and the
//! tenders, run images with a timeout, and set up network namespaces with a
//! tap device and Linux as the peer.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

pub mod upstream;

/// Packages of the kernels workspace; each is built on its own because the
/// `spt` and `hvt` features of unik-solo5 must not be unified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernels {
    Spt,
    Hvt,
    HvtAsm,
}

impl Kernels {
    fn package(self) -> &'static str {
        match self {
            Self::Spt => "solo5-spt-kernels",
            Self::Hvt => "solo5-hvt-kernels",
            Self::HvtAsm => "solo5-hvt-asm",
        }
    }

    fn dir(self) -> &'static str {
        match self {
            Self::Spt => "spt",
            Self::Hvt => "hvt",
            Self::HvtAsm => "hvt-asm",
        }
    }
}

pub fn kernels_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels")
}

/// `<target>/tmp` of the running test or example (whose executable lives
/// in `<target>/<profile>/deps` or `.../examples`).
fn tmp() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    let target = exe
        .ancestors()
        .find(|d| {
            d.file_name()
                .is_some_and(|n| n == "debug" || n == "release")
        })
        .and_then(Path::parent)
        .expect("running from a cargo target directory");
    let dir = target.join("tmp");
    std::fs::create_dir_all(&dir).expect("creating the target's tmp directory");
    dir
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Any of these would override the kernels' .cargo/config.toml flags.
    c.env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET");
    c
}

fn build(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo to build {what}: {e}"));
    assert!(
        out.status.success(),
        "building {what} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Build one kernels package (once per process); returns the directory
/// holding its images.
pub fn kernels(k: Kernels) -> PathBuf {
    static BUILT: Mutex<Option<HashMap<Kernels, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    let map = built.get_or_insert_with(HashMap::new);
    if let Some(p) = map.get(&k) {
        return p.clone();
    }
    let target = tmp().join(format!("kernels-{}", k.dir()));
    build(
        cargo()
            .args(["build", "--release", "--locked", "-p", k.package()])
            .current_dir(kernels_dir())
            .env("CARGO_TARGET_DIR", &target),
        k.package(),
    );
    let dir = target.join("x86_64-unknown-linux-gnu").join("release");
    map.insert(k, dir.clone());
    dir
}

/// Path of one image.
pub fn image(k: Kernels, name: &str) -> PathBuf {
    kernels(k).join(name)
}

/// Build the tenders (once per process); returns the directory holding
/// `unikc-spt` and `unikc-hvt`.
pub fn tenders() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let target = tmp().join("tenders");
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tenders/Cargo.toml");
        build(
            cargo()
                .args(["build", "--release", "--locked", "--manifest-path"])
                .arg(&manifest)
                .env("CARGO_TARGET_DIR", &target),
            "the tenders",
        );
        target.join("release")
    })
}

pub fn spt() -> PathBuf {
    tenders().join("unikc-spt")
}

pub fn hvt() -> PathBuf {
    tenders().join("unikc-hvt")
}

/// One finished (or killed) process.
#[derive(Debug)]
pub struct Run {
    /// Exit status; None if killed at the timeout (or by a signal).
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub wall: Duration,
}

impl Run {
    /// The first stdout line starting with `prefix`, without the prefix.
    pub fn line(&self, prefix: &str) -> Option<&str> {
        self.stdout.lines().find_map(|l| l.strip_prefix(prefix))
    }

    /// `key=0x...` lines of the assembly guest.
    pub fn hex(&self, key: &str) -> Option<u64> {
        let v = self.line(&format!("{key}=0x"))?;
        u64::from_str_radix(v.trim(), 16).ok()
    }

    /// Panic with everything the process printed unless `ok`.
    pub fn expect(&self, ok: bool, what: &str) {
        assert!(
            ok,
            "{what}\nstatus: {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status, self.stdout, self.stderr
        );
    }
}

/// Run `cmd`, killing it after `timeout`.
pub fn run(mut cmd: Command, timeout: Duration) -> Run {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err = thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        match child.try_wait().expect("waiting for the child") {
            Some(s) => break s.code(),
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => thread::sleep(Duration::from_millis(2)),
        }
    };
    let wall = start.elapsed();
    Run {
        status,
        stdout: String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().unwrap_or_default()).into_owned(),
        wall,
    }
}

/// Fail loudly (never skip) when the host cannot run the tests.
pub fn require(path: &str, why: &str) {
    assert!(
        Path::new(path).exists(),
        "{path} is missing: {why}; these tests cannot run without it"
    );
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run `ip` (iproute2 is required for the network tests): {e}")
    });
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A network namespace with `tap0` at 10.55.0.1/24 (IPv6 off, so the only
/// traffic is the guest's), deleted on drop. The guest is 10.55.0.2.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new() -> Self {
        require("/dev/net/tun", "tap devices need the tun driver");
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "unikc5-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]);
        let ns = Self { name };
        for cmd in [
            "ip tuntap add dev tap0 mode tap",
            "sysctl -qw net.ipv6.conf.tap0.disable_ipv6=1",
            "ip addr add 10.55.0.1/24 dev tap0",
            "ip link set tap0 up",
            "ip link set lo up",
        ] {
            let args: Vec<&str> = cmd.split(' ').collect();
            let mut full = vec!["netns", "exec", &ns.name];
            full.extend(args);
            ip(&full);
        }
        ns
    }

    /// Turns IPv6 on for `tap0` with 2001:db8:55::1/64, usable at once (no DAD).
    pub fn enable_ipv6(&self) {
        for cmd in [
            "sysctl -qw net.ipv6.conf.tap0.accept_dad=0",
            "sysctl -qw net.ipv6.conf.tap0.disable_ipv6=0",
            "ip -6 addr add 2001:db8:55::1/64 dev tap0 nodad",
        ] {
            let mut full = vec!["netns", "exec", &self.name];
            full.extend(cmd.split(' '));
            ip(&full);
        }
    }

    /// `prog args...` inside the namespace.
    pub fn command(&self, prog: &Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(prog);
        c
    }

    /// Run `f` on a thread inside the namespace: sockets it creates talk to
    /// the guest through the tap.
    pub fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/var/run/netns/{}", self.name);
        thread::spawn(move || {
            let ns = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            // SAFETY: setns on this thread only, with a namespace descriptor.
            let r =
                unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
            assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("the thread inside the namespace panicked")
    }

    /// MAC address of tap0.
    pub fn tap_mac(&self) -> String {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.name,
                "cat",
                "/sys/class/net/tap0/address",
            ])
            .output()
            .expect("reading the tap's address");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Default for Netns {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Connect to the guest's TCP port 7 (retrying while it boots), send `data`
/// and return what comes back until the guest closes.
pub fn tcp_echo_client(data: Vec<u8>) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let addr = std::net::SocketAddr::from(([10, 55, 0, 2], 7));
    let start = Instant::now();
    let mut stream = loop {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) if start.elapsed() > Duration::from_secs(20) => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    };
    stream.set_read_timeout(Some(Duration::from_secs(20)))?;
    let mut writer = stream.try_clone()?;
    let sender = thread::spawn(move || -> std::io::Result<()> {
        writer.write_all(&data)?;
        writer.shutdown(std::net::Shutdown::Write)
    });
    let mut back = Vec::new();
    stream.read_to_end(&mut back)?;
    sender.join().expect("sender thread")?;
    Ok(back)
}

/// A disk image whose block i (512 bytes) is full of byte i.
pub fn disk(name: &str, blocks: usize) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = tmp().join(format!(
        "{name}-{}-{}.img",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let data: Vec<u8> = (0..blocks * 512).map(|i| (i / 512) as u8).collect();
    std::fs::write(&p, data).expect("writing a disk image");
    p
}

/// A copy of `src` changed by `patch`, for malformed-image tests.
pub fn patched(src: &Path, name: &str, patch: impl FnOnce(&mut Vec<u8>)) -> PathBuf {
    let mut data = std::fs::read(src).expect("reading an image");
    patch(&mut data);
    let p = tmp().join(format!("{name}-{}", std::process::id()));
    std::fs::write(&p, data).expect("writing a patched image");
    p
}

/// Host wall clock in nanoseconds.
pub fn host_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Byte `i` of the bulk transfers (`kernels/spt/src/bin/net_bench.rs`).
pub fn pattern_byte(i: u64) -> u8 {
    (i % 251) as u8
}

/// What [`bulk_peer`] measured.
#[derive(Clone, Copy, Debug)]
pub struct Bulk {
    /// MB/s (10^6 bytes) into the guest and out of it.
    pub tcp_in: f64,
    pub tcp_out: f64,
    /// Bytes received from the guest, and the first that broke the pattern.
    pub received: u64,
    pub broken_at: Option<u64>,
}

fn connect_retrying(guest: std::net::IpAddr, port: u16) -> std::io::Result<std::net::TcpStream> {
    let addr = std::net::SocketAddr::new(guest, port);
    let start = Instant::now();
    loop {
        match std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(s) => return Ok(s),
            Err(e) if start.elapsed() > Duration::from_secs(20) => return Err(e),
            Err(_) => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// Linux's side of the bulk transfers with the `net_bench` guest (run it
/// inside the namespace): `bytes` of the pattern into the guest's sink
/// (port 5001), then everything its source (port 5002) sends, checked.
pub fn bulk_peer(bytes: u64) -> std::io::Result<Bulk> {
    bulk_peer_to([10, 55, 0, 2].into(), bytes)
}

/// [`bulk_peer`] with the guest at `guest` (2001:db8:55::2 for its `ipv6=1` dual stack).
pub fn bulk_peer_to(guest: std::net::IpAddr, bytes: u64) -> std::io::Result<Bulk> {
    use std::io::Write;
    let mut c = connect_retrying(guest, 5001)?;
    c.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut chunk = vec![0u8; 251 * 261];
    for (i, b) in chunk.iter_mut().enumerate() {
        *b = pattern_byte(i as u64);
    }
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        c.write_all(&chunk[..n])?;
        left -= n as u64;
    }
    c.shutdown(std::net::Shutdown::Write)?;
    let mut rest = Vec::new();
    c.read_to_end(&mut rest)?;
    let tcp_in = bytes as f64 / start.elapsed().as_secs_f64() / 1e6;

    let mut c = connect_retrying(guest, 5002)?;
    c.set_read_timeout(Some(Duration::from_secs(60)))?;
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    let want: Vec<u8> = (0..buf.len() as u64 + 251).map(pattern_byte).collect();
    let (mut received, mut broken_at) = (0u64, None);
    loop {
        let n = c.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let phase = (received % 251) as usize;
        if broken_at.is_none() && buf[..n] != want[phase..phase + n] {
            let i = (0..n).find(|&i| buf[i] != want[phase + i]).unwrap_or(0);
            broken_at = Some(received + i as u64);
        }
        received += n as u64;
    }
    let tcp_out = received as f64 / start.elapsed().as_secs_f64() / 1e6;
    Ok(Bulk {
        tcp_in,
        tcp_out,
        received,
        broken_at,
    })
}
