//! The IPv6 receive path (extension headers, reassembly), ICMPv6 (echo, errors, packet too
//! big for TCP), neighbour discovery, MLD reports, and the IPv6 part of the interface API.

use alloc::vec;
use alloc::vec::Vec;

use super::link::{Ip6Write, icmp6_packet};
use super::{Error, Interface, IpRx, Outgoing};
use crate::device::Device;
use crate::ipv6::{
    ALL_MLDV2_ROUTERS, ALL_NODES, ALL_ROUTERS, AddrInfo, Ipv6Config, Ipv6Host, NdAction,
    solicited_node,
};
use crate::time::Instant;
use crate::wire::icmpv6::{
    self, Icmpv6Repr, NdiscRepr, emit_mld_report, mld_report_len, record, unreachable,
};
use crate::wire::ipv6::{
    self as ipv6_wire, HEADER_LEN, Ipv6Repr, MIN_MTU, WalkError, get_ip6, next, param,
};
use crate::wire::{Ipv6Addr, MacAddr, get_u16, proto};

/// What the ICMPv6 hook sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Event {
    /// A ping for us (answered if it was unicast).
    EchoRequest {
        from: Ipv6Addr,
        ident: u16,
        seq: u16,
        len: usize,
    },
    EchoReply {
        from: Ipv6Addr,
        ident: u16,
        seq: u16,
        len: usize,
    },
    /// `next_header`, `dst` and `dst_port` describe the packet of ours that was refused
    /// (as far as the quote shows them).
    Unreachable {
        from: Ipv6Addr,
        code: u8,
        next_header: u8,
        dst: Ipv6Addr,
        dst_port: Option<u16>,
    },
    /// A packet of ours to `dst` exceeded a link's `mtu`; TCP connections to `dst` were
    /// lowered to fit.
    PacketTooBig {
        from: Ipv6Addr,
        mtu: u32,
        dst: Ipv6Addr,
    },
    TimeExceeded {
        from: Ipv6Addr,
        code: u8,
    },
    ParamProblem {
        from: Ipv6Addr,
        code: u8,
        pointer: u32,
    },
    /// Duplicate address detection found `address` in use on the link: it is not used.
    DuplicateAddress {
        address: Ipv6Addr,
    },
}

/// An error quotes as much of the offending packet as fits the minimum MTU (RFC 4443 2.4).
const MAX_QUOTE: usize = MIN_MTU - HEADER_LEN - icmpv6::HEADER_LEN;

impl Interface {
    fn icmpv6_event(&mut self, e: Icmpv6Event) {
        if let Some(hook) = self.icmpv6_hook.as_mut() {
            hook(&e);
        }
    }

    /// Called for every ICMPv6 echo, error and DAD conflict.
    pub fn set_icmpv6_hook(&mut self, hook: Option<super::Icmpv6Hook>) {
        self.icmpv6_hook = hook;
    }

    // ----- configuration -----

    /// Turns IPv6 on (or restarts it): a link-local address always, `static_cfg` if given,
    /// SLAAC from router advertisements if `accept_ra`. Addresses are usable once duplicate
    /// address detection passed (about a second).
    pub fn enable_ipv6(&mut self, static_cfg: Option<Ipv6Config>, accept_ra: bool) {
        self.link.nd.clear();
        self.link.ip6 = Some(Ipv6Host::new(
            Instant::ZERO,
            self.link.mac,
            self.link.mtu,
            self.interface_id,
            static_cfg,
            accept_ra,
        ));
    }

    pub fn disable_ipv6(&mut self) {
        self.link.ip6 = None;
        self.link.nd.clear();
    }

    pub fn ipv6_enabled(&self) -> bool {
        self.link.ip6.is_some()
    }

    /// The host state: addresses, routers, link MTU.
    pub fn ipv6_host(&self) -> Option<&Ipv6Host> {
        self.link.ip6.as_ref()
    }

    /// Every IPv6 address and its state (tentative, preferred, duplicate).
    pub fn ipv6_addresses(&self) -> Vec<AddrInfo> {
        self.link
            .ip6
            .as_ref()
            .map(|h| h.addresses().collect())
            .unwrap_or_default()
    }

    /// Addresses refused because duplicate address detection found them in use.
    pub fn ipv6_duplicates(&self) -> Vec<Ipv6Addr> {
        self.link
            .ip6
            .as_ref()
            .map(|h| h.duplicates.clone())
            .unwrap_or_default()
    }

    /// The neighbour's MAC address if the neighbour cache holds a live entry.
    pub fn nd_lookup(&mut self, now: Instant, ip: Ipv6Addr) -> Option<MacAddr> {
        self.link.nd.lookup(now, ip)
    }

    /// The largest IPv6 packet on the link (the device MTU, or less if a router said so).
    pub fn ipv6_mtu(&self) -> usize {
        self.link.mtu6()
    }

    /// As [`Interface::ipv4_write`] for IPv6.
    pub fn ipv6_write<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        w: &Ip6Write,
        size: Option<usize>,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
    ) -> Result<(), Error> {
        let size = size.unwrap_or(self.link.mtu6().saturating_sub(HEADER_LEN));
        self.link.write6(now, dev, w, size, fill, payloads)
    }

    /// Queues an ICMPv6 echo request; the reply arrives through the ICMPv6 hook. Large
    /// requests are fragmented.
    pub fn icmpv6_echo_request(
        &mut self,
        dst: Ipv6Addr,
        ident: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), Error> {
        let host = self.link.ip6.as_ref().ok_or(Error::NoAddress)?;
        if host.source_for(dst).is_none() {
            return Err(Error::NoAddress);
        }
        let req = Icmpv6Repr::EchoRequest { ident, seq, data };
        if req.buffer_len() > ipv6_wire::MAX_PAYLOAD_LEN - ipv6_wire::FRAGMENT_HEADER_LEN {
            return Err(Error::TooLarge);
        }
        let mut buf = vec![0u8; req.buffer_len()];
        req.emit(&mut buf);
        self.queue(Outgoing::Ip6 {
            w: Ip6Write::new(dst, proto::ICMPV6),
            data: buf,
        })
    }

    // ----- timers -----

    pub(super) fn ipv6_timers(&mut self, now: Instant) {
        let Some(host) = self.link.ip6.as_mut() else {
            return;
        };
        let actions = host.poll(now);
        let ll = host.link_local();
        let hop_limit = host.hop_limit;
        for a in actions {
            match a {
                NdAction::DadProbe(addr) => {
                    let p = self
                        .link
                        .ns_packet(Ipv6Addr::UNSPECIFIED, solicited_node(addr), addr);
                    let _ = self.queue(Outgoing::Raw6 {
                        mac: None,
                        packet: p,
                    });
                }
                NdAction::RouterSolicit => {
                    let Some(src) = ll else { continue };
                    let rs = Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
                        source_mac: Some(self.link.mac),
                    });
                    let p = icmp6_packet(src, ALL_ROUTERS, 255, &rs, false);
                    let _ = self.queue(Outgoing::Raw6 {
                        mac: None,
                        packet: p,
                    });
                }
                NdAction::MldReport(groups) => {
                    // RFC 3590: the unspecified source before a link-local address exists.
                    let src = ll.unwrap_or(Ipv6Addr::UNSPECIFIED);
                    let records: Vec<(u8, Ipv6Addr)> = groups
                        .iter()
                        .map(|g| (record::CHANGE_TO_EXCLUDE, *g))
                        .collect();
                    let mut msg = vec![0u8; mld_report_len(records.len())];
                    emit_mld_report(&mut msg, &records);
                    let p = mld_packet(src, &msg);
                    let _ = self.queue(Outgoing::Raw6 {
                        mac: None,
                        packet: p,
                    });
                }
            }
        }
        let _ = hop_limit;
        let mut retries = Vec::new();
        self.link.nd.poll(now, |ip| retries.push(ip));
        for target in retries {
            let Some(src) = self.link.ip6.as_ref().and_then(|h| h.source_for(target)) else {
                continue;
            };
            let p = self.link.ns_packet(src, solicited_node(target), target);
            let _ = self.queue(Outgoing::Raw6 {
                mac: None,
                packet: p,
            });
        }
    }

    // ----- receive -----

    pub(super) fn receive_ipv6(&mut self, now: Instant, payload: &[u8], trusted: bool) {
        let parsed = ipv6_wire::Packet::new_checked(payload)
            .and_then(|p| Ipv6Repr::parse(&p).map(|r| (p, r)));
        let Ok((packet, ip)) = parsed else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let Some(host) = self.link.ip6.as_ref() else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        if !host.accepts(ip.dst) || ip.src.is_multicast() {
            self.link.stats.rx_dropped += 1;
            return;
        }
        let multicast = ip.dst.is_multicast();
        let walk = match ipv6_wire::walk(ip.next_header, packet.payload(), multicast) {
            Ok(w) => w,
            Err(e) => {
                self.link.stats.ipv6_bad_headers += 1;
                self.link.stats.rx_dropped += 1;
                if let WalkError::ParamProblem { code, pointer } = e
                    && !multicast
                {
                    self.send_icmpv6_error(
                        &ip,
                        packet.bytes(),
                        Icmpv6Repr::ParamProblem {
                            code,
                            pointer,
                            data: &[],
                        },
                    );
                }
                return;
            }
        };
        if let Some(f) = walk.fragment {
            let data = &packet.payload()[walk.offset..];
            let Some(whole) = self
                .reasm
                .process_v6(now, ip.src, ip.dst, f.ident, f.offset, f.more, data)
            else {
                return;
            };
            self.link.stats.reassembled += 1;
            match ipv6_wire::walk(f.next_header, &whole, multicast) {
                Ok(w) if w.fragment.is_none() => {
                    let rx = IpRx::V6 {
                        src: ip.src,
                        dst: ip.dst,
                        packet: None,
                    };
                    self.deliver6(now, &ip, &rx, w.protocol, &whole[w.offset..], false);
                }
                _ => {
                    self.link.stats.ipv6_bad_headers += 1;
                    self.link.stats.rx_dropped += 1;
                }
            }
            return;
        }
        let rx = IpRx::V6 {
            src: ip.src,
            dst: ip.dst,
            packet: Some(packet.bytes()),
        };
        let upper = &packet.payload()[walk.offset..];
        if walk.protocol != proto::TCP
            && walk.protocol != proto::UDP
            && walk.protocol != proto::ICMPV6
            && walk.offset == 0
            && !multicast
        {
            self.link.stats.rx_dropped += 1;
            self.send_icmpv6_error(
                &ip,
                packet.bytes(),
                Icmpv6Repr::ParamProblem {
                    code: param::UNKNOWN_NEXT_HEADER,
                    pointer: 6,
                    data: &[],
                },
            );
            return;
        }
        self.deliver6(now, &ip, &rx, walk.protocol, upper, trusted);
    }

    fn deliver6(
        &mut self,
        now: Instant,
        ip: &Ipv6Repr,
        rx: &IpRx<'_>,
        protocol: u8,
        data: &[u8],
        trusted: bool,
    ) {
        match protocol {
            next::ICMPV6 => self.receive_icmpv6(now, ip, rx, data),
            next::UDP => self.receive_udp(now, rx, data, trusted),
            next::TCP => self.receive_tcp(now, rx, data, trusted),
            _ => self.link.stats.rx_dropped += 1,
        }
    }

    fn receive_icmpv6(&mut self, now: Instant, ip: &Ipv6Repr, rx: &IpRx<'_>, msg: &[u8]) {
        let parsed =
            icmpv6::Packet::new_checked(msg).and_then(|p| Icmpv6Repr::parse(&p, ip.src, ip.dst));
        let Ok(repr) = parsed else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let ours = !ip.dst.is_multicast();
        match repr {
            Icmpv6Repr::EchoRequest { ident, seq, data } => {
                self.icmpv6_event(Icmpv6Event::EchoRequest {
                    from: ip.src,
                    ident,
                    seq,
                    len: data.len(),
                });
                if ours && !ip.src.is_unspecified() {
                    let reply = Icmpv6Repr::EchoReply { ident, seq, data };
                    let mut buf = vec![0u8; reply.buffer_len()];
                    reply.emit(&mut buf);
                    let _ = self.queue(Outgoing::Ip6 {
                        w: Ip6Write {
                            src: Some(ip.dst),
                            ..Ip6Write::new(ip.src, proto::ICMPV6)
                        },
                        data: buf,
                    });
                }
            }
            Icmpv6Repr::EchoReply { ident, seq, data } => {
                self.icmpv6_event(Icmpv6Event::EchoReply {
                    from: ip.src,
                    ident,
                    seq,
                    len: data.len(),
                })
            }
            Icmpv6Repr::DstUnreachable { code, data } => {
                let Some(q) = Quote::parse(data) else { return };
                self.icmpv6_event(Icmpv6Event::Unreachable {
                    from: ip.src,
                    code,
                    next_header: q.next_header,
                    dst: q.dst,
                    dst_port: q.dst_port,
                });
            }
            Icmpv6Repr::PacketTooBig { mtu, data } => {
                let Some(q) = Quote::parse(data) else { return };
                let ours = self.link.ip6.as_ref().is_some_and(|h| h.is_ours(q.src));
                if !ours {
                    return;
                }
                // RFC 8201 4: never below the IPv6 minimum.
                let mtu_bytes = (mtu as usize).max(MIN_MTU);
                self.tcp_path_mtu(q.dst.into(), mtu_bytes - HEADER_LEN - 20);
                self.icmpv6_event(Icmpv6Event::PacketTooBig {
                    from: ip.src,
                    mtu,
                    dst: q.dst,
                });
            }
            Icmpv6Repr::TimeExceeded { code, .. } => {
                self.icmpv6_event(Icmpv6Event::TimeExceeded { from: ip.src, code })
            }
            Icmpv6Repr::ParamProblem { code, pointer, .. } => {
                self.icmpv6_event(Icmpv6Event::ParamProblem {
                    from: ip.src,
                    code,
                    pointer,
                })
            }
            Icmpv6Repr::Ndisc(nd) => {
                // RFC 4861 7.1.1 / 6.1.2: only messages that no router forwarded.
                if ip.hop_limit != 255 {
                    self.link.stats.rx_dropped += 1;
                    return;
                }
                self.receive_ndisc(now, ip, nd);
            }
            Icmpv6Repr::MldQuery { .. } => {
                if let Some(h) = self.link.ip6.as_mut() {
                    h.mld_query(now);
                }
            }
            Icmpv6Repr::MldReport(_) => {}
        }
        let _ = rx;
    }

    fn receive_ndisc(&mut self, now: Instant, ip: &Ipv6Repr, nd: NdiscRepr<'_>) {
        let Some(host) = self.link.ip6.as_mut() else {
            return;
        };
        match nd {
            NdiscRepr::NeighborSolicit { target, source_mac } => {
                if ip.src.is_unspecified() {
                    // Someone's DAD probe (RFC 4862 5.4.3): it must go to the solicited-node
                    // group and carry no link-layer address.
                    if source_mac.is_some() || ip.dst != solicited_node(target) {
                        return;
                    }
                    if host.conflict(target) {
                        self.icmpv6_event(Icmpv6Event::DuplicateAddress { address: target });
                    } else if host.is_ours(target) {
                        self.send_na(ALL_NODES, None, target, false);
                    }
                    return;
                }
                if !host.is_ours(target) {
                    return;
                }
                if let Some(mac) = source_mac.filter(|m| m.is_unicast()) {
                    self.learn(now, ip.src, mac, true);
                }
                let mac = source_mac.or_else(|| self.link.nd.lookup(now, ip.src));
                if let Some(mac) = mac {
                    self.send_na(ip.src, Some(mac), target, true);
                }
            }
            NdiscRepr::NeighborAdvert {
                target,
                target_mac,
                solicited,
                ..
            } => {
                if host.conflict(target) {
                    self.icmpv6_event(Icmpv6Event::DuplicateAddress { address: target });
                    return;
                }
                if host.is_ours(target) {
                    return;
                }
                if let Some(mac) = target_mac.filter(|m| m.is_unicast()) {
                    self.learn(now, target, mac, solicited);
                }
            }
            NdiscRepr::RouterAdvert {
                hop_limit,
                router_lifetime,
                options,
                ..
            } => {
                if !ip.src.is_unicast_link_local() {
                    return;
                }
                host.process_ra(
                    now,
                    ip.src,
                    router_lifetime,
                    hop_limit,
                    options.mtu(),
                    options.prefixes(),
                );
                if let Some(mac) = options.source_mac().filter(|m| m.is_unicast()) {
                    self.learn(now, ip.src, mac, true);
                }
            }
            NdiscRepr::RouterSolicit { .. } => {}
        }
    }

    /// Records `ip` at `mac` (creating an entry only if `create`) and releases packets that
    /// waited for it.
    fn learn(&mut self, now: Instant, ip: Ipv6Addr, mac: MacAddr, create: bool) {
        if !create && !self.link.nd.contains(ip) {
            return;
        }
        if let Some(q) = self.link.nd.insert(now, ip, mac) {
            self.link.backlog.extend(q.into_iter().map(|p| (mac, p)));
        }
    }

    /// A neighbour advertisement for our `target` to `dst` (at `mac`, or multicast).
    fn send_na(&mut self, dst: Ipv6Addr, mac: Option<MacAddr>, target: Ipv6Addr, solicited: bool) {
        let na = Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
            router: false,
            solicited,
            override_: true,
            target,
            target_mac: Some(self.link.mac),
        });
        let p = icmp6_packet(target, dst, 255, &na, false);
        let _ = self.queue(Outgoing::Raw6 { mac, packet: p });
    }

    /// Reports an undeliverable packet to its sender (never about ICMPv6 errors, never to a
    /// multicast or unspecified source). `original` is the whole packet, or `None` to quote a
    /// rebuilt header and `upper`.
    pub(super) fn send_icmpv6_error(
        &mut self,
        ip: &Ipv6Repr,
        original: &[u8],
        msg: Icmpv6Repr<'_>,
    ) {
        if ip.src.is_unspecified() || ip.src.is_multicast() || ip.dst.is_multicast() {
            return;
        }
        let Some(host) = self.link.ip6.as_ref() else {
            return;
        };
        if !host.is_ours(ip.dst) {
            return;
        }
        let quoted = &original[..original.len().min(MAX_QUOTE)];
        let msg = match msg {
            Icmpv6Repr::DstUnreachable { code, .. } => {
                Icmpv6Repr::DstUnreachable { code, data: quoted }
            }
            Icmpv6Repr::ParamProblem { code, pointer, .. } => Icmpv6Repr::ParamProblem {
                code,
                pointer,
                data: quoted,
            },
            Icmpv6Repr::TimeExceeded { code, .. } => {
                Icmpv6Repr::TimeExceeded { code, data: quoted }
            }
            Icmpv6Repr::PacketTooBig { mtu, .. } => Icmpv6Repr::PacketTooBig { mtu, data: quoted },
            _ => return,
        };
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        let _ = self.queue(Outgoing::Ip6 {
            w: Ip6Write {
                src: Some(ip.dst),
                ..Ip6Write::new(ip.src, proto::ICMPV6)
            },
            data: buf,
        });
    }

    /// Port unreachable for a UDP datagram nobody listens to.
    pub(super) fn send_port_unreachable6(&mut self, rx: &IpRx<'_>, upper: &[u8]) {
        let IpRx::V6 { src, dst, packet } = *rx else {
            return;
        };
        let ip = Ipv6Repr {
            src,
            dst,
            next_header: proto::UDP,
            payload_len: upper.len(),
            hop_limit: 64,
        };
        let rebuilt;
        let original = match packet {
            Some(p) => p,
            None => {
                let mut b = vec![0u8; HEADER_LEN + upper.len().min(MAX_QUOTE)];
                ip.emit(&mut b);
                b[HEADER_LEN..].copy_from_slice(&upper[..upper.len().min(MAX_QUOTE)]);
                rebuilt = b;
                &rebuilt
            }
        };
        self.send_icmpv6_error(
            &ip,
            original,
            Icmpv6Repr::DstUnreachable {
                code: unreachable::PORT,
                data: &[],
            },
        );
    }
}

/// What an ICMPv6 error's quote tells about the packet it refers to.
struct Quote {
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: u8,
    dst_port: Option<u16>,
}

impl Quote {
    fn parse(data: &[u8]) -> Option<Quote> {
        if data.len() < HEADER_LEN || data[0] >> 4 != 6 {
            return None;
        }
        let nh = data[6];
        let rest = &data[HEADER_LEN..];
        // The quote may be cut anywhere: walk what is there, read ports if they fit.
        let (next_header, dst_port) = match ipv6_wire::walk(nh, rest, false) {
            Ok(w) if w.fragment.is_none() => (
                w.protocol,
                (matches!(w.protocol, proto::TCP | proto::UDP) && rest.len() >= w.offset + 4)
                    .then(|| get_u16(rest, w.offset + 2)),
            ),
            _ => (nh, None),
        };
        Some(Quote {
            src: get_ip6(data, 8),
            dst: get_ip6(data, 24),
            next_header,
            dst_port,
        })
    }
}

/// An MLDv2 report (`msg`, checksum unset) in a packet to all MLDv2 routers: hop limit 1,
/// router alert.
fn mld_packet(src: Ipv6Addr, msg: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; HEADER_LEN + 8 + msg.len()];
    Ipv6Repr {
        src,
        dst: ALL_MLDV2_ROUTERS,
        next_header: next::HOP_BY_HOP,
        payload_len: 8 + msg.len(),
        hop_limit: 1,
    }
    .emit(&mut p);
    ipv6_wire::emit_router_alert(&mut p[HEADER_LEN..], proto::ICMPV6);
    p[HEADER_LEN + 8..].copy_from_slice(msg);
    icmpv6::fill_checksum(&mut p[HEADER_LEN + 8..], src, ALL_MLDV2_ROUTERS);
    p
}
