//! IPv6 between stacks on a simulated segment: neighbour discovery, DAD, ping6 (fragmented
//! too), UDP and TCP over IPv6 with IPv4 alongside, SLAAC from a simulated router, packet too
//! big lowering TCP's MSS, and hostile extension-header chains.

mod common;

use std::cell::RefCell;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};
use std::rc::Rc;

use common::{LinkModel, Sim, mac};
use unik_net::ipv6::{ALL_NODES, AddrState, Origin, multicast_mac};
use unik_net::wire::ethernet::{EthernetRepr, ethertype};
use unik_net::wire::icmpv6::{self, Icmpv6Repr, NdOptions, NdiscRepr, PrefixInfo};
use unik_net::wire::ipv6::{self as ipv6_wire, Ipv6Repr, next};
use unik_net::wire::{checksum, tcp as tcp_wire};
use unik_net::{
    Duration, Error, Icmpv6Event, Instant, Interface, Ipv6Config, MacAddr, TcpConfig, TcpState,
};

fn v6(n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n)
}

/// Node n: 10.0.0.n/24 and 2001:db8::n/64.
fn node(n: u8, mtu: usize) -> Interface {
    let mut c = common::static_config(n, mtu, TcpConfig::default());
    c.ipv6 = Some(Ipv6Config {
        address: v6(n.into()),
        prefix_len: 64,
        gateway: None,
    });
    Interface::new(c)
}

fn pair(mtu: usize, seed: u64) -> Sim {
    let mut sim = Sim::new(vec![node(1, mtu), node(2, mtu)], LinkModel::default(), seed);
    // DAD takes a second.
    sim.advance(Duration::from_secs(2));
    sim
}

fn events(iface: &mut Interface) -> Rc<RefCell<Vec<Icmpv6Event>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    iface.set_icmpv6_hook(Some(Box::new(move |e| sink.borrow_mut().push(*e))));
    log
}

fn ll(n: u8) -> Ipv6Addr {
    let m = mac(n).0;
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        u16::from_be_bytes([m[0] ^ 2, m[1]]),
        u16::from_be_bytes([m[2], 0xff]),
        u16::from_be_bytes([0xfe, m[3]]),
        u16::from_be_bytes([m[4], m[5]]),
    )
}

#[test]
fn dad_then_addresses_are_preferred() {
    let sim = pair(1500, 1);
    let addrs = sim.nodes[0].ipv6_addresses();
    assert_eq!(addrs.len(), 2, "{addrs:?}");
    assert!(addrs.iter().all(|a| a.state == AddrState::Preferred));
    assert_eq!(addrs[0].origin, Origin::LinkLocal);
    assert_eq!(addrs[0].address, ll(1));
    assert_eq!(addrs[1].address, v6(1));
    assert!(sim.nodes[0].ipv6_duplicates().is_empty());
}

#[test]
fn duplicate_static_address_is_refused() {
    // Node 2 already owns 2001:db8::1; node 3 then tries to use it.
    let mut late = Interface::new(common::static_config(3, 1500, TcpConfig::default()));
    let log = events(&mut late);
    let mut sim = Sim::new(
        vec![node(1, 1500), node(2, 1500), late],
        LinkModel::default(),
        2,
    );
    sim.advance(Duration::from_secs(2));
    let cfg = Ipv6Config {
        address: v6(1),
        prefix_len: 64,
        gateway: None,
    };
    sim.nodes[2].enable_ipv6(Some(cfg), false);
    sim.advance(Duration::from_secs(3));
    assert_eq!(sim.nodes[2].ipv6_duplicates(), [v6(1)]);
    assert!(
        log.borrow()
            .contains(&Icmpv6Event::DuplicateAddress { address: v6(1) })
    );
    let info = sim.nodes[2]
        .ipv6_addresses()
        .into_iter()
        .find(|a| a.address == v6(1))
        .unwrap();
    assert_eq!(info.state, AddrState::Duplicate);
    // Its link-local address passed.
    assert!(sim.nodes[2].ipv6_host().unwrap().is_ours(ll(3)));
    // The owner kept its address and still answers.
    let plog = events(&mut sim.nodes[0]);
    sim.nodes[0].icmpv6_echo_request(v6(2), 1, 1, b"x").unwrap();
    sim.run_until(Duration::from_secs(2), |_| !plog.borrow().is_empty())
        .expect("reply from the owner");
}

#[test]
fn ping6_small_and_fragmented() {
    let mut sim = pair(1500, 3);
    let log = events(&mut sim.nodes[0]);
    let peer_log = events(&mut sim.nodes[1]);
    sim.nodes[0]
        .icmpv6_echo_request(v6(2), 77, 1, b"hello")
        .unwrap();
    sim.run_until(Duration::from_secs(2), |_| !log.borrow().is_empty())
        .expect("echo reply");
    assert_eq!(
        log.borrow()[0],
        Icmpv6Event::EchoReply {
            from: v6(2),
            ident: 77,
            seq: 1,
            len: 5
        }
    );
    assert!(matches!(
        peer_log.borrow()[0],
        Icmpv6Event::EchoRequest { ident: 77, .. }
    ));
    // Neighbour discovery resolved both ways.
    let now = sim.now;
    assert_eq!(sim.nodes[0].nd_lookup(now, v6(2)), Some(mac(2)));
    assert_eq!(sim.nodes[1].nd_lookup(now, v6(1)), Some(mac(1)));

    let data: Vec<u8> = (0..3000u32).map(|i| (i * 7) as u8).collect();
    log.borrow_mut().clear();
    sim.nodes[0]
        .icmpv6_echo_request(v6(2), 1, 9, &data)
        .unwrap();
    sim.run_until(Duration::from_secs(2), |_| !log.borrow().is_empty())
        .expect("reassembled reply");
    assert!(matches!(
        log.borrow()[0],
        Icmpv6Event::EchoReply {
            len: 3000,
            seq: 9,
            ..
        }
    ));
    // 3008 bytes of ICMPv6 in 1448-byte pieces: 3 fragments each way.
    assert_eq!(sim.nodes[0].stats().fragments_sent, 3);
    assert_eq!(sim.nodes[1].stats().fragments_sent, 3);
    assert_eq!(sim.nodes[1].stats().reassembled, 1);
    // Link-local ping works too.
    log.borrow_mut().clear();
    sim.nodes[0]
        .icmpv6_echo_request(ll(2), 2, 2, b"ll")
        .unwrap();
    sim.run_until(Duration::from_secs(2), |_| !log.borrow().is_empty())
        .expect("link-local reply");
    assert!(matches!(log.borrow()[0], Icmpv6Event::EchoReply { from, .. } if from == ll(2)));
}

#[test]
fn udp_over_both_families_on_one_socket() {
    let mut sim = pair(1500, 4);
    let server = sim.nodes[1].udp_bind(7).unwrap();
    let client = sim.nodes[0].udp_bind(0).unwrap();
    let big = vec![5u8; 5000];
    let to6 = SocketAddrV6::new(v6(2), 7, 0, 0);
    let to4 = std::net::SocketAddrV4::new(common::ip(2), 7);
    sim.nodes[0].udp_send(client, to6, b"over six").unwrap();
    sim.nodes[0].udp_send(client, to4, b"over four").unwrap();
    sim.nodes[0].udp_send(client, to6, &big).unwrap();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 9000];
    sim.run_until(Duration::from_secs(2), |s| {
        while let Ok((n, from)) = s.nodes[1].udp_recv(server, &mut buf) {
            got.push((buf[..n].to_vec(), from));
        }
        got.len() == 3
    })
    .expect("three datagrams");
    got.sort_by_key(|g| g.0.len());
    assert_eq!(got[0].0, b"over six");
    assert_eq!(
        got[0].1,
        SocketAddr::V6(SocketAddrV6::new(v6(1), client.port(), 0, 0))
    );
    assert_eq!(got[1].0, b"over four");
    assert!(got[1].1.is_ipv4());
    assert_eq!(got[2].0, big);
    // A closed port answers port unreachable.
    let log = events(&mut sim.nodes[0]);
    sim.nodes[0]
        .udp_send(client, SocketAddrV6::new(v6(2), 9, 0, 0), b"?")
        .unwrap();
    sim.run_until(Duration::from_secs(2), |_| !log.borrow().is_empty())
        .expect("unreachable");
    assert_eq!(
        log.borrow()[0],
        Icmpv6Event::Unreachable {
            from: v6(2),
            code: icmpv6::unreachable::PORT,
            next_header: next::UDP,
            dst: v6(2),
            dst_port: Some(9),
        }
    );
}

/// Sends `data` from node 0 to node 1 over one connection to `dst`; returns the bytes
/// received and the connection's MSS.
fn tcp_transfer(sim: &mut Sim, dst: SocketAddr, data: &[u8]) -> (Vec<u8>, usize) {
    let l = sim.nodes[1]
        .tcp_listen(dst.port())
        .unwrap_or_else(|_| panic!());
    let now = sim.now;
    let c = sim.nodes[0].tcp_connect(now, dst).unwrap();
    let mut server = None;
    let mut sent = 0;
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    sim.run_until(Duration::from_secs(30), |s| {
        if server.is_none() {
            server = s.nodes[1].tcp_accept(l).ok();
        }
        if sent < data.len()
            && let Ok(n) = s.nodes[0].tcp_send(c, &data[sent..])
        {
            sent += n;
            if sent == data.len() {
                s.nodes[0].tcp_shutdown(c).unwrap();
            }
        }
        if let Some(h) = server {
            while let Ok(n) = s.nodes[1].tcp_recv(h, &mut buf) {
                if n == 0 {
                    return true;
                }
                got.extend_from_slice(&buf[..n]);
            }
        }
        false
    })
    .expect("transfer completes");
    let mss = sim.nodes[0].tcp_connection(c).unwrap().mss();
    let h = server.unwrap();
    assert_eq!(
        sim.nodes[1].tcp_connection(h).unwrap().remote().ip(),
        sim.nodes[0].tcp_connection(c).unwrap().local().ip()
    );
    (got, mss)
}

#[test]
fn tcp_over_ipv6_and_ipv4_on_one_listener() {
    let mut sim = pair(1500, 5);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let (got, mss) = tcp_transfer(&mut sim, SocketAddr::new(v6(2).into(), 80), &data);
    assert!(got == data, "IPv6 transfer differs ({} bytes)", got.len());
    // MSS from the IPv6 MTU: 1500 - 40 - 20.
    assert_eq!(mss, 1440);
    let data4: Vec<u8> = (0..100_000u32).map(|i| (i % 13) as u8).collect();
    let (got, mss) = tcp_transfer(&mut sim, SocketAddr::new(common::ip(2).into(), 81), &data4);
    assert!(got == data4);
    assert_eq!(mss, 1460);
}

/// On a device with TCP segmentation offload, IPv6 segments go out as IPv4's do: one frame of
/// several MSS' worth, up to 64 KB, the fixed header for the whole packet and TCP right behind
/// it, the pseudo-header sum in the checksum field, which completed as the device would makes
/// every byte check. The data arrives intact (taken whole through the receive offload).
#[test]
fn tcp_over_ipv6_uses_segmentation_offload() {
    let mut sim = pair(1500, 9);
    sim.offload(0, 65_535);
    let large = Rc::new(RefCell::new(Vec::<Vec<u8>>::new()));
    let log = large.clone();
    sim.filter = Some(Box::new(move |_, from, f: &[u8]| {
        if from == 0 && f.len() > 1514 {
            log.borrow_mut().push(f.to_vec());
        }
        false
    }));
    let data: Vec<u8> = (0..400_000u32).map(|i| (i % 253) as u8).collect();
    let (got, mss) = tcp_transfer(&mut sim, SocketAddr::new(v6(2).into(), 80), &data);
    assert!(got == data, "IPv6 transfer differs ({} bytes)", got.len());
    assert_eq!(mss, 1440);
    let large = large.borrow();
    assert!(
        large.len() >= 3,
        "{} frames larger than the MTU",
        large.len()
    );
    for f in large.iter() {
        assert!(f.len() <= 14 + 65_535, "{}", f.len());
        assert_eq!(f[12..14], [0x86, 0xdd], "IPv6");
        let ip = ipv6_wire::Packet::new_checked(&f[14..]).unwrap();
        let r = Ipv6Repr::parse(&ip).unwrap();
        assert_eq!((r.src, r.dst, r.next_header), (v6(1), v6(2), next::TCP));
        assert_eq!(
            r.payload_len,
            f.len() - 54,
            "payload length of the whole packet"
        );
        let mut tcp = f[54..].to_vec();
        let header = usize::from(tcp[12] >> 4) * 4;
        assert!(tcp.len() - header > mss, "more than one segment's worth");
        // The field holds the pseudo-header sum: the device sums the rest over it.
        let c = checksum::checksum(&tcp);
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let p = tcp_wire::Packet::new_checked(&tcp[..]).unwrap();
        assert!(
            tcp_wire::TcpRepr::parse(&p, v6(1), v6(2)).is_ok(),
            "checksum completed from the partial sum"
        );
    }
}

#[test]
fn packet_too_big_lowers_the_mss() {
    let mut sim = pair(1500, 6);
    let l = sim.nodes[1].tcp_listen(80).unwrap();
    let now = sim.now;
    let c = sim.nodes[0]
        .tcp_connect(now, SocketAddr::new(v6(2).into(), 80))
        .unwrap();
    let mut h = None;
    sim.run_until(Duration::from_secs(2), |s| {
        h = h.or(s.nodes[1].tcp_accept(l).ok());
        h.is_some() && s.nodes[0].tcp_state(c) == Ok(TcpState::Established)
    })
    .unwrap();
    let h = h.unwrap();
    assert_eq!(sim.nodes[0].tcp_connection(c).unwrap().mss(), 1440);
    let log = events(&mut sim.nodes[0]);
    // A router on the path says 1280: forge its packet too big quoting our segment.
    let mut quoted = vec![0u8; 100];
    Ipv6Repr {
        src: v6(1),
        dst: v6(2),
        next_header: next::TCP,
        payload_len: 60,
        hop_limit: 64,
    }
    .emit(&mut quoted);
    let ptb = Icmpv6Repr::PacketTooBig {
        mtu: 1280,
        data: &quoted,
    };
    let frame = icmp6_frame(mac(2), mac(1), v6(2), v6(1), 64, &ptb);
    let now = sim.now;
    sim.nodes[0].receive(now, &frame);
    assert!(matches!(
        log.borrow()[0],
        Icmpv6Event::PacketTooBig { mtu: 1280, .. }
    ));
    assert_eq!(sim.nodes[0].tcp_connection(c).unwrap().mss(), 1220);
    // Data still flows, in smaller segments.
    let data = vec![3u8; 50_000];
    let mut sent = 0;
    let mut got = 0;
    let mut buf = vec![0u8; 65536];
    sim.run_until(Duration::from_secs(10), |s| {
        if sent < data.len()
            && let Ok(n) = s.nodes[0].tcp_send(c, &data[sent..])
        {
            sent += n;
        }
        while let Ok(n) = s.nodes[1].tcp_recv(h, &mut buf) {
            got += n;
        }
        got == data.len()
    })
    .expect("data after packet too big");
}

/// One Ethernet frame carrying an ICMPv6 message.
fn icmp6_frame(
    from: MacAddr,
    to: MacAddr,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &Icmpv6Repr<'_>,
) -> Vec<u8> {
    let len = msg.buffer_len();
    let mut f = vec![0u8; 14 + 40 + len];
    EthernetRepr {
        src: from,
        dst: to,
        ethertype: ethertype::IPV6,
    }
    .emit(&mut f);
    Ipv6Repr {
        src,
        dst,
        next_header: next::ICMPV6,
        payload_len: len,
        hop_limit,
    }
    .emit(&mut f[14..]);
    msg.emit_checked(&mut f[54..], src, dst);
    f
}

#[test]
fn slaac_from_a_router_advertisement() {
    let mut c = common::static_config(1, 1500, TcpConfig::default());
    c.ipv6_enabled = true;
    c.accept_ra = true;
    let router_mac = MacAddr([2, 0, 0, 0, 0, 0xfe]);
    let router_ll: Ipv6Addr = "fe80::1".parse().unwrap();
    // A router that answers solicitations with an advertisement of 2001:db8:1::/64.
    let solicited = Rc::new(RefCell::new(0));
    let count = solicited.clone();
    let router: common::Peer = Box::new(move |_now: Instant, frame: &[u8]| {
        let Some((_, ip, msg)) = parse_icmp6(frame) else {
            return vec![];
        };
        if !matches!(msg.first(), Some(&icmpv6::kind::ROUTER_SOLICIT)) || ip.hop_limit != 255 {
            return vec![];
        }
        *count.borrow_mut() += 1;
        let mut opts = vec![0u8; 8 + 8 + 32];
        icmpv6::emit_ll_option(&mut opts, icmpv6::opt::SOURCE_LL, router_mac);
        opts[8..16].copy_from_slice(&[icmpv6::opt::MTU, 1, 0, 0, 0, 0, 0x05, 0x00]);
        PrefixInfo {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 86400,
            preferred_lifetime: 14400,
            prefix: "2001:db8:1::".parse().unwrap(),
        }
        .emit(&mut opts[16..]);
        let ra = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 64,
            managed: false,
            other: false,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_time: 0,
            options: NdOptions::parse(&opts).unwrap(),
        });
        vec![icmp6_frame(
            router_mac,
            multicast_mac(ALL_NODES),
            router_ll,
            ALL_NODES,
            255,
            &ra,
        )]
    });
    let mut sim = Sim::new(vec![Interface::new(c)], LinkModel::default(), 7);
    sim.peers.push(router);
    sim.advance(Duration::from_secs(4));
    assert_eq!(*solicited.borrow(), 1);
    let slaac: Ipv6Addr = "2001:db8:1::ff:fe00:1".parse().unwrap();
    let host = sim.nodes[0].ipv6_host().unwrap();
    assert!(host.is_ours(slaac), "{:?}", sim.nodes[0].ipv6_addresses());
    assert_eq!(host.mtu, 1280);
    let far: Ipv6Addr = "2606:4700::1".parse().unwrap();
    assert_eq!(host.next_hop(far), Some(router_ll));
    assert_eq!(host.source_for(far), Some(slaac));
    // The router's address was learnt from its advertisement: no solicitation needed.
    let now = sim.now;
    assert_eq!(sim.nodes[0].nd_lookup(now, router_ll), Some(router_mac));
    assert_eq!(sim.nodes[0].ipv6_mtu(), 1280);
}

fn parse_icmp6(frame: &[u8]) -> Option<(EthernetRepr, Ipv6Repr, Vec<u8>)> {
    let f = unik_net::wire::ethernet::Frame::new_checked(frame).ok()?;
    let eth = EthernetRepr::parse(&f);
    if eth.ethertype != ethertype::IPV6 {
        return None;
    }
    let p = ipv6_wire::Packet::new_checked(f.payload()).ok()?;
    let ip = Ipv6Repr::parse(&p).ok()?;
    let w = ipv6_wire::walk(ip.next_header, p.payload(), ip.dst.is_multicast()).ok()?;
    (w.protocol == next::ICMPV6).then(|| (eth, ip, p.payload()[w.offset..].to_vec()))
}

#[test]
fn hostile_chains_and_fragment_floods_are_dropped() {
    let mut sim = pair(1500, 8);
    let now = sim.now;
    let frame = |next_header: u8, payload: &[u8]| {
        let mut f = vec![0u8; 54 + payload.len()];
        EthernetRepr {
            src: mac(2),
            dst: mac(1),
            ethertype: ethertype::IPV6,
        }
        .emit(&mut f);
        Ipv6Repr {
            src: v6(2),
            dst: v6(1),
            next_header,
            payload_len: payload.len(),
            hop_limit: 64,
        }
        .emit(&mut f[14..]);
        f[54..].copy_from_slice(payload);
        f
    };
    // A chain of 100 destination-options headers.
    let mut chain = Vec::new();
    for _ in 0..100 {
        chain.extend_from_slice(&[next::DEST_OPTS, 0, 1, 4, 0, 0, 0, 0]);
    }
    let before = sim.nodes[0].stats();
    sim.nodes[0].receive(now, &frame(next::DEST_OPTS, &chain));
    let after = sim.nodes[0].stats();
    assert_eq!(after.ipv6_bad_headers, before.ipv6_bad_headers + 1);
    // A flood of first fragments of distinct packets: memory stays bounded.
    for ident in 0..2000u32 {
        let mut p = vec![next::UDP, 0, 0, 1];
        p.extend_from_slice(&ident.to_be_bytes());
        p.extend_from_slice(&[0xab; 1024]);
        sim.nodes[0].receive(now, &frame(next::FRAGMENT, &p));
    }
    let st = sim.nodes[0].stats();
    assert!(
        st.reassembly_bytes <= unik_net::ipv4::REASSEMBLY_CAPACITY as u64,
        "{st:?}"
    );
    // Overlapping fragments drop the packet.
    let frag = |off: u16, more: bool, len: usize| {
        let mut p = vec![next::UDP, 0];
        p.extend_from_slice(&(off | u16::from(more)).to_be_bytes());
        p.extend_from_slice(&7u32.to_be_bytes());
        p.extend_from_slice(&vec![1u8; len]);
        frame(next::FRAGMENT, &p)
    };
    let server = sim.nodes[0].udp_bind(7).unwrap();
    sim.nodes[0].receive(now, &frag(0, true, 16));
    sim.nodes[0].receive(now, &frag(8, false, 16));
    let mut buf = [0u8; 64];
    assert_eq!(
        sim.nodes[0].udp_recv(server, &mut buf).unwrap_err(),
        Error::WouldBlock
    );
}
