//! Answers kept for their TTL, in a cache of bounded size: when full, the entry closest to
//! expiry (expired ones first) makes room. Only answers with addresses are kept; a TTL of 0
//! is not cached (RFC 1035 §3.2.1), and TTLs are capped at a day.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::net::IpAddr;

use crate::lookup::Answer;
use crate::wire::{Name, Qtype};

/// Longest time an answer is kept, whatever its TTL.
pub const MAX_TTL: u32 = 86_400;

#[derive(Clone, Debug)]
struct Entry {
    answer: Answer,
    expires_ns: u64,
}

/// The cache.
#[derive(Clone, Debug)]
pub struct Cache {
    capacity: usize,
    entries: BTreeMap<(Name, Qtype), Entry>,
}

impl Cache {
    /// A cache of at most `capacity` answers (0: nothing is cached).
    pub fn new(capacity: usize) -> Cache {
        Cache {
            capacity,
            entries: BTreeMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The answer for `name`'s `qtype` records if it has not expired, its TTL lowered to
    /// the seconds left.
    pub fn get(&mut self, name: &Name, qtype: Qtype, now_ns: u64) -> Option<Answer> {
        let key = (name.clone(), qtype);
        let e = self.entries.get(&key)?;
        if e.expires_ns <= now_ns {
            self.entries.remove(&key);
            return None;
        }
        let mut a = e.answer.clone();
        a.ttl = ((e.expires_ns - now_ns) / 1_000_000_000) as u32;
        Some(a)
    }

    /// Keeps `answer` until its TTL runs out.
    pub fn put(&mut self, answer: &Answer, now_ns: u64) {
        if self.capacity == 0 || answer.ttl == 0 || answer.addrs.is_empty() {
            return;
        }
        let key = (answer.name.clone(), answer.qtype);
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let victim = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.expires_ns)
                .map(|(k, _)| k.clone());
            if let Some(v) = victim {
                self.entries.remove(&v);
            }
        }
        let ttl = u64::from(answer.ttl.min(MAX_TTL));
        self.entries.insert(
            key,
            Entry {
                answer: answer.clone(),
                expires_ns: now_ns.saturating_add(ttl * 1_000_000_000),
            },
        );
    }

    /// Every cached address of `name` (both families), for tests and diagnostics.
    pub fn addresses(&self, name: &Name) -> Vec<IpAddr> {
        self.entries
            .iter()
            .filter(|((n, _), _)| n == name)
            .flat_map(|(_, e)| e.answer.addrs.iter().copied())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec;
    use core::net::Ipv4Addr;

    const S: u64 = 1_000_000_000;

    fn answer(name: &str, ttl: u32) -> Answer {
        let name = Name::parse(name).unwrap();
        Answer {
            canonical: name.clone(),
            name,
            qtype: Qtype::A,
            addrs: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))],
            ttl,
        }
    }

    #[test]
    fn answers_live_for_their_ttl() {
        let mut c = Cache::new(8);
        let a = answer("a.example", 10);
        c.put(&a, 0);
        let got = c.get(&a.name, Qtype::A, 4 * S).unwrap();
        assert_eq!((got.addrs, got.ttl), (a.addrs.clone(), 6));
        assert!(c.get(&a.name, Qtype::Aaaa, 4 * S).is_none());
        assert!(c.get(&a.name, Qtype::A, 10 * S).is_none());
        assert!(c.is_empty(), "an expired entry is dropped when seen");
    }

    #[test]
    fn zero_ttls_and_empty_answers_are_not_kept() {
        let mut c = Cache::new(8);
        c.put(&answer("a.example", 0), 0);
        let mut empty = answer("b.example", 60);
        empty.addrs.clear();
        c.put(&empty, 0);
        assert!(c.is_empty());
    }

    #[test]
    fn a_full_cache_evicts_the_entry_nearest_expiry() {
        let mut c = Cache::new(3);
        for (i, ttl) in [50, 10, 70].into_iter().enumerate() {
            c.put(&answer(&format!("n{i}.example"), ttl), 0);
        }
        c.put(&answer("new.example", 30), 0);
        assert_eq!(c.len(), 3);
        let n1 = Name::parse("n1.example").unwrap();
        assert!(
            c.get(&n1, Qtype::A, S).is_none(),
            "the 10 s entry made room"
        );
        for name in ["n0.example", "n2.example", "new.example"] {
            assert!(
                c.get(&Name::parse(name).unwrap(), Qtype::A, S).is_some(),
                "{name}"
            );
        }
        // Replacing an entry never evicts another.
        c.put(&answer("new.example", 90), S);
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn ttls_are_capped_at_a_day() {
        let mut c = Cache::new(1);
        let a = answer("a.example", u32::MAX >> 1);
        c.put(&a, 0);
        assert!(c.get(&a.name, Qtype::A, u64::from(MAX_TTL) * S).is_none());
    }
}
