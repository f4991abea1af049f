//! Hostile traffic from inside a namespace: a raw-socket sender of spoofed TCP segments (SYN,
//! ACK or RST floods from random addresses and ports), and a legitimate client that times
//! connect + one echo round trip. Used by `linux_flood.rs` and the `flood_bench` example.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use unik_net::wire::ipv4::Ipv4Repr;
use unik_net::wire::proto;
use unik_net::wire::tcp::{Flags, TcpRepr, fill_checksum};

use super::Netns;

/// Spoofed sources: 198.18.0.0/15, the benchmarking range (RFC 2544), never routed anywhere.
fn spoofed(r: u64) -> Ipv4Addr {
    Ipv4Addr::from_bits(0xc612_0000 | (r as u32 & 0x0001_ffff))
}

/// One spoofed IPv4 packet carrying a TCP segment with `flags` and random numbers, from
/// `from` or else a random address and port.
fn packet(r: u64, from: Option<SocketAddrV4>, dst: SocketAddrV4, flags: Flags) -> Vec<u8> {
    let src = from.map_or_else(|| spoofed(r), |a| *a.ip());
    let seg = TcpRepr {
        src_port: from.map_or(((r >> 17) as u16) | 1024, |a| a.port()),
        dst_port: dst.port(),
        seq: (r >> 24) as u32,
        ack: (r >> 8) as u32,
        flags,
        window: 64240,
        // What a Linux client offers: MSS and window scale (cookies must carry them).
        mss: flags.syn().then_some(1460),
        window_scale: flags.syn().then_some(7),
        ..TcpRepr::default()
    };
    let len = seg.header_len();
    let mut p = vec![0u8; 20 + len];
    Ipv4Repr {
        src,
        dst: *dst.ip(),
        protocol: proto::TCP,
        payload_len: len,
        ttl: 64,
        ident: r as u16,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut p);
    seg.emit(&mut p[20..]);
    fill_checksum(&mut p[20..], src, *dst.ip());
    p
}

/// A flood running on a thread in a namespace until dropped.
pub struct Flood {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl Flood {
    /// Sends `pps` spoofed segments per second with `flags` to `dst` from `ns`, through a raw
    /// socket (IPPROTO_RAW: we write the IP header, source address included).
    pub fn start(ns: &Netns, dst: SocketAddrV4, flags: Flags, pps: u64, seed: u64) -> Flood {
        Flood::start_from(ns, None, dst, flags, pps, seed)
    }

    /// The same from one fixed address and port (a blind attack on a known connection).
    pub fn start_from(
        ns: &Netns,
        from: Option<SocketAddrV4>,
        dst: SocketAddrV4,
        flags: Flags,
        pps: u64,
        seed: u64,
    ) -> Flood {
        let stop = Arc::new(AtomicBool::new(false));
        let halt = stop.clone();
        let thread = ns.thread(move || {
            // SAFETY: plain socket call; the descriptor is closed below.
            let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
            assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
            let mut r = seed | 1;
            let mut sent = 0u64;
            let start = Instant::now();
            // Batches every 2 ms, paced against the clock.
            while !halt.load(Ordering::Relaxed) {
                let due = (start.elapsed().as_micros() as u64 * pps / 1_000_000).max(sent);
                while sent < due {
                    r ^= r << 13;
                    r ^= r >> 7;
                    r ^= r << 17;
                    let p = packet(r, from, dst, flags);
                    let to = libc::sockaddr_in {
                        sin_family: libc::AF_INET as libc::sa_family_t,
                        sin_port: 0,
                        sin_addr: libc::in_addr {
                            s_addr: u32::from(*dst.ip()).to_be(),
                        },
                        sin_zero: [0; 8],
                    };
                    // SAFETY: `p` and `to` outlive the call; lengths are theirs.
                    let n = unsafe {
                        libc::sendto(
                            fd,
                            p.as_ptr().cast(),
                            p.len(),
                            0,
                            (&raw const to).cast(),
                            size_of::<libc::sockaddr_in>() as libc::socklen_t,
                        )
                    };
                    // A full queue (ENOBUFS) loses the packet, as on a busy link.
                    if n > 0 {
                        sent += 1;
                    } else {
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            // SAFETY: our descriptor.
            unsafe { libc::close(fd) };
            sent
        });
        Flood {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops the flood; returns the packets sent.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Connects to an echo server at `dst`, sends 5 bytes and reads them back, within `limit`;
/// returns the time taken, or what failed.
pub fn echo_once(dst: SocketAddrV4, limit: Duration) -> Result<Duration, String> {
    let start = Instant::now();
    let mut s =
        TcpStream::connect_timeout(&dst.into(), limit).map_err(|e| format!("connect: {e}"))?;
    let left = limit
        .saturating_sub(start.elapsed())
        .max(Duration::from_millis(1));
    s.set_read_timeout(Some(left)).unwrap();
    s.write_all(b"ping\n").map_err(|e| format!("write: {e}"))?;
    let mut buf = [0u8; 5];
    s.read_exact(&mut buf).map_err(|e| format!("read: {e}"))?;
    if &buf != b"ping\n" {
        return Err(format!("echo returned {buf:?}"));
    }
    Ok(start.elapsed())
}

/// `n` legitimate echo connections, `gap` apart, each given `limit`.
pub fn legitimate(
    dst: SocketAddrV4,
    n: usize,
    gap: Duration,
    limit: Duration,
) -> Vec<Result<Duration, String>> {
    (0..n)
        .map(|_| {
            let r = echo_once(dst, limit);
            std::thread::sleep(gap);
            r
        })
        .collect()
}

/// Median and maximum of the successful times, in ms, and the failure count.
pub fn summary(results: &[Result<Duration, String>]) -> (f64, f64, usize) {
    let mut ok: Vec<f64> = results
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .map(|d| d.as_secs_f64() * 1e3)
        .collect();
    ok.sort_by(f64::total_cmp);
    let failed = results.len() - ok.len();
    if ok.is_empty() {
        return (f64::NAN, f64::NAN, failed);
    }
    (ok[ok.len() / 2], ok[ok.len() - 1], failed)
}

/// This process's resident memory in KiB.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}
