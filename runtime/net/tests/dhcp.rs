//! The DHCP client against a small DHCP server written in the test.

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::vec::Vec;

use common::{LinkModel, Sim, mac};
use unik_net::dhcp::DhcpState;
use unik_net::wire::arp::{self, ArpRepr, Operation};
use unik_net::wire::dhcp::{self, DhcpRepr, MessageType};
use unik_net::wire::ethernet::{EthernetRepr, Frame, ethertype};
use unik_net::wire::ipv4::{self, Ipv4Repr};
use unik_net::wire::udp::{self, UdpRepr};
use unik_net::wire::{Ipv4Addr, MacAddr, proto};
use unik_net::{Config, Duration, Instant, Interface, Ipv4Config};

const SERVER_MAC: MacAddr = MacAddr([0x02, 0, 0, 0, 0, 0xfe]);
const SERVER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const OFFERED: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
const LEASE: u32 = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Ack,
    Nak,
    Ignore,
}

/// What the server saw from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seen {
    at: Instant,
    kind: MessageType,
    ip_src: Ipv4Addr,
    ip_dst: Ipv4Addr,
    ciaddr: Ipv4Addr,
    requested_ip: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
}

struct Server {
    mode: Rc<Cell<Mode>>,
    seen: Rc<RefCell<Vec<Seen>>>,
    announcements: Rc<RefCell<Vec<Ipv4Addr>>>,
}

fn frame(dst_mac: MacAddr, dst: Ipv4Addr, msg: &DhcpRepr) -> Vec<u8> {
    let dlen = msg.buffer_len();
    let ulen = udp::HEADER_LEN + dlen;
    let mut f = vec![0u8; 14 + 20 + ulen];
    EthernetRepr {
        src: SERVER_MAC,
        dst: dst_mac,
        ethertype: ethertype::IPV4,
    }
    .emit(&mut f);
    Ipv4Repr {
        src: SERVER_IP,
        dst,
        protocol: proto::UDP,
        payload_len: ulen,
        ttl: 64,
        ident: 9,
        dont_frag: false,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut f[14..]);
    msg.emit(&mut f[42..]);
    UdpRepr {
        src_port: dhcp::SERVER_PORT,
        dst_port: dhcp::CLIENT_PORT,
    }
    .emit(&mut f[34..], dlen, SERVER_IP, dst);
    f
}

fn arp_reply(to: &ArpRepr) -> Vec<u8> {
    let mut f = vec![0u8; 14 + 28];
    EthernetRepr {
        src: SERVER_MAC,
        dst: to.sender_mac,
        ethertype: ethertype::ARP,
    }
    .emit(&mut f);
    ArpRepr {
        operation: Operation::Reply,
        sender_mac: SERVER_MAC,
        sender_ip: SERVER_IP,
        target_mac: to.sender_mac,
        target_ip: to.sender_ip,
    }
    .emit(&mut f[14..]);
    f
}

impl Server {
    fn handle(&self, now: Instant, f: &[u8]) -> Vec<Vec<u8>> {
        let Ok(eth) = Frame::new_checked(f) else {
            return vec![];
        };
        if eth.ethertype() == ethertype::ARP {
            let Ok(a) = arp::Packet::new_checked(eth.payload()).and_then(|p| ArpRepr::parse(&p))
            else {
                return vec![];
            };
            if a.sender_ip == a.target_ip {
                self.announcements.borrow_mut().push(a.sender_ip);
            } else if a.target_ip == SERVER_IP && a.operation == Operation::Request {
                return vec![arp_reply(&a)];
            }
            return vec![];
        }
        let Ok(ip) = ipv4::Packet::new_checked(eth.payload()) else {
            return vec![];
        };
        if ip.protocol() != proto::UDP {
            return vec![];
        }
        let Ok(u) = udp::Packet::new_checked(ip.payload()) else {
            return vec![];
        };
        assert!(u.verify_checksum(ip.src(), ip.dst()), "client UDP checksum");
        if u.dst_port() != dhcp::SERVER_PORT {
            return vec![];
        }
        let p = dhcp::Packet::new_checked(u.payload()).expect("client DHCP message");
        let req = DhcpRepr::parse(&p).expect("client DHCP message");
        assert_eq!(req.client_hw, mac(1));
        self.seen.borrow_mut().push(Seen {
            at: now,
            kind: req.message_type,
            ip_src: ip.src(),
            ip_dst: ip.dst(),
            ciaddr: req.ciaddr,
            requested_ip: req.requested_ip,
            server_id: req.server_id,
        });
        let kind = match (req.message_type, self.mode.get()) {
            (_, Mode::Ignore) => return vec![],
            (MessageType::Discover, _) => MessageType::Offer,
            (MessageType::Request, Mode::Ack) => MessageType::Ack,
            (MessageType::Request, Mode::Nak) => MessageType::Nak,
            _ => return vec![],
        };
        let mut reply = DhcpRepr::new(kind, req.xid, req.client_hw);
        reply.server_id = Some(SERVER_IP);
        if kind != MessageType::Nak {
            reply.yiaddr = OFFERED;
            reply.lease_time = Some(LEASE);
            reply.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
            reply.router = Some(SERVER_IP);
            reply.dns_servers = [Some(SERVER_IP), None, None];
        }
        // RFC 2131 4.1: unicast to ciaddr when set, broadcast otherwise.
        let (dst_mac, dst) = if req.ciaddr.is_unspecified() {
            (MacAddr::BROADCAST, Ipv4Addr::BROADCAST)
        } else {
            (req.client_hw, req.ciaddr)
        };
        vec![frame(dst_mac, dst, &reply)]
    }
}

struct World {
    sim: Sim,
    mode: Rc<Cell<Mode>>,
    seen: Rc<RefCell<Vec<Seen>>>,
    announcements: Rc<RefCell<Vec<Ipv4Addr>>>,
}

fn world(mode: Mode) -> World {
    world_on(mode, LinkModel::default())
}

fn world_on(mode: Mode, link: LinkModel) -> World {
    let mut cfg = Config::new(mac(1), 1500);
    cfg.seed = 3;
    let client = Interface::new(cfg);
    let mut sim = Sim::new(vec![client], link, 5);
    let server = Server {
        mode: Rc::new(Cell::new(mode)),
        seen: Rc::new(RefCell::new(Vec::new())),
        announcements: Rc::new(RefCell::new(Vec::new())),
    };
    let (mode, seen, announcements) = (
        server.mode.clone(),
        server.seen.clone(),
        server.announcements.clone(),
    );
    sim.peers
        .push(Box::new(move |now, f| server.handle(now, f)));
    World {
        sim,
        mode,
        seen,
        announcements,
    }
}

fn bound(w: &mut World) -> Instant {
    w.sim
        .run_until(Duration::from_secs(30), |s| {
            s.nodes[0].ipv4_config().is_some()
        })
        .expect("lease")
}

fn kinds(w: &World) -> Vec<MessageType> {
    w.seen.borrow().iter().map(|s| s.kind).collect()
}

#[test]
fn discover_offer_request_ack() {
    let mut w = world(Mode::Ack);
    assert!(w.sim.nodes[0].ipv4_config().is_none());
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Init));
    bound(&mut w);
    assert_eq!(
        w.sim.nodes[0].ipv4_config(),
        Some(Ipv4Config {
            address: OFFERED,
            prefix_len: 24,
            gateway: Some(SERVER_IP)
        })
    );
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Bound));
    let lease = *w.sim.nodes[0].dhcp_lease().unwrap();
    assert_eq!(lease.server, SERVER_IP);
    assert_eq!(lease.dns_servers[0], Some(SERVER_IP));
    assert_eq!(lease.duration, Some(Duration::from_secs(u64::from(LEASE))));

    let seen = w.seen.borrow().clone();
    assert_eq!(kinds(&w), [MessageType::Discover, MessageType::Request]);
    for s in &seen {
        assert_eq!(
            (s.ip_src, s.ip_dst),
            (Ipv4Addr::UNSPECIFIED, Ipv4Addr::BROADCAST)
        );
    }
    assert_eq!(seen[1].requested_ip, Some(OFFERED));
    assert_eq!(seen[1].server_id, Some(SERVER_IP));

    // The new address is announced and usable: the server's ARP and a ping work.
    w.sim.advance(Duration::from_secs(3));
    assert_eq!(w.announcements.borrow().clone(), [OFFERED, OFFERED]);
    // The gateway resolves from the new address (the server answers ARP, not pings).
    w.sim.nodes[0]
        .icmp_echo_request(SERVER_IP, 1, 1, b"hi")
        .unwrap();
    w.sim.advance(Duration::from_secs(5));
    assert_eq!(w.sim.nodes[0].arp_dropped(), 0);
}

#[test]
fn renews_at_t1_by_unicast() {
    let mut w = world(Mode::Ack);
    let t0 = bound(&mut w);
    w.sim.advance(Duration::from_secs(49));
    assert_eq!(kinds(&w).len(), 2);
    w.sim.advance(Duration::from_secs(2));
    let seen = w.seen.borrow().clone();
    assert_eq!(seen.len(), 3);
    let renew = seen[2];
    assert_eq!(renew.kind, MessageType::Request);
    assert_eq!((renew.ip_src, renew.ip_dst), (OFFERED, SERVER_IP));
    assert_eq!(renew.ciaddr, OFFERED);
    assert_eq!((renew.requested_ip, renew.server_id), (None, None));
    let t1 = renew.at - t0;
    assert!(
        t1 >= Duration::from_secs(50) && t1 < Duration::from_millis(50_100),
        "{t1:?}"
    );
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Bound));
    // The lease was extended: nothing more until the next T1, and the address stays.
    w.sim.advance(Duration::from_secs(48));
    assert_eq!(w.seen.borrow().len(), 3);
    assert_eq!(w.sim.nodes[0].ipv4_config().unwrap().address, OFFERED);
}

/// The lease's times count from when the REQUEST went out, not from the ACK (RFC 2131
/// 4.4.1): on a slow link the client renews T1 after its request, earlier than T1 after
/// the answer.
#[test]
fn lease_times_count_from_the_request() {
    let delay = Duration::from_millis(400);
    let link = LinkModel {
        delay,
        ..LinkModel::default()
    };
    let mut w = world_on(Mode::Ack, link);
    let acked = bound(&mut w);
    let seen = w.seen.borrow().clone();
    assert_eq!(kinds(&w), [MessageType::Discover, MessageType::Request]);
    // The server saw the request `delay` after it was sent, and the ACK took as long back.
    let seen_request = seen[1].at;
    assert!(acked - seen_request >= delay, "{:?}", acked - seen_request);
    let t1 = seen_request + (Duration::from_secs(50) - delay);
    w.sim.advance((t1 - w.sim.now) - Duration::from_millis(1));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Bound));
    w.sim.advance(Duration::from_millis(2));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Renewing));
}

#[test]
fn renewals_are_counted_in_the_lease() {
    // RENEWING lasts one round trip (2 ms here), so whoever samples the state misses most
    // renewals; the lease counts them instead.
    let mut w = world(Mode::Ack);
    bound(&mut w);
    let renewals = |w: &World| w.sim.nodes[0].dhcp_lease().map(|l| l.renewals);
    assert_eq!(renewals(&w), Some(0));
    // The unicast renewal at T1 (50 s) is answered, and so is the next, 50 s later.
    w.sim.advance(Duration::from_secs(51));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Bound));
    assert_eq!(renewals(&w), Some(1));
    w.sim.advance(Duration::from_secs(50));
    assert_eq!(renewals(&w), Some(2));
    // Now 1 s after the second renewal: the server ignores the next one (T1 = +50 s) but
    // answers the broadcast one at T2 (+87.5 s); that extends the same lease too.
    w.mode.set(Mode::Ignore);
    w.sim.advance(Duration::from_secs(86));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Renewing));
    assert_eq!(renewals(&w), Some(2));
    w.mode.set(Mode::Ack);
    w.sim.advance(Duration::from_secs(1));
    assert_eq!(w.seen.borrow().last().unwrap().ip_dst, Ipv4Addr::BROADCAST);
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Bound));
    assert_eq!(renewals(&w), Some(3));
    // A refused renewal ends the lease; the next lease starts counting from zero.
    w.mode.set(Mode::Nak);
    w.sim.advance(Duration::from_secs(51));
    assert_eq!(renewals(&w), None);
    w.mode.set(Mode::Ack);
    bound(&mut w);
    assert_eq!(renewals(&w), Some(0));
}

#[test]
fn rebinds_at_t2_by_broadcast_when_the_server_is_silent() {
    let mut w = world(Mode::Ack);
    let t0 = bound(&mut w);
    w.mode.set(Mode::Ignore);
    w.sim.advance(Duration::from_secs(51));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Renewing));
    // T2 = 7/8 of the lease.
    w.sim.advance(Duration::from_secs(37));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Rebinding));
    let seen = w.seen.borrow().clone();
    let rebind = *seen.last().unwrap();
    assert_eq!(
        (rebind.ip_src, rebind.ip_dst),
        (OFFERED, Ipv4Addr::BROADCAST)
    );
    assert_eq!(rebind.ciaddr, OFFERED);
    // Counted from the REQUEST (both seen 1 ms after they were sent).
    assert!(t0 > seen[1].at);
    let t2 = rebind.at - seen[1].at;
    assert!(
        t2 >= Duration::from_millis(87_500) && t2 < Duration::from_millis(87_600),
        "{t2:?}"
    );
    // The renewal requests went to the server only (unicast), none between T1 and T2 closer
    // than 60 s apart.
    let renewals: Vec<_> = seen[2..seen.len() - 1].to_vec();
    assert_eq!(renewals.len(), 1);
    assert_eq!(renewals[0].ip_dst, SERVER_IP);

    // Any server may answer a rebinding request.
    w.mode.set(Mode::Ack);
    w.sim.advance(Duration::from_secs(61));
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Bound));
    assert_eq!(w.sim.nodes[0].ipv4_config().unwrap().address, OFFERED);
}

#[test]
fn lease_expiry_removes_the_address_and_starts_over() {
    let mut w = world(Mode::Ack);
    bound(&mut w);
    w.mode.set(Mode::Ignore);
    w.sim.advance(Duration::from_secs(99));
    assert!(w.sim.nodes[0].ipv4_config().is_some());
    w.sim.advance(Duration::from_secs(2));
    assert!(w.sim.nodes[0].ipv4_config().is_none());
    assert_eq!(w.sim.nodes[0].dhcp_state(), Some(DhcpState::Selecting));
    assert_eq!(*kinds(&w).last().unwrap(), MessageType::Discover);
    // And binds again once the server answers.
    w.mode.set(Mode::Ack);
    bound(&mut w);
}

#[test]
fn nak_restarts_discovery() {
    let mut w = world(Mode::Nak);
    w.sim.advance(Duration::from_secs(1));
    assert!(w.sim.nodes[0].ipv4_config().is_none());
    let k = kinds(&w);
    assert_eq!(
        &k[..3],
        [
            MessageType::Discover,
            MessageType::Request,
            MessageType::Discover
        ]
    );
    w.mode.set(Mode::Ack);
    bound(&mut w);
}

#[test]
fn discover_is_retransmitted_with_backoff() {
    let mut w = world(Mode::Ignore);
    w.sim.advance(Duration::from_secs(70));
    let times: Vec<Instant> = w.seen.borrow().iter().map(|s| s.at).collect();
    assert!(
        w.seen
            .borrow()
            .iter()
            .all(|s| s.kind == MessageType::Discover)
    );
    // 4 s, 8 s, 16 s, 32 s apart, each within +/- 1 s.
    let gaps: Vec<u64> = times
        .windows(2)
        .map(|p| (p[1] - p[0]).as_millis() as u64)
        .collect();
    assert_eq!(gaps.len(), 4, "{gaps:?}");
    for (g, want) in gaps.iter().zip([4000u64, 8000, 16000, 32000]) {
        assert!(g.abs_diff(want) <= 1000, "{gaps:?}");
    }
}
