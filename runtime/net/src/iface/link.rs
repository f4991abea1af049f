//! Everything below the transports: neighbour resolution and the IPv4 write path.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

use super::Error;
use crate::arp::{ArpCache, Queued};
use crate::device::Device;
use crate::ethernet;
use crate::ipv4::{Ipv4Config, fragments};
use crate::ipv6::{Ipv6Host, multicast_mac};
use crate::time::Instant;
use crate::wire::arp::{ArpRepr, Operation};
use crate::wire::ethernet::{EthernetRepr, HEADER_LEN as ETHERNET_HEADER, ethertype};
use crate::wire::icmpv6;
use crate::wire::ipv4::{HEADER_LEN, Ipv4Repr, MAX_PACKET_LEN};
use crate::wire::ipv6::{
    self as ipv6_wire, FRAGMENT_HEADER_LEN, FragmentRepr, HEADER_LEN as HEADER6_LEN, Ipv6Repr,
};
use crate::wire::{IpAddr, Ipv4Addr, Ipv6Addr, MacAddr, checksum, proto, put_u16, tcp, udp};

/// Per-packet options of [`super::Interface::ipv4_write`], after the seeds' `Ipv4.write`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpWrite {
    pub dst: Ipv4Addr,
    pub protocol: u8,
    /// Source address; defaults to the interface address.
    pub src: Option<Ipv4Addr>,
    /// Defaults to the interface TTL.
    pub ttl: Option<u8>,
    /// May the packet be fragmented? When false, DF is set and an oversized packet is an error.
    pub fragment: bool,
}

impl IpWrite {
    pub fn new(dst: Ipv4Addr, protocol: u8) -> IpWrite {
        IpWrite {
            dst,
            protocol,
            src: None,
            ttl: None,
            fragment: true,
        }
    }
}

/// Per-packet options of an IPv6 write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ip6Write {
    pub dst: Ipv6Addr,
    /// The upper-layer protocol.
    pub next_header: u8,
    /// Source address; defaults to the best address of ours for `dst`. The unspecified
    /// address is allowed (DAD probes, early MLD reports).
    pub src: Option<Ipv6Addr>,
    /// Defaults to the interface's hop limit.
    pub hop_limit: Option<u8>,
    /// May the packet be fragmented (by this host: IPv6 routers never fragment)?
    pub fragment: bool,
    /// Prepend a hop-by-hop header with the MLD router alert.
    pub router_alert: bool,
}

impl Ip6Write {
    pub fn new(dst: Ipv6Addr, next_header: u8) -> Ip6Write {
        Ip6Write {
            dst,
            next_header,
            src: None,
            hop_limit: None,
            fragment: true,
            router_alert: false,
        }
    }
}

enum Hop<A> {
    Mac(MacAddr),
    Pending(A),
}

/// Where packets to an address stand with its next hop ([`super::Interface::neighbour`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Neighbour {
    /// Its link address is known (or needs no resolution): packets go out at once.
    Known,
    /// Being resolved: packets wait in the queue.
    Resolving,
    /// Resolution gave up (its queued packets were dropped), or there is no route.
    Unreachable,
}

/// Counters for the whole interface, and the memory it holds now ([`super::Interface::stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub rx_frames: u64,
    /// Frames or packets dropped as malformed, misaddressed, or unhandled.
    pub rx_dropped: u64,
    pub tx_frames: u64,
    /// Packets dropped on the way out (no route, no address, too large).
    pub tx_dropped: u64,
    pub reassembled: u64,
    pub fragments_sent: u64,
    /// IPv6 packets dropped for their extension headers (malformed, too long a chain).
    pub ipv6_bad_headers: u64,

    // TCP listeners under load.
    /// Connections taken from listeners by `tcp_accept`.
    pub tcp_accepted: u64,
    /// SYNs received for a listening port.
    pub syn_received: u64,
    /// SYN-ACKs sent as SYN cookies, and connections their returning ACK created.
    pub syn_cookies_sent: u64,
    pub syn_cookies_accepted: u64,
    /// ACKs to a listener sending cookies that carried no valid cookie (answered with RST).
    pub syn_cookies_rejected: u64,
    /// Half-open connections evicted (oldest first) for a new SYN, with cookies off.
    pub half_open_evicted: u64,
    /// Half-open connections dropped after their SYN-ACK retries.
    pub half_open_timed_out: u64,
    /// SYNs dropped because the accept queue was full.
    pub syn_dropped: u64,
    /// Handshakes refused because the TCP memory budget was spent.
    pub tcp_memory_refused: u64,
    /// RFC 5961: challenge ACKs sent and rate-limited, segments dropped for an ACK too old
    /// (totals over all connections, closed ones included).
    pub challenge_acks: u64,
    pub challenge_acks_suppressed: u64,
    pub old_acks_dropped: u64,

    // Memory held now.
    pub tcp_connections: u64,
    pub tcp_half_open: u64,
    /// Buffer bytes reserved against `Config::tcp_memory` and actually allocated.
    pub tcp_memory_reserved: u64,
    pub tcp_buffer_bytes: u64,
    /// Bytes received in order but not yet read, and held out of order.
    pub tcp_rx_queued: u64,
    pub tcp_out_of_order: u64,
    /// Fragment content held for IPv4 reassembly (bounded by the reassembly capacity).
    pub reassembly_bytes: u64,
    /// Datagram bytes waiting in UDP receive queues.
    pub udp_queued: u64,
}

pub(super) struct Link {
    pub mac: MacAddr,
    pub mtu: usize,
    pub ttl: u8,
    pub ip: Option<Ipv4Config>,
    pub arp: ArpCache,
    pub ident: u16,
    /// Complete IPv4 packets whose next hop is known but which the device refused (or which
    /// ARP just released); sent before anything else.
    pub backlog: VecDeque<(MacAddr, Vec<u8>)>,
    pub stats: Stats,
    /// IPv6: `None` while disabled.
    pub ip6: Option<Ipv6Host>,
    /// The IPv6 neighbour cache (neighbour discovery shares ARP's bounds and queueing).
    pub nd: ArpCache<Ipv6Addr>,
    pub ident6: u32,
}

/// Computes the transport checksum of a complete segment in place, as checksum offload would.
fn transport_checksum(
    protocol: u8,
    seg: &mut [u8],
    src: impl Into<IpAddr>,
    dst: impl Into<IpAddr>,
) {
    let (src, dst) = (src.into(), dst.into());
    match protocol {
        proto::UDP if seg.len() >= udp::HEADER_LEN => {
            put_u16(seg, 6, 0);
            let c = udp::checksum_field(seg, src, dst);
            put_u16(seg, 6, c);
        }
        proto::TCP if seg.len() >= tcp::HEADER_LEN => tcp::fill_checksum(seg, src, dst),
        proto::ICMPV6 if seg.len() >= 4 => {
            if let (IpAddr::V6(s), IpAddr::V6(d)) = (src, dst) {
                icmpv6::fill_checksum(seg, s, d);
            }
        }
        proto::ICMP if seg.len() >= 4 => {
            put_u16(seg, 2, 0);
            let c = checksum::checksum(seg);
            put_u16(seg, 2, c);
        }
        _ => {}
    }
}

/// The TCP segment of a TSO frame, in `t` (behind the IP header): the header by `fill` (at
/// most `size` bytes), then `payloads`, and the pseudo-header sum in the checksum field for
/// the device to complete. Returns the segment's length.
fn tso_segment(
    t: &mut [u8],
    size: usize,
    fill: impl FnOnce(&mut [u8]) -> usize,
    payloads: &[&[u8]],
    src: impl Into<IpAddr>,
    dst: impl Into<IpAddr>,
) -> usize {
    let mut at = fill(&mut t[..size]).min(size);
    for p in payloads {
        t[at..at + p.len()].copy_from_slice(p);
        at += p.len();
    }
    let partial = checksum::pseudo_header(src, dst, proto::TCP, at as u16).fold();
    put_u16(t, 16, partial);
    at
}

impl Link {
    fn next_ident(&mut self) -> u16 {
        self.ident = self.ident.wrapping_add(1);
        self.ident
    }

    fn hop(&mut self, now: Instant, dst: Ipv4Addr) -> Result<Hop<Ipv4Addr>, Error> {
        if dst.is_broadcast() {
            return Ok(Hop::Mac(MacAddr::BROADCAST));
        }
        if dst.is_multicast() {
            // RFC 1112 6.4: 01:00:5e plus the low 23 bits of the group.
            let o = dst.octets();
            return Ok(Hop::Mac(MacAddr([
                0x01,
                0x00,
                0x5e,
                o[1] & 0x7f,
                o[2],
                o[3],
            ])));
        }
        let ip = self.ip.ok_or(Error::NoAddress)?;
        if ip.prefix_len < 31 && dst == ip.broadcast() {
            return Ok(Hop::Mac(MacAddr::BROADCAST));
        }
        if dst == ip.address {
            return Err(Error::NoRoute);
        }
        let hop = ip.next_hop(dst).ok_or(Error::NoRoute)?;
        Ok(match self.arp.lookup(now, hop) {
            Some(mac) => Hop::Mac(mac),
            None => Hop::Pending(hop),
        })
    }

    pub fn send_arp<D: Device>(
        &mut self,
        dev: &mut D,
        dst_mac: MacAddr,
        repr: &ArpRepr,
    ) -> Result<(), Error> {
        ethernet::write(dev, self.mac, dst_mac, ethertype::ARP, 28, |b| repr.emit(b))
            .map_err(|_| Error::WouldBlock)?;
        self.stats.tx_frames += 1;
        Ok(())
    }

    pub fn arp_request(&self, target: Ipv4Addr) -> Option<ArpRepr> {
        let ip = self.ip?;
        Some(ArpRepr {
            operation: Operation::Request,
            sender_mac: self.mac,
            sender_ip: ip.address,
            target_mac: MacAddr::ZERO,
            target_ip: target,
        })
    }

    /// Sends a complete IPv4 or IPv6 packet (told apart by its version) to a known neighbour.
    pub fn send_packet<D: Device>(
        &mut self,
        dev: &mut D,
        mac: MacAddr,
        packet: &[u8],
    ) -> Result<(), Error> {
        let et = if packet.first().is_some_and(|b| b >> 4 == 6) {
            ethertype::IPV6
        } else {
            ethertype::IPV4
        };
        ethernet::write(dev, self.mac, mac, et, packet.len(), |b| {
            b[..packet.len()].copy_from_slice(packet);
            packet.len()
        })
        .map_err(|_| Error::WouldBlock)?;
        self.stats.tx_frames += 1;
        Ok(())
    }

    /// Sends what the device refused earlier; `WouldBlock` if it still refuses.
    pub fn flush_backlog<D: Device>(&mut self, dev: &mut D) -> Result<(), Error> {
        while let Some((mac, packet)) = self.backlog.pop_front() {
            if let Err(e) = self.send_packet(dev, mac, &packet) {
                self.backlog.push_front((mac, packet));
                return Err(e);
            }
        }
        Ok(())
    }

    /// Whether a TCP segment to `dst` can go out whole for the device to segment (TSO): the
    /// device offers it and the next hop is resolved.
    pub fn tso_ready<D: Device>(&mut self, now: Instant, dev: &D, dst: Ipv4Addr) -> bool {
        dev.tso_max() > self.mtu && matches!(self.hop(now, dst), Ok(Hop::Mac(_)))
    }

    /// The TCP write path for segments larger than the MTU, on a device with TSO: one frame,
    /// built in the device's buffer with DF set and the pseudo-header sum in the TCP checksum
    /// field, which the device cuts into `mss`-byte segments. `fill` and `payloads` as in
    /// [`Link::write`]. Fails with `NoRoute` unless [`Link::tso_ready`] held.
    #[allow(clippy::too_many_arguments)]
    pub fn write_tso<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        dst: Ipv4Addr,
        src: Ipv4Addr,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
        mss: usize,
    ) -> Result<(), Error> {
        let plen: usize = payloads.iter().map(|p| p.len()).sum();
        let max_len = size + plen;
        if HEADER_LEN + max_len > dev.tso_max().min(MAX_PACKET_LEN) {
            return Err(Error::TooLarge);
        }
        let Ok(Hop::Mac(mac)) = self.hop(now, dst) else {
            return Err(Error::NoRoute);
        };
        let mut repr = Ipv4Repr {
            src,
            dst,
            protocol: proto::TCP,
            payload_len: 0,
            ttl: self.ttl,
            ident: self.ident.wrapping_add(1),
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        };
        let our_mac = self.mac;
        dev.write_tso(ETHERNET_HEADER + HEADER_LEN + max_len, mss, |b| {
            EthernetRepr {
                src: our_mac,
                dst: mac,
                ethertype: ethertype::IPV4,
            }
            .emit(b);
            let ip = &mut b[ETHERNET_HEADER..];
            let at = tso_segment(&mut ip[HEADER_LEN..], size, fill, payloads, src, dst);
            repr.payload_len = at;
            repr.emit(ip);
            ETHERNET_HEADER + HEADER_LEN + at
        })
        .map_err(|_| Error::WouldBlock)?;
        // The device gives each segment its own identification, counting up from this one.
        self.ident = self
            .ident
            .wrapping_add(plen.div_ceil(mss.max(1)).max(1) as u16);
        self.stats.tx_frames += 1;
        Ok(())
    }

    /// The IPv4 write path. `fill` writes the transport header (at most `size` bytes) and
    /// returns its length; `payloads` follow it. The transport checksum (UDP, TCP, ICMP) is
    /// computed over the assembled segment. Small packets to a resolved neighbour are built
    /// directly in the device's buffer; the rest is assembled once, then fragmented or queued
    /// for ARP. `WouldBlock` means the device refused and nothing was consumed.
    pub fn write<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        w: &IpWrite,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
    ) -> Result<(), Error> {
        let src = match w.src {
            Some(s) => s,
            None => self.ip.ok_or(Error::NoAddress)?.address,
        };
        let plen: usize = payloads.iter().map(|p| p.len()).sum();
        let max_len = size + plen;
        if max_len > MAX_PACKET_LEN - HEADER_LEN {
            return Err(Error::TooLarge);
        }
        let hop = self.hop(now, w.dst)?;
        let mut repr = Ipv4Repr {
            src,
            dst: w.dst,
            protocol: w.protocol,
            payload_len: 0,
            ttl: w.ttl.unwrap_or(self.ttl),
            ident: 0,
            dont_frag: !w.fragment,
            more_frags: false,
            frag_offset: 0,
        };
        let assemble = |t: &mut [u8]| {
            let n = fill(&mut t[..size]).min(size);
            let mut at = n;
            for p in payloads {
                t[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            transport_checksum(w.protocol, &mut t[..at], src, w.dst);
            at
        };

        if let Hop::Mac(mac) = hop
            && HEADER_LEN + max_len <= self.mtu
        {
            repr.ident = self.ident.wrapping_add(1);
            ethernet::write(
                dev,
                self.mac,
                mac,
                ethertype::IPV4,
                HEADER_LEN + max_len,
                |b| {
                    let len = assemble(&mut b[HEADER_LEN..]);
                    repr.payload_len = len;
                    repr.emit(b);
                    HEADER_LEN + len
                },
            )
            .map_err(|_| Error::WouldBlock)?;
            self.next_ident();
            self.stats.tx_frames += 1;
            return Ok(());
        }

        let mut seg = vec![0u8; max_len];
        let len = assemble(&mut seg);
        seg.truncate(len);
        if HEADER_LEN + len > self.mtu && !w.fragment {
            return Err(Error::TooLarge);
        }
        repr.ident = self.next_ident();
        let mut packets = fragments(len, self.mtu).map(|(off, flen, more)| {
            let mut r = repr;
            r.payload_len = flen;
            r.frag_offset = off;
            r.more_frags = more;
            let mut p = vec![0u8; HEADER_LEN + flen];
            r.emit(&mut p);
            p[HEADER_LEN..].copy_from_slice(&seg[off..off + flen]);
            p
        });
        let count = fragments(len, self.mtu).count();
        if count > 1 {
            self.stats.fragments_sent += count as u64;
        }
        match hop {
            Hop::Mac(mac) => {
                // Once the first fragment is out the packet is committed: the device's refusals
                // go to the backlog rather than failing half a packet.
                if let Some(first) = packets.next() {
                    self.send_packet(dev, mac, &first)?;
                }
                for p in packets {
                    if !self.backlog.is_empty() || self.send_packet(dev, mac, &p).is_err() {
                        self.backlog.push_back((mac, p));
                    }
                }
            }
            Hop::Pending(next) => {
                for p in packets {
                    if self.arp.queue(now, next, p) == Queued::SendRequest
                        && let Some(req) = self.arp_request(next)
                    {
                        // If the device refuses, the ARP retry timer asks again.
                        let _ = self.send_arp(dev, MacAddr::BROADCAST, &req);
                    }
                }
            }
        }
        Ok(())
    }

    fn hop6(&mut self, now: Instant, dst: Ipv6Addr) -> Result<Hop<Ipv6Addr>, Error> {
        if dst.is_multicast() {
            return Ok(Hop::Mac(multicast_mac(dst)));
        }
        let host = self.ip6.as_ref().ok_or(Error::NoAddress)?;
        if host.is_ours(dst) {
            return Err(Error::NoRoute);
        }
        let next = host.next_hop(dst).ok_or(Error::NoRoute)?;
        Ok(match self.nd.lookup(now, next) {
            Some(mac) => Hop::Mac(mac),
            None => Hop::Pending(next),
        })
    }

    pub fn neighbour(&mut self, now: Instant, dst: IpAddr) -> Neighbour {
        match dst {
            IpAddr::V4(ip) => match self.hop(now, ip) {
                Ok(Hop::Mac(_)) => Neighbour::Known,
                Ok(Hop::Pending(next)) if self.arp.contains(next) => Neighbour::Resolving,
                _ => Neighbour::Unreachable,
            },
            IpAddr::V6(ip) => match self.hop6(now, ip) {
                Ok(Hop::Mac(_)) => Neighbour::Known,
                Ok(Hop::Pending(next)) if self.nd.contains(next) => Neighbour::Resolving,
                _ => Neighbour::Unreachable,
            },
        }
    }

    /// The largest IPv6 packet on the link.
    pub fn mtu6(&self) -> usize {
        self.ip6.as_ref().map_or(self.mtu, |h| h.mtu.min(self.mtu))
    }

    /// A neighbour solicitation for `target` as a complete IPv6 packet: multicast to its
    /// solicited-node group (or unicast to `dst`); from `src`, carrying our link-layer
    /// address unless `src` is unspecified (a DAD probe).
    pub fn ns_packet(&self, src: Ipv6Addr, dst: Ipv6Addr, target: Ipv6Addr) -> Vec<u8> {
        let ns = icmpv6::Icmpv6Repr::Ndisc(icmpv6::NdiscRepr::NeighborSolicit {
            target,
            source_mac: (!src.is_unspecified()).then_some(self.mac),
        });
        icmp6_packet(src, dst, 255, &ns, false)
    }

    /// Resolves `target` by a multicast solicitation (sent now, or left to the retry timer
    /// if the device refuses).
    fn solicit<D: Device>(&mut self, dev: &mut D, target: Ipv6Addr) {
        let Some(src) = self.ip6.as_ref().and_then(|h| h.source_for(target)) else {
            return;
        };
        let group = crate::ipv6::solicited_node(target);
        let p = self.ns_packet(src, group, target);
        let _ = self.send_packet(dev, multicast_mac(group), &p);
    }

    /// As [`Link::tso_ready`], for a TCP segment to an IPv6 destination.
    pub fn tso_ready6<D: Device>(&mut self, now: Instant, dev: &D, dst: Ipv6Addr) -> bool {
        dev.tso_max() > self.mtu6() && matches!(self.hop6(now, dst), Ok(Hop::Mac(_)))
    }

    /// As [`Link::write_tso`], over IPv6: the fixed header for the whole packet, TCP right
    /// behind it (no extension headers, so the device finds the TCP header at a fixed
    /// offset), the IPv6 pseudo-header sum in the checksum field. Fails with `NoRoute`
    /// unless [`Link::tso_ready6`] held.
    #[allow(clippy::too_many_arguments)]
    pub fn write_tso6<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        dst: Ipv6Addr,
        src: Ipv6Addr,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
        mss: usize,
    ) -> Result<(), Error> {
        let host = self.ip6.as_ref().ok_or(Error::NoAddress)?;
        let hop_limit = host.hop_limit;
        let plen: usize = payloads.iter().map(|p| p.len()).sum();
        let max_len = size + plen;
        if HEADER6_LEN + max_len > dev.tso_max().min(HEADER6_LEN + ipv6_wire::MAX_PAYLOAD_LEN) {
            return Err(Error::TooLarge);
        }
        let Ok(Hop::Mac(mac)) = self.hop6(now, dst) else {
            return Err(Error::NoRoute);
        };
        let mut repr = Ipv6Repr {
            src,
            dst,
            next_header: proto::TCP,
            payload_len: 0,
            hop_limit,
        };
        let our_mac = self.mac;
        dev.write_tso(ETHERNET_HEADER + HEADER6_LEN + max_len, mss, |b| {
            EthernetRepr {
                src: our_mac,
                dst: mac,
                ethertype: ethertype::IPV6,
            }
            .emit(b);
            let ip = &mut b[ETHERNET_HEADER..];
            let at = tso_segment(&mut ip[HEADER6_LEN..], size, fill, payloads, src, dst);
            repr.payload_len = at;
            repr.emit(ip);
            ETHERNET_HEADER + HEADER6_LEN + at
        })
        .map_err(|_| Error::WouldBlock)?;
        self.stats.tx_frames += 1;
        Ok(())
    }

    /// The IPv6 write path, as [`Link::write`] for IPv4: `fill` writes the upper-layer
    /// header, `payloads` follow, the checksum (UDP, TCP, ICMPv6) is computed with the IPv6
    /// pseudo-header; a packet over the link MTU gets fragment headers when `w.fragment`
    /// allows, and waits for neighbour discovery when the next hop is unresolved.
    pub fn write6<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        w: &Ip6Write,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
    ) -> Result<(), Error> {
        let host = self.ip6.as_ref().ok_or(Error::NoAddress)?;
        let src = match w.src {
            Some(s) => s,
            None => host.source_for(w.dst).ok_or(Error::NoAddress)?,
        };
        let hop_limit = w.hop_limit.unwrap_or(host.hop_limit);
        let mtu = self.mtu6();
        let ext = if w.router_alert { 8 } else { 0 };
        let plen: usize = payloads.iter().map(|p| p.len()).sum();
        let max_len = size + plen;
        if ext + max_len > ipv6_wire::MAX_PAYLOAD_LEN - FRAGMENT_HEADER_LEN {
            return Err(Error::TooLarge);
        }
        let hop = self.hop6(now, w.dst)?;
        let repr = Ipv6Repr {
            src,
            dst: w.dst,
            next_header: if w.router_alert {
                ipv6_wire::next::HOP_BY_HOP
            } else {
                w.next_header
            },
            payload_len: 0,
            hop_limit,
        };
        let (nh, dst) = (w.next_header, w.dst);
        let assemble = |t: &mut [u8]| {
            let n = fill(&mut t[..size]).min(size);
            let mut at = n;
            for p in payloads {
                t[at..at + p.len()].copy_from_slice(p);
                at += p.len();
            }
            transport_checksum(nh, &mut t[..at], src, dst);
            at
        };
        if let Hop::Mac(mac) = hop
            && HEADER6_LEN + ext + max_len <= mtu
        {
            ethernet::write(
                dev,
                self.mac,
                mac,
                ethertype::IPV6,
                HEADER6_LEN + ext + max_len,
                |b| {
                    if ext > 0 {
                        ipv6_wire::emit_router_alert(&mut b[HEADER6_LEN..], nh);
                    }
                    let len = assemble(&mut b[HEADER6_LEN + ext..]);
                    let mut r = repr;
                    r.payload_len = ext + len;
                    r.emit(b);
                    HEADER6_LEN + ext + len
                },
            )
            .map_err(|_| Error::WouldBlock)?;
            self.stats.tx_frames += 1;
            return Ok(());
        }
        let mut seg = vec![0u8; ext + max_len];
        if ext > 0 {
            ipv6_wire::emit_router_alert(&mut seg, nh);
        }
        let len = ext + assemble(&mut seg[ext..]);
        seg.truncate(len);
        let packets: Vec<Vec<u8>> = if HEADER6_LEN + len <= mtu {
            let mut p = vec![0u8; HEADER6_LEN + len];
            let mut r = repr;
            r.payload_len = len;
            r.emit(&mut p);
            p[HEADER6_LEN..].copy_from_slice(&seg);
            vec![p]
        } else {
            if !w.fragment || ext > 0 {
                return Err(Error::TooLarge);
            }
            self.ident6 = self.ident6.wrapping_add(1);
            let ident = self.ident6;
            let step = (mtu.saturating_sub(HEADER6_LEN + FRAGMENT_HEADER_LEN) / 8 * 8).max(8);
            let mut out = Vec::new();
            let mut off = 0;
            while off < len {
                let flen = step.min(len - off);
                let mut p = vec![0u8; HEADER6_LEN + FRAGMENT_HEADER_LEN + flen];
                let mut r = repr;
                r.next_header = ipv6_wire::next::FRAGMENT;
                r.payload_len = FRAGMENT_HEADER_LEN + flen;
                r.emit(&mut p);
                FragmentRepr {
                    next_header: nh,
                    offset: off,
                    more: off + flen < len,
                    ident,
                }
                .emit(&mut p[HEADER6_LEN..]);
                p[HEADER6_LEN + FRAGMENT_HEADER_LEN..].copy_from_slice(&seg[off..off + flen]);
                out.push(p);
                off += flen;
            }
            self.stats.fragments_sent += out.len() as u64;
            out
        };
        match hop {
            Hop::Mac(mac) => {
                let mut it = packets.into_iter();
                if let Some(first) = it.next() {
                    self.send_packet(dev, mac, &first)?;
                }
                for p in it {
                    if !self.backlog.is_empty() || self.send_packet(dev, mac, &p).is_err() {
                        self.backlog.push_back((mac, p));
                    }
                }
            }
            Hop::Pending(next) => {
                for p in packets {
                    if self.nd.queue(now, next, p) == Queued::SendRequest {
                        self.solicit(dev, next);
                    }
                }
            }
        }
        Ok(())
    }
}

/// A complete IPv6 packet carrying one ICMPv6 message (with an optional router-alert
/// hop-by-hop header, for MLD).
pub(super) fn icmp6_packet(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    msg: &icmpv6::Icmpv6Repr<'_>,
    router_alert: bool,
) -> Vec<u8> {
    let ext = if router_alert { 8 } else { 0 };
    let len = msg.buffer_len();
    let mut p = vec![0u8; HEADER6_LEN + ext + len];
    Ipv6Repr {
        src,
        dst,
        next_header: if router_alert {
            ipv6_wire::next::HOP_BY_HOP
        } else {
            proto::ICMPV6
        },
        payload_len: ext + len,
        hop_limit,
    }
    .emit(&mut p);
    if router_alert {
        ipv6_wire::emit_router_alert(&mut p[HEADER6_LEN..], proto::ICMPV6);
    }
    msg.emit_checked(&mut p[HEADER6_LEN + ext..], src, dst);
    p
}
