//! The IPv6 host state, sans-IO: addresses (link-local always, static, SLAAC from router
//! advertisements) with duplicate address detection, default routers and on-link prefixes,
//! the multicast groups MLDv2 must report, and the timers of all of these. The interface
//! feeds it received neighbour discovery messages and sends what [`Ipv6Host::poll`] asks for.

use alloc::vec::Vec;

use crate::time::{Duration, Instant, earliest};
use crate::wire::icmpv6::PrefixInfo;
use crate::wire::{Ipv6Addr, MacAddr};

pub const DEFAULT_HOP_LIMIT: u8 = 64;
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);
pub const ALL_MLDV2_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x16);

/// RFC 4861 10: RetransTimer, the wait after the (single) DAD probe.
pub const RETRANS_TIMER: Duration = Duration::from_secs(1);
/// RFC 4861 10: router solicitations sent, and their interval.
pub const MAX_RTR_SOLICITATIONS: u8 = 3;
pub const RTR_SOLICITATION_INTERVAL: Duration = Duration::from_secs(4);
/// RFC 3810 9.1: unsolicited reports are sent this many times, this far apart.
pub const MLD_ROBUSTNESS: u8 = 2;
pub const MLD_REPORT_INTERVAL: Duration = Duration::from_secs(1);
/// Bounds on what router advertisements can make us hold.
pub const MAX_ADDRESSES: usize = 8;
pub const MAX_ROUTERS: usize = 4;
pub const MAX_PREFIXES: usize = 8;

/// A static address with its prefix and default gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Config {
    pub address: Ipv6Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv6Addr>,
}

/// Why an address string was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCidr;

impl Ipv6Config {
    /// Parses `"2001:db8::2/64"`.
    pub fn from_cidr(cidr: &str, gateway: Option<Ipv6Addr>) -> Result<Ipv6Config, BadCidr> {
        let (addr, len) = cidr.split_once('/').ok_or(BadCidr)?;
        let address: Ipv6Addr = addr.parse().map_err(|_| BadCidr)?;
        let prefix_len: u8 = len.parse().map_err(|_| BadCidr)?;
        if prefix_len > 128 || address.is_multicast() || address.is_unspecified() {
            return Err(BadCidr);
        }
        Ok(Ipv6Config {
            address,
            prefix_len,
            gateway,
        })
    }
}

/// True if `a` and `b` share their first `len` bits.
pub fn same_prefix(a: Ipv6Addr, b: Ipv6Addr, len: u8) -> bool {
    if len == 0 {
        return true;
    }
    let mask = u128::MAX << (128 - u32::from(len.min(128)));
    a.to_bits() & mask == b.to_bits() & mask
}

/// RFC 4291 2.7.1: the solicited-node multicast group of `a`.
pub fn solicited_node(a: Ipv6Addr) -> Ipv6Addr {
    Ipv6Addr::from_bits(0xff02_0000_0000_0000_0000_0001_ff00_0000 | (a.to_bits() & 0xff_ffff))
}

/// RFC 2464 7: the Ethernet address of a multicast group, 33:33 and its last 32 bits.
pub fn multicast_mac(group: Ipv6Addr) -> MacAddr {
    let o = group.octets();
    MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]])
}

/// RFC 4291 appendix A: the modified EUI-64 interface identifier of a MAC address.
pub fn eui64(mac: MacAddr) -> u64 {
    let m = mac.0;
    u64::from_be_bytes([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]])
}

/// How interface identifiers are formed for SLAAC and the link-local address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InterfaceId {
    /// The modified EUI-64 of the MAC (what Linux does by default).
    Eui64,
    /// RFC 7217-style: a keyed hash of the MAC and the prefix, stable per network but not
    /// revealing the MAC; the key must stay the same across boots.
    Stable(u64),
}

impl InterfaceId {
    pub fn of(&self, mac: MacAddr, prefix: Ipv6Addr, attempt: u8) -> u64 {
        match *self {
            InterfaceId::Eui64 => eui64(mac),
            InterfaceId::Stable(key) => {
                #[allow(deprecated)]
                let mut h = core::hash::SipHasher::new_with_keys(key, !key);
                use core::hash::Hasher;
                h.write(&mac.0);
                h.write_u64((prefix.to_bits() >> 64) as u64);
                h.write_u8(attempt);
                // Not a reserved identifier (RFC 5453): clear the all-zero corner.
                h.finish() | 1
            }
        }
    }
}

/// Where an address came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    LinkLocal,
    Static,
    Slaac,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrState {
    /// Duplicate address detection runs; the address is not used yet.
    Tentative,
    Preferred,
    /// Someone else on the link owns it: never used.
    Duplicate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddrInfo {
    pub address: Ipv6Addr,
    pub prefix_len: u8,
    pub origin: Origin,
    pub state: AddrState,
    /// When a SLAAC address's valid lifetime ends (`None`: forever).
    pub valid_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Addr {
    info: AddrInfo,
    /// Tentative: when the probe goes (`probed` false) or DAD completes (`probed` true).
    dad_at: Instant,
    probed: bool,
}

/// What the host asks the interface to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NdAction {
    /// A DAD probe: a neighbour solicitation for `0` from the unspecified address.
    DadProbe(Ipv6Addr),
    /// A router solicitation from the link-local address.
    RouterSolicit,
    /// An MLDv2 report of these groups (change-to-exclude, i.e. joins).
    MldReport(Vec<Ipv6Addr>),
}

/// What a router advertisement changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RaOutcome {
    pub new_addresses: usize,
    pub router_added: bool,
}

#[derive(Debug)]
pub struct Ipv6Host {
    mac: MacAddr,
    iid: InterfaceId,
    addrs: Vec<Addr>,
    /// Default routers from advertisements, with their expiry.
    routers: Vec<(Ipv6Addr, Instant)>,
    /// On-link prefixes from advertisements: (prefix, length, expiry).
    prefixes: Vec<(Ipv6Addr, u8, Option<Instant>)>,
    gateway: Option<Ipv6Addr>,
    accept_ra: bool,
    /// Router solicitations: (next, left).
    rs: Option<(Instant, u8)>,
    /// Unsolicited MLD reports: (next, left).
    mld: Option<(Instant, u8)>,
    device_mtu: usize,
    /// The link MTU: the device's, or lower if a router advertised it.
    pub mtu: usize,
    pub hop_limit: u8,
    /// Addresses given up because DAD found them in use (most recent last, bounded).
    pub duplicates: Vec<Ipv6Addr>,
}

impl Ipv6Host {
    /// A host with its link-local address (tentative until DAD passes), `static_cfg` if
    /// given, accepting router advertisements if `accept_ra`.
    pub fn new(
        now: Instant,
        mac: MacAddr,
        mtu: usize,
        iid: InterfaceId,
        static_cfg: Option<Ipv6Config>,
        accept_ra: bool,
    ) -> Ipv6Host {
        let mut h = Ipv6Host {
            mac,
            iid,
            addrs: Vec::new(),
            routers: Vec::new(),
            prefixes: Vec::new(),
            gateway: static_cfg.and_then(|c| c.gateway),
            accept_ra,
            rs: None,
            mld: None,
            device_mtu: mtu,
            mtu,
            hop_limit: DEFAULT_HOP_LIMIT,
            duplicates: Vec::new(),
        };
        let ll_prefix = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0);
        let ll = Ipv6Addr::from_bits(ll_prefix.to_bits() | u128::from(iid.of(mac, ll_prefix, 0)));
        h.add(now, ll, 64, Origin::LinkLocal, None);
        if let Some(c) = static_cfg {
            h.add(now, c.address, c.prefix_len, Origin::Static, None);
        }
        h
    }

    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    fn add(
        &mut self,
        now: Instant,
        address: Ipv6Addr,
        prefix_len: u8,
        origin: Origin,
        valid_until: Option<Instant>,
    ) -> bool {
        if self.addrs.len() >= MAX_ADDRESSES || self.addrs.iter().any(|a| a.info.address == address)
        {
            return false;
        }
        self.addrs.push(Addr {
            info: AddrInfo {
                address,
                prefix_len,
                origin,
                state: AddrState::Tentative,
                valid_until,
            },
            dad_at: now,
            probed: false,
        });
        // Join the new solicited-node group before probing (RFC 4862 5.4.2).
        self.mld = Some((now, MLD_ROBUSTNESS));
        true
    }

    /// Every address and its state.
    pub fn addresses(&self) -> impl Iterator<Item = AddrInfo> + '_ {
        self.addrs.iter().map(|a| a.info)
    }

    /// Addresses in use (DAD passed).
    pub fn preferred(&self) -> impl Iterator<Item = &AddrInfo> + '_ {
        self.addrs
            .iter()
            .map(|a| &a.info)
            .filter(|a| a.state == AddrState::Preferred)
    }

    pub fn link_local(&self) -> Option<Ipv6Addr> {
        self.preferred()
            .find(|a| a.origin == Origin::LinkLocal)
            .map(|a| a.address)
    }

    /// A usable address of ours.
    pub fn is_ours(&self, a: Ipv6Addr) -> bool {
        self.preferred().any(|x| x.address == a)
    }

    pub fn is_tentative(&self, a: Ipv6Addr) -> bool {
        self.addrs
            .iter()
            .any(|x| x.info.address == a && x.info.state == AddrState::Tentative)
    }

    /// The multicast groups joined: all-nodes is implicit; one solicited-node group per
    /// address (tentative ones included, for DAD).
    pub fn groups(&self) -> Vec<Ipv6Addr> {
        let mut g: Vec<Ipv6Addr> = self
            .addrs
            .iter()
            .filter(|a| a.info.state != AddrState::Duplicate)
            .map(|a| solicited_node(a.info.address))
            .collect();
        g.sort();
        g.dedup();
        g
    }

    /// True for destinations this host accepts packets for.
    pub fn accepts(&self, dst: Ipv6Addr) -> bool {
        if dst.is_multicast() {
            return dst == ALL_NODES || self.groups().contains(&dst);
        }
        self.is_ours(dst)
    }

    /// Whether `dst` is on the link: link-local, or in an on-link prefix.
    pub fn on_link(&self, dst: Ipv6Addr) -> bool {
        dst.is_unicast_link_local()
            || self
                .preferred()
                .any(|a| a.origin == Origin::Static && same_prefix(a.address, dst, a.prefix_len))
            || self
                .prefixes
                .iter()
                .any(|(p, len, _)| same_prefix(*p, dst, *len))
    }

    /// The neighbour to send to for unicast `dst`; `None` without a route.
    pub fn next_hop(&self, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        if self.on_link(dst) {
            return Some(dst);
        }
        self.gateway.or_else(|| self.routers.first().map(|r| r.0))
    }

    /// RFC 6724, reduced to what a host with few addresses needs: the link-local address for
    /// link-local and link-scope multicast destinations, otherwise a global one, preferring
    /// the longest shared prefix.
    pub fn source_for(&self, dst: Ipv6Addr) -> Option<Ipv6Addr> {
        let link_scope =
            dst.is_unicast_link_local() || (dst.is_multicast() && dst.segments()[0] & 0x000f <= 2);
        if link_scope {
            return self.link_local();
        }
        self.preferred()
            .filter(|a| a.origin != Origin::LinkLocal)
            .max_by_key(|a| (dst.to_bits() ^ a.address.to_bits()).leading_zeros())
            .map(|a| a.address)
            .or_else(|| self.link_local())
    }

    /// Runs the timers: DAD probes and completions, router solicitations, MLD reports,
    /// expiry of routers, prefixes and SLAAC addresses.
    pub fn poll(&mut self, now: Instant) -> Vec<NdAction> {
        let mut out = Vec::new();
        // Groups are reported before DAD probes go out.
        if let Some((at, left)) = self.mld
            && now >= at
        {
            out.push(NdAction::MldReport(self.groups()));
            self.mld = (left > 1).then(|| (now + MLD_REPORT_INTERVAL, left - 1));
        }
        let mut ll_ready = false;
        for a in &mut self.addrs {
            if a.info.state != AddrState::Tentative || now < a.dad_at {
                continue;
            }
            if !a.probed {
                a.probed = true;
                a.dad_at = now + RETRANS_TIMER;
                out.push(NdAction::DadProbe(a.info.address));
            } else {
                a.info.state = AddrState::Preferred;
                ll_ready |= a.info.origin == Origin::LinkLocal;
            }
        }
        if ll_ready && self.accept_ra {
            self.rs = Some((now, MAX_RTR_SOLICITATIONS));
        }
        if let Some((at, left)) = self.rs
            && now >= at
        {
            out.push(NdAction::RouterSolicit);
            self.rs = (left > 1).then(|| (now + RTR_SOLICITATION_INTERVAL, left - 1));
        }
        self.routers.retain(|r| r.1 > now);
        self.prefixes.retain(|p| p.2.is_none_or(|t| t > now));
        self.addrs
            .retain(|a| a.info.valid_until.is_none_or(|t| t > now));
        out
    }

    pub fn poll_at(&self) -> Option<Instant> {
        let mut t = self.mld.map(|m| m.0);
        t = earliest(t, self.rs.map(|r| r.0));
        for a in &self.addrs {
            if a.info.state == AddrState::Tentative {
                t = earliest(t, Some(a.dad_at));
            }
            t = earliest(t, a.info.valid_until);
        }
        for r in &self.routers {
            t = earliest(t, Some(r.1));
        }
        for p in &self.prefixes {
            t = earliest(t, p.2);
        }
        t
    }

    /// An MLD query arrived: report our groups again (once, now).
    pub fn mld_query(&mut self, now: Instant) {
        self.mld = Some((now, 1));
    }

    /// Someone else uses `a` (a DAD probe or an advertisement for it): a tentative address
    /// is given up. Returns true if it was ours and tentative.
    pub fn conflict(&mut self, a: Ipv6Addr) -> bool {
        let Some(x) = self
            .addrs
            .iter_mut()
            .find(|x| x.info.address == a && x.info.state == AddrState::Tentative)
        else {
            return false;
        };
        x.info.state = AddrState::Duplicate;
        if self.duplicates.len() == MAX_ADDRESSES {
            self.duplicates.remove(0);
        }
        self.duplicates.push(a);
        true
    }

    /// A router advertisement (already validated: link-local source, hop limit 255).
    #[allow(clippy::too_many_arguments)]
    pub fn process_ra(
        &mut self,
        now: Instant,
        router: Ipv6Addr,
        router_lifetime: u16,
        hop_limit: u8,
        mtu: Option<u32>,
        prefixes: impl Iterator<Item = PrefixInfo>,
    ) -> RaOutcome {
        let mut out = RaOutcome::default();
        if !self.accept_ra {
            return out;
        }
        self.rs = None;
        if hop_limit != 0 {
            self.hop_limit = hop_limit;
        }
        if let Some(m) = mtu {
            let m = m as usize;
            if m >= crate::wire::ipv6::MIN_MTU && m <= self.device_mtu {
                self.mtu = m;
            }
        }
        let until =
            |secs: u32| (secs != u32::MAX).then(|| now + Duration::from_secs(u64::from(secs)));
        let n_routers = self.routers.len();
        match self.routers.iter_mut().find(|r| r.0 == router) {
            Some(r) if router_lifetime > 0 => {
                r.1 = now + Duration::from_secs(router_lifetime.into())
            }
            Some(_) => self.routers.retain(|r| r.0 != router),
            None if router_lifetime > 0 && n_routers < MAX_ROUTERS => {
                self.routers
                    .push((router, now + Duration::from_secs(router_lifetime.into())));
                out.router_added = true;
            }
            None => {}
        }
        for p in prefixes {
            if p.prefix.is_unicast_link_local() || p.prefix.is_multicast() {
                continue;
            }
            let prefix = Ipv6Addr::from_bits(
                p.prefix.to_bits()
                    & (u128::MAX
                        .checked_shl(128 - u32::from(p.prefix_len.min(128)))
                        .unwrap_or(0)),
            );
            if p.on_link {
                let exp = until(p.valid_lifetime);
                let n_prefixes = self.prefixes.len();
                match self
                    .prefixes
                    .iter_mut()
                    .find(|x| x.0 == prefix && x.1 == p.prefix_len)
                {
                    Some(x) => x.2 = exp,
                    None if p.valid_lifetime > 0 && n_prefixes < MAX_PREFIXES => {
                        self.prefixes.push((prefix, p.prefix_len, exp));
                    }
                    None => {}
                }
                if p.valid_lifetime == 0 {
                    self.prefixes
                        .retain(|x| !(x.0 == prefix && x.1 == p.prefix_len));
                }
            }
            // RFC 4862 5.5.3: autonomous, 64-bit prefixes, preferred ≤ valid.
            if p.autonomous
                && p.prefix_len == 64
                && p.valid_lifetime > 0
                && p.preferred_lifetime <= p.valid_lifetime
            {
                let addr = Ipv6Addr::from_bits(
                    prefix.to_bits() | u128::from(self.iid.of(self.mac, prefix, 0)),
                );
                let exp = until(p.valid_lifetime);
                if let Some(a) = self.addrs.iter_mut().find(|a| a.info.address == addr) {
                    // 5.5.3 e: a short lifetime cannot cut a long one below two hours.
                    let two_hours = now + Duration::from_secs(7200);
                    a.info.valid_until = match (exp, a.info.valid_until) {
                        (Some(e), Some(old)) if e < two_hours && e < old => {
                            Some(old.min(two_hours))
                        }
                        (e, _) => e,
                    };
                } else if !self.duplicates.contains(&addr)
                    && self.add(now, addr, 64, Origin::Slaac, exp)
                {
                    out.new_addresses += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: MacAddr = MacAddr([0x52, 0x54, 0, 0x12, 0x34, 0x56]);

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn pi(prefix: &str, len: u8, valid: u32) -> PrefixInfo {
        PrefixInfo {
            prefix_len: len,
            on_link: true,
            autonomous: true,
            valid_lifetime: valid,
            preferred_lifetime: valid.min(3600),
            prefix: prefix.parse().unwrap(),
        }
    }

    #[test]
    fn helpers() {
        let a: Ipv6Addr = "2001:db8::1:2345:6789".parse().unwrap();
        assert_eq!(
            solicited_node(a),
            "ff02::1:ff45:6789".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(
            multicast_mac(solicited_node(a)),
            MacAddr([0x33, 0x33, 0xff, 0x45, 0x67, 0x89])
        );
        assert_eq!(eui64(MAC), 0x5054_00ff_fe12_3456);
        assert!(same_prefix(a, "2001:db8::".parse().unwrap(), 64));
        assert!(!same_prefix(a, "2001:db9::".parse().unwrap(), 32));
        assert!(same_prefix(a, Ipv6Addr::UNSPECIFIED, 0));
        let c = Ipv6Config::from_cidr("2001:db8::2/64", None).unwrap();
        assert_eq!(
            (c.address, c.prefix_len),
            ("2001:db8::2".parse().unwrap(), 64)
        );
        for bad in [
            "2001:db8::2",
            "2001:db8::2/129",
            "ff02::1/64",
            "::/0",
            "x/1",
            "10.0.0.1/8",
        ] {
            assert_eq!(Ipv6Config::from_cidr(bad, None), Err(BadCidr), "{bad}");
        }
        // Stable identifiers differ per prefix and never reveal the MAC.
        let s = InterfaceId::Stable(42);
        let p1 = "2001:db8:1::".parse().unwrap();
        let p2 = "2001:db8:2::".parse().unwrap();
        assert_ne!(s.of(MAC, p1, 0), s.of(MAC, p2, 0));
        assert_eq!(s.of(MAC, p1, 0), s.of(MAC, p1, 0));
        assert_ne!(s.of(MAC, p1, 0), eui64(MAC));
    }

    #[test]
    fn link_local_dad_then_rs() {
        let mut h = Ipv6Host::new(t(0), MAC, 1500, InterfaceId::Eui64, None, true);
        let ll: Ipv6Addr = "fe80::5054:ff:fe12:3456".parse().unwrap();
        assert!(h.is_tentative(ll));
        assert!(h.accepts(solicited_node(ll)));
        assert!(!h.accepts(ll));
        assert_eq!(
            h.poll(t(0)),
            [
                NdAction::MldReport(alloc::vec![solicited_node(ll)]),
                NdAction::DadProbe(ll)
            ]
        );
        assert_eq!(h.poll_at(), Some(t(1000)));
        assert!(h.poll(t(999)).is_empty());
        assert_eq!(
            h.poll(t(1000)),
            [
                NdAction::MldReport(alloc::vec![solicited_node(ll)]),
                NdAction::RouterSolicit
            ]
        );
        assert!(h.is_ours(ll));
        assert_eq!(h.link_local(), Some(ll));
        assert_eq!(h.source_for(ALL_ROUTERS), Some(ll));
        // Three solicitations, four seconds apart, then silence.
        assert_eq!(h.poll(t(5000)), [NdAction::RouterSolicit]);
        assert_eq!(h.poll(t(9000)), [NdAction::RouterSolicit]);
        assert!(h.poll(t(20000)).is_empty());
        assert_eq!(h.poll_at(), None);
    }

    #[test]
    fn dad_conflict_refuses_the_address() {
        let cfg = Ipv6Config::from_cidr("2001:db8::2/64", None).unwrap();
        let mut h = Ipv6Host::new(t(0), MAC, 1500, InterfaceId::Eui64, Some(cfg), false);
        h.poll(t(0));
        assert!(h.conflict(cfg.address));
        assert!(!h.conflict(cfg.address));
        h.poll(t(1000));
        assert!(!h.is_ours(cfg.address));
        assert_eq!(h.duplicates, [cfg.address]);
        // Global destinations fall back to the link-local source; no route without a gateway.
        assert_eq!(h.source_for("2001:db8::9".parse().unwrap()), h.link_local());
        assert_eq!(h.next_hop("2001:db9::9".parse().unwrap()), None);
        // A preferred address is not "in conflict": defending it is the interface's job.
        let ll = h.link_local().unwrap();
        assert!(!h.conflict(ll));
    }

    #[test]
    fn slaac_from_router_advertisement() {
        let mut h = Ipv6Host::new(t(0), MAC, 1500, InterfaceId::Eui64, None, true);
        h.poll(t(0));
        h.poll(t(1000));
        let router: Ipv6Addr = "fe80::1".parse().unwrap();
        let out = h.process_ra(
            t(1100),
            router,
            1800,
            255,
            Some(1400),
            [
                pi("2001:db8:0:1::", 64, 86400),
                pi("2001:db8:9::", 48, 86400),
            ]
            .into_iter(),
        );
        assert_eq!(
            out,
            RaOutcome {
                new_addresses: 1,
                router_added: true
            }
        );
        assert_eq!(h.mtu, 1400);
        assert_eq!(h.hop_limit, 255);
        let addr: Ipv6Addr = "2001:db8:0:1:5054:ff:fe12:3456".parse().unwrap();
        assert!(h.is_tentative(addr));
        // DAD for the new address, then it is preferred and used for global destinations.
        let acts = h.poll(t(1100));
        assert!(acts.contains(&NdAction::DadProbe(addr)), "{acts:?}");
        h.poll(t(2100));
        assert!(h.is_ours(addr));
        let far: Ipv6Addr = "2606:4700::1".parse().unwrap();
        assert_eq!(h.source_for(far), Some(addr));
        assert_eq!(h.next_hop(far), Some(router));
        // On-link prefixes are reached directly, the /48 one too.
        let near: Ipv6Addr = "2001:db8:9::77".parse().unwrap();
        assert_eq!(h.next_hop(near), Some(near));
        // A lifetime of zero withdraws the router.
        h.process_ra(t(3000), router, 0, 0, None, core::iter::empty());
        assert_eq!(h.next_hop(far), None);
        // The address expires with its valid lifetime.
        h.poll(t(1100 + 86_400_000));
        assert!(!h.is_ours(addr));
        // Without accept_ra nothing changes.
        let mut h = Ipv6Host::new(t(0), MAC, 1500, InterfaceId::Eui64, None, false);
        let out = h.process_ra(
            t(0),
            router,
            1800,
            64,
            None,
            [pi("2001:db8::", 64, 100)].into_iter(),
        );
        assert_eq!(out, RaOutcome::default());
    }

    #[test]
    fn bounded_by_hostile_advertisements() {
        let mut h = Ipv6Host::new(t(0), MAC, 1500, InterfaceId::Eui64, None, true);
        for i in 0..100u16 {
            let r = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, i + 1);
            let p = Ipv6Addr::new(0x2001, 0xdb8, i, 0, 0, 0, 0, 0);
            h.process_ra(
                t(0),
                r,
                1800,
                64,
                Some(100),
                [PrefixInfo {
                    prefix: p,
                    ..pi("::", 64, 1000)
                }]
                .into_iter(),
            );
        }
        assert!(h.addresses().count() <= MAX_ADDRESSES);
        assert!(h.routers.len() <= MAX_ROUTERS);
        assert!(h.prefixes.len() <= MAX_PREFIXES);
        // An MTU below IPv6's minimum is ignored.
        assert_eq!(h.mtu, 1500);
    }
}
