//! The ARP layer (RFC 826): a cache with expiry, request retries, and a bounded queue of
//! packets waiting for resolution.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;

use crate::time::{Duration, Instant, earliest};
use crate::wire::arp::{ArpRepr, Operation};
use crate::wire::{Ipv4Addr, MacAddr};

#[derive(Debug, Clone)]
pub struct ArpConfig {
    /// How long a learned mapping stays valid.
    pub entry_lifetime: Duration,
    /// Time between requests for an unresolved address.
    pub retry_interval: Duration,
    /// Requests sent before giving up on an address (and dropping its queued packets).
    pub max_requests: u8,
    /// Packets queued per unresolved address; the oldest is dropped beyond this.
    pub max_pending_per_address: usize,
    /// Packets queued over all unresolved addresses.
    pub max_pending_total: usize,
    /// Cache entries (resolved and pending).
    pub max_entries: usize,
}

impl Default for ArpConfig {
    fn default() -> ArpConfig {
        ArpConfig {
            entry_lifetime: Duration::from_secs(300),
            retry_interval: Duration::from_secs(1),
            max_requests: 3,
            max_pending_per_address: 16,
            max_pending_total: 256,
            max_entries: 512,
        }
    }
}

#[derive(Debug)]
enum Entry {
    Resolved {
        mac: MacAddr,
        expires: Instant,
    },
    Pending {
        requests_sent: u8,
        next_request: Instant,
        queue: VecDeque<Vec<u8>>,
    },
}

/// What `queue` did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queued {
    /// First packet for this address: send a request now.
    SendRequest,
    /// Added behind an outstanding request.
    Waiting,
    /// No room: the packet was dropped.
    Dropped,
}

/// The result of processing a received ARP packet.
#[derive(Debug, Default)]
pub struct Input {
    /// A reply to transmit (to `reply.target_mac`).
    pub reply: Option<ArpRepr>,
    /// Packets that were waiting for the sender's address, now deliverable to it.
    pub released: Option<(MacAddr, VecDeque<Vec<u8>>)>,
}

/// The neighbour cache, keyed by protocol address: IPv4's for ARP, IPv6's for neighbour
/// discovery (which shares its bounds and queueing).
#[derive(Debug)]
pub struct ArpCache<A = Ipv4Addr> {
    cfg: ArpConfig,
    entries: BTreeMap<A, Entry>,
    pending_total: usize,
    /// Packets dropped because resolution failed or a queue was full.
    pub dropped: u64,
}

impl<A: Ord + Copy> ArpCache<A> {
    pub fn new(cfg: ArpConfig) -> ArpCache<A> {
        ArpCache {
            cfg,
            entries: BTreeMap::new(),
            pending_total: 0,
            dropped: 0,
        }
    }

    pub fn lookup(&mut self, now: Instant, ip: A) -> Option<MacAddr> {
        match self.entries.get(&ip)? {
            Entry::Resolved { mac, expires } if *expires > now => Some(*mac),
            Entry::Resolved { .. } => {
                self.entries.remove(&ip);
                None
            }
            Entry::Pending { .. } => None,
        }
    }

    /// Queues a complete IPv4 packet for `ip` until it resolves.
    pub fn queue(&mut self, now: Instant, ip: A, packet: Vec<u8>) -> Queued {
        if self.pending_total >= self.cfg.max_pending_total {
            self.dropped += 1;
            return Queued::Dropped;
        }
        if let Some(Entry::Pending { queue, .. }) = self.entries.get_mut(&ip) {
            if queue.len() >= self.cfg.max_pending_per_address {
                queue.pop_front();
                self.pending_total -= 1;
                self.dropped += 1;
            }
            queue.push_back(packet);
            self.pending_total += 1;
            return Queued::Waiting;
        }
        // Absent or expired: start resolving.
        if !self.entries.contains_key(&ip) && !self.make_room(now) {
            self.dropped += 1;
            return Queued::Dropped;
        }
        let mut queue = VecDeque::new();
        queue.push_back(packet);
        self.pending_total += 1;
        self.entries.insert(
            ip,
            Entry::Pending {
                requests_sent: 1,
                next_request: now + self.cfg.retry_interval,
                queue,
            },
        );
        Queued::SendRequest
    }

    /// Records `ip` at `mac`; returns packets that were waiting for it.
    pub fn insert(&mut self, now: Instant, ip: A, mac: MacAddr) -> Option<VecDeque<Vec<u8>>> {
        if !self.entries.contains_key(&ip) && !self.make_room(now) {
            return None;
        }
        let expires = now + self.cfg.entry_lifetime;
        match self.entries.insert(ip, Entry::Resolved { mac, expires }) {
            Some(Entry::Pending { queue, .. }) => {
                self.pending_total -= queue.len();
                Some(queue)
            }
            _ => None,
        }
    }

    /// Frees a slot if the table is full, preferring expired then soonest-expiring mappings;
    /// false if every entry is a pending resolution.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.entries.len() < self.cfg.max_entries {
            return true;
        }
        self.entries
            .retain(|_, e| !matches!(e, Entry::Resolved { expires, .. } if *expires <= now));
        if self.entries.len() < self.cfg.max_entries {
            return true;
        }
        let victim = self
            .entries
            .iter()
            .filter_map(|(ip, e)| match e {
                Entry::Resolved { expires, .. } => Some((*expires, *ip)),
                Entry::Pending { .. } => None,
            })
            .min();
        match victim {
            Some((_, ip)) => {
                self.entries.remove(&ip);
                true
            }
            None => false,
        }
    }

    /// Runs retries: calls `request` for each address due another request, and drops
    /// resolutions (with their packets) that ran out of requests.
    pub fn poll(&mut self, now: Instant, mut request: impl FnMut(A)) {
        let cfg = &self.cfg;
        let mut dropped = 0;
        self.entries.retain(|ip, e| match e {
            Entry::Resolved { expires, .. } => *expires > now,
            Entry::Pending {
                requests_sent,
                next_request,
                queue,
            } => {
                if *next_request > now {
                    return true;
                }
                if *requests_sent >= cfg.max_requests {
                    dropped += queue.len();
                    return false;
                }
                *requests_sent += 1;
                *next_request = now + cfg.retry_interval;
                request(*ip);
                true
            }
        });
        self.pending_total -= dropped;
        self.dropped += dropped as u64;
    }

    /// When `poll` next has work to do.
    pub fn poll_at(&self) -> Option<Instant> {
        self.entries
            .values()
            .filter_map(|e| match e {
                Entry::Pending { next_request, .. } => Some(*next_request),
                Entry::Resolved { .. } => None,
            })
            .fold(None, |acc, t| earliest(acc, Some(t)))
    }

    /// Whether `ip` has an entry (resolved or being resolved).
    pub fn contains(&self, ip: A) -> bool {
        self.entries.contains_key(&ip)
    }

    pub fn pending_packets(&self) -> usize {
        self.pending_total
    }

    /// Forgets every mapping and waiting packet (after an address change).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.pending_total = 0;
    }
}

impl ArpCache<Ipv4Addr> {
    /// Handles a received ARP packet (RFC 826 merge, then reply if asked for `our_ip`).
    pub fn process(
        &mut self,
        now: Instant,
        our_mac: MacAddr,
        our_ip: Option<Ipv4Addr>,
        arp: &ArpRepr,
    ) -> Input {
        let mut input = Input::default();
        let for_us = our_ip.is_some_and(|ip| ip == arp.target_ip);
        // Probes (sender 0.0.0.0) and bogus senders teach nothing.
        let learnable = !arp.sender_ip.is_unspecified()
            && !arp.sender_ip.is_broadcast()
            && arp.sender_mac.is_unicast()
            && Some(arp.sender_ip) != our_ip;
        if learnable
            && (for_us || self.entries.contains_key(&arp.sender_ip))
            && let Some(q) = self.insert(now, arp.sender_ip, arp.sender_mac)
        {
            input.released = Some((arp.sender_mac, q));
        }
        if for_us && arp.operation == Operation::Request {
            input.reply = Some(ArpRepr {
                operation: Operation::Reply,
                sender_mac: our_mac,
                sender_ip: arp.target_ip,
                target_mac: arp.sender_mac,
                target_ip: arp.sender_ip,
            });
        }
        input
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const ME: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const PEER: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
    const MY_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    fn request_from_peer(target: Ipv4Addr) -> ArpRepr {
        ArpRepr {
            operation: Operation::Request,
            sender_mac: PEER,
            sender_ip: PEER_IP,
            target_mac: MacAddr::ZERO,
            target_ip: target,
        }
    }

    #[test]
    fn replies_and_learns_when_asked_for_us() {
        let mut c = ArpCache::new(ArpConfig::default());
        let input = c.process(t(0), ME, Some(MY_IP), &request_from_peer(MY_IP));
        let reply = input.reply.unwrap();
        assert_eq!(reply.operation, Operation::Reply);
        assert_eq!((reply.sender_mac, reply.sender_ip), (ME, MY_IP));
        assert_eq!((reply.target_mac, reply.target_ip), (PEER, PEER_IP));
        assert_eq!(c.lookup(t(1), PEER_IP), Some(PEER));
    }

    #[test]
    fn ignores_requests_for_others() {
        let mut c = ArpCache::new(ArpConfig::default());
        let input = c.process(
            t(0),
            ME,
            Some(MY_IP),
            &request_from_peer(Ipv4Addr::new(10, 0, 0, 3)),
        );
        assert!(input.reply.is_none());
        // Not in the table, so not merged either (RFC 826).
        assert_eq!(c.lookup(t(1), PEER_IP), None);
        // Without an address we never reply.
        assert!(
            c.process(t(0), ME, None, &request_from_peer(MY_IP))
                .reply
                .is_none()
        );
    }

    #[test]
    fn probes_are_answered_but_not_learned() {
        let mut c = ArpCache::new(ArpConfig::default());
        let mut probe = request_from_peer(MY_IP);
        probe.sender_ip = Ipv4Addr::UNSPECIFIED;
        assert!(c.process(t(0), ME, Some(MY_IP), &probe).reply.is_some());
        assert_eq!(c.lookup(t(0), Ipv4Addr::UNSPECIFIED), None);
    }

    #[test]
    fn entries_expire() {
        let cfg = ArpConfig {
            entry_lifetime: Duration::from_secs(10),
            ..ArpConfig::default()
        };
        let mut c = ArpCache::new(cfg);
        c.insert(t(0), PEER_IP, PEER);
        assert_eq!(c.lookup(t(9_999), PEER_IP), Some(PEER));
        assert_eq!(c.lookup(t(10_000), PEER_IP), None);
    }

    #[test]
    fn merge_updates_known_sender() {
        let mut c = ArpCache::new(ArpConfig::default());
        c.insert(t(0), PEER_IP, MacAddr([2, 0, 0, 0, 0, 9]));
        // A gratuitous ARP from the peer (not for us) still updates its known entry.
        let mut g = request_from_peer(PEER_IP);
        g.target_ip = PEER_IP;
        c.process(t(5), ME, Some(MY_IP), &g);
        assert_eq!(c.lookup(t(6), PEER_IP), Some(PEER));
    }

    #[test]
    fn queue_then_release_on_reply() {
        let mut c = ArpCache::new(ArpConfig::default());
        assert_eq!(c.queue(t(0), PEER_IP, vec![1]), Queued::SendRequest);
        assert_eq!(c.queue(t(1), PEER_IP, vec![2]), Queued::Waiting);
        assert_eq!(c.pending_packets(), 2);
        assert_eq!(c.lookup(t(2), PEER_IP), None);
        let reply = ArpRepr {
            operation: Operation::Reply,
            sender_mac: PEER,
            sender_ip: PEER_IP,
            target_mac: ME,
            target_ip: MY_IP,
        };
        let input = c.process(t(3), ME, Some(MY_IP), &reply);
        assert!(input.reply.is_none());
        let (mac, q) = input.released.unwrap();
        assert_eq!(mac, PEER);
        assert_eq!(q, [vec![1], vec![2]]);
        assert_eq!(c.pending_packets(), 0);
        assert_eq!(c.lookup(t(4), PEER_IP), Some(PEER));
    }

    #[test]
    fn retries_then_gives_up() {
        let mut c = ArpCache::new(ArpConfig::default());
        c.queue(t(0), PEER_IP, vec![1]);
        assert_eq!(c.poll_at(), Some(t(1000)));
        let mut asked = vec![];
        c.poll(t(999), |ip| asked.push(ip));
        assert!(asked.is_empty());
        c.poll(t(1000), |ip| asked.push(ip));
        c.poll(t(2000), |ip| asked.push(ip));
        assert_eq!(asked, [PEER_IP, PEER_IP]);
        // Third request was the last one: the next deadline drops the packet.
        c.poll(t(3000), |ip| asked.push(ip));
        assert_eq!(asked.len(), 2);
        assert_eq!(c.pending_packets(), 0);
        assert_eq!(c.dropped, 1);
        assert_eq!(c.poll_at(), None);
        // A new packet starts a fresh resolution.
        assert_eq!(c.queue(t(3001), PEER_IP, vec![3]), Queued::SendRequest);
    }

    #[test]
    fn waiting_queue_is_bounded() {
        let cfg = ArpConfig {
            max_pending_per_address: 2,
            max_pending_total: 3,
            ..ArpConfig::default()
        };
        let mut c = ArpCache::new(cfg);
        c.queue(t(0), PEER_IP, vec![1]);
        c.queue(t(0), PEER_IP, vec![2]);
        // Per-address bound drops the oldest.
        assert_eq!(c.queue(t(0), PEER_IP, vec![3]), Queued::Waiting);
        assert_eq!(c.pending_packets(), 2);
        let other = Ipv4Addr::new(10, 0, 0, 3);
        assert_eq!(c.queue(t(0), other, vec![4]), Queued::SendRequest);
        // Total bound refuses.
        assert_eq!(c.queue(t(0), other, vec![5]), Queued::Dropped);
        assert_eq!(c.dropped, 2);
        let q = c.insert(t(1), PEER_IP, PEER).unwrap();
        assert_eq!(q, [vec![2], vec![3]]);
    }

    #[test]
    fn table_is_bounded() {
        let cfg = ArpConfig {
            max_entries: 2,
            ..ArpConfig::default()
        };
        let mut c = ArpCache::new(cfg);
        c.insert(t(0), Ipv4Addr::new(10, 0, 0, 2), PEER);
        c.insert(t(1), Ipv4Addr::new(10, 0, 0, 3), PEER);
        c.insert(t(2), Ipv4Addr::new(10, 0, 0, 4), PEER);
        // The soonest-expiring mapping made room.
        assert_eq!(c.lookup(t(3), Ipv4Addr::new(10, 0, 0, 2)), None);
        assert!(c.lookup(t(3), Ipv4Addr::new(10, 0, 0, 4)).is_some());
        // Pending resolutions are never evicted for new ones.
        let mut p = ArpCache::new(ArpConfig {
            max_entries: 1,
            ..ArpConfig::default()
        });
        p.queue(t(0), PEER_IP, vec![1]);
        assert_eq!(p.queue(t(0), MY_IP, vec![1]), Queued::Dropped);
    }
}
