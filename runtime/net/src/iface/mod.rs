//! The sans-IO driver: frames in through [`Interface::receive`], frames out through
//! [`Interface::transmit`], timers exposed by [`Interface::poll_at`], and a socket API.

mod cookie;
mod icmp;
mod icmp6;
mod link;
mod tcp;
mod udp;

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

pub use icmp::IcmpEvent;
pub use icmp6::Icmpv6Event;
pub use link::{Ip6Write, IpWrite, Neighbour, Stats};
pub use tcp::{TcpHandle, TcpListener};
pub use udp::UdpHandle;

use self::link::Link;
use crate::arp::{ArpCache, ArpConfig};
use crate::device::Device;
use crate::dhcp::{self, DhcpClient, DhcpEvent, DhcpState, Lease};
use crate::ethernet;
use crate::ipv4::{DEFAULT_TTL, Ipv4Config, Reassembler};
use crate::ipv6::{InterfaceId, Ipv6Config, Ipv6Host};
use crate::rng::Rng;
use crate::tcp::{TcpConfig, TcpError};
use crate::time::{Duration, Instant, earliest};
use crate::wire::arp::{self as arp_wire, ArpRepr, Operation};
use crate::wire::ethernet::ethertype;
use crate::wire::ipv4::{self as ipv4_wire, Ipv4Repr};
use crate::wire::udp::UdpRepr;
use crate::wire::{IpAddr, Ipv4Addr, Ipv6Addr, MacAddr, proto};

/// RFC 5227: two announcements, two seconds apart.
const ANNOUNCE_COUNT: u8 = 2;
const ANNOUNCE_INTERVAL: Duration = Duration::from_secs(2);

/// Errors of the socket and write APIs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Not possible now (buffer full or empty, device busy); retry after the stack progressed.
    WouldBlock,
    /// The local side closed this socket's sending direction, or the socket is gone.
    Closed,
    Reset,
    Refused,
    TimedOut,
    /// The handle does not name a live socket.
    InvalidHandle,
    AddrInUse,
    /// The interface has no address (of the destination's family) yet.
    NoAddress,
    /// No gateway for a destination off the local network.
    NoRoute,
    /// The packet exceeds what may be sent (DF set, or over 64 KiB).
    TooLarge,
    /// No free ephemeral port.
    Exhausted,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<TcpError> for Error {
    fn from(e: TcpError) -> Error {
        match e {
            TcpError::WouldBlock => Error::WouldBlock,
            TcpError::Refused => Error::Refused,
            TcpError::Reset => Error::Reset,
            TcpError::TimedOut => Error::TimedOut,
            TcpError::Closed => Error::Closed,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub mac: MacAddr,
    /// The device MTU: the largest IPv4 packet, Ethernet header excluded.
    pub mtu: usize,
    /// A static address; `None` runs the DHCP client.
    pub ipv4: Option<Ipv4Config>,
    /// Seeds initial sequence numbers, ephemeral ports and DHCP transaction ids. Use a value
    /// that differs per boot (e.g. from the wall clock).
    pub seed: u64,
    pub ttl: u8,
    pub tcp: TcpConfig,
    pub arp: ArpConfig,
    /// Bytes of datagrams each UDP socket holds before dropping new ones.
    pub udp_recv_buffer: usize,
    /// Packets (replies, RSTs, UDP, DHCP) waiting for `transmit`.
    pub tx_queue: usize,
    /// Global bound on TCP buffer memory: each connection past its handshake reserves its
    /// send and receive buffer sizes; handshakes that do not fit are refused (RST), and
    /// `tcp_connect` fails with `Exhausted`. Half-open connections hold no buffers.
    pub tcp_memory: usize,
    /// Run IPv6: a link-local address always, `ipv6` if set, SLAAC if `accept_ra`.
    pub ipv6_enabled: bool,
    /// A static IPv6 address (implies `ipv6_enabled`).
    pub ipv6: Option<Ipv6Config>,
    /// Form addresses from router advertisements and use their routers.
    pub accept_ra: bool,
    pub interface_id: InterfaceId,
}

impl Config {
    /// Defaults for a device: its MTU, DHCP for the address.
    pub fn for_device<D: Device>(mac: MacAddr, dev: &D) -> Config {
        Config::new(mac, dev.mtu())
    }

    pub fn new(mac: MacAddr, mtu: usize) -> Config {
        Config {
            mac,
            mtu,
            ipv4: None,
            seed: 0,
            ttl: DEFAULT_TTL,
            tcp: TcpConfig::default(),
            arp: ArpConfig::default(),
            udp_recv_buffer: 64 * 1024,
            tx_queue: 256,
            tcp_memory: 64 << 20,
            ipv6_enabled: false,
            ipv6: None,
            accept_ra: false,
            interface_id: InterfaceId::Eui64,
        }
    }
}

/// Observer of ICMP traffic (for logging); see [`Interface::set_icmp_hook`].
pub type IcmpHook = Box<dyn FnMut(&IcmpEvent)>;

/// A packet waiting for `transmit`.
#[derive(Debug)]
enum Outgoing {
    Arp {
        dst_mac: MacAddr,
        repr: ArpRepr,
    },
    /// A complete transport message; its checksum is computed on the way out.
    Ip {
        w: IpWrite,
        data: Vec<u8>,
    },
    Dhcp(dhcp::Outgoing),
    /// A complete upper-layer IPv6 message; its checksum is computed on the way out.
    Ip6 {
        w: Ip6Write,
        data: Vec<u8>,
    },
    /// A complete IPv6 packet for a neighbour-discovery destination (multicast, or a known
    /// neighbour): neighbour discovery itself never waits for neighbour discovery.
    Raw6 {
        mac: Option<MacAddr>,
        packet: Vec<u8>,
    },
}

pub struct Interface {
    link: Link,
    rng: Rng,
    secret: u64,
    cookie_key: (u64, u64),
    reasm: Reassembler,
    control: VecDeque<Outgoing>,
    tx_queue: usize,
    announce: Option<(Instant, u8)>,
    dhcp: Option<DhcpClient>,
    tcp: tcp::Sockets,
    tcp_cfg: TcpConfig,
    udp: BTreeMap<u16, udp::Socket>,
    udp_recv_buffer: usize,
    next_gen: u32,
    icmp_hook: Option<IcmpHook>,
    icmpv6_hook: Option<Icmpv6Hook>,
    interface_id: InterfaceId,
}

/// Observer of ICMPv6 traffic; see [`Interface::set_icmpv6_hook`].
pub type Icmpv6Hook = Box<dyn FnMut(&Icmpv6Event)>;

impl fmt::Debug for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interface")
            .field("mac", &self.link.mac)
            .field("ipv4", &self.link.ip)
            .field("stats", &self.link.stats)
            .finish_non_exhaustive()
    }
}

impl Interface {
    pub fn new(cfg: Config) -> Interface {
        let mut rng = Rng::new(cfg.seed);
        let secret = rng.next_u64();
        let cookie_key = (rng.next_u64(), rng.next_u64());
        let dhcp = cfg
            .ipv4
            .is_none()
            .then(|| DhcpClient::new(cfg.mac, rng.next_u64()));
        let ip6 = (cfg.ipv6_enabled || cfg.ipv6.is_some()).then(|| {
            Ipv6Host::new(
                Instant::ZERO,
                cfg.mac,
                cfg.mtu,
                cfg.interface_id,
                cfg.ipv6,
                cfg.accept_ra,
            )
        });
        Interface {
            link: Link {
                mac: cfg.mac,
                mtu: cfg.mtu,
                ttl: cfg.ttl,
                ip: cfg.ipv4,
                arp: ArpCache::new(cfg.arp.clone()),
                ident: rng.next_u32() as u16,
                backlog: VecDeque::new(),
                stats: Stats::default(),
                ip6,
                nd: ArpCache::new(ArpConfig {
                    // RFC 4861 10: REACHABLE_TIME is 30 s; beyond it we re-resolve.
                    entry_lifetime: Duration::from_secs(30),
                    ..cfg.arp.clone()
                }),
                ident6: rng.next_u32(),
            },
            rng,
            secret,
            cookie_key,
            reasm: Reassembler::new(),
            control: VecDeque::new(),
            tx_queue: cfg.tx_queue,
            announce: cfg.ipv4.map(|_| (Instant::ZERO, ANNOUNCE_COUNT)),
            dhcp,
            tcp: tcp::Sockets::new(cfg.tcp_memory),
            tcp_cfg: cfg.tcp,
            udp: BTreeMap::new(),
            udp_recv_buffer: cfg.udp_recv_buffer,
            next_gen: 1,
            icmp_hook: None,
            icmpv6_hook: None,
            interface_id: cfg.interface_id,
        }
    }

    pub fn mac(&self) -> MacAddr {
        self.link.mac
    }

    pub fn mtu(&self) -> usize {
        self.link.mtu
    }

    pub fn ipv4_config(&self) -> Option<Ipv4Config> {
        self.link.ip
    }

    /// Changes the address (or removes it); announces a new one with gratuitous ARP.
    pub fn set_ipv4_config(&mut self, cfg: Option<Ipv4Config>) {
        if self.link.ip == cfg {
            return;
        }
        self.link.ip = cfg;
        self.link.arp.clear();
        self.announce = cfg.map(|_| (Instant::ZERO, ANNOUNCE_COUNT));
    }

    /// Starts (or restarts) the DHCP client; the current address is dropped until a lease binds.
    pub fn start_dhcp(&mut self) {
        self.set_ipv4_config(None);
        self.dhcp = Some(DhcpClient::new(self.link.mac, self.rng.next_u64()));
    }

    /// Stops the DHCP client; an address it configured stays until changed.
    pub fn stop_dhcp(&mut self) {
        self.dhcp = None;
    }

    /// Replaces the seed of initial sequence numbers, ephemeral ports and DHCP transaction ids
    /// (for embedders that learn a random seed after creating the interface).
    pub fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
        self.secret = self.rng.next_u64();
        self.cookie_key = (self.rng.next_u64(), self.rng.next_u64());
    }

    pub fn tcp_config(&self) -> TcpConfig {
        self.tcp_cfg
    }

    /// Applies to connections opened or accepted from now on.
    pub fn set_tcp_config(&mut self, cfg: TcpConfig) {
        self.tcp_cfg = cfg;
    }

    /// The neighbour's MAC address if the ARP cache holds a live entry.
    pub fn arp_lookup(&mut self, now: Instant, ip: Ipv4Addr) -> Option<MacAddr> {
        self.link.arp.lookup(now, ip)
    }

    pub fn dhcp_state(&self) -> Option<DhcpState> {
        self.dhcp.as_ref().map(|d| d.state())
    }

    pub fn dhcp_lease(&self) -> Option<&Lease> {
        self.dhcp.as_ref().and_then(|d| d.lease())
    }

    /// Counters, and the memory held now by TCP connections, reassembly and UDP queues.
    pub fn stats(&self) -> Stats {
        let mut s = self.link.stats;
        self.tcp.fill_stats(&mut s);
        s.reassembly_bytes = self.reasm.bytes() as u64;
        s.udp_queued = self.udp.values().map(|u| u.rx_bytes as u64).sum();
        s
    }

    /// Packets the ARP layer dropped (queue full or resolution failed).
    pub fn arp_dropped(&self) -> u64 {
        self.link.arp.dropped
    }

    /// Called for every ICMP echo request/reply and destination-unreachable received.
    pub fn set_icmp_hook(&mut self, hook: Option<IcmpHook>) {
        self.icmp_hook = hook;
    }

    fn new_generation(&mut self) -> u32 {
        self.next_gen = self.next_gen.wrapping_add(1).max(1);
        self.next_gen
    }

    fn queue(&mut self, item: Outgoing) -> Result<(), Error> {
        if self.control.len() >= self.tx_queue {
            return Err(Error::WouldBlock);
        }
        self.control.push_back(item);
        Ok(())
    }

    fn our_unicast(&self, dst: Ipv4Addr) -> bool {
        self.link.ip.is_some_and(|c| c.address == dst)
    }

    /// A usable unicast address of ours, of either family.
    fn our_address(&self, dst: IpAddr) -> bool {
        match dst {
            IpAddr::V4(a) => self.our_unicast(a),
            IpAddr::V6(a) => self.link.ip6.as_ref().is_some_and(|h| h.is_ours(a)),
        }
    }

    /// Our source address for `dst`, if we have one of its family.
    fn source_for(&self, dst: IpAddr) -> Option<IpAddr> {
        match dst {
            IpAddr::V4(_) => self.link.ip.map(|c| IpAddr::V4(c.address)),
            IpAddr::V6(a) => self
                .link
                .ip6
                .as_ref()
                .and_then(|h| h.source_for(a))
                .map(IpAddr::V6),
        }
    }

    /// Queues an upper-layer message to `dst` (either family).
    fn queue_ip(
        &mut self,
        dst: IpAddr,
        protocol: u8,
        fragment: bool,
        data: Vec<u8>,
    ) -> Result<(), Error> {
        match dst {
            IpAddr::V4(d) => self.queue(Outgoing::Ip {
                w: IpWrite {
                    fragment,
                    ..IpWrite::new(d, protocol)
                },
                data,
            }),
            IpAddr::V6(d) => self.queue(Outgoing::Ip6 {
                w: Ip6Write {
                    fragment,
                    ..Ip6Write::new(d, protocol)
                },
                data,
            }),
        }
    }

    // ----- receive -----

    /// Processes one received Ethernet frame. Replies are queued for `transmit`.
    pub fn receive(&mut self, now: Instant, frame: &[u8]) {
        self.receive_frame(now, frame, false);
    }

    /// As [`Interface::receive`], for a frame from a device's receive offload: it may be
    /// larger than the MTU (a TCP segment the host coalesced) and its device vouches for its
    /// TCP or UDP checksum, which is not verified (it may hold a partial sum).
    pub fn receive_offloaded(&mut self, now: Instant, frame: &[u8]) {
        self.receive_frame(now, frame, true);
    }

    fn receive_frame(&mut self, now: Instant, frame: &[u8], trusted: bool) {
        self.link.stats.rx_frames += 1;
        let Some((eth, payload)) = ethernet::decapsulate(self.link.mac, frame) else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        match eth.ethertype {
            ethertype::ARP => self.receive_arp(now, payload),
            ethertype::IPV4 => self.receive_ipv4(now, payload, trusted),
            ethertype::IPV6 => self.receive_ipv6(now, payload, trusted),
            _ => self.link.stats.rx_dropped += 1,
        }
    }

    fn receive_arp(&mut self, now: Instant, payload: &[u8]) {
        let Ok(repr) = arp_wire::Packet::new_checked(payload).and_then(|p| ArpRepr::parse(&p))
        else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let our_ip = self.link.ip.map(|c| c.address);
        let input = self.link.arp.process(now, self.link.mac, our_ip, &repr);
        if let Some(reply) = input.reply {
            let _ = self.queue(Outgoing::Arp {
                dst_mac: reply.target_mac,
                repr: reply,
            });
        }
        if let Some((mac, packets)) = input.released {
            self.link
                .backlog
                .extend(packets.into_iter().map(|p| (mac, p)));
        }
    }

    fn receive_ipv4(&mut self, now: Instant, payload: &[u8], trusted: bool) {
        let parsed = ipv4_wire::Packet::new_checked(payload)
            .and_then(|p| Ipv4Repr::parse(&p).map(|r| (p, r)));
        let Ok((packet, ip)) = parsed else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let accept = match self.link.ip {
            Some(c) => c.accepts(ip.dst),
            // Before DHCP binds, offers may be unicast to the offered address.
            None => self.dhcp.is_some(),
        };
        if !accept {
            self.link.stats.rx_dropped += 1;
            return;
        }
        if ip.is_fragment() {
            if let Some(data) = self.reasm.process(now, &ip, packet.payload()) {
                self.link.stats.reassembled += 1;
                let mut whole = ip;
                whole.payload_len = data.len();
                whole.more_frags = false;
                whole.frag_offset = 0;
                // A reassembled packet's checksum was never offloaded.
                self.receive_transport(now, &whole, None, &data, false);
            }
            return;
        }
        self.receive_transport(now, &ip, Some(packet.header()), packet.payload(), trusted);
    }

    fn receive_transport(
        &mut self,
        now: Instant,
        ip: &Ipv4Repr,
        header: Option<&[u8]>,
        payload: &[u8],
        trusted: bool,
    ) {
        let rx = IpRx::V4 { repr: ip, header };
        match ip.protocol {
            proto::ICMP => self.receive_icmp(ip, payload),
            proto::UDP => self.receive_udp(now, &rx, payload, trusted),
            proto::TCP => self.receive_tcp(now, &rx, payload, trusted),
            _ => {
                self.link.stats.rx_dropped += 1;
                self.send_unreachable(
                    ip,
                    header,
                    payload,
                    crate::wire::icmpv4::unreachable::PROTOCOL,
                );
            }
        }
    }

    // ----- transmit -----

    /// Runs timers and writes every frame that is ready, until the device refuses one.
    /// Returns the number of frames written.
    pub fn transmit<D: Device>(&mut self, now: Instant, dev: &mut D) -> usize {
        let before = self.link.stats.tx_frames;
        self.run_timers(now);
        // A refusal leaves the rest queued; the next call resumes.
        let _ = self.flush(now, dev);
        (self.link.stats.tx_frames - before) as usize
    }

    fn flush<D: Device>(&mut self, now: Instant, dev: &mut D) -> Result<(), Error> {
        self.link.flush_backlog(dev)?;
        while let Some(item) = self.control.pop_front() {
            match self.send_outgoing(now, dev, &item) {
                Err(Error::WouldBlock) => {
                    self.control.push_front(item);
                    return Err(Error::WouldBlock);
                }
                Err(_) => self.link.stats.tx_dropped += 1,
                Ok(()) => {}
            }
        }
        let r = self.tcp_dispatch(now, dev);
        self.tcp_reap();
        r
    }

    fn send_outgoing<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        item: &Outgoing,
    ) -> Result<(), Error> {
        match item {
            Outgoing::Arp { dst_mac, repr } => self.link.send_arp(dev, *dst_mac, repr),
            Outgoing::Ip { w, data } => self.link.write(now, dev, w, 0, |_| 0, &[data]),
            Outgoing::Ip6 { w, data } => self.link.write6(now, dev, w, 0, |_| 0, &[data]),
            Outgoing::Raw6 { mac, packet } => {
                let mac = match mac {
                    Some(m) => *m,
                    None => {
                        let dst = crate::wire::ipv6::get_ip6(packet, 24);
                        crate::ipv6::multicast_mac(dst)
                    }
                };
                self.link.send_packet(dev, mac, packet)
            }
            Outgoing::Dhcp(out) => {
                let mac = self.link.mac;
                let len = out.buffer_len(mac);
                let w = IpWrite {
                    src: Some(out.src),
                    ..IpWrite::new(out.dst, proto::UDP)
                };
                let udp = UdpRepr {
                    src_port: crate::wire::dhcp::CLIENT_PORT,
                    dst_port: crate::wire::dhcp::SERVER_PORT,
                };
                self.link.write(
                    now,
                    dev,
                    &w,
                    8 + len,
                    |b| {
                        udp.emit_header(b, len);
                        8 + out.emit(mac, &mut b[8..8 + len])
                    },
                    &[],
                )
            }
        }
    }

    /// The seeds' `Ipv4.write`: `fill` writes up to `size` bytes (default: what fits the MTU)
    /// of transport header, `payloads` follow, the transport checksum is computed over the
    /// whole segment, and the packet is fragmented if it exceeds the MTU and `fragment` is
    /// set. Writes straight into the device buffer when the next hop is resolved.
    pub fn ipv4_write<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
        w: &IpWrite,
        size: Option<usize>,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
    ) -> Result<(), Error> {
        let size = size.unwrap_or(self.link.mtu.saturating_sub(ipv4_wire::HEADER_LEN));
        self.link.write(now, dev, w, size, fill, payloads)
    }

    /// Whether packets to `dst` leave now, wait for their next hop's link address, or were
    /// dropped because it did not answer.
    pub fn neighbour(&mut self, now: Instant, dst: IpAddr) -> Neighbour {
        self.link.neighbour(now, dst)
    }

    /// The seeds' `Ethernet.write`: `fill` gets the buffer after the header, `size` bytes
    /// (default: the MTU), and returns the payload length. `src` defaults to our address.
    pub fn ethernet_write<D: Device>(
        &mut self,
        dev: &mut D,
        src: Option<MacAddr>,
        dst: MacAddr,
        ethertype: u16,
        size: Option<usize>,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<(), Error> {
        let src = src.unwrap_or(self.link.mac);
        let size = size.unwrap_or(self.link.mtu);
        ethernet::write(dev, src, dst, ethertype, size, fill).map_err(|_| Error::WouldBlock)?;
        self.link.stats.tx_frames += 1;
        Ok(())
    }

    fn run_timers(&mut self, now: Instant) {
        let mut requests = Vec::new();
        self.link.arp.poll(now, |ip| requests.push(ip));
        for ip in requests {
            if let Some(repr) = self.link.arp_request(ip) {
                let _ = self.queue(Outgoing::Arp {
                    dst_mac: MacAddr::BROADCAST,
                    repr,
                });
            }
        }
        if let Some((due, left)) = self.announce
            && now >= due
        {
            if let Some(c) = self.link.ip {
                let repr = ArpRepr {
                    operation: Operation::Request,
                    sender_mac: self.link.mac,
                    sender_ip: c.address,
                    target_mac: MacAddr::ZERO,
                    target_ip: c.address,
                };
                let _ = self.queue(Outgoing::Arp {
                    dst_mac: MacAddr::BROADCAST,
                    repr,
                });
            }
            self.announce = (left > 1).then(|| (now + ANNOUNCE_INTERVAL, left - 1));
        }
        self.reasm.expire(now);
        self.ipv6_timers(now);
        if let Some(d) = self.dhcp.as_mut() {
            let (event, out) = d.poll(now);
            if let Some(e) = event {
                self.apply_dhcp(e);
            }
            if let Some(o) = out {
                let _ = self.queue(Outgoing::Dhcp(o));
            }
        }
        self.tcp_tick(now);
    }

    fn apply_dhcp(&mut self, event: DhcpEvent) {
        match event {
            DhcpEvent::Configured(lease) => self.set_ipv4_config(Some(Ipv4Config {
                address: lease.address,
                prefix_len: lease.prefix_len,
                gateway: lease.router,
            })),
            DhcpEvent::Deconfigured => self.set_ipv4_config(None),
        }
    }

    /// When `transmit` should next be called: `Some(Instant::ZERO)` if it has work now,
    /// `None` if only received frames can create work.
    pub fn poll_at(&self) -> Option<Instant> {
        if !self.control.is_empty() || !self.link.backlog.is_empty() {
            return Some(Instant::ZERO);
        }
        [
            self.link.arp.poll_at(),
            self.reasm.poll_at(),
            self.dhcp.as_ref().and_then(|d| d.poll_at()),
            self.announce.map(|a| a.0),
            self.tcp_poll_at(),
            self.link.nd.poll_at(),
            self.link.ip6.as_ref().and_then(|h| h.poll_at()),
        ]
        .into_iter()
        .fold(None, earliest)
    }
}

/// A received packet's network layer, as the transports need it: addresses for checksums
/// and replies, and what an ICMP error must quote.
pub(super) enum IpRx<'a> {
    V4 {
        repr: &'a Ipv4Repr,
        header: Option<&'a [u8]>,
    },
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        /// The whole packet as received (`None` after reassembly).
        packet: Option<&'a [u8]>,
    },
}

impl IpRx<'_> {
    pub fn src(&self) -> IpAddr {
        match self {
            IpRx::V4 { repr, .. } => IpAddr::V4(repr.src),
            IpRx::V6 { src, .. } => IpAddr::V6(*src),
        }
    }

    pub fn dst(&self) -> IpAddr {
        match self {
            IpRx::V4 { repr, .. } => IpAddr::V4(repr.dst),
            IpRx::V6 { dst, .. } => IpAddr::V6(*dst),
        }
    }
}
