//! IPv6 against the Linux kernel over a tap: ping6 both ways (fragmented too), UDP and TCP
//! echo, SLAAC from `radvd`, and duplicate address detection refusing an address Linux owns.

mod linux;

use std::io::{Read, Write};
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6, TcpStream, UdpSocket as StdUdp};
use std::process::{Command, Stdio};
use std::time::Duration;

use linux::{
    Lab, Proc, TEN_MB, content, join, our_ten_megabytes, peer_ten_megabytes, require, run, serial,
    sleep_ms, ten_megabytes,
};
use unik_net::devices::ethernet::Ethernet;
use unik_net::ipv6::AddrState;
use unik_net::{Error, Icmpv6Event, Ipv6Config};
use unik_rt::Network;

fn v6(subnet: u8, n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, u16::from(subnet), 0, 0, 0, 0, n)
}

/// Turns IPv6 on for the kernel's side of the lab's tap with `2001:db8:{subnet}::1/64`
/// (usable at once: no DAD on the kernel's side).
fn linux_ipv6(lab: &Lab, subnet: u8) {
    let dev = &lab.tap_name;
    for (k, v) in [("accept_dad", "0"), ("disable_ipv6", "0")] {
        linux::sh(
            lab.ns
                .cmd("sysctl")
                .args(["-q", "-w", &format!("net.ipv6.conf.{dev}.{k}={v}")]),
        );
    }
    lab.ns.ip(&[
        "-6",
        "addr",
        "add",
        &format!("{}/64", v6(subnet, 1)),
        "dev",
        dev,
        "nodad",
    ]);
}

/// Waits until `addr` is usable by our stack (DAD passed) or refused; true if usable.
async fn settled<N: Network + 'static>(eth: &Ethernet<N>, addr: Ipv6Addr) -> bool {
    loop {
        let state = eth.with_interface(|i| {
            i.ipv6_addresses()
                .into_iter()
                .find(|a| a.address == addr)
                .map(|a| a.state)
        });
        match state {
            Some(AddrState::Preferred) => return true,
            Some(AddrState::Duplicate) => return false,
            _ => sleep_ms(50).await,
        }
    }
}

fn ns_ping(ns: &str, dst: Ipv6Addr, size: usize) -> std::process::Output {
    Command::new("ip")
        .args([
            "netns", "exec", ns, "ping", "-6", "-n", "-c", "3", "-i", "0.2",
        ])
        .args(["-W", "3", "-s", &size.to_string(), &dst.to_string()])
        .output()
        .expect("run ping")
}

#[test]
fn ping6_both_ways_including_3000_bytes() {
    let _serial = serial();
    require(&["ip", "ping"]);
    let lab = Lab::new("p6", 71);
    linux_ipv6(&lab, 71);
    let s = lab.stack();
    let (ours, peer) = (v6(71, 2), v6(71, 1));
    s.eth.with_interface(|i| {
        i.enable_ipv6(
            Some(Ipv6Config {
                address: ours,
                prefix_len: 64,
                gateway: None,
            }),
            false,
        )
    });
    let ns = lab.ns.name.clone();
    let eth = s.eth;
    let (outputs, replies) = run(60, async move {
        assert!(settled(eth, ours).await, "DAD refused {ours}");
        let mut outputs = Vec::new();
        for size in [56usize, 3000] {
            let ns = ns.clone();
            let ping = std::thread::spawn(move || ns_ping(&ns, ours, size));
            outputs.push((size, join(ping).await));
        }
        // Our pings to Linux.
        let mut replies = Vec::new();
        for (seq, size) in [(1u16, 56usize), (2, 3000)] {
            let mut data = vec![0u8; size];
            content(seq.into(), &mut data);
            loop {
                match eth.with_interface(|i| i.icmpv6_echo_request(peer, 0x66, seq, &data)) {
                    Ok(()) => break,
                    Err(Error::WouldBlock) => eth.changed().await,
                    Err(e) => panic!("echo request: {e}"),
                }
            }
            loop {
                if let Icmpv6Event::EchoReply {
                    from, seq: s, len, ..
                } = eth.icmpv6_event().await.unwrap()
                    && from == peer
                    && s == seq
                {
                    replies.push(len);
                    break;
                }
            }
        }
        (outputs, replies)
    });
    for (size, out) in &outputs {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("3 received"),
            "ping -6 -s {size}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("{} bytes from {ours}", size + 8)),
            "{text}"
        );
    }
    assert_eq!(replies, [56, 3000]);
    let st = s.eth.stats();
    // 3008 bytes of ICMPv6 need three fragments at MTU 1500, each way.
    assert!(st.fragments_sent >= 3 * 3 + 3, "{st:?}");
    assert!(st.reassembled > 3, "{st:?}");
}

#[test]
fn udp_and_tcp_echo_over_ipv6() {
    let _serial = serial();
    require(&["ip"]);
    let lab = Lab::new("e6", 72);
    linux_ipv6(&lab, 72);
    let s = lab.stack();
    let ours = v6(72, 2);
    s.eth.with_interface(|i| {
        i.enable_ipv6(
            Some(Ipv6Config {
                address: ours,
                prefix_len: 64,
                gateway: None,
            }),
            false,
        )
    });
    let eth = s.eth;
    const TCP_LEN: usize = 4 << 20;
    let peer = lab.ns.thread(move || {
        // Wait for our DAD (about a second).
        std::thread::sleep(Duration::from_millis(1500));
        let sock = StdUdp::bind("[::]:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut buf = vec![0u8; 65536];
        let mut udp = Vec::new();
        for size in [0usize, 1, 100, 1452, 1453, 3000, 8000] {
            let mut msg = vec![0u8; size];
            content(size as u64, &mut msg);
            sock.send_to(&msg, SocketAddrV6::new(ours, 7, 0, 0))
                .unwrap();
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            udp.push((size, buf[..n] == msg[..], from));
        }
        let mut conn = TcpStream::connect(SocketAddrV6::new(ours, 80, 0, 0)).unwrap();
        conn.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut writer = conn.try_clone().unwrap();
        let w = std::thread::spawn(move || {
            let mut chunk = vec![0u8; 65536];
            let mut off = 0;
            while off < TCP_LEN {
                let n = chunk.len().min(TCP_LEN - off);
                content(off as u64, &mut chunk[..n]);
                writer.write_all(&chunk[..n]).unwrap();
                off += n;
            }
            writer.shutdown(std::net::Shutdown::Write).unwrap();
        });
        let mut back = Vec::with_capacity(TCP_LEN);
        conn.read_to_end(&mut back).unwrap();
        w.join().unwrap();
        let mut expect = vec![0u8; TCP_LEN];
        content(0, &mut expect);
        (udp, back.len(), back == expect)
    });
    let (udp, tcp_len, tcp_same) = run(90, async move {
        assert!(settled(eth, ours).await);
        let (u, l) = eth.with_interface(|i| (i.udp_bind(7).unwrap(), i.tcp_listen(80).unwrap()));
        let mut buf = vec![0u8; 65536];
        let mut conn = None;
        let mut pending: Vec<u8> = Vec::new();
        let mut eof = false;
        loop {
            if peer.is_finished() {
                break;
            }
            let progressed = eth.with_interface(|i| {
                let mut any = false;
                while let Ok((n, from)) = i.udp_recv(u, &mut buf) {
                    i.udp_send(u, from, &buf[..n]).unwrap();
                    any = true;
                }
                if conn.is_none() {
                    conn = i.tcp_accept(l).ok();
                }
                if let Some(c) = conn {
                    // Echo: keep at most one buffer of unsent data.
                    if !pending.is_empty()
                        && let Ok(n) = i.tcp_send(c, &pending)
                    {
                        pending.drain(..n);
                        any = true;
                    }
                    if pending.is_empty() && !eof {
                        match i.tcp_recv(c, &mut buf) {
                            Ok(0) => {
                                eof = true;
                                i.tcp_shutdown(c).unwrap();
                            }
                            Ok(n) => {
                                pending.extend_from_slice(&buf[..n]);
                                any = true;
                            }
                            Err(_) => {}
                        }
                    }
                }
                any
            });
            if !progressed {
                eth.changed().await;
            }
        }
        join(peer).await
    });
    for (size, same, from) in &udp {
        assert!(same, "UDP echo of {size} bytes differs");
        assert_eq!(*from, SocketAddr::V6(SocketAddrV6::new(ours, 7, 0, 0)));
    }
    assert_eq!(tcp_len, TCP_LEN);
    assert!(tcp_same, "TCP echo over IPv6 differs");
}

#[test]
fn slaac_from_radvd() {
    let _serial = serial();
    require(&["ip", "radvd", "ping"]);
    let lab = Lab::new("ra", 73);
    linux_ipv6(&lab, 73);
    linux::sh(
        lab.ns
            .cmd("sysctl")
            .args(["-q", "-w", "net.ipv6.conf.all.forwarding=1"]),
    );
    let dir = std::env::temp_dir().join(format!("unet-radvd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("radvd.conf");
    std::fs::write(
        &conf,
        format!(
            "interface {} {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  \
             AdvLinkMTU 1400;\n  prefix {}/64 {{\n    AdvOnLink on;\n    AdvAutonomous on;\n  }};\n}};\n",
            lab.tap_name,
            v6(73, 0)
        ),
    )
    .unwrap();
    let _radvd = Proc(
        lab.ns
            .cmd("radvd")
            .args(["-n", "-C"])
            .arg(&conf)
            .args(["-p"])
            .arg(dir.join("radvd.pid"))
            .args(["-m", "stderr"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("radvd.log")).unwrap())
            .spawn()
            .expect("start radvd"),
    );
    let s = lab.stack();
    s.eth.with_interface(|i| i.enable_ipv6(None, true));
    let eth = s.eth;
    let mac = s.eth.mac().0;
    // EUI-64 of our MAC in the advertised prefix.
    let prefix = v6(73, 0).segments();
    let slaac = Ipv6Addr::new(
        prefix[0],
        prefix[1],
        prefix[2],
        prefix[3],
        u16::from_be_bytes([mac[0] ^ 2, mac[1]]),
        u16::from_be_bytes([mac[2], 0xff]),
        u16::from_be_bytes([0xfe, mac[3]]),
        u16::from_be_bytes([mac[4], mac[5]]),
    );
    let ns = lab.ns.name.clone();
    let dir2 = dir.clone();
    let (mtu, router, ping) = run(60, async move {
        for n in 0.. {
            if eth.with_interface(|i| i.ipv6_host().is_some_and(|h| h.is_ours(slaac))) {
                break;
            }
            if n == 200 {
                let log = std::fs::read_to_string(dir2.join("radvd.log")).unwrap_or_default();
                let addrs = eth.with_interface(|i| i.ipv6_addresses());
                panic!(
                    "no SLAAC address {slaac} after 20 s: {addrs:?}; {:?}; radvd: {log}",
                    eth.stats()
                );
            }
            sleep_ms(100).await;
        }
        let (mtu, router) = eth.with_interface(|i| {
            let h = i.ipv6_host().unwrap();
            (h.mtu, h.next_hop("2606:4700::1".parse().unwrap()))
        });
        let ping = std::thread::spawn(move || ns_ping(&ns, slaac, 56));
        (mtu, router, join(ping).await)
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(mtu, 1400);
    assert!(
        router.is_some_and(|r| r.is_unicast_link_local()),
        "default router {router:?}"
    );
    let text = String::from_utf8_lossy(&ping.stdout);
    assert!(text.contains("3 received"), "ping {slaac}: {text}");
}

#[test]
fn dad_refuses_an_address_linux_owns() {
    let _serial = serial();
    require(&["ip"]);
    let lab = Lab::new("dd", 74);
    linux_ipv6(&lab, 74);
    let taken = v6(74, 2);
    lab.ns.ip(&[
        "-6",
        "addr",
        "add",
        &format!("{taken}/64"),
        "dev",
        &lab.tap_name,
        "nodad",
    ]);
    let s = lab.stack();
    s.eth.with_interface(|i| {
        i.enable_ipv6(
            Some(Ipv6Config {
                address: taken,
                prefix_len: 64,
                gateway: None,
            }),
            false,
        )
    });
    let eth = s.eth;
    let (usable, dups, event) = run(30, async move {
        let usable = settled(eth, taken).await;
        sleep_ms(1500).await;
        let dups = eth.with_interface(|i| i.ipv6_duplicates());
        let mut event = None;
        while let Some(Ok(e)) = Some(eth.icmpv6_event().await) {
            if let Icmpv6Event::DuplicateAddress { address } = e {
                event = Some(address);
                break;
            }
        }
        (usable, dups, event)
    });
    assert!(!usable, "{taken} is Linux's, yet our stack uses it");
    assert_eq!(dups, [taken]);
    assert_eq!(event, Some(taken));
    // Nothing leaves from the refused address: the source for the link's peer is another.
    let src = s
        .eth
        .with_interface(|i| i.ipv6_host().unwrap().source_for(v6(74, 1)));
    assert!(src.is_some() && src != Some(taken), "source {src:?}");
}

/// The dual stack's devices (`stackv4v6` as `unik_rt::StackV4V6`): one listener echoes a
/// connection over IPv6 and one over IPv4; one UDP port echoes both families.
#[test]
fn dual_stack_devices_echo_over_both_families() {
    use std::io::{Read, Write};
    use std::net::{SocketAddr, TcpStream, UdpSocket as StdUdp};
    use unik_net::devices::{ipv4v6, ipv6, stack, tcp, udp};
    use unik_rt::{StackV4V6, Tcp, TcpFlow, TcpListener, Udp, UdpSocket};
    let _serial = serial();
    require(&["ip"]);
    let lab = Lab::new("ds", 76);
    linux_ipv6(&lab, 76);
    let s = lab.stack();
    let ours6 = v6(76, 2);
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let ip6 =
        unik_rt::leak(ipv6::connect(lab.tap, s.eth, &format!("{ours6}/64"), "", false).unwrap());
    let ip = unik_rt::leak(ipv4v6::connect(s.ip, ip6, false, false).unwrap());
    let u = unik_rt::leak(udp::connect_v4v6(ip).unwrap());
    let t = unik_rt::leak(tcp::connect_v4v6(ip, random).unwrap());
    let dual = unik_rt::leak(stack::connect_v4v6(lab.tap, s.eth, s.arp, ip, s.icmp, u, t).unwrap());
    let ours4 = lab.ours;
    const LEN: usize = 1 << 20;
    let peer = lab.ns.thread(move || {
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let mut results = Vec::new();
        for target in [
            SocketAddr::new(ours6.into(), 7),
            SocketAddr::new(ours4.into(), 7),
        ] {
            let sock = StdUdp::bind(if target.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            })
            .unwrap();
            sock.set_read_timeout(Some(std::time::Duration::from_secs(3)))
                .unwrap();
            sock.send_to(b"datagram", target).unwrap();
            let mut buf = [0u8; 64];
            let udp = sock
                .recv_from(&mut buf)
                .map(|(n, from)| (buf[..n].to_vec(), from));
            let mut conn = TcpStream::connect(target).unwrap();
            conn.set_read_timeout(Some(std::time::Duration::from_secs(20)))
                .unwrap();
            let mut w = conn.try_clone().unwrap();
            let writer = std::thread::spawn(move || {
                let mut data = vec![0u8; LEN];
                content(7, &mut data);
                w.write_all(&data).unwrap();
                w.shutdown(std::net::Shutdown::Write).unwrap();
            });
            let mut back = Vec::new();
            let read = conn.read_to_end(&mut back).map_err(|e| e.kind());
            writer.join().unwrap();
            let mut expect = vec![0u8; LEN];
            content(7, &mut expect);
            results.push((target, udp.map_err(|e| e.kind()), read, back == expect));
        }
        results
    });
    let (results, peers) = run(90, async move {
        let listener = dual.tcp().listen(7).await.unwrap();
        let sock = dual.udp().bind(7).await.unwrap();
        drop(unik_rt::spawn(async move {
            let mut buf = [0u8; 2048];
            loop {
                let (n, from) = sock.recv_from(&mut buf).await.unwrap();
                sock.send_to(&buf[..n], from).await.unwrap();
            }
        }));
        let mut peers = Vec::new();
        drop(unik_rt::spawn(async move {
            loop {
                let flow = listener.accept().await.unwrap();
                drop(unik_rt::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    loop {
                        let n = flow.read(&mut buf).await.unwrap();
                        if n == 0 {
                            break;
                        }
                        flow.write(&buf[..n]).await.unwrap();
                    }
                    flow.close().await.unwrap();
                }));
            }
        }));
        let results = join(peer).await;
        peers.push(dual.ipv6_addresses());
        (results, peers)
    });
    for (target, udp, read, same) in results {
        let (data, from) = udp.unwrap_or_else(|e| panic!("UDP echo from {target}: {e:?}"));
        assert_eq!((data.as_slice(), from), (&b"datagram"[..], target));
        assert!(read.is_ok(), "TCP echo from {target}: {read:?}");
        assert!(same, "TCP echo from {target} differs");
    }
    assert!(peers[0].contains(&ours6), "{peers:?}");
}

/// `send_to` returns once the datagram has left, after ARP or neighbour discovery found the
/// next hop (as MirageOS's `Udp.write`), so a caller's timeout starts then; a neighbour
/// that never answers is EHOSTUNREACH once resolution gives up. Both families.
#[test]
fn send_to_waits_for_the_next_hop() {
    use unik_net::Instant;
    use unik_net::devices::{ipv4v6, ipv6, udp};
    use unik_net::iface::Neighbour;
    use unik_rt::{Udp, UdpError, UdpSocket};
    let _serial = serial();
    require(&["ip"]);
    let lab = Lab::new("nb", 78);
    linux_ipv6(&lab, 78);
    let s = lab.stack();
    let ours6 = v6(78, 2);
    let ip6 =
        unik_rt::leak(ipv6::connect(lab.tap, s.eth, &format!("{ours6}/64"), "", false).unwrap());
    let ip = unik_rt::leak(ipv4v6::connect(s.ip, ip6, false, false).unwrap());
    let u = unik_rt::leak(udp::connect_v4v6(ip).unwrap());
    let peers = [
        SocketAddr::new(lab.peer.into(), 9),
        SocketAddr::new(v6(78, 1).into(), 9),
    ];
    let absent = [
        SocketAddr::new(std::net::Ipv4Addr::new(10, 78, 0, 99).into(), 9),
        SocketAddr::new(v6(78, 99).into(), 9),
    ];
    let listener = lab.ns.thread(|| {
        let sock = StdUdp::bind("[::]:9").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut buf = [0u8; 64];
        (0..2)
            .map(|_| sock.recv_from(&mut buf).map(|(n, _)| buf[..n].to_vec()))
            .collect::<Vec<_>>()
    });
    let eth = s.eth;
    let (sent, failed, received) = run(60, async move {
        assert!(settled(eth, ours6).await, "DAD refused {ours6}");
        let sock = u.bind(5000).await.unwrap();
        let mut sent = Vec::new();
        for dst in peers {
            let r = sock.send_to(b"first", dst).await;
            let now = Instant::from_nanos(unik_rt::exec::now_ns());
            sent.push((dst, r, eth.with_interface(|i| i.neighbour(now, dst.ip()))));
        }
        let mut failed = Vec::new();
        for dst in absent {
            failed.push((dst, sock.send_to(b"nobody", dst).await));
        }
        (sent, failed, join(listener).await)
    });
    for (dst, r, state) in sent {
        assert_eq!(r, Ok(()), "to {dst}");
        assert_eq!(
            state,
            Neighbour::Known,
            "send_to {dst} returned before it left"
        );
    }
    for (dst, r) in failed {
        assert_eq!(r, Err(UdpError::Io(113)), "to {dst}, which nobody has");
    }
    for r in received {
        assert_eq!(r.map_err(|e| e.kind()).as_deref(), Ok(&b"first"[..]));
    }
}

/// As `linux_transport`'s `one_way`, over IPv6 through the dual stack's devices: Linux
/// connects to port 9 of our address and ten megabytes go one way, to Linux when
/// `to_linux`, else from it. Checks they arrive intact; returns the tap's counters and its
/// largest frame without offloads.
fn one_way6(tag: &str, subnet: u8, to_linux: bool) -> (unik_unix::net::TapStats, usize) {
    use unik_net::devices::{ipv4v6, ipv6, stack, tcp, udp};
    use unik_rt::{ETHERNET_HEADER, StackV4V6, Tcp, TcpFlow, TcpListener};
    let lab = Lab::new(tag, subnet);
    linux_ipv6(&lab, subnet);
    let s = lab.stack();
    let ours = v6(subnet, 2);
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let ip6 =
        unik_rt::leak(ipv6::connect(lab.tap, s.eth, &format!("{ours}/64"), "", false).unwrap());
    let ip = unik_rt::leak(ipv4v6::connect(s.ip, ip6, false, false).unwrap());
    let u = unik_rt::leak(udp::connect_v4v6(ip).unwrap());
    let t = unik_rt::leak(tcp::connect_v4v6(ip, random).unwrap());
    let dual = unik_rt::leak(stack::connect_v4v6(lab.tap, s.eth, s.arp, ip, s.icmp, u, t).unwrap());
    let peer = lab.ns.thread(move || {
        let to = SocketAddr::V6(SocketAddrV6::new(ours, 9, 0, 0));
        // Our address is usable once its DAD passed (about a second).
        let mut tries = 0;
        let stream = loop {
            match TcpStream::connect_timeout(&to, Duration::from_secs(5)) {
                Ok(s) => break s,
                Err(_) if tries < 20 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(250));
                }
                Err(e) => panic!("connect to {to}: {e}"),
            }
        };
        peer_ten_megabytes(stream, to_linux)
    });
    let got = run(120, async move {
        let listener = dual.tcp().listen(9).await.unwrap();
        let flow = listener.accept().await.unwrap();
        assert!(flow.peer().is_ipv6(), "{:?}", flow.peer());
        let got = our_ten_megabytes(&flow, to_linux).await;
        let linux_got = join(peer).await;
        if to_linux { linux_got } else { got }
    });
    assert_eq!(got.len(), TEN_MB);
    assert!(
        got == ten_megabytes(if to_linux { 1 } else { 2 }),
        "bytes differ"
    );
    (lab.tap.stats(), lab.tap.mtu() + ETHERNET_HEADER)
}

/// On a tap with TSO our stack hands the kernel IPv6 TCP segments larger than the MTU
/// (virtio_net_hdr GSO type TCPV6), and the kernel's segments of them arrive intact.
#[test]
fn tcp_send_to_linux_in_segments_larger_than_the_mtu_over_ipv6() {
    let _serial = serial();
    require(&["ip"]);
    let (stats, frame_max) = one_way6("tso6s", 79, true);
    assert!(
        stats.tso6_frames > 0,
        "no IPv6 TSO frame written: {stats:?}"
    );
    assert_eq!(stats.tso_frames, 0, "an IPv4 TSO frame: {stats:?}");
    assert!(stats.largest > frame_max, "largest frame {stats:?}");
    // Most of the data went out in large segments, not one frame per MTU.
    assert!(
        stats.frames < (TEN_MB / (frame_max - 74)) as u64 / 4,
        "{stats:?}"
    );
}

/// With the tap's receive offload (TUN_F_TSO6), Linux hands our stack its IPv6 TCP segments
/// whole (up to 64 KB, checksums partial): the data arrives intact in far fewer frames than
/// one per MTU.
#[test]
fn tcp_receive_from_linux_in_segments_larger_than_the_mtu_over_ipv6() {
    let _serial = serial();
    require(&["ip"]);
    let (stats, frame_max) = one_way6("tso6r", 80, false);
    assert!(stats.rx_largest > frame_max, "largest frame {stats:?}");
    assert!(
        stats.rx_frames < (TEN_MB / (frame_max - 74)) as u64 / 4,
        "{stats:?}"
    );
}
