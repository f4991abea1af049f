//! The IPv4 layer: addressing, fragmentation on send, and reassembly on receive.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::time::{Duration, Instant};
use crate::wire::ipv4::{HEADER_LEN, Ipv4Repr, MAX_PACKET_LEN};
use crate::wire::{Ipv4Addr, Ipv6Addr};

pub const DEFAULT_TTL: u8 = 64;

/// An interface address with its prefix and default gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Config {
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub gateway: Option<Ipv4Addr>,
}

/// Why an address string was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadCidr;

impl Ipv4Config {
    /// Parses `"a.b.c.d/n"`.
    pub fn from_cidr(cidr: &str, gateway: Option<Ipv4Addr>) -> Result<Ipv4Config, BadCidr> {
        let (addr, len) = cidr.split_once('/').ok_or(BadCidr)?;
        let address: Ipv4Addr = addr.parse().map_err(|_| BadCidr)?;
        let prefix_len: u8 = len.parse().map_err(|_| BadCidr)?;
        if prefix_len > 32 {
            return Err(BadCidr);
        }
        Ok(Ipv4Config {
            address,
            prefix_len,
            gateway,
        })
    }

    pub fn netmask(&self) -> Ipv4Addr {
        let bits = if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len.min(32)))
        };
        Ipv4Addr::from_bits(bits)
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from_bits(self.address.to_bits() | !self.netmask().to_bits())
    }

    pub fn on_link(&self, ip: Ipv4Addr) -> bool {
        let m = self.netmask().to_bits();
        ip.to_bits() & m == self.address.to_bits() & m
    }

    /// True for addresses this interface accepts packets for.
    pub fn accepts(&self, dst: Ipv4Addr) -> bool {
        dst == self.address
            || dst.is_broadcast()
            || (self.prefix_len < 31 && dst == self.broadcast())
    }

    /// The neighbour to send to for `dst`; `None` without a route.
    pub fn next_hop(&self, dst: Ipv4Addr) -> Option<Ipv4Addr> {
        if dst.is_broadcast() || self.on_link(dst) {
            Some(dst)
        } else {
            self.gateway
        }
    }
}

/// Splits `payload_len` bytes into fragments fitting `mtu` (the largest IP packet):
/// yields `(offset, len, more_fragments)`; every length but the last is a multiple of 8.
pub fn fragments(payload_len: usize, mtu: usize) -> impl Iterator<Item = (usize, usize, bool)> {
    let step = (mtu.saturating_sub(HEADER_LEN) / 8 * 8).max(8);
    let mut offset = 0;
    core::iter::from_fn(move || {
        if offset >= payload_len {
            return None;
        }
        let len = step.min(payload_len - offset);
        let at = offset;
        offset += len;
        Some((at, len, offset < payload_len))
    })
}

/// Total fragment content the reassembly cache holds, over all packets.
pub const REASSEMBLY_CAPACITY: usize = 256 * 1024;
/// Fragments one packet may have.
pub const MAX_FRAGMENTS: usize = 16;
/// Time allowed from a packet's first fragment to its last.
pub const REASSEMBLY_TIMEOUT: Duration = Duration::from_secs(10);

/// A packet being reassembled: IPv4's (RFC 791) or IPv6's (RFC 8200 4.5) identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    V4 {
        src: Ipv4Addr,
        dst: Ipv4Addr,
        protocol: u8,
        ident: u16,
    },
    V6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ident: u32,
    },
}

#[derive(Debug)]
struct Partial {
    first_seen: Instant,
    stamp: u64,
    /// Sorted by offset, never overlapping.
    frags: Vec<(usize, Vec<u8>)>,
    /// Payload length, known once the last fragment arrived.
    end: Option<usize>,
    bytes: usize,
}

/// Reassembles fragmented packets with one LRU cache shared by all of them.
///
/// Rules: at most [`REASSEMBLY_CAPACITY`] bytes of fragment content in total (least recently
/// used packets are evicted), at most [`MAX_FRAGMENTS`] per packet, at most
/// [`REASSEMBLY_TIMEOUT`] from first to last fragment, any arrival order, and any overlap
/// (duplicates included) drops the whole packet.
#[derive(Debug)]
pub struct Reassembler {
    packets: BTreeMap<Key, Partial>,
    lru: BTreeMap<u64, Key>,
    tick: u64,
    bytes: usize,
    capacity: usize,
    /// Packets given up on (overlap, too many fragments, timeout, eviction).
    pub dropped: u64,
}

impl Default for Reassembler {
    fn default() -> Reassembler {
        Reassembler::new()
    }
}

impl Reassembler {
    pub fn new() -> Reassembler {
        Reassembler {
            packets: BTreeMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            bytes: 0,
            capacity: REASSEMBLY_CAPACITY,
            dropped: 0,
        }
    }

    /// Bytes of fragment content held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Packets in progress.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    fn remove(&mut self, key: &Key) {
        if let Some(p) = self.packets.remove(key) {
            self.lru.remove(&p.stamp);
            self.bytes -= p.bytes;
        }
    }

    fn drop_packet(&mut self, key: &Key) -> Option<Vec<u8>> {
        self.remove(key);
        self.dropped += 1;
        None
    }

    /// Takes one fragment (a packet with MF set or a non-zero offset); returns the
    /// reassembled payload once complete.
    pub fn process(&mut self, now: Instant, ip: &Ipv4Repr, payload: &[u8]) -> Option<Vec<u8>> {
        let key = Key::V4 {
            src: ip.src,
            dst: ip.dst,
            protocol: ip.protocol,
            ident: ip.ident,
        };
        let most = MAX_PACKET_LEN - HEADER_LEN;
        self.process_key(now, key, ip.frag_offset, ip.more_frags, payload, most)
    }

    /// An IPv6 fragment: `offset` and `more` from its fragment header, `payload` the
    /// fragment's data. Returns the fragmentable part once complete. Same rules and the same
    /// shared capacity as IPv4's.
    #[allow(clippy::too_many_arguments)]
    pub fn process_v6(
        &mut self,
        now: Instant,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        ident: u32,
        offset: usize,
        more: bool,
        payload: &[u8],
    ) -> Option<Vec<u8>> {
        let key = Key::V6 { src, dst, ident };
        // The payload length field bounds the fragmentable part (less the fragment header).
        let most = crate::wire::ipv6::MAX_PAYLOAD_LEN - crate::wire::ipv6::FRAGMENT_HEADER_LEN;
        self.process_key(now, key, offset, more, payload, most)
    }

    fn process_key(
        &mut self,
        now: Instant,
        key: Key,
        offset: usize,
        more: bool,
        payload: &[u8],
        most: usize,
    ) -> Option<Vec<u8>> {
        let len = payload.len();
        // Malformed fragments are ignored without touching the packet they claim to belong to.
        if len == 0 || (more && !len.is_multiple_of(8)) || offset + len > most {
            return None;
        }
        if let Some(p) = self.packets.get(&key)
            && now.since(p.first_seen) >= REASSEMBLY_TIMEOUT
        {
            return self.drop_packet(&key);
        }
        self.tick += 1;
        let stamp = self.tick;
        let p = self.packets.entry(key).or_insert_with(|| Partial {
            first_seen: now,
            stamp,
            frags: Vec::new(),
            end: None,
            bytes: 0,
        });
        let new_end = offset + len;
        let overlaps = p
            .frags
            .iter()
            .any(|(o, d)| offset < o + d.len() && *o < new_end);
        let inconsistent = if more {
            p.end.is_some_and(|e| new_end >= e)
        } else {
            p.end.is_some() || p.frags.iter().any(|(o, d)| o + d.len() > new_end)
        };
        if overlaps || inconsistent || p.frags.len() >= MAX_FRAGMENTS {
            return self.drop_packet(&key);
        }
        let at = p.frags.partition_point(|(o, _)| *o < offset);
        p.frags.insert(at, (offset, payload.to_vec()));
        p.bytes += len;
        if !more {
            p.end = Some(new_end);
        }
        self.lru.remove(&p.stamp);
        p.stamp = stamp;
        self.lru.insert(stamp, key);
        self.bytes += len;

        if let Some(end) = p.end
            && p.bytes == end
        {
            // No overlaps and bytes == end means the fragments tile 0..end exactly.
            let mut out = Vec::with_capacity(end);
            for (_, d) in &p.frags {
                out.extend_from_slice(d);
            }
            self.remove(&key);
            return Some(out);
        }
        self.evict(&key);
        None
    }

    /// Evicts least recently used packets other than `keep` until within capacity.
    fn evict(&mut self, keep: &Key) {
        while self.bytes > self.capacity {
            let victim = self.lru.values().find(|k| *k != keep).copied();
            match victim {
                Some(k) => {
                    self.remove(&k);
                    self.dropped += 1;
                }
                None => break,
            }
        }
    }

    /// Frees packets whose time is up; they could never complete.
    pub fn expire(&mut self, now: Instant) {
        let stale: Vec<Key> = self
            .packets
            .iter()
            .filter(|(_, p)| now.since(p.first_seen) >= REASSEMBLY_TIMEOUT)
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            self.drop_packet(&k);
        }
    }

    /// When `expire` next frees something.
    pub fn poll_at(&self) -> Option<Instant> {
        self.packets
            .values()
            .map(|p| p.first_seen + REASSEMBLY_TIMEOUT)
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frag(ident: u16, offset: usize, len: usize, more: bool) -> (Ipv4Repr, Vec<u8>) {
        let repr = Ipv4Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(10, 0, 0, 2),
            protocol: 17,
            payload_len: len,
            ttl: 64,
            ident,
            dont_frag: false,
            more_frags: more,
            frag_offset: offset,
        };
        // Content encodes its absolute position so reassembly order is checked.
        let data = (offset..offset + len).map(|i| (i % 251) as u8).collect();
        (repr, data)
    }

    fn feed(r: &mut Reassembler, now: Instant, f: (Ipv4Repr, Vec<u8>)) -> Option<Vec<u8>> {
        r.process(now, &f.0, &f.1)
    }

    fn expected(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i % 251) as u8).collect()
    }

    const T0: Instant = Instant::from_secs(100);

    #[test]
    fn in_order() {
        let mut r = Reassembler::new();
        assert!(feed(&mut r, T0, frag(1, 0, 1480, true)).is_none());
        assert!(feed(&mut r, T0, frag(1, 1480, 1480, true)).is_none());
        let out = feed(&mut r, T0, frag(1, 2960, 100, false)).unwrap();
        assert_eq!(out, expected(3060));
        assert!(r.is_empty());
        assert_eq!(r.bytes(), 0);
    }

    // Rule: fragments may arrive out of order.
    #[test]
    fn rule_out_of_order() {
        let mut r = Reassembler::new();
        assert!(feed(&mut r, T0, frag(1, 2960, 100, false)).is_none());
        assert!(feed(&mut r, T0, frag(1, 0, 1480, true)).is_none());
        let out = feed(&mut r, T0, frag(1, 1480, 1480, true)).unwrap();
        assert_eq!(out, expected(3060));
    }

    // Rule: any overlap drops the whole packet, even if the rest would complete it.
    #[test]
    fn rule_overlap_drops_packet() {
        let mut r = Reassembler::new();
        assert!(feed(&mut r, T0, frag(1, 0, 16, true)).is_none());
        assert!(feed(&mut r, T0, frag(1, 8, 8, true)).is_none());
        assert!(feed(&mut r, T0, frag(1, 16, 16, false)).is_none());
        assert_eq!(r.dropped, 1);
        // An exact duplicate is an overlap too.
        assert!(feed(&mut r, T0, frag(2, 0, 16, true)).is_none());
        assert!(feed(&mut r, T0, frag(2, 0, 16, true)).is_none());
        assert!(feed(&mut r, T0, frag(2, 16, 16, false)).is_none());
        // Overlap with a later fragment's start (arriving out of order).
        assert!(feed(&mut r, T0, frag(3, 16, 16, false)).is_none());
        assert!(feed(&mut r, T0, frag(3, 0, 24, true)).is_none());
        assert!(feed(&mut r, T0, frag(3, 0, 16, true)).is_none());
        assert_eq!(r.dropped, 3);
    }

    // Rule: at most 16 fragments per packet.
    #[test]
    fn rule_sixteen_fragments() {
        let mut r = Reassembler::new();
        for i in 0..15 {
            assert!(feed(&mut r, T0, frag(1, i * 8, 8, true)).is_none());
        }
        assert_eq!(
            feed(&mut r, T0, frag(1, 15 * 8, 8, false)).unwrap(),
            expected(128)
        );

        for i in 0..16 {
            assert!(feed(&mut r, T0, frag(2, i * 8, 8, true)).is_none());
        }
        // The 17th fragment would complete the packet, but exceeds the limit.
        assert!(feed(&mut r, T0, frag(2, 16 * 8, 8, false)).is_none());
        assert_eq!(r.dropped, 1);
        assert!(r.is_empty());
    }

    // Rule: 10 s from first to last fragment.
    #[test]
    fn rule_ten_seconds() {
        let mut r = Reassembler::new();
        let almost = T0 + Duration::from_millis(9_999);
        assert!(feed(&mut r, T0, frag(1, 0, 8, true)).is_none());
        assert!(feed(&mut r, almost, frag(1, 8, 8, false)).is_some());

        assert!(feed(&mut r, T0, frag(2, 0, 8, true)).is_none());
        assert!(feed(&mut r, almost, frag(2, 8, 8, true)).is_none());
        let late = T0 + Duration::from_secs(10);
        assert!(feed(&mut r, late, frag(2, 16, 8, false)).is_none());
        assert_eq!(r.dropped, 1);
        assert!(r.is_empty());

        // expire() frees stale packets without further fragments.
        assert!(feed(&mut r, T0, frag(3, 0, 8, true)).is_none());
        assert_eq!(r.poll_at(), Some(late));
        r.expire(almost);
        assert_eq!(r.len(), 1);
        r.expire(late);
        assert!(r.is_empty());
    }

    // Rule: one LRU cache of at most 256 KiB of fragment content shared by all packets.
    #[test]
    fn rule_shared_lru_capacity() {
        let mut r = Reassembler::new();
        let big = 60_000; // multiple of 8
        for id in 1..=4 {
            assert!(feed(&mut r, T0, frag(id, 0, big, true)).is_none());
        }
        assert_eq!(r.bytes(), 240_000);
        // Touch packet 1 so that packet 2 is now the least recently used.
        assert!(feed(&mut r, T0, frag(1, big, 8, true)).is_none());
        // Packet 5 pushes the total past 262144 bytes.
        assert!(feed(&mut r, T0, frag(5, 0, big, true)).is_none());
        assert!(r.bytes() <= REASSEMBLY_CAPACITY);
        assert_eq!(r.len(), 4);
        assert_eq!(r.dropped, 1);
        // Packet 1 survived and completes; packet 2 was evicted and cannot.
        assert_eq!(
            feed(&mut r, T0, frag(1, big + 8, 8, false)).unwrap(),
            expected(big + 16)
        );
        assert!(feed(&mut r, T0, frag(2, big, 8, false)).is_none());
        assert!(feed(&mut r, T0, frag(3, big, 8, false)).is_some());
    }

    #[test]
    fn inconsistent_ends_drop() {
        let mut r = Reassembler::new();
        // Two different last fragments.
        feed(&mut r, T0, frag(1, 16, 8, false));
        assert!(feed(&mut r, T0, frag(1, 32, 8, false)).is_none());
        feed(&mut r, T0, frag(1, 0, 16, true));
        assert_eq!(r.dropped, 1);
        // A middle fragment beyond the known end.
        feed(&mut r, T0, frag(2, 0, 8, true));
        feed(&mut r, T0, frag(2, 16, 8, false));
        assert!(feed(&mut r, T0, frag(2, 32, 8, true)).is_none());
        assert!(feed(&mut r, T0, frag(2, 8, 8, true)).is_none());
        assert_eq!(r.dropped, 2);
    }

    #[test]
    fn malformed_fragments_ignored() {
        let mut r = Reassembler::new();
        feed(&mut r, T0, frag(1, 0, 8, true));
        // Non-multiple of 8 with MF, empty, and past 64 KiB: ignored, packet kept.
        assert!(feed(&mut r, T0, frag(1, 8, 7, true)).is_none());
        assert!(feed(&mut r, T0, frag(1, 8, 0, false)).is_none());
        assert!(feed(&mut r, T0, frag(1, 65512, 8, false)).is_none());
        assert_eq!(r.dropped, 0);
        assert_eq!(
            feed(&mut r, T0, frag(1, 8, 5, false)).unwrap(),
            expected(13)
        );
    }

    #[test]
    fn fragment_plan() {
        let plan: Vec<_> = fragments(3000, 1500).collect();
        assert_eq!(
            plan,
            [(0, 1480, true), (1480, 1480, true), (2960, 40, false)]
        );
        let exact: Vec<_> = fragments(1480, 1500).collect();
        assert_eq!(exact, [(0, 1480, false)]);
        // An MTU that is not 20 + a multiple of 8 rounds down.
        let odd: Vec<_> = fragments(100, 50).collect();
        assert_eq!(odd[0], (0, 24, true));
        assert!(odd.iter().all(|(o, _, _)| o % 8 == 0));
        assert_eq!(odd.iter().map(|f| f.1).sum::<usize>(), 100);
        assert_eq!(fragments(0, 1500).count(), 0);
    }

    #[test]
    fn fragments_reassemble() {
        let mut r = Reassembler::new();
        let mut out = None;
        for (o, l, m) in fragments(5000, 576) {
            assert!(out.is_none());
            out = feed(&mut r, T0, frag(9, o, l, m));
        }
        assert_eq!(out.unwrap(), expected(5000));
    }

    #[test]
    fn addressing() {
        let c = Ipv4Config::from_cidr("10.0.0.2/24", Some(Ipv4Addr::new(10, 0, 0, 1))).unwrap();
        assert_eq!(c.netmask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(c.broadcast(), Ipv4Addr::new(10, 0, 0, 255));
        assert!(c.on_link(Ipv4Addr::new(10, 0, 0, 77)));
        assert_eq!(
            c.next_hop(Ipv4Addr::new(10, 0, 0, 77)),
            Some(Ipv4Addr::new(10, 0, 0, 77))
        );
        assert_eq!(
            c.next_hop(Ipv4Addr::new(8, 8, 8, 8)),
            Some(Ipv4Addr::new(10, 0, 0, 1))
        );
        assert_eq!(c.next_hop(Ipv4Addr::BROADCAST), Some(Ipv4Addr::BROADCAST));
        assert!(c.accepts(Ipv4Addr::new(10, 0, 0, 255)));
        assert!(!c.accepts(Ipv4Addr::new(10, 0, 0, 3)));
        let no_gw = Ipv4Config::from_cidr("192.168.1.5/16", None).unwrap();
        assert_eq!(no_gw.next_hop(Ipv4Addr::new(8, 8, 8, 8)), None);
        assert_eq!(
            Ipv4Config::from_cidr("0.0.0.0/0", None).unwrap().netmask(),
            Ipv4Addr::UNSPECIFIED
        );
        assert_eq!(
            Ipv4Config::from_cidr("1.2.3.4/32", None).unwrap().netmask(),
            Ipv4Addr::BROADCAST
        );
        for bad in ["10.0.0.2", "10.0.0.2/33", "10.0.0/24", "x/1", "10.0.0.2/"] {
            assert_eq!(Ipv4Config::from_cidr(bad, None), Err(BadCidr), "{bad}");
        }
    }
}
