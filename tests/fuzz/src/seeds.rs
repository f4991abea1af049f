//! Seed inputs made by the stack itself, from the exchanges its tests run: a client
//! interface talks to the harness's subject (ARP, a TCP connection with data and close, UDP,
//! ICMP echo), and the frames the subject received become the seeds of `iface`, `wire` and
//! (as segment events) `tcp`. `.unik` and lock seeds are the repository's files.

use std::net::SocketAddrV4;

use unik_net::{Config, Duration, FrameQueue, Instant, Interface, Ipv4Addr, Ipv4Config, MacAddr};

use crate::iface;

/// The frames node 10.0.0.1 sends to the subject during a session, with the ms before each.
pub fn session() -> Vec<(u8, Vec<u8>)> {
    let mut cfg = Config::new(MacAddr([2, 0, 0, 0, 0, 1]), iface::MTU);
    cfg.ipv4 = Some(Ipv4Config {
        address: Ipv4Addr::new(10, 0, 0, 1),
        prefix_len: 24,
        gateway: None,
    });
    cfg.seed = 7;
    let mut client = Interface::new(cfg);
    let mut server = Interface::new(iface::config(false, false));
    let listener = server.tcp_listen(80).unwrap();
    let echo = server.udp_bind(7).unwrap();
    let (mut cdev, mut sdev) = (FrameQueue::new(), FrameQueue::new());
    let mut now = Instant::from_secs(1);
    let mut log = Vec::new();
    let dst = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);
    let conn = client.tcp_connect(now, dst).unwrap();
    let udp = client.udp_bind(0).unwrap();
    let mut accepted = None;
    let mut buf = vec![0u8; 4096];
    for step in 0..200u32 {
        now = now + Duration::from_millis(1);
        match step {
            20 => {
                let _ = client.tcp_send(conn, b"GET / HTTP/1.1\r\n\r\n");
                let _ = client.udp_send(
                    udp,
                    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 7),
                    b"echo",
                );
                let _ = client.icmp_echo_request(Ipv4Addr::new(10, 0, 0, 2), 1, 1, b"ping");
            }
            60 => {
                let _ = client.tcp_shutdown(conn);
            }
            _ => {}
        }
        client.transmit(now, &mut cdev);
        for f in cdev.frames.drain(..) {
            server.receive(now, &f);
            log.push((1u8, f));
        }
        if accepted.is_none() {
            accepted = server.tcp_accept(listener).ok();
        }
        if let Some(h) = accepted
            && let Ok(n) = server.tcp_recv(h, &mut buf)
        {
            if n > 0 {
                let _ = server.tcp_send(h, &buf[..n]);
            } else {
                let _ = server.tcp_shutdown(h);
            }
        }
        if let Ok((n, from)) = server.udp_recv(echo, &mut buf) {
            let _ = server.udp_send(echo, from, &buf[..n]);
        }
        server.transmit(now, &mut sdev);
        for f in sdev.frames.drain(..) {
            client.receive(now, &f);
        }
        let _ = client.tcp_recv(conn, &mut buf);
    }
    log
}

/// DHCP: what a client broadcasts while discovering (the subject parses its own kind).
pub fn dhcp_frames() -> Vec<Vec<u8>> {
    let mut c = Interface::new(Config::new(MacAddr([2, 0, 0, 0, 0, 9]), iface::MTU));
    let mut dev = FrameQueue::new();
    c.transmit(Instant::from_secs(1), &mut dev);
    dev.frames.into_iter().collect()
}

pub fn wire() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (_, f) in session()
        .into_iter()
        .chain(dhcp_frames().into_iter().map(|f| (0, f)))
    {
        let mut s = vec![0u8];
        s.extend_from_slice(&f);
        out.push(s);
        // The same frame's layers, each for its own parser.
        if f.len() > 14 {
            let ip = &f[14..];
            if f[12..14] == [0x08, 0x06] {
                out.push([&[1u8][..], ip].concat());
            } else if ip.len() > 20 {
                out.push([&[2u8][..], ip].concat());
                let l4 = &ip[usize::from(ip[0] & 0xf) * 4..];
                let kind = match ip[9] {
                    1 => 3u8,
                    17 => 4,
                    _ => 5,
                };
                out.push([&[kind][..], l4].concat());
                if kind == 4 && l4.len() > 8 {
                    out.push([&[6u8][..], &l4[8..]].concat());
                }
                if kind == 5 && l4.len() > 20 {
                    let hl = usize::from(l4[12] >> 4) * 4;
                    out.push([&[7u8][..], &l4[20..hl.min(l4.len())]].concat());
                }
            }
        }
    }
    out
}

pub fn iface() -> Vec<Vec<u8>> {
    let s = session();
    vec![
        iface::encode(0, &s),
        iface::encode(2, &s),
        iface::encode(
            1,
            &dhcp_frames()
                .into_iter()
                .map(|f| (0, f))
                .collect::<Vec<_>>(),
        ),
    ]
}

fn files(dir: &std::path::Path, ext: &str, out: &mut Vec<Vec<u8>>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext)
            && let Ok(b) = std::fs::read(&p)
        {
            out.push(b);
        }
    }
}

pub fn unik() -> Vec<Vec<u8>> {
    let root = crate::repo();
    let mut out = Vec::new();
    for d in ["lang/tests/corpus", "tests/diagnostics", "stdlib-devices"] {
        files(&root.join(d), "unik", &mut out);
    }
    out
}

pub fn lock() -> Vec<Vec<u8>> {
    let root = crate::repo();
    let mut out = vec![crate::lock::sample().into_bytes()];
    if let Ok(b) = std::fs::read(root.join("Cargo.lock")) {
        let mut v = vec![b'C'];
        v.extend_from_slice(&b[..b.len().min(4000)]);
        out.push(v);
    }
    out
}

/// Events for the `tcp` harness: each setup, then in-window data, a FIN, timers, calls.
pub fn tcp() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for setup in [0u8, 1, 2, 3, 16, 64 | 1, 4 | 16] {
        let mut s = vec![setup];
        // ACK with 100 bytes at RCV.NXT acknowledging everything.
        s.extend_from_slice(&[0, 0x10, 0, 0, 0, 1, 0, 0xff, 0xff, 13, 0]);
        s.extend_from_slice(&[5, 0, 4]); // send 1024
        s.extend_from_slice(&[4, 200, 0]); // 200 ms
        s.extend_from_slice(&[6, 8]); // recv
        s.extend_from_slice(&[0, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0]); // FIN|ACK
        s.extend_from_slice(&[7, 0]); // close
        s.extend_from_slice(&[7, 2, 4, 0xff, 0xff]);
        out.push(s);
        // A SYN, an in-window RST, a SYN-ACK.
        out.push(vec![
            setup, 1, 0x02, 0, 5, 0, 0, 0, 0, 4, 0, 3, 2, 0x04, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0x12, 0,
            0, 0, 1, 0, 0, 4, 1, 3,
        ]);
    }
    out
}

/// The seeds of `target`.
pub fn for_target(target: &str) -> Vec<Vec<u8>> {
    match target {
        "wire" => wire(),
        "iface" => iface(),
        "tcp" => tcp(),
        "unik" => unik(),
        "lock" => lock(),
        "hvt" => crate::hvt::seeds(),
        "http" => crate::http::seeds(),
        "dns" => crate::dns::seeds(),
        _ => Vec::new(),
    }
}
