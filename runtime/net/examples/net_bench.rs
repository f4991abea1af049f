//! Throughput of the direct stack over a tap against the same workload through
//! `socket_stackv4` (the host kernel's sockets over a veth pair), from the same run.
//!
//! The peer is Linux in a network namespace in both cases: for the direct stack the tap's
//! kernel side; for `socket_stackv4` the far end of a veth pair whose near end sits in a
//! second namespace, where this process's sockets live. Workloads: a TCP bulk transfer each
//! way and UDP echo packets/s with 32 datagrams in flight; the same over IPv6 through the
//! dual stacks (the direct `stackv4v6` and `socket_stackv4v6`). Needs root, /dev/net/tun and
//! `ip`.
//!
//! `cargo run --release -p unik-net --example net_bench [-- MEGABYTES SECONDS]`; `BUF_KB`
//! sets the direct stack's TCP buffers (default 1024). Needs `ethtool` for the no-offload run.

#[path = "../tests/linux/mod.rs"]
mod linux;

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpStream, UdpSocket as StdUdp};
use std::time::{Duration, Instant};

use linux::{Lab, Netns, join, run};
use unik_rt::{StackV4, StackV4V6, Tcp, TcpFlow, TcpListener, Udp, UdpSocket, spawn};

const SINK: u16 = 5001;
const SOURCE: u16 = 5002;
const ECHO: u16 = 5003;
const UDP_WINDOW: usize = 32;
const UDP_SIZE: usize = 64;

#[derive(Debug, Clone, Copy)]
struct Figures {
    /// MB/s, peer to us.
    tcp_in: f64,
    /// MB/s, us to peer.
    tcp_out: f64,
    udp_pps: f64,
}

/// Our servers over an IPv4 stack.
fn servers<S>(stack: &'static S, bytes: u64)
where
    S: StackV4 + 'static,
    <S::Tcp as Tcp>::Listener: 'static,
    <S::Tcp as Tcp>::Flow: 'static,
    <S::Udp as Udp>::Socket: 'static,
{
    serve(stack.tcp(), stack.udp(), bytes)
}

/// Our servers over a dual stack.
fn servers6<S>(stack: &'static S, bytes: u64)
where
    S: StackV4V6 + 'static,
    <S::Tcp as Tcp<SocketAddr>>::Listener: 'static,
    <S::Tcp as Tcp<SocketAddr>>::Flow: 'static,
    <S::Udp as Udp<SocketAddr>>::Socket: 'static,
{
    serve(stack.tcp(), stack.udp(), bytes)
}

/// A TCP sink, a TCP source of `bytes`, a UDP echo, for addresses of type `A`.
fn serve<A, T, U>(tcp: &'static T, udp: &'static U, bytes: u64)
where
    A: 'static,
    T: Tcp<A> + 'static,
    U: Udp<A> + 'static,
    T::Listener: 'static,
    T::Flow: 'static,
    U::Socket: 'static,
{
    drop(spawn(async move {
        let l = tcp.listen(SINK).await.unwrap();
        loop {
            let f = l.accept().await.unwrap();
            drop(spawn(async move {
                let mut buf = vec![0u8; 1 << 16];
                while f.read(&mut buf).await.unwrap_or(0) > 0 {}
                let _ = f.close().await;
            }));
        }
    }));
    drop(spawn(async move {
        let l = tcp.listen(SOURCE).await.unwrap();
        loop {
            let f = l.accept().await.unwrap();
            drop(spawn(async move {
                let chunk = vec![0x5au8; 1 << 16];
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    if f.write(&chunk[..n]).await.is_err() {
                        return;
                    }
                    left -= n as u64;
                }
                let _ = f.close().await;
            }));
        }
    }));
    drop(spawn(async move {
        let s = udp.bind(ECHO).await.unwrap();
        let mut buf = vec![0u8; 2048];
        loop {
            let (n, from) = s.recv_from(&mut buf).await.unwrap();
            let _ = s.send_to(&buf[..n], from).await;
        }
    }));
}

/// The Linux side of every workload, run on a thread inside the peer namespace.
fn peer(target: IpAddr, bytes: u64, udp_secs: u64) -> Figures {
    // The servers may still be starting: retry refused connections for a while.
    let connect = |port| {
        let until = Instant::now() + Duration::from_secs(5);
        loop {
            let addr = SocketAddr::new(target, port);
            match TcpStream::connect_timeout(&addr, Duration::from_secs(5)) {
                Ok(c) => return c,
                Err(e) if Instant::now() > until => panic!("connect {addr}: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    };
    // Into us: write everything, then wait for the sink's close.
    let mut c = connect(SINK);
    let chunk = vec![0xa5u8; 1 << 16];
    let start = Instant::now();
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        c.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    c.shutdown(Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    c.read_to_end(&mut rest).unwrap();
    let tcp_in = bytes as f64 / start.elapsed().as_secs_f64() / 1e6;

    let mut c = connect(SOURCE);
    let start = Instant::now();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        let n = c.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    assert_eq!(got, bytes);
    let tcp_out = bytes as f64 / start.elapsed().as_secs_f64() / 1e6;

    let sock = StdUdp::bind(if target.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    })
    .unwrap();
    sock.connect(SocketAddr::new(target, ECHO)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let msg = [7u8; UDP_SIZE];
    for _ in 0..UDP_WINDOW {
        sock.send(&msg).unwrap();
    }
    let start = Instant::now();
    let mut replies = 0u64;
    while start.elapsed() < Duration::from_secs(udp_secs) {
        // A timeout means a lost datagram; sending anyway refills the window.
        if sock.recv(&mut buf).is_ok() {
            replies += 1;
        }
        sock.send(&msg).unwrap();
    }
    let udp_pps = replies as f64 / start.elapsed().as_secs_f64();
    Figures {
        tcp_in,
        tcp_out,
        udp_pps,
    }
}

/// On a thread of its own: the executor's tasks are per thread and die with it.
fn direct(mtu: usize, bytes: u64, udp_secs: u64) -> Figures {
    std::thread::spawn(move || direct_on_this_thread(mtu, bytes, udp_secs))
        .join()
        .unwrap()
}

fn direct_on_this_thread(mtu: usize, bytes: u64, udp_secs: u64) -> Figures {
    let lab = Lab::with_mtu("bd", 70, mtu);
    let s = lab.stack();
    let mut cfg = s.tcp.config();
    let kb: usize = std::env::var("BUF_KB").map_or(1024, |v| v.parse().unwrap());
    cfg.send_buffer = kb << 10;
    cfg.recv_buffer = kb << 10;
    s.tcp.set_config(cfg);
    servers(s.stack, bytes);
    let ours = lab.ours.into();
    let p = lab.ns.thread(move || peer(ours, bytes, udp_secs));
    run(600, join(p))
}

/// The direct dual stack over a tap, measured over IPv6.
fn direct6(mtu: usize, bytes: u64, udp_secs: u64) -> Figures {
    std::thread::spawn(move || direct6_on_this_thread(mtu, bytes, udp_secs))
        .join()
        .unwrap()
}

fn direct6_on_this_thread(mtu: usize, bytes: u64, udp_secs: u64) -> Figures {
    use unik_net::devices::{ipv4v6, ipv6, stack, tcp, udp};
    let lab = Lab::with_mtu("b6", 75, mtu);
    let (ours, peer6) = (
        Ipv6Addr::new(0x2001, 0xdb8, 75, 0, 0, 0, 0, 2),
        Ipv6Addr::new(0x2001, 0xdb8, 75, 0, 0, 0, 0, 1),
    );
    linux::sh(lab.ns.cmd("sysctl").args([
        "-q",
        "-w",
        &format!("net.ipv6.conf.{}.disable_ipv6=0", lab.tap_name),
    ]));
    lab.ns.ip(&[
        "-6",
        "addr",
        "add",
        &format!("{peer6}/64"),
        "dev",
        &lab.tap_name,
        "nodad",
    ]);
    let s = lab.stack();
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let ip6 =
        unik_rt::leak(ipv6::connect(lab.tap, s.eth, &format!("{ours}/64"), "", false).unwrap());
    let ip = unik_rt::leak(ipv4v6::connect(s.ip, ip6, false, false).unwrap());
    let u = unik_rt::leak(udp::connect_v4v6(ip).unwrap());
    let t = unik_rt::leak(tcp::connect_v4v6(ip, random).unwrap());
    let mut cfg = t.tcpv4().config();
    let kb: usize = std::env::var("BUF_KB").map_or(1024, |v| v.parse().unwrap());
    cfg.send_buffer = kb << 10;
    cfg.recv_buffer = kb << 10;
    t.tcpv4().set_config(cfg);
    let dual = unik_rt::leak(stack::connect_v4v6(lab.tap, s.eth, s.arp, ip, s.icmp, u, t).unwrap());
    servers6(dual, bytes);
    // The peer waits out our duplicate address detection (a second).
    let p = lab.ns.thread(move || {
        std::thread::sleep(Duration::from_millis(1500));
        peer(ours.into(), bytes, udp_secs)
    });
    run(600, join(p))
}

/// `offloads`: whether the veth pair keeps TSO/GSO/GRO (64 KB segments through the kernel)
/// or, like a tap, carries one MTU-sized packet at a time.
fn socket(offloads: bool, bytes: u64, udp_secs: u64) -> Figures {
    socket_family(offloads, false, bytes, udp_secs)
}

/// `v6`: measure `socket_stackv4v6` over IPv6 instead of `socket_stackv4`.
fn socket_family(offloads: bool, v6: bool, bytes: u64, udp_secs: u64) -> Figures {
    let near = Netns::new("bsn");
    let far = Netns::new("bsf");
    let (a, b) = (
        format!("ubva{}", std::process::id() % 100_000),
        format!("ubvb{}", std::process::id() % 100_000),
    );
    linux::sh(std::process::Command::new("ip").args([
        "link", "add", &a, "netns", &near.name, "type", "veth", "peer", "name", &b, "netns",
        &far.name,
    ]));
    for (ns, dev, addr) in [(&near, &a, "10.71.0.2/24"), (&far, &b, "10.71.0.1/24")] {
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&["addr", "add", addr, "dev", dev]);
        if v6 {
            let a6 = if addr.ends_with(".2/24") {
                "2001:db8:71::2/64"
            } else {
                "2001:db8:71::1/64"
            };
            ns.ip(&["-6", "addr", "add", a6, "dev", dev, "nodad"]);
        }
        ns.ip(&["link", "set", dev, "up"]);
        if !offloads {
            linux::sh(
                ns.cmd("ethtool")
                    .args(["-K", dev, "tso", "off", "gso", "off", "gro", "off"]),
            );
        }
    }
    let ours: IpAddr = if v6 {
        Ipv6Addr::new(0x2001, 0xdb8, 0x71, 0, 0, 0, 0, 2).into()
    } else {
        Ipv4Addr::new(10, 71, 0, 2).into()
    };
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    // The socket stack's executor runs on a thread in the near namespace until the peer is
    // done.
    let server = near.thread(move || {
        if v6 {
            let stack: &'static _ = unik_rt::leak(unik_unix::stack::connect_v4v6().unwrap());
            servers6(stack, bytes);
        } else {
            let stack: &'static _ =
                unik_rt::leak(unik_unix::stack::connect(Ipv4Addr::new(10, 71, 0, 2)).unwrap());
            servers(stack, bytes);
        }
        run(600, async move {
            while done_rx.try_recv().is_err() {
                linux::sleep_ms(20).await;
            }
        });
    });
    let figures = far
        .thread(move || peer(ours, bytes, udp_secs))
        .join()
        .unwrap();
    done_tx.send(()).unwrap();
    server.join().unwrap();
    figures
}

fn main() {
    linux::require(&["ip", "ethtool"]);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mb: u64 = args.first().map_or(200, |a| a.parse().expect("MEGABYTES"));
    let secs: u64 = args.get(1).map_or(3, |a| a.parse().expect("SECONDS"));
    let bytes = mb << 20;
    let runs = [
        ("direct, tap MTU 1500", direct(1500, bytes, secs)),
        ("direct, tap MTU 9000", direct(9000, bytes, secs)),
        ("socket, veth + offloads", socket(true, bytes, secs)),
        ("socket, veth, no offloads", socket(false, bytes, secs)),
        ("IPv6 direct, tap MTU 1500", direct6(1500, bytes, secs)),
        (
            "IPv6 socket, veth + offl.",
            socket_family(true, true, bytes, secs),
        ),
        (
            "IPv6 socket, veth, no off.",
            socket_family(false, true, bytes, secs),
        ),
    ];
    println!(
        "{:<26} {:>14} {:>14} {:>16}",
        "stack, link", "TCP peer->us", "TCP us->peer", "UDP echo"
    );
    for (name, f) in &runs {
        println!(
            "{name:<26} {:>9.0} MB/s {:>9.0} MB/s {:>10.0} pkt/s",
            f.tcp_in, f.tcp_out, f.udp_pps
        );
    }
    println!("direct / socket stacks, and IPv6 / IPv4 on the direct stack (same run):");
    for (i, j) in [(0, 2), (0, 3), (1, 2), (4, 5), (4, 6), (4, 0)] {
        let (a, b) = (runs[i].1, runs[j].1);
        println!(
            "  {} vs {}: TCP in {:.0} %, TCP out {:.0} %, UDP {:.0} %",
            runs[i].0,
            runs[j].0,
            100.0 * a.tcp_in / b.tcp_in,
            100.0 * a.tcp_out / b.tcp_out,
            100.0 * a.udp_pps / b.udp_pps
        );
    }
}
