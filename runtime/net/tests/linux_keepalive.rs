//! TCP keepalive against Linux: once the peer goes silent, the configured probes go out an
//! interval apart (seen on the wire by a packet socket in the namespace), then the connection
//! is dropped with a reset and the application sees `TimedOut`.

mod linux;

use std::ffi::CString;
use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use linux::{Lab, join, run, serial, sleep_ms};
use unik_net::{Keepalive, TcpState};
use unik_rt::{StackV4, Tcp, TcpError, TcpFlow, TcpListener};

const PORT: u16 = 5000;
const PROBES: u32 = 3;
const IDLE: Duration = Duration::from_secs(1);
const INTERVAL: Duration = Duration::from_millis(700);

/// A TCP segment our stack sent: when, its flags, its payload length.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Instant,
    flags: u8,
    payload: usize,
}

/// Captures the TCP segments from `ours:PORT` crossing `tap` until `stop` is set.
fn capture(tap: &str, ours: std::net::Ipv4Addr, stop: Arc<AtomicBool>) -> Vec<Seen> {
    let proto = (libc::ETH_P_ALL as u16).to_be();
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto)) };
    assert!(
        raw >= 0,
        "packet socket: {}",
        std::io::Error::last_os_error()
    );
    // SAFETY: `raw` is fresh and owned only here.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let name = CString::new(tap).unwrap();
    // SAFETY: `name` is a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert!(ifindex > 0, "no interface {tap}");
    // SAFETY: an all-zero sockaddr_ll is valid; the fields that matter are set below.
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = proto;
    addr.sll_ifindex = ifindex as i32;
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `addr` is a valid sockaddr_ll of `len` bytes.
    let rc = unsafe { libc::bind(sock.as_raw_fd(), (&raw const addr).cast(), len) };
    assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
    let tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 100_000,
    };
    // SAFETY: SO_RCVTIMEO takes one timeval.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&raw const tv).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    let mut seen = Vec::new();
    let mut buf = [0u8; 2048];
    while !stop.load(Ordering::Relaxed) {
        // SAFETY: `buf` is writable for its length.
        let n = unsafe { libc::recv(sock.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 54 {
            continue;
        }
        let f = &buf[..n as usize];
        let ihl = usize::from(f[14] & 0x0f) * 4;
        let is_ours = f[12..14] == [0x08, 0x00]
            && f[23] == 6
            && f[26..30] == ours.octets()
            && u16::from_be_bytes([f[14 + ihl], f[15 + ihl]]) == PORT;
        if !is_ours {
            continue;
        }
        let total = usize::from(u16::from_be_bytes([f[16], f[17]]));
        let doff = usize::from(f[14 + ihl + 12] >> 4) * 4;
        seen.push(Seen {
            at: Instant::now(),
            flags: f[14 + ihl + 13],
            payload: total - ihl - doff,
        });
    }
    seen
}

#[test]
fn keepalive_probes_then_drop_when_the_peer_goes_silent() {
    let _serial = serial();
    let lab = Lab::new("ka", 68);
    let s = lab.stack();
    let mut cfg = s.tcp.config();
    cfg.keepalive = Some(Keepalive {
        idle: IDLE,
        interval: INTERVAL,
        probes: PROBES,
    });
    s.tcp.set_config(cfg);
    let ours = lab.ours;
    let (ns, tap) = (lab.ns.name.clone(), lab.tap_name.clone());
    let stop = Arc::new(AtomicBool::new(false));
    let stop_capture = stop.clone();
    let peer = lab.ns.thread(move || {
        let mut c = TcpStream::connect_timeout(
            &SocketAddrV4::new(ours, PORT).into(),
            Duration::from_secs(5),
        )
        .unwrap();
        c.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        c.read_exact(&mut buf).unwrap();
        // Let the last ACKs settle, then start watching and go silent: the kernel's answers
        // now go to a MAC address that is not ours.
        std::thread::sleep(Duration::from_millis(300));
        let tap2 = tap.clone();
        let watcher = std::thread::spawn(move || capture(&tap2, ours, stop_capture));
        std::thread::sleep(Duration::from_millis(100));
        linux::sh(std::process::Command::new("ip").args([
            "-n",
            &ns,
            "neigh",
            "replace",
            &ours.to_string(),
            "lladdr",
            "02:00:00:00:00:99",
            "dev",
            &tap,
            "nud",
            "permanent",
        ]));
        let silent_at = Instant::now();
        (c, watcher, silent_at)
    });
    let (outcome, elapsed_ok) = run(30, async move {
        let listener = s.stack.tcp().listen(PORT).await.unwrap();
        let flow = listener.accept().await.unwrap();
        let mut buf = [0u8; 5];
        let mut got = 0;
        while got < 5 {
            got += flow.read(&mut buf[got..]).await.unwrap();
        }
        flow.write(&buf).await.unwrap();
        let (conn, watcher, silent_at) = join(peer).await;
        let outcome = flow.read(&mut buf).await;
        let elapsed = silent_at.elapsed();
        let stats = flow.stats().unwrap();
        assert_eq!(flow.state(), Some(TcpState::Closed));
        assert_eq!(u64::from(PROBES), stats.keepalive_probes, "{stats:?}");
        sleep_ms(200).await;
        stop.store(true, Ordering::Relaxed);
        let seen = watcher.join().unwrap();
        drop(conn);
        ((outcome, seen), elapsed)
    });
    let (result, seen) = outcome;
    assert_eq!(result, Err(TcpError::TimedOut));
    // Silence began ~0.4 s after the last segment; the drop follows IDLE + PROBES intervals.
    let budget = IDLE + INTERVAL * PROBES;
    assert!(
        elapsed_ok >= budget - Duration::from_millis(600)
            && elapsed_ok <= budget + Duration::from_secs(2),
        "dropped {elapsed_ok:?} after the peer went silent (expected about {budget:?})"
    );
    const RST: u8 = 0x04;
    let probes: Vec<&Seen> = seen.iter().filter(|s| s.flags & RST == 0).collect();
    assert_eq!(probes.len() as u32, PROBES, "segments seen: {seen:?}");
    assert!(
        probes.iter().all(|p| p.payload == 0 && p.flags == 0x10),
        "{seen:?}"
    );
    for pair in probes.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(
            gap >= INTERVAL - Duration::from_millis(100)
                && gap <= INTERVAL + Duration::from_millis(400),
            "probes {gap:?} apart: {seen:?}"
        );
    }
    assert!(
        seen.last().is_some_and(|s| s.flags & RST != 0),
        "no reset after the probes: {seen:?}"
    );
}
