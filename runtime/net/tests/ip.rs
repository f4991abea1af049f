//! ARP, ICMP, UDP and IPv4 fragmentation between two stacks on a simulated segment.

mod common;

use std::cell::RefCell;
use std::net::SocketAddrV4;
use std::rc::Rc;
use std::vec::Vec;

use common::{LinkModel, Sim, ip, mac};
use unik_net::wire::arp::{self, ArpRepr, Operation};
use unik_net::wire::ethernet::{self, EthernetRepr, ethertype};
use unik_net::{Duration, Error, FrameQueue, IcmpEvent, Instant, Interface, IpWrite, TcpConfig};

fn events(iface: &mut Interface) -> Rc<RefCell<Vec<IcmpEvent>>> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = log.clone();
    iface.set_icmp_hook(Some(Box::new(move |e| sink.borrow_mut().push(*e))));
    log
}

fn arp_frames(frames: &[Vec<u8>]) -> Vec<ArpRepr> {
    frames
        .iter()
        .filter_map(|f| {
            let fr = ethernet::Frame::new_checked(&f[..]).ok()?;
            (fr.ethertype() == ethertype::ARP).then_some(())?;
            ArpRepr::parse(&arp::Packet::new_checked(fr.payload()).ok()?).ok()
        })
        .collect()
}

#[test]
fn gratuitous_arp_on_start_twice() {
    let mut a = Interface::new(common::static_config(1, 1500, TcpConfig::default()));
    let mut dev = FrameQueue::new();
    let t0 = Instant::from_secs(5);
    a.transmit(t0, &mut dev);
    let sent: Vec<_> = dev.frames.drain(..).collect();
    let arps = arp_frames(&sent);
    assert_eq!(arps.len(), 1);
    assert_eq!(arps[0].operation, Operation::Request);
    assert_eq!((arps[0].sender_ip, arps[0].target_ip), (ip(1), ip(1)));
    let eth = EthernetRepr::parse(&ethernet::Frame::new_checked(&sent[0][..]).unwrap());
    assert!(eth.dst.is_broadcast());
    // The second announcement is scheduled two seconds later, then nothing.
    assert_eq!(a.poll_at(), Some(t0 + Duration::from_secs(2)));
    a.transmit(t0 + Duration::from_secs(2), &mut dev);
    assert_eq!(
        arp_frames(&dev.frames.drain(..).collect::<Vec<_>>()).len(),
        1
    );
    assert_eq!(a.poll_at(), None);
}

#[test]
fn ping_resolves_arp_then_echoes() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 1);
    let log = events(&mut sim.nodes[0]);
    let peer_log = events(&mut sim.nodes[1]);
    sim.advance(Duration::from_secs(3)); // let announcements pass
    sim.nodes[0]
        .icmp_echo_request(ip(2), 77, 1, b"hello")
        .unwrap();
    sim.run_until(Duration::from_secs(1), |_| !log.borrow().is_empty())
        .expect("echo reply");
    assert_eq!(
        log.borrow()[0],
        IcmpEvent::EchoReply {
            from: ip(2),
            ident: 77,
            seq: 1,
            len: 5
        }
    );
    assert!(matches!(
        peer_log.borrow()[0],
        IcmpEvent::EchoRequest {
            ident: 77,
            seq: 1,
            len: 5,
            ..
        }
    ));
}

#[test]
fn ping_that_fragments_both_ways() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 2);
    let log = events(&mut sim.nodes[0]);
    let data: Vec<u8> = (0..9000u32).map(|i| (i * 7) as u8).collect();
    sim.nodes[0].icmp_echo_request(ip(2), 1, 9, &data).unwrap();
    sim.run_until(Duration::from_secs(2), |_| !log.borrow().is_empty())
        .expect("reassembled reply");
    assert!(matches!(
        log.borrow()[0],
        IcmpEvent::EchoReply {
            len: 9000,
            seq: 9,
            ..
        }
    ));
    // 9008 bytes of ICMP in 1480-byte pieces: 7 fragments each way.
    assert_eq!(sim.nodes[0].stats().fragments_sent, 7);
    assert_eq!(sim.nodes[1].stats().fragments_sent, 7);
    assert_eq!(sim.nodes[1].stats().reassembled, 1);
    assert_eq!(sim.nodes[0].stats().reassembled, 1);
}

#[test]
fn reordered_fragments_reassemble() {
    let model = LinkModel {
        jitter: Duration::from_millis(20),
        ..LinkModel::default()
    };
    let mut sim = Sim::pair(TcpConfig::default(), model, 3);
    let log = events(&mut sim.nodes[0]);
    // Resolve first: the ARP waiting queue holds 16 packets, fewer than 30 fragments.
    sim.nodes[0].icmp_echo_request(ip(2), 5, 100, b"").unwrap();
    sim.run_until(Duration::from_secs(1), |_| log.borrow().len() == 1)
        .unwrap();
    log.borrow_mut().clear();
    for seq in 0..10 {
        sim.nodes[0]
            .icmp_echo_request(ip(2), 5, seq, &[seq as u8; 4000])
            .unwrap();
    }
    sim.run_until(Duration::from_secs(5), |_| log.borrow().len() == 10)
        .expect("all replies");
}

#[test]
fn udp_echo_and_port_unreachable() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 4);
    let log = events(&mut sim.nodes[0]);
    let server = sim.nodes[1].udp_bind(7).unwrap();
    let client = sim.nodes[0].udp_bind(0).unwrap();
    assert!(client.port() >= 49152);
    assert_eq!(sim.nodes[1].udp_bind(7), Err(Error::AddrInUse));
    sim.nodes[0]
        .udp_send(client, SocketAddrV4::new(ip(2), 7), b"ping")
        .unwrap();
    let mut buf = [0u8; 64];
    sim.run_until(Duration::from_secs(1), |s| {
        match s.nodes[1].udp_recv(server, &mut buf) {
            Ok((n, from)) => {
                assert_eq!(&buf[..n], b"ping");
                assert_eq!(from, SocketAddrV4::new(ip(1), client.port()).into());
                s.nodes[1].udp_send(server, from, b"pong").unwrap();
                true
            }
            Err(Error::WouldBlock) => false,
            Err(e) => panic!("{e:?}"),
        }
    })
    .unwrap();
    sim.run_until(Duration::from_secs(1), |s| {
        s.nodes[0]
            .udp_recv(client, &mut buf)
            .is_ok_and(|(n, _)| &buf[..n] == b"pong")
    })
    .unwrap();

    // A large datagram fragments and arrives whole.
    let big: Vec<u8> = (0..20000u32).map(|i| (i % 253) as u8).collect();
    sim.nodes[0]
        .udp_send(client, SocketAddrV4::new(ip(2), 7), &big)
        .unwrap();
    let mut bigbuf = vec![0u8; 65536];
    sim.run_until(Duration::from_secs(1), |s| {
        s.nodes[1]
            .udp_recv(server, &mut bigbuf)
            .is_ok_and(|(n, _)| bigbuf[..n] == big[..])
    })
    .unwrap();

    // Closed port: ICMP port unreachable quoting our datagram.
    sim.nodes[0]
        .udp_send(client, SocketAddrV4::new(ip(2), 9999), b"x")
        .unwrap();
    sim.run_until(Duration::from_secs(1), |_| !log.borrow().is_empty())
        .unwrap();
    assert_eq!(
        log.borrow()[0],
        IcmpEvent::Unreachable {
            from: ip(2),
            code: 3,
            protocol: 17,
            dst: ip(2),
            dst_port: Some(9999)
        }
    );
}

#[test]
fn udp_receive_buffer_is_bounded() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 5);
    let server = sim.nodes[1].udp_bind(9).unwrap();
    let client = sim.nodes[0].udp_bind(0).unwrap();
    sim.nodes[0]
        .udp_send(client, SocketAddrV4::new(ip(2), 9), &[0u8; 2000])
        .unwrap();
    sim.advance(Duration::from_secs(1));
    for _ in 0..39 {
        sim.nodes[0]
            .udp_send(client, SocketAddrV4::new(ip(2), 9), &[0u8; 2000])
            .unwrap();
    }
    sim.advance(Duration::from_secs(1));
    // 64 KiB holds 32 datagrams of 2000 bytes.
    assert_eq!(sim.nodes[1].udp_dropped(server), Ok(8));
    let mut n = 0;
    while sim.nodes[1].udp_recv(server, &mut [0u8; 4]).is_ok() {
        n += 1;
    }
    assert_eq!(n, 32);
}

#[test]
fn ipv4_write_dont_fragment_and_ttl() {
    let mut a = Interface::new(common::static_config(1, 1500, TcpConfig::default()));
    let mut dev = FrameQueue::new();
    let now = Instant::from_secs(1);
    // Broadcast needs no ARP; the packet is built in the device buffer.
    let w = IpWrite {
        ttl: Some(3),
        ..IpWrite::new(std::net::Ipv4Addr::BROADCAST, 253)
    };
    a.ipv4_write(
        now,
        &mut dev,
        &w,
        Some(4),
        |b| {
            b[..4].copy_from_slice(b"head");
            4
        },
        &[b"tail"],
    )
    .unwrap();
    let f = dev.frames.pop_back().unwrap();
    let fr = ethernet::Frame::new_checked(&f[..]).unwrap();
    let p = unik_net::wire::ipv4::Packet::new_checked(fr.payload()).unwrap();
    assert_eq!(p.ttl(), 3);
    assert_eq!(p.payload(), b"headtail");
    assert!(!p.dont_frag());
    let df = IpWrite {
        fragment: false,
        ..IpWrite::new(std::net::Ipv4Addr::BROADCAST, 253)
    };
    assert_eq!(
        a.ipv4_write(now, &mut dev, &df, Some(0), |_| 0, &[&[0u8; 1481]]),
        Err(Error::TooLarge)
    );
    a.ipv4_write(now, &mut dev, &df, Some(0), |_| 0, &[&[0u8; 1480]])
        .unwrap();
    let f = dev.frames.pop_back().unwrap();
    let p = unik_net::wire::ipv4::Packet::new_checked(&f[14..]).unwrap();
    assert!(p.dont_frag());
    assert_eq!(p.total_len(), 1500);
    // Off-link without a gateway.
    assert_eq!(
        a.ipv4_write(
            now,
            &mut dev,
            &IpWrite::new(std::net::Ipv4Addr::new(8, 8, 8, 8), 17),
            None,
            |_| 0,
            &[]
        ),
        Err(Error::NoRoute)
    );
    let _ = mac(1);
}

#[test]
fn unresolvable_neighbour_drops_after_retries() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 6);
    let client = sim.nodes[0].udp_bind(0).unwrap();
    for _ in 0..3 {
        sim.nodes[0]
            .udp_send(client, SocketAddrV4::new(ip(99), 9), b"lost")
            .unwrap();
    }
    sim.advance(Duration::from_secs(10));
    assert_eq!(sim.nodes[0].arp_dropped(), 3);
    assert_eq!(sim.nodes[0].poll_at(), None);
}

#[test]
fn no_icmp_errors_for_broadcasts() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 7);
    let log = events(&mut sim.nodes[0]);
    let client = sim.nodes[0].udp_bind(0).unwrap();
    let bcast = std::net::Ipv4Addr::new(10, 0, 0, 255);
    sim.nodes[0]
        .udp_send(client, SocketAddrV4::new(bcast, 9999), b"anyone?")
        .unwrap();
    sim.nodes[0]
        .udp_send(
            client,
            SocketAddrV4::new(std::net::Ipv4Addr::BROADCAST, 9999),
            b"anyone?",
        )
        .unwrap();
    // Broadcast pings are seen but not answered either.
    sim.nodes[0].icmp_echo_request(bcast, 1, 1, b"").unwrap();
    sim.advance(Duration::from_secs(1));
    assert!(log.borrow().is_empty());
    // Two datagrams reached node 1 and were dropped without reply.
    assert!(sim.nodes[1].stats().rx_dropped >= 2);
}
