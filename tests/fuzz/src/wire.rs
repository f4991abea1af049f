//! Every wire parser. The first byte picks the parser (0: a whole frame, layer by layer, as
//! the interface would); the rest is the packet. Whatever parses must emit again, and what is
//! emitted must parse to the same representation.

use unik_net::wire::tcp::{Options, TcpRepr};
use unik_net::wire::{Ipv4Addr, arp, dhcp, ethernet, icmpv4, ipv4, proto, tcp, udp};

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

pub fn run(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 8 {
        0 => frame(rest),
        1 => arp_packet(rest),
        2 => ipv4_packet(rest),
        3 => icmp(rest),
        4 => udp_datagram(rest, false),
        5 => tcp_segment(rest, false),
        6 => dhcp_message(rest),
        _ => tcp_options(rest),
    }
}

fn frame(b: &[u8]) {
    let Ok(f) = ethernet::Frame::new_checked(b) else {
        return;
    };
    let _ = ethernet::EthernetRepr::parse(&f);
    match f.ethertype() {
        ethernet::ethertype::ARP => arp_packet(f.payload()),
        ethernet::ethertype::IPV4 => ipv4_packet(f.payload()),
        _ => {}
    }
}

fn arp_packet(b: &[u8]) {
    if let Ok(p) = arp::Packet::new_checked(b)
        && let Ok(r) = arp::ArpRepr::parse(&p)
    {
        let mut out = [0u8; 28];
        r.emit(&mut out);
        let again = arp::ArpRepr::parse(&arp::Packet::new_checked(&out[..]).unwrap()).unwrap();
        assert_eq!(r, again);
    }
}

fn ipv4_packet(b: &[u8]) {
    let Ok(p) = ipv4::Packet::new_checked(b) else {
        return;
    };
    let Ok(r) = ipv4::Ipv4Repr::parse(&p) else {
        return;
    };
    assert!(p.header_len() <= p.total_len());
    if r.more_frags || r.frag_offset != 0 {
        return;
    }
    let payload = p.payload();
    match r.protocol {
        proto::ICMP => icmp(payload),
        proto::UDP => udp_with(payload, r.src, r.dst),
        proto::TCP => tcp_with(payload, r.src, r.dst),
        _ => {}
    }
}

fn icmp(b: &[u8]) {
    if let Ok(p) = icmpv4::Packet::new_checked(b) {
        let _ = icmpv4::IcmpRepr::parse(&p);
        let _ = (p.data(), p.echo_ident(), p.echo_seq(), p.next_hop_mtu());
    }
}

fn udp_datagram(b: &[u8], _trusted: bool) {
    udp_with(b, A, B);
    if let Ok(p) = udp::Packet::new_checked(b) {
        let _ = udp::UdpRepr::parse_trusted(&p);
    }
}

fn udp_with(b: &[u8], src: Ipv4Addr, dst: Ipv4Addr) {
    if let Ok(p) = udp::Packet::new_checked(b)
        && let Ok(r) = udp::UdpRepr::parse(&p, src, dst)
        && r.dst_port == unik_net::wire::dhcp::CLIENT_PORT
    {
        dhcp_message(p.payload());
    }
}

fn tcp_segment(b: &[u8], _trusted: bool) {
    tcp_with(b, A, B);
    if let Ok(p) = tcp::Packet::new_checked(b)
        && let Ok(r) = TcpRepr::parse_trusted(&p)
    {
        round_trip(&r);
    }
}

fn tcp_with(b: &[u8], src: Ipv4Addr, dst: Ipv4Addr) {
    if let Ok(p) = tcp::Packet::new_checked(b)
        && let Ok(r) = TcpRepr::parse(&p, src, dst)
    {
        assert!(p.header_len() <= b.len());
        round_trip(&r);
    }
}

/// A parsed header emits and parses back to itself, but for what `emit` leaves out by
/// design: the acknowledgement number of a segment without ACK (meaningless, emitted as
/// zero) and SACK blocks (the stack never sends them).
fn round_trip(r: &TcpRepr) {
    let mut r = *r;
    if !r.flags.ack() {
        r.ack = 0;
    }
    r.sack_blocks = [None; 4];
    let mut out = vec![0u8; r.header_len()];
    let n = r.emit(&mut out);
    assert_eq!(n, out.len());
    let again = TcpRepr::parse_trusted(&tcp::Packet::new_checked(&out[..]).unwrap()).unwrap();
    assert_eq!(r, again);
}

fn dhcp_message(b: &[u8]) {
    if let Ok(p) = dhcp::Packet::new_checked(b) {
        for o in p.options() {
            let _ = o;
        }
        let _ = dhcp::DhcpRepr::parse(&p);
    }
}

fn tcp_options(b: &[u8]) {
    for o in Options::new(b) {
        let _ = o;
    }
}
