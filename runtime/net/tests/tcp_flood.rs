//! Listeners and connections under hostile traffic, in simulation: SYN floods (answered with
//! cookies, or by evicting half-open connections), forged ACKs, and the memory bounds a peer
//! cannot push past. The same floods against Linux are in `linux_flood.rs`.

mod common;

use std::net::SocketAddrV4;

use common::{LinkModel, Sim, forge_tcp, ip};
use unik_net::tcp::State;
use unik_net::wire::tcp::{Flags, TcpRepr};
use unik_net::wire::{MacAddr, ethernet, ipv4, proto, tcp};
use unik_net::{Duration, Error, Interface, Ipv4Addr, TcpConfig, TcpHandle, TcpListener};

/// A deterministic generator for forged addresses, ports and sequence numbers.
struct Rand(u64);

impl Rand {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A TCP segment to 10.0.0.2 from any address (the MAC of a router that forwards spoofs).
fn forged(src: Ipv4Addr, repr: &TcpRepr) -> Vec<u8> {
    let tcp_len = repr.header_len();
    let mut frame = vec![0u8; 14 + 20 + tcp_len];
    ethernet::EthernetRepr {
        src: MacAddr([2, 0, 0, 0, 0, 0xee]),
        dst: common::mac(2),
        ethertype: ethernet::ethertype::IPV4,
    }
    .emit(&mut frame);
    ipv4::Ipv4Repr {
        src,
        dst: ip(2),
        protocol: proto::TCP,
        payload_len: tcp_len,
        ttl: 64,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut frame[14..]);
    repr.emit(&mut frame[34..]);
    tcp::fill_checksum(&mut frame[34..], src, ip(2));
    frame
}

/// `n` segments with `flags` to port 80 from random addresses off the local network (their
/// replies go to the gateway, node 1) and random ports and numbers.
fn flood(sim: &mut Sim, rng: &mut Rand, n: usize, flags: Flags) {
    for _ in 0..n {
        let r = rng.next();
        let src = Ipv4Addr::from_bits(0xc600_0000 | (r as u32 & 0x00ff_ffff));
        let seg = TcpRepr {
            src_port: (r >> 32) as u16 | 1024,
            dst_port: 80,
            seq: (r >> 16) as u32,
            ack: (r >> 8) as u32,
            flags,
            window: 64240,
            mss: flags.syn().then_some(1460),
            window_scale: flags.syn().then_some(7),
            ..TcpRepr::default()
        };
        let frame = forged(src, &seg);
        sim.nodes[1].receive(sim.now, &frame);
    }
}

fn flood_sim(cfg: TcpConfig) -> Sim {
    let mut sim = Sim::pair(cfg, LinkModel::default(), 5);
    // Node 2 routes off-link replies (to the spoofed sources) through node 1.
    let mut c = sim.nodes[1].ipv4_config().unwrap();
    c.gateway = Some(ip(1));
    sim.nodes[1].set_ipv4_config(Some(c));
    sim.advance(Duration::from_millis(10));
    sim
}

struct Flooded {
    listener: TcpListener,
    client: TcpHandle,
    server: TcpHandle,
    took: Duration,
}

/// Connects node 1 to node 2's port 80 while `flags` segments keep arriving (`rate` per
/// simulated millisecond), after 100 ms of SYN flood and 100 ms of `flags`.
fn connect_during_flood(sim: &mut Sim, rng: &mut Rand, rate: usize, flags: Flags) -> Flooded {
    let l = sim.nodes[1].tcp_listen(80).unwrap();
    // The flood is in full swing before the client starts.
    for i in 0..200 {
        flood(sim, rng, rate, if i < 100 { Flags::SYN } else { flags });
        sim.advance(Duration::from_millis(1));
    }
    let start = sim.now;
    let c = sim.nodes[0]
        .tcp_connect(sim.now, SocketAddrV4::new(ip(2), 80))
        .unwrap();
    let mut server = None;
    for _ in 0..5000 {
        flood(sim, rng, rate, flags);
        sim.advance(Duration::from_millis(1));
        if let Ok(h) = sim.nodes[1].tcp_accept(l) {
            server = Some(h);
        }
        if server.is_some() && sim.nodes[0].tcp_state(c) == Ok(State::Established) {
            break;
        }
    }
    let s = server.expect("the listener never accepted the legitimate client");
    assert_eq!(sim.nodes[0].tcp_state(c), Ok(State::Established));
    Flooded {
        listener: l,
        client: c,
        server: s,
        took: sim.now - start,
    }
}

/// Sends a message each way over an established pair.
fn exchange(sim: &mut Sim, c: TcpHandle, s: TcpHandle) {
    sim.nodes[0]
        .tcp_send(c, b"hello through the flood")
        .unwrap();
    sim.nodes[1].tcp_send(s, b"welcome").unwrap();
    sim.advance(Duration::from_millis(50));
    let mut buf = [0u8; 64];
    let n = sim.nodes[1].tcp_recv(s, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"hello through the flood");
    let n = sim.nodes[0].tcp_recv(c, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"welcome");
}

#[test]
fn syn_flood_is_answered_with_cookies_and_a_client_gets_in() {
    let cfg = TcpConfig {
        backlog: 8,
        ..TcpConfig::default()
    };
    let mut sim = flood_sim(cfg);
    let mut rng = Rand(0x1234_5678);
    let Flooded {
        client: c,
        server: s,
        took,
        ..
    } = connect_during_flood(&mut sim, &mut rng, 20, Flags::SYN);
    // One round trip over 1 ms links, rounded up to the 1 ms steps.
    assert!(took <= Duration::from_millis(5), "handshake took {took:?}");
    exchange(&mut sim, c, s);
    let st = sim.nodes[1].stats();
    assert!(st.syn_received > 4000, "{st:?}");
    assert!(st.syn_cookies_sent > 4000, "{st:?}");
    assert_eq!(st.syn_cookies_accepted, 1, "{st:?}");
    // Of thousands of SYNs, only the client's connection reached `tcp_accept`.
    assert_eq!(st.tcp_accepted, 1, "{st:?}");
    // The half-open table never exceeds the backlog; half-open connections hold no buffers.
    assert!(st.tcp_half_open <= 8, "{st:?}");
    assert_eq!(st.tcp_connections, st.tcp_half_open + 1, "{st:?}");
    assert!(st.tcp_buffer_bytes <= 2 * 64 * 1024, "{st:?}");
    // The cookie carried the client's MSS and window scale.
    let server = sim.nodes[1].tcp_connection(s).unwrap();
    let client = sim.nodes[0].tcp_connection(c).unwrap();
    assert_eq!(server.mss(), 1460);
    assert_eq!(server.window_scales().0, client.window_scales().1);
    assert_eq!(server.window_scales().1, client.window_scales().0);
}

#[test]
fn without_cookies_the_oldest_half_open_connection_is_evicted() {
    let cfg = TcpConfig {
        backlog: 8,
        syn_cookies: false,
        ..TcpConfig::default()
    };
    let mut sim = flood_sim(cfg);
    let mut rng = Rand(0x9abc_def1);
    let Flooded {
        client: c,
        server: s,
        took,
        ..
    } = connect_during_flood(&mut sim, &mut rng, 2, Flags::SYN);
    assert!(took <= Duration::from_millis(5), "handshake took {took:?}");
    exchange(&mut sim, c, s);
    let st = sim.nodes[1].stats();
    assert_eq!(st.syn_cookies_sent, 0);
    assert!(st.half_open_evicted > 300, "{st:?}");
    assert!(st.tcp_half_open <= 8, "{st:?}");
}

#[test]
fn ack_and_rst_floods_create_nothing_and_leave_connections_alone() {
    let mut sim = flood_sim(TcpConfig {
        backlog: 8,
        ..TcpConfig::default()
    });
    let mut rng = Rand(0x5555_aaaa);
    // Cookies are being checked (a SYN flood ran), then random ACKs arrive: none is a cookie.
    let f = connect_during_flood(&mut sim, &mut rng, 20, Flags::ACK);
    assert!(
        f.took <= Duration::from_millis(5),
        "handshake took {:?}",
        f.took
    );
    let st = sim.nodes[1].stats();
    assert_eq!(st.syn_cookies_accepted, 1, "{st:?}");
    assert!(st.syn_cookies_rejected >= 2000, "{st:?}");
    flood(&mut sim, &mut rng, 5000, Flags::RST);
    flood(&mut sim, &mut rng, 5000, Flags::RST | Flags::ACK);
    exchange(&mut sim, f.client, f.server);
    assert_eq!(sim.nodes[1].tcp_accept(f.listener), Err(Error::WouldBlock));
    let st = sim.nodes[1].stats();
    assert_eq!(st.tcp_connections, 1 + st.tcp_half_open, "{st:?}");
}

#[test]
fn half_open_connections_time_out_after_synack_retries() {
    let mut sim = flood_sim(TcpConfig::default());
    let mut rng = Rand(77);
    sim.nodes[1].tcp_listen(80).unwrap();
    flood(&mut sim, &mut rng, 5, Flags::SYN);
    assert_eq!(sim.nodes[1].stats().tcp_half_open, 5);
    // SYN-ACKs at 0, 1, 3, 7 s; given up at 15 s.
    sim.advance(Duration::from_millis(14_900));
    assert_eq!(sim.nodes[1].stats().tcp_half_open, 5);
    sim.advance(Duration::from_millis(200));
    let st = sim.nodes[1].stats();
    assert_eq!((st.tcp_half_open, st.half_open_timed_out), (0, 5), "{st:?}");
}

#[test]
fn the_memory_budget_bounds_connections() {
    let cfg = TcpConfig {
        send_buffer: 16 * 1024,
        recv_buffer: 16 * 1024,
        ..TcpConfig::default()
    };
    let mut sim = Sim::pair(cfg, LinkModel::default(), 9);
    // Room for two connections' buffers at node 2, none at all at node 1 after two.
    let mut two = common::static_config(2, 1500, cfg);
    two.tcp_memory = 2 * 32 * 1024;
    sim.nodes[1] = Interface::new(two);
    let l = sim.nodes[1].tcp_listen(80).unwrap();
    let clients: Vec<TcpHandle> = (0..3)
        .map(|_| {
            let now = sim.now;
            sim.nodes[0]
                .tcp_connect(now, SocketAddrV4::new(ip(2), 80))
                .unwrap()
        })
        .collect();
    sim.advance(Duration::from_millis(100));
    let accepted = std::iter::from_fn(|| sim.nodes[1].tcp_accept(l).ok()).count();
    assert_eq!(accepted, 2);
    let st = sim.nodes[1].stats();
    assert_eq!(st.tcp_memory_refused, 1);
    assert_eq!(st.tcp_memory_reserved, 2 * 32 * 1024);
    let reset = clients
        .iter()
        .filter(|h| sim.nodes[0].tcp_state(**h) == Ok(State::Closed))
        .count();
    assert_eq!(reset, 1, "the refused client is reset");
    // An active open needs its reservation too.
    assert_eq!(
        sim.nodes[1].tcp_connect(sim.now, SocketAddrV4::new(ip(1), 9)),
        Err(Error::Exhausted)
    );
}

#[test]
fn a_peer_cannot_grow_receive_memory_past_the_buffer() {
    let cfg = TcpConfig {
        recv_buffer: 32 * 1024,
        ack_delay: None,
        ..TcpConfig::default()
    };
    let mut sim = Sim::pair(cfg, LinkModel::default(), 3);
    let l = sim.nodes[1].tcp_listen(80).unwrap();
    let c = sim.nodes[0]
        .tcp_connect(sim.now, SocketAddrV4::new(ip(2), 80))
        .unwrap();
    sim.advance(Duration::from_millis(10));
    let s = sim.nodes[1].tcp_accept(l).unwrap();
    let port = sim.nodes[0].tcp_connection(c).unwrap().local().port();
    // Learn RCV.NXT and SND.NXT from a real segment.
    let seen = std::rc::Rc::new(std::cell::RefCell::new(None));
    let log = seen.clone();
    sim.filter = Some(Box::new(move |_, from, f| {
        if from == 0
            && let Some(t) = common::tcp_of(f)
        {
            *log.borrow_mut() = Some(t.repr);
        }
        false
    }));
    sim.nodes[0].tcp_send(c, b"x").unwrap();
    sim.advance(Duration::from_millis(10));
    let last = seen.borrow().unwrap();
    let mut rng = Rand(99);
    let mut buf = [0u8; 4096];
    // Thousands of segments scattered over (and past) the window, never filling the gap.
    for _ in 0..5000 {
        let off = 1 + (rng.next() % 64_000) as u32;
        let seg = TcpRepr {
            src_port: port,
            dst_port: 80,
            seq: last.seq.wrapping_add(1).wrapping_add(off),
            ack: last.ack,
            flags: Flags::ACK,
            window: 1000,
            ..TcpRepr::default()
        };
        let frame = forge_tcp(1, 2, &seg, &[7u8; 1000]);
        sim.nodes[1].receive(sim.now, &frame);
        let st = sim.nodes[1].stats();
        assert!(st.tcp_out_of_order <= 32 * 1024, "{st:?}");
        assert!(st.tcp_buffer_bytes <= 64 * 1024 + 32 * 1024, "{st:?}");
    }
    // Only the one in-order byte is readable; the connection is intact.
    assert_eq!(sim.nodes[1].tcp_recv(s, &mut buf), Ok(1));
    assert_eq!(sim.nodes[1].tcp_state(s), Ok(State::Established));
}
