//! Property tests: parsers never panic on arbitrary bytes, emit/parse round-trips, the
//! reassembly rules hold for arbitrary fragment sequences, and an interface survives
//! arbitrary frames and segments.

mod common;

use std::net::SocketAddrV4;
use std::vec::Vec;

use proptest::prelude::*;
use unik_net::ipv4::{MAX_FRAGMENTS, REASSEMBLY_CAPACITY, Reassembler, fragments};
use unik_net::tcp::State;
use unik_net::wire::checksum::Checksum;
use unik_net::wire::tcp::{Flags, TcpRepr};
use unik_net::wire::{self, Ipv4Addr, MacAddr, arp, dhcp, ethernet, icmpv4, ipv4, tcp, udp};
use unik_net::{Duration, Instant, TcpConfig};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ethernet_never_panics(b in bytes(64)) {
        if let Ok(f) = ethernet::Frame::new_checked(&b[..]) {
            let r = ethernet::EthernetRepr::parse(&f);
            prop_assert_eq!(f.payload().len(), b.len() - 14);
            let _ = (r.src, r.dst, f.ethertype());
        }
    }

    #[test]
    fn arp_never_panics(b in bytes(64)) {
        if let Ok(p) = arp::Packet::new_checked(&b[..]) {
            let _ = arp::ArpRepr::parse(&p);
        }
    }

    #[test]
    fn ipv4_never_panics(b in bytes(128)) {
        if let Ok(p) = ipv4::Packet::new_checked(&b[..]) {
            let _ = ipv4::Ipv4Repr::parse(&p);
            let _ = (p.payload(), p.bytes(), p.header(), p.frag_offset(), p.dscp_ecn(), p.checksum());
            prop_assert!(p.header_len() <= p.total_len());
        }
    }

    #[test]
    fn ipv4_with_valid_checksum_never_panics(mut b in bytes(128), ihl in 0u8..16, len in any::<u16>()) {
        if b.len() >= 20 {
            b[0] = 0x40 | ihl;
            b[2..4].copy_from_slice(&len.to_be_bytes());
            b[10] = 0;
            b[11] = 0;
            let hl = (usize::from(ihl) * 4).min(b.len());
            let c = wire::checksum::checksum(&b[..hl]);
            b[10..12].copy_from_slice(&c.to_be_bytes());
        }
        if let Ok(p) = ipv4::Packet::new_checked(&b[..]) {
            let _ = ipv4::Ipv4Repr::parse(&p);
            let _ = p.payload();
        }
    }

    #[test]
    fn icmp_never_panics(b in bytes(128)) {
        if let Ok(p) = icmpv4::Packet::new_checked(&b[..]) {
            let _ = icmpv4::IcmpRepr::parse(&p);
            let _ = (p.data(), p.echo_ident(), p.echo_seq(), p.next_hop_mtu());
        }
    }

    #[test]
    fn icmp_with_valid_checksum_never_panics(mut b in bytes(64), t in 0u8..20, code in 0u8..20) {
        if b.len() >= 8 {
            b[0] = t;
            b[1] = code;
            b[2] = 0;
            b[3] = 0;
            let c = wire::checksum::checksum(&b);
            b[2..4].copy_from_slice(&c.to_be_bytes());
            let p = icmpv4::Packet::new_checked(&b[..]).unwrap();
            if let Ok(r) = icmpv4::IcmpRepr::parse(&p) {
                let mut out = vec![0u8; r.buffer_len()];
                r.emit(&mut out);
                let q = icmpv4::Packet::new_checked(&out[..]).unwrap();
                prop_assert_eq!(icmpv4::IcmpRepr::parse(&q).unwrap(), r);
                // Echo messages carry every byte through.
                if matches!(t, 0 | 8) {
                    prop_assert_eq!(out, b);
                }
            }
        }
    }

    #[test]
    fn udp_never_panics(b in bytes(128)) {
        if let Ok(p) = udp::Packet::new_checked(&b[..]) {
            let _ = udp::UdpRepr::parse(&p, A, B);
            prop_assert!(p.payload().len() + 8 == p.len());
        }
    }

    #[test]
    fn tcp_never_panics(b in bytes(128)) {
        if let Ok(p) = tcp::Packet::new_checked(&b[..]) {
            let _ = tcp::TcpRepr::parse(&p, A, B);
            let _ = (p.payload(), p.options(), p.segment_len(), p.urgent(), p.flags());
            for o in tcp::Options::new(p.options()) {
                let _ = o;
            }
        }
    }

    #[test]
    fn tcp_options_never_panic(area in bytes(40)) {
        let n = tcp::Options::new(&area).count();
        prop_assert!(n <= area.len());
        // With a valid checksum the whole header parser runs over the options too.
        let mut seg = vec![0u8; 20 + area.len() / 4 * 4];
        seg[12] = ((5 + area.len() / 4) as u8) << 4;
        seg[20..].copy_from_slice(&area[..area.len() / 4 * 4]);
        tcp::fill_checksum(&mut seg, A, B);
        let p = tcp::Packet::new_checked(&seg[..]).unwrap();
        let _ = tcp::TcpRepr::parse(&p, A, B);
    }

    #[test]
    fn dhcp_never_panics(b in bytes(400)) {
        if let Ok(p) = dhcp::Packet::new_checked(&b[..]) {
            let _ = dhcp::DhcpRepr::parse(&p);
        }
    }

    #[test]
    fn dhcp_options_never_panic(opts in bytes(120), op in 1u8..3) {
        let mut b = vec![0u8; 240];
        b[0] = op;
        b[1] = 1;
        b[2] = 6;
        b[236..240].copy_from_slice(&[99, 130, 83, 99]);
        b.extend_from_slice(&opts);
        let p = dhcp::Packet::new_checked(&b[..]).unwrap();
        let _ = dhcp::DhcpRepr::parse(&p);
        for o in p.options() {
            let _ = o;
        }
    }

    #[test]
    fn checksum_is_split_invariant(data in bytes(300), cuts in prop::collection::vec(0usize..300, 0..6)) {
        let whole = Checksum::new().push(&data).finish();
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        cuts.sort();
        let mut c = Checksum::new();
        let mut at = 0;
        for cut in cuts {
            c = c.push(&data[at..cut]);
            at = cut;
        }
        c = c.push(&data[at..]);
        prop_assert_eq!(c.finish(), whole);
        // Inserting the checksum makes the data verify (even length keeps alignment).
        if data.len() % 2 == 0 {
            let mut with = data.clone();
            with.extend_from_slice(&whole.to_be_bytes());
            prop_assert!(wire::checksum::verifies(&with));
        }
    }

    #[test]
    fn ipv4_roundtrip(
        ttl in any::<u8>(), ident in any::<u16>(), df in any::<bool>(), mf in any::<bool>(),
        off in 0usize..8192, len in 0usize..1480, proto in any::<u8>(),
        src in any::<u32>(), dst in any::<u32>(),
    ) {
        let r = ipv4::Ipv4Repr {
            src: Ipv4Addr::from_bits(src), dst: Ipv4Addr::from_bits(dst), protocol: proto,
            payload_len: len, ttl, ident, dont_frag: df, more_frags: mf, frag_offset: off * 8,
        };
        let mut b = vec![0u8; 20 + len];
        r.emit(&mut b);
        let p = ipv4::Packet::new_checked(&b[..]).unwrap();
        prop_assert_eq!(ipv4::Ipv4Repr::parse(&p).unwrap(), r);
    }

    #[test]
    fn udp_roundtrip(sp in any::<u16>(), dp in any::<u16>(), payload in bytes(600)) {
        let mut b = vec![0u8; 8 + payload.len()];
        b[8..].copy_from_slice(&payload);
        udp::UdpRepr { src_port: sp, dst_port: dp }.emit(&mut b, payload.len(), A, B);
        let p = udp::Packet::new_checked(&b[..]).unwrap();
        prop_assert_ne!(p.checksum(), 0);
        let r = udp::UdpRepr::parse(&p, A, B).unwrap();
        prop_assert_eq!((r.src_port, r.dst_port), (sp, dp));
        prop_assert_eq!(p.payload(), &payload[..]);
    }

    #[test]
    fn tcp_roundtrip(
        sp in any::<u16>(), dp in any::<u16>(), seq in any::<u32>(), ack in any::<u32>(),
        flags in 0u16..0x200, window in any::<u16>(), mss in prop::option::of(any::<u16>()),
        ws in prop::option::of(0u8..15), sackp in any::<bool>(),
        ts in prop::option::of((any::<u32>(), any::<u32>())), payload in bytes(100),
    ) {
        let r = TcpRepr {
            src_port: sp, dst_port: dp, seq, ack: if flags & 0x10 != 0 { ack } else { 0 },
            flags: Flags(flags), window, urgent: 0, mss, window_scale: ws,
            sack_permitted: sackp, timestamps: ts, sack_blocks: [None; 4],
        };
        let mut b = vec![0u8; r.header_len() + payload.len()];
        let h = r.emit(&mut b);
        b[h..].copy_from_slice(&payload);
        tcp::fill_checksum(&mut b, A, B);
        let p = tcp::Packet::new_checked(&b[..]).unwrap();
        prop_assert_eq!(TcpRepr::parse(&p, A, B).unwrap(), r);
        prop_assert_eq!(p.payload(), &payload[..]);
    }

    #[test]
    fn arp_roundtrip(req in any::<bool>(), m1 in any::<[u8; 6]>(), m2 in any::<[u8; 6]>(), i1 in any::<u32>(), i2 in any::<u32>()) {
        let r = arp::ArpRepr {
            operation: if req { arp::Operation::Request } else { arp::Operation::Reply },
            sender_mac: MacAddr(m1), sender_ip: Ipv4Addr::from_bits(i1),
            target_mac: MacAddr(m2), target_ip: Ipv4Addr::from_bits(i2),
        };
        let mut b = [0u8; 28];
        r.emit(&mut b);
        prop_assert_eq!(arp::ArpRepr::parse(&arp::Packet::new_checked(&b[..]).unwrap()).unwrap(), r);
    }

    #[test]
    fn dhcp_roundtrip(
        kind in 0usize..8, xid in any::<u32>(), secs in any::<u16>(), bcast in any::<bool>(),
        yi in any::<u32>(), lease in prop::option::of(any::<u32>()),
        mask in prop::option::of(any::<u32>()), router in prop::option::of(any::<u32>()),
        dns in prop::collection::vec(any::<u32>(), 0..4), host in prop::option::of(bytes(40)),
    ) {
        use dhcp::MessageType::*;
        let kinds = [Discover, Offer, Request, Decline, Ack, Nak, Release, Inform];
        let mut r = dhcp::DhcpRepr::new(kinds[kind], xid, MacAddr([2, 0, 0, 0, 0, 1]));
        r.secs = secs;
        r.broadcast = bcast;
        r.yiaddr = Ipv4Addr::from_bits(yi);
        r.lease_time = lease;
        r.subnet_mask = mask.map(Ipv4Addr::from_bits);
        r.router = router.map(Ipv4Addr::from_bits);
        for (slot, d) in r.dns_servers.iter_mut().zip(&dns) {
            *slot = Some(Ipv4Addr::from_bits(*d));
        }
        r.hostname = host.as_deref();
        let mut b = vec![0u8; r.buffer_len()];
        r.emit(&mut b);
        let p = dhcp::Packet::new_checked(&b[..]).unwrap();
        prop_assert_eq!(dhcp::DhcpRepr::parse(&p).unwrap(), r);
    }
}

// ----- reassembly rules -----

fn frag_repr(ident: u16, offset: usize, len: usize, more: bool) -> ipv4::Ipv4Repr {
    ipv4::Ipv4Repr {
        src: A,
        dst: B,
        protocol: 17,
        payload_len: len,
        ttl: 64,
        ident,
        dont_frag: false,
        more_frags: more,
        frag_offset: offset,
    }
}

/// A packet cut into up to `max_frags` fragments of random multiples of 8 bytes (the last
/// of any length).
fn tiling(max_frags: usize) -> impl Strategy<Value = (Vec<u8>, Vec<(usize, usize, bool)>)> {
    (prop::collection::vec(1usize..25, 1..=max_frags), 0usize..8).prop_map(|(units, tail)| {
        let mut frags = Vec::new();
        let mut off = 0;
        for (i, u) in units.iter().enumerate() {
            let last = i + 1 == units.len();
            let len = u * 8 + if last { tail } else { 0 };
            frags.push((off, len, !last));
            off += len;
        }
        let data = (0..off).map(|i| (i * 31 % 251) as u8).collect();
        (data, frags)
    })
}

fn feed(
    r: &mut Reassembler,
    now: Instant,
    ident: u16,
    data: &[u8],
    f: (usize, usize, bool),
) -> Option<Vec<u8>> {
    let (off, len, more) = f;
    r.process(
        now,
        &frag_repr(ident, off, len, more),
        &data[off..off + len],
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any order of at most 16 tiling fragments reassembles to the packet, on the last one.
    #[test]
    fn reassembly_any_order((data, frags) in tiling(MAX_FRAGMENTS), seed in any::<u64>()) {
        let mut order: Vec<_> = frags.clone();
        shuffle(&mut order, seed);
        let mut r = Reassembler::new();
        let t = Instant::from_secs(1);
        for (i, f) in order.iter().enumerate() {
            let out = feed(&mut r, t, 1, &data, *f);
            if i + 1 < order.len() {
                prop_assert!(out.is_none());
            } else {
                prop_assert_eq!(out.as_deref(), Some(&data[..]));
            }
        }
        prop_assert!(r.is_empty());
    }

    /// More than 16 fragments never reassemble, in any order.
    #[test]
    fn reassembly_rejects_over_sixteen((data, frags) in tiling(40), seed in any::<u64>()) {
        prop_assume!(frags.len() > MAX_FRAGMENTS);
        let mut order = frags.clone();
        shuffle(&mut order, seed);
        let mut r = Reassembler::new();
        for f in order {
            prop_assert!(feed(&mut r, Instant::from_secs(1), 1, &data, f).is_none());
        }
    }

    /// An overlapping fragment arriving before completion drops the whole packet.
    #[test]
    fn reassembly_overlap_drops(
        (data, frags) in tiling(MAX_FRAGMENTS - 1), seed in any::<u64>(),
        start in 0usize..1600, len in 1usize..200, at in any::<prop::sample::Index>(),
    ) {
        let total = data.len();
        let start = (start.min(total.saturating_sub(1))) / 8 * 8;
        let end = (start + len).min(total);
        prop_assume!(end > start);
        let mut order = frags.clone();
        shuffle(&mut order, seed);
        // Put the intruder somewhere before the last fragment.
        let pos = at.index(order.len());
        let more = end < total;
        let len = if more { (end - start) / 8 * 8 } else { end - start };
        // A real fragmented packet, and an intruder that is not a whole packet by itself.
        prop_assume!(frags.len() >= 2 && len > 0 && (start > 0 || more));
        // An exact copy of a real fragment is only an overlap once the original arrives too,
        // which may be after the packet completed.
        prop_assume!(!frags.contains(&(start, len, more)));
        order.insert(pos, (start, len, more));
        let mut r = Reassembler::new();
        for f in order {
            prop_assert!(feed(&mut r, Instant::from_secs(1), 1, &data, f).is_none());
        }
    }

    /// A packet whose fragments span 10 s or more never reassembles.
    #[test]
    fn reassembly_times_out((data, frags) in tiling(MAX_FRAGMENTS), seed in any::<u64>(), gaps in prop::collection::vec(0u64..4000, 16)) {
        prop_assume!(frags.len() >= 2);
        let mut order = frags.clone();
        shuffle(&mut order, seed);
        let mut r = Reassembler::new();
        let mut t = Instant::from_secs(1);
        let start = t;
        let mut out = None;
        for (i, f) in order.iter().enumerate() {
            if i > 0 {
                t = t + Duration::from_millis(gaps[i]);
            }
            out = feed(&mut r, t, 1, &data, *f);
        }
        if t - start >= Duration::from_secs(10) {
            prop_assert!(out.is_none());
        } else {
            prop_assert_eq!(out.as_deref(), Some(&data[..]));
        }
    }

    /// Whatever arrives, the cache never holds more than 256 KiB.
    #[test]
    fn reassembly_bounded(ops in prop::collection::vec((0u16..40, 0usize..8000, 1usize..2000, any::<bool>()), 1..300)) {
        let mut r = Reassembler::new();
        let data = vec![7u8; 70_000];
        for (i, (ident, off, len, more)) in ops.into_iter().enumerate() {
            let len = if more { (len / 8 * 8).max(8) } else { len };
            let _ = r.process(Instant::from_millis(i as u64), &frag_repr(ident, off * 8, len, more), &data[..len]);
            prop_assert!(r.bytes() <= REASSEMBLY_CAPACITY);
        }
    }

    /// Fragmenting then reassembling is the identity, for any MTU.
    #[test]
    fn fragment_then_reassemble(len in 1usize..20_000, mtu in 68usize..9000, seed in any::<u64>()) {
        let data: Vec<u8> = (0..len).map(|i| (i % 241) as u8).collect();
        let mut plan: Vec<_> = fragments(len, mtu).collect();
        prop_assume!(plan.len() <= MAX_FRAGMENTS);
        shuffle(&mut plan, seed);
        let mut r = Reassembler::new();
        let mut out = None;
        for f in plan {
            prop_assert!(out.is_none());
            out = feed(&mut r, Instant::from_secs(1), 3, &data, f);
        }
        prop_assert_eq!(out, Some(data));
    }
}

fn shuffle<T>(v: &mut [T], seed: u64) {
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.swap(i, (x % (i as u64 + 1)) as usize);
    }
}

// ----- whole-interface fuzzing -----

/// Frames that get past the checksums: valid Ethernet and IPv4 headers (sometimes
/// fragments), with arbitrary transport bytes whose checksum is fixed up.
fn frame_strategy() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![Just(0x0800u16), Just(0x0806u16), any::<u16>()],
        prop_oneof![Just(1u8), Just(6u8), Just(17u8), any::<u8>()],
        any::<bool>(),
        0usize..4,
        bytes(300),
        any::<bool>(),
    )
        .prop_map(|(ethertype, proto, frag, off, payload, raw)| {
            let mut f = vec![0u8; 14];
            ethernet::EthernetRepr {
                src: common::mac(1),
                dst: common::mac(2),
                ethertype,
            }
            .emit(&mut f);
            if raw || ethertype != 0x0800 {
                f.extend_from_slice(&payload);
                return f;
            }
            let mut seg = payload.clone();
            match proto {
                6 if seg.len() >= 20 => {
                    seg[12] = (seg[12] & 0xf0).max(0x50);
                    if (usize::from(seg[12] >> 4)) * 4 > seg.len() {
                        seg[12] = 0x50;
                    }
                    tcp::fill_checksum(&mut seg, common::ip(1), common::ip(2));
                }
                17 if seg.len() >= 8 => {
                    let l = seg.len() as u16;
                    seg[4..6].copy_from_slice(&l.to_be_bytes());
                    seg[6] = 0;
                    seg[7] = 0;
                    let c = udp::checksum_field(&seg, common::ip(1), common::ip(2));
                    seg[6..8].copy_from_slice(&c.to_be_bytes());
                }
                1 if seg.len() >= 8 => {
                    seg[2] = 0;
                    seg[3] = 0;
                    let c = wire::checksum::checksum(&seg);
                    seg[2..4].copy_from_slice(&c.to_be_bytes());
                }
                _ => {}
            }
            let mut ip = vec![0u8; 20 + seg.len()];
            ipv4::Ipv4Repr {
                src: common::ip(1),
                dst: common::ip(2),
                protocol: proto,
                payload_len: seg.len(),
                ttl: 64,
                ident: 5,
                dont_frag: false,
                more_frags: frag,
                frag_offset: off * 8,
            }
            .emit(&mut ip);
            ip[20..].copy_from_slice(&seg);
            f.extend_from_slice(&ip);
            f
        })
}

/// TCP segments aimed at an established connection: right ports, arbitrary numbers.
fn segment_strategy() -> impl Strategy<Value = (u32, u32, u16, u16, Vec<u8>, bool)> {
    (
        any::<u32>(),
        any::<u32>(),
        0u16..0x200,
        any::<u16>(),
        bytes(100),
        any::<bool>(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary frames never panic the interface, whichever path they take, and after `transmit` it has nothing
    /// immediate left (no busy loop).
    #[test]
    fn interface_survives_arbitrary_frames(frames in prop::collection::vec(frame_strategy(), 1..20)) {
        let mut sim = common::Sim::pair(TcpConfig::default(), common::LinkModel::default(), 1);
        let _l = sim.nodes[1].tcp_listen(80).unwrap();
        let _u = sim.nodes[1].udp_bind(53).unwrap();
        sim.advance(Duration::from_secs(3));
        let mut dev = unik_net::FrameQueue::new();
        let mut now = sim.now;
        for (i, f) in frames.iter().enumerate() {
            // Every other frame as from a receive offload: checksums unchecked, so arbitrary
            // bytes reach the transport parsers and TCP.
            if i % 2 == 0 {
                sim.nodes[1].receive(now, f);
            } else {
                sim.nodes[1].receive_offloaded(now, f);
            }
            sim.nodes[1].transmit(now, &mut dev);
            prop_assert!(sim.nodes[1].poll_at().is_none_or(|t| t > now));
            now = now + Duration::from_millis(300);
        }
        // Then plenty of time for every timer.
        for _ in 0..50 {
            now = now + Duration::from_secs(5);
            sim.nodes[1].transmit(now, &mut dev);
            prop_assert!(sim.nodes[1].poll_at().is_none_or(|t| t > now));
        }
    }

    /// Arbitrary segments for a live connection (valid checksums, matching ports) never
    /// panic either side; the stack stays well-behaved.
    #[test]
    fn connection_survives_arbitrary_segments(segs in prop::collection::vec(segment_strategy(), 1..30)) {
        let mut sim = common::Sim::pair(TcpConfig::default(), common::LinkModel::default(), 2);
        let l = sim.nodes[1].tcp_listen(80).unwrap();
        let now = sim.now;
        let c = sim.nodes[0].tcp_connect(now, SocketAddrV4::new(common::ip(2), 80)).unwrap();
        let mut server = None;
        sim.run_until(Duration::from_secs(5), |s| {
            if server.is_none() {
                server = s.nodes[1].tcp_accept(l).ok();
            }
            server.is_some()
        }).unwrap();
        sim.nodes[0].tcp_send(c, &[1u8; 5000]).unwrap();
        sim.advance(Duration::from_millis(3));
        let src_port = sim.nodes[0].tcp_connection(c).unwrap().local().port();
        let mut dev = unik_net::FrameQueue::new();
        for (seq, ack, flags, window, payload, opts) in segs {
            let mut r = TcpRepr {
                src_port,
                dst_port: 80,
                seq,
                ack: if flags & 0x10 != 0 { ack } else { 0 },
                flags: Flags(flags),
                window,
                ..TcpRepr::default()
            };
            if opts {
                r.mss = Some(window);
                r.window_scale = Some((window % 20) as u8);
            }
            let frame = common::forge_tcp(1, 2, &r, &payload);
            let now = sim.now;
            sim.nodes[1].receive(now, &frame);
            sim.nodes[1].transmit(now, &mut dev);
            prop_assert!(sim.nodes[1].poll_at().is_none_or(|t| t > now));
            sim.advance(Duration::from_millis(50));
        }
        sim.advance(Duration::from_secs(700));
        if let Some(s) = server {
            let st = sim.nodes[1].tcp_state(s).unwrap();
            // Nothing lingers forever: after 700 s everything reached a resting state.
            prop_assert!(matches!(st, State::Closed | State::Established | State::CloseWait), "{:?}", st);
        }
    }
}

// ----- IPv6 -----

const V6A: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
const V6B: std::net::Ipv6Addr = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

/// An IPv6 frame to node 2 from node 1: a next header biased to the extension headers and
/// transports, a payload that is arbitrary, or an ICMPv6 message with a valid checksum.
fn ipv6_frame() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(0u8),
            Just(43u8),
            Just(44u8),
            Just(60u8),
            Just(58u8),
            Just(17u8),
            Just(6u8),
            any::<u8>()
        ],
        bytes(400),
        any::<bool>(),
        any::<u8>(),
    )
        .prop_map(|(nh, mut payload, fix_icmp, hop)| {
            if nh == 58 && fix_icmp && payload.len() >= 4 {
                unik_net::wire::icmpv6::fill_checksum(&mut payload, V6A, V6B);
            }
            let mut f = vec![0u8; 14 + 40 + payload.len()];
            ethernet::EthernetRepr {
                src: common::mac(1),
                dst: common::mac(2),
                ethertype: ethernet::ethertype::IPV6,
            }
            .emit(&mut f);
            unik_net::wire::ipv6::Ipv6Repr {
                src: V6A,
                dst: V6B,
                next_header: nh,
                payload_len: payload.len(),
                hop_limit: hop,
            }
            .emit(&mut f[14..]);
            f[54..].copy_from_slice(&payload);
            f
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ipv6_and_extension_walk_never_panic(b in bytes(200), first in any::<u8>(), mc in any::<bool>()) {
        use unik_net::wire::ipv6;
        if let Ok(p) = ipv6::Packet::new_checked(&b[..]) {
            let r = ipv6::Ipv6Repr::parse(&p).unwrap();
            prop_assert_eq!(r.payload_len, p.payload().len());
            let _ = (p.flow_label(), p.traffic_class(), p.bytes(), p.header());
        }
        if let Ok(w) = ipv6::walk(first, &b, mc) {
            prop_assert!(w.offset <= b.len());
        }
        let _ = ipv6::FragmentRepr::parse(&b);
    }

    #[test]
    fn icmpv6_never_panics(mut b in bytes(200), t in prop_oneof![Just(1u8), Just(2u8), Just(128u8), Just(130u8), Just(133u8), Just(134u8), Just(135u8), Just(136u8), Just(143u8), any::<u8>()], code in 0u8..2) {
        use unik_net::wire::icmpv6::{self, Icmpv6Repr};
        if b.len() >= 8 {
            b[0] = t;
            b[1] = code;
            icmpv6::fill_checksum(&mut b, V6A, V6B);
        }
        if let Ok(p) = icmpv6::Packet::new_checked(&b[..])
            && let Ok(r) = Icmpv6Repr::parse(&p, V6A, V6B)
        {
            // What parses re-emits to something that parses the same.
            let mut out = vec![0u8; r.buffer_len()];
            r.emit_checked(&mut out, V6A, V6B);
            let q = icmpv6::Packet::new_checked(&out[..]).unwrap();
            let again = Icmpv6Repr::parse(&q, V6A, V6B).unwrap();
            prop_assert_eq!(again, r);
            if let Icmpv6Repr::Ndisc(icmpv6::NdiscRepr::RouterAdvert { options, .. }) = again {
                let _ = (options.mtu(), options.source_mac(), options.prefixes().count());
            }
        }
        let _ = icmpv6::NdOptions::parse(&b).map(|o| o.iter().count());
    }

    #[test]
    fn ipv6_receive_path_never_panics_and_stays_bounded(frames in prop::collection::vec(ipv6_frame(), 1..40)) {
        let mut c = common::static_config(2, 1500, unik_net::TcpConfig::default());
        c.ipv6 = Some(unik_net::Ipv6Config { address: V6B, prefix_len: 64, gateway: None });
        c.accept_ra = true;
        let mut iface = unik_net::Interface::new(c);
        let mut dev = unik_net::FrameQueue::new();
        let _u = iface.udp_bind(7).unwrap();
        let _l = iface.tcp_listen(80).unwrap();
        // Past DAD, so that unicast frames are accepted.
        iface.transmit(Instant::from_secs(1), &mut dev);
        iface.transmit(Instant::from_secs(3), &mut dev);
        let mut now = Instant::from_secs(3);
        for f in &frames {
            iface.receive(now, f);
            iface.transmit(now, &mut dev);
            now = now + unik_net::Duration::from_millis(10);
        }
        let st = iface.stats();
        prop_assert!(st.reassembly_bytes <= unik_net::ipv4::REASSEMBLY_CAPACITY as u64);
        prop_assert!(iface.ipv6_addresses().len() <= unik_net::ipv6::MAX_ADDRESSES);
    }
}
