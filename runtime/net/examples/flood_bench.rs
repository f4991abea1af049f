//! Time for a legitimate connection (connect plus one echo round trip) to complete while a
//! flood of spoofed segments runs, on the direct stack (SYN cookies; and with cookies off,
//! evicting the oldest half-open connection) beside Linux's own stack (with and without
//! `tcp_syncookies`), all in the same run.
//!
//! The flooder and the client live in one namespace; the target is the direct stack on a
//! tap, or a Linux listener in a second namespace behind a veth pair. Both targets route
//! replies to the spoofed sources (198.18.0.0/15) back into the flooder's namespace, which
//! drops them. Both listeners have a backlog of 32. Needs root, /dev/net/tun and `ip`.
//!
//! `cargo run --release -p unik-net --example flood_bench [-- RATE CLIENTS]`: RATE spoofed
//! segments per second (default 20000), CLIENTS timed connections per case (default 10),
//! 200 ms apart, each given at most 3 s.

#[path = "../tests/linux/mod.rs"]
mod linux;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener as StdListener};
use std::os::fd::FromRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use linux::flood::{Flood, echo_once, legitimate, summary};
use linux::{Lab, Netns, join, run, sh, sleep_ms};
use unik_net::wire::tcp::Flags;
use unik_rt::{StackV4, Tcp, TcpFlow, TcpListener, spawn};

const PORT: u16 = 7;
const BACKLOG: i32 = 32;
const LIMIT: Duration = Duration::from_secs(3);
const GAP: Duration = Duration::from_millis(200);

struct Case {
    rate: u64,
    clients: usize,
}

type Row = (String, String, f64, f64, usize);

fn floods() -> [(&'static str, Option<Flags>); 4] {
    [
        ("none", None),
        ("SYN", Some(Flags::SYN)),
        ("ACK", Some(Flags::ACK)),
        ("RST", Some(Flags::RST)),
    ]
}

/// Runs every flood against `dst` from `ns` and times the legitimate clients.
fn measure(target: &str, ns: &Netns, dst: SocketAddrV4, case: &Case, rows: &mut Vec<Row>) {
    let warm = ns
        .thread(move || echo_once(dst, Duration::from_secs(5)))
        .join()
        .unwrap();
    assert!(
        warm.is_ok(),
        "{target}: no echo before the floods: {warm:?}"
    );
    for (i, (name, flags)) in floods().into_iter().enumerate() {
        let flood = flags.map(|f| Flood::start(ns, dst, f, case.rate, 17 + i as u64));
        std::thread::sleep(Duration::from_secs(1));
        let n = case.clients;
        let results = ns
            .thread(move || legitimate(dst, n, GAP, LIMIT))
            .join()
            .unwrap();
        let sent = flood.map_or(0, |f| f.stop());
        let (median, max, failed) = summary(&results);
        eprintln!("{target}, {name} flood ({sent} segments): {results:?}");
        rows.push((target.into(), name.into(), median, max, failed));
        // Let half-open connections of this flood expire (or be replaced) before the next.
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// The direct stack on a tap, on a thread of its own (the executor's tasks are per thread).
fn direct(cookies: bool, case: Case) -> Vec<Row> {
    std::thread::spawn(move || {
        let lab = Lab::new("fb", 75);
        let s = lab.stack();
        let mut cfg = s.tcp.config();
        cfg.syn_cookies = cookies;
        cfg.backlog = BACKLOG as usize;
        s.tcp.set_config(cfg);
        let stack = s.stack;
        let dst = SocketAddrV4::new(lab.ours, PORT);
        let name = if cookies {
            "direct, SYN cookies"
        } else {
            "direct, eviction"
        };
        let done = Arc::new(AtomicBool::new(false));
        let finished = done.clone();
        let ns_name = lab.ns.name.clone();
        let driver = std::thread::spawn(move || {
            let ns = Netns { name: ns_name };
            let mut rows = Vec::new();
            measure(name, &ns, dst, &case, &mut rows);
            std::mem::forget(ns); // the lab deletes the namespace
            finished.store(true, Ordering::Relaxed);
            rows
        });
        run(600, async move {
            drop(spawn(async move {
                let l = stack.tcp().listen(PORT).await.unwrap();
                loop {
                    let f = l.accept().await.unwrap();
                    drop(spawn(async move {
                        let mut buf = [0u8; 1024];
                        while let Ok(n) = f.read(&mut buf).await {
                            if n == 0 || f.write(&buf[..n]).await.is_err() {
                                break;
                            }
                        }
                        let _ = f.close().await;
                    }));
                }
            }));
            while !done.load(Ordering::Relaxed) {
                sleep_ms(20).await;
            }
        });
        let rows = run(10, join(driver));
        eprintln!("{name}: {:?}", s.eth.stats());
        rows
    })
    .join()
    .unwrap()
}

/// A Linux echo listener with a backlog of 32, in `ns`, until `stop`.
fn linux_echo(
    ns: &Netns,
    addr: SocketAddrV4,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<()> {
    ns.thread(move || {
        // SAFETY: plain socket calls on a descriptor we own (handed to StdListener).
        let listener = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0);
            let sa = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: addr.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*addr.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            let rc = libc::bind(
                fd,
                (&raw const sa).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            );
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            assert_eq!(libc::listen(fd, BACKLOG), 0);
            StdListener::from_raw_fd(fd)
        };
        listener.set_nonblocking(true).unwrap();
        while !stop.load(Ordering::Relaxed) {
            match listener.accept() {
                Ok((mut c, _)) => {
                    c.set_nonblocking(false).unwrap();
                    c.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
                    let mut buf = [0u8; 5];
                    if c.read_exact(&mut buf).is_ok() {
                        let _ = c.write_all(&buf);
                    }
                }
                Err(_) => std::thread::sleep(Duration::from_micros(200)),
            }
        }
    })
}

/// Linux's stack in a namespace behind a veth pair, with `tcp_syncookies` set to `cookies`.
fn linux_target(cookies: bool, case: &Case) -> Vec<Row> {
    let near = Netns::new("fbn");
    let far = Netns::new("fbf");
    let (a, b) = (
        format!("ufva{}", std::process::id() % 100_000),
        format!("ufvb{}", std::process::id() % 100_000),
    );
    sh(std::process::Command::new("ip").args([
        "link", "add", &a, "netns", &near.name, "type", "veth", "peer", "name", &b, "netns",
        &far.name,
    ]));
    for (ns, dev, addr) in [(&near, &a, "10.76.0.1/24"), (&far, &b, "10.76.0.2/24")] {
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["addr", "add", addr, "dev", dev]);
        ns.ip(&["link", "set", dev, "up"]);
    }
    // SYN-ACKs to the spoofed sources go back to the flooder's namespace, as ours do.
    far.ip(&["route", "add", "default", "via", "10.76.0.1"]);
    sh(far.cmd("sysctl").args([
        "-q",
        "-w",
        &format!("net.ipv4.tcp_syncookies={}", if cookies { 1 } else { 0 }),
    ]));
    let dst = SocketAddrV4::new(Ipv4Addr::new(10, 76, 0, 2), PORT);
    let stop = Arc::new(AtomicBool::new(false));
    let server = linux_echo(&far, dst, stop.clone());
    std::thread::sleep(Duration::from_millis(100));
    let name = if cookies {
        "Linux, tcp_syncookies=1"
    } else {
        "Linux, tcp_syncookies=0"
    };
    let mut rows = Vec::new();
    measure(name, &near, dst, case, &mut rows);
    stop.store(true, Ordering::Relaxed);
    server.join().unwrap();
    rows
}

fn main() {
    linux::require(&["ip", "sysctl"]);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rate: u64 = args.first().map_or(20_000, |a| a.parse().expect("RATE"));
    let clients: usize = args.get(1).map_or(10, |a| a.parse().expect("CLIENTS"));
    let case = || Case { rate, clients };
    let mut rows = Vec::new();
    rows.extend(direct(true, case()));
    rows.extend(direct(false, case()));
    rows.extend(linux_target(true, &case()));
    rows.extend(linux_target(false, &case()));
    println!(
        "legitimate connect + echo during {rate} spoofed segments/s, {clients} clients per case \
         (limit {} s each)",
        LIMIT.as_secs()
    );
    println!(
        "{:<26} {:>6} {:>12} {:>12} {:>8}",
        "target", "flood", "median ms", "max ms", "failed"
    );
    for (t, f, med, max, failed) in &rows {
        println!("{t:<26} {f:>6} {med:>12.2} {max:>12.2} {failed:>8}");
    }
    println!("direct (SYN cookies) / Linux (tcp_syncookies=1), median, same run:");
    for (f, _) in floods() {
        let find = |t: &str| rows.iter().find(|r| r.0 == t && r.1 == f).map(|r| r.2);
        if let (Some(a), Some(b)) = (find("direct, SYN cookies"), find("Linux, tcp_syncookies=1")) {
            println!("  {f:>4} flood: {:.2}x", a / b);
        }
    }
}
