//! Happy eyeballs (RFC 8305), sans-IO: which connection attempts to start, when, and which
//! to close. The caller resolves AAAA and A at once and reports each answer with
//! [`HappyEyeballs::resolved`], starts the attempts [`HappyEyeballs::poll`] asks for, reports
//! their outcome, and calls `poll` again at [`HappyEyeballs::next_wakeup`] or after any
//! event.
//!
//! The rules: connecting starts as soon as AAAA answers with addresses; if A answers first,
//! the machine waits the resolution delay (50 ms) for AAAA before starting with IPv4.
//! Addresses are tried alternately, IPv6 first; a new attempt starts every connection
//! attempt delay (250 ms) while earlier ones are still pending, or at once when every
//! pending one failed. The first attempt to connect wins and every other is closed; an
//! overall timeout ends everything.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// The delays of RFC 8305 and an overall limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long an A answer waits for the AAAA answer (RFC 8305 §3: 50 ms).
    pub resolution_delay_ns: u64,
    /// Between two connection attempts (RFC 8305 §5: 250 ms recommended).
    pub connection_attempt_delay_ns: u64,
    /// From the start to giving up.
    pub timeout_ns: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            resolution_delay_ns: 50_000_000,
            connection_attempt_delay_ns: 250_000_000,
            timeout_ns: 10_000_000_000,
        }
    }
}

/// An address family's resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    V6,
    V4,
}

/// Identifies one connection attempt.
pub type AttemptId = usize;

/// Why connecting failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Both resolutions ended without an address.
    NoAddresses,
    /// Every address was tried and every attempt failed.
    AllFailed { tried: usize },
    /// The overall timeout passed.
    Timeout,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoAddresses => f.write_str("no address to connect to"),
            Error::AllFailed { tried } => write!(f, "all {tried} connection attempt(s) failed"),
            Error::Timeout => f.write_str("connecting timed out"),
        }
    }
}

/// What the caller does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Connect {
        id: AttemptId,
        addr: SocketAddr,
    },
    /// Abandon the attempt, or close its connection if it completed.
    Close {
        id: AttemptId,
    },
    /// The end: the winning attempt, or why there is none.
    Done(Result<(AttemptId, SocketAddr), Error>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolution {
    Pending,
    Done,
}

/// One connection by happy eyeballs.
#[derive(Clone, Debug)]
pub struct HappyEyeballs {
    config: Config,
    port: u16,
    deadline_ns: u64,
    v6: Resolution,
    v4: Resolution,
    /// When A answered while AAAA was pending.
    a_waiting_since: Option<u64>,
    started: bool,
    pending6: VecDeque<IpAddr>,
    pending4: VecDeque<IpAddr>,
    v6_turn: bool,
    seen: Vec<IpAddr>,
    in_flight: Vec<(AttemptId, SocketAddr)>,
    last_attempt_ns: u64,
    next_id: AttemptId,
    tried: usize,
    out: VecDeque<Action>,
    done: bool,
}

impl HappyEyeballs {
    /// A connection to `port` of a name whose AAAA and A queries were just sent.
    pub fn new(port: u16, now_ns: u64, config: Config) -> HappyEyeballs {
        HappyEyeballs {
            config,
            port,
            deadline_ns: now_ns.saturating_add(config.timeout_ns),
            v6: Resolution::Pending,
            v4: Resolution::Pending,
            a_waiting_since: None,
            started: false,
            pending6: VecDeque::new(),
            pending4: VecDeque::new(),
            v6_turn: true,
            seen: Vec::new(),
            in_flight: Vec::new(),
            last_attempt_ns: 0,
            next_id: 0,
            tried: 0,
            out: VecDeque::new(),
            done: false,
        }
    }

    /// A connection to known addresses (both families resolved already).
    pub fn with_addresses(addrs: &[IpAddr], port: u16, now_ns: u64, config: Config) -> Self {
        let mut he = HappyEyeballs::new(port, now_ns, config);
        let (v6, v4): (Vec<IpAddr>, Vec<IpAddr>) = addrs.iter().partition(|a| a.is_ipv6());
        he.resolved(Family::V6, &v6, now_ns);
        he.resolved(Family::V4, &v4, now_ns);
        he
    }

    /// One family's resolution ended, with these addresses (none on failure or NODATA).
    pub fn resolved(&mut self, family: Family, addrs: &[IpAddr], now_ns: u64) {
        for &a in addrs {
            let fits = matches!(
                (family, a),
                (Family::V6, IpAddr::V6(_)) | (Family::V4, IpAddr::V4(_))
            );
            if !fits || self.seen.contains(&a) {
                continue;
            }
            self.seen.push(a);
            match family {
                Family::V6 => self.pending6.push_back(a),
                Family::V4 => self.pending4.push_back(a),
            }
        }
        match family {
            Family::V6 => self.v6 = Resolution::Done,
            Family::V4 => {
                self.v4 = Resolution::Done;
                if self.v6 == Resolution::Pending && !addrs.is_empty() {
                    self.a_waiting_since = Some(now_ns);
                }
            }
        }
    }

    /// Attempt `id` connected.
    pub fn connected(&mut self, id: AttemptId) {
        let Some(i) = self.in_flight.iter().position(|(a, _)| *a == id) else {
            return;
        };
        let (_, addr) = self.in_flight.remove(i);
        if self.done {
            self.out.push_back(Action::Close { id });
            return;
        }
        self.done = true;
        self.out.push_back(Action::Done(Ok((id, addr))));
        for (other, _) in self.in_flight.drain(..) {
            self.out.push_back(Action::Close { id: other });
        }
    }

    /// Attempt `id` failed.
    pub fn failed(&mut self, id: AttemptId) {
        self.in_flight.retain(|(a, _)| *a != id);
    }

    pub fn is_done(&self) -> bool {
        self.done && self.out.is_empty()
    }

    /// The attempts in flight.
    pub fn in_flight(&self) -> impl Iterator<Item = (AttemptId, SocketAddr)> + '_ {
        self.in_flight.iter().copied()
    }

    fn may_start(&mut self, now_ns: u64) -> bool {
        if !self.started {
            let v6_ready = !self.pending6.is_empty();
            let v4_ready = !self.pending4.is_empty()
                && (self.v6 == Resolution::Done
                    || self.a_waiting_since.is_some_and(|t| {
                        now_ns >= t.saturating_add(self.config.resolution_delay_ns)
                    }));
            self.started = v6_ready || v4_ready;
        }
        self.started
    }

    fn take_address(&mut self) -> Option<IpAddr> {
        let (first, second) = if self.v6_turn {
            (&mut self.pending6, &mut self.pending4)
        } else {
            (&mut self.pending4, &mut self.pending6)
        };
        let a = first.pop_front().or_else(|| second.pop_front())?;
        self.v6_turn = a.is_ipv4();
        Some(a)
    }

    /// The actions due at `now_ns`, in order.
    pub fn poll(&mut self, now_ns: u64) -> Vec<Action> {
        if !self.done {
            if now_ns >= self.deadline_ns {
                self.done = true;
                for (id, _) in self.in_flight.drain(..) {
                    self.out.push_back(Action::Close { id });
                }
                self.out.push_back(Action::Done(Err(Error::Timeout)));
            } else if self.may_start(now_ns) {
                let due = self.in_flight.is_empty()
                    || now_ns
                        >= self
                            .last_attempt_ns
                            .saturating_add(self.config.connection_attempt_delay_ns);
                if due && let Some(ip) = self.take_address() {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.tried += 1;
                    let addr = SocketAddr::new(ip, self.port);
                    self.in_flight.push((id, addr));
                    self.last_attempt_ns = now_ns;
                    self.out.push_back(Action::Connect { id, addr });
                }
            }
            let resolving = self.v6 == Resolution::Pending || self.v4 == Resolution::Pending;
            let left = !self.pending6.is_empty() || !self.pending4.is_empty();
            if !self.done && !resolving && !left && self.in_flight.is_empty() {
                self.done = true;
                self.out.push_back(Action::Done(Err(if self.tried == 0 {
                    Error::NoAddresses
                } else {
                    Error::AllFailed { tried: self.tried }
                })));
            }
        }
        self.out.drain(..).collect()
    }

    /// When `poll` has something to do even if no event comes; `None` once done.
    pub fn next_wakeup(&self) -> Option<u64> {
        if self.done {
            return None;
        }
        let mut at = self.deadline_ns;
        let left = !self.pending6.is_empty() || !self.pending4.is_empty();
        if self.started && left && !self.in_flight.is_empty() {
            at = at.min(
                self.last_attempt_ns
                    .saturating_add(self.config.connection_attempt_delay_ns),
            );
        }
        if !self.started
            && let Some(t) = self.a_waiting_since
        {
            at = at.min(t.saturating_add(self.config.resolution_delay_ns));
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use core::net::{Ipv4Addr, Ipv6Addr};

    const MS: u64 = 1_000_000;

    fn v6(n: u16) -> IpAddr {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n))
    }
    fn v4(n: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, n))
    }
    fn connect(id: AttemptId, ip: IpAddr) -> Action {
        Action::Connect {
            id,
            addr: SocketAddr::new(ip, 443),
        }
    }

    #[test]
    fn ipv6_first_then_ipv4_after_the_attempt_delay() {
        let mut he = HappyEyeballs::new(443, 0, Config::default());
        assert!(he.poll(0).is_empty());
        he.resolved(Family::V6, &[v6(1)], 10 * MS);
        he.resolved(Family::V4, &[v4(1)], 12 * MS);
        assert_eq!(he.poll(12 * MS), vec![connect(0, v6(1))]);
        assert_eq!(he.next_wakeup(), Some(262 * MS));
        assert!(he.poll(261 * MS).is_empty());
        assert_eq!(he.poll(262 * MS), vec![connect(1, v4(1))]);
        // IPv4 connects first: it wins, IPv6 is closed.
        he.connected(1);
        assert_eq!(
            he.poll(300 * MS),
            vec![
                Action::Done(Ok((1, SocketAddr::new(v4(1), 443)))),
                Action::Close { id: 0 }
            ]
        );
        assert!(he.is_done());
        assert_eq!(he.next_wakeup(), None);
    }

    #[test]
    fn a_first_waits_the_resolution_delay_for_aaaa() {
        let mut he = HappyEyeballs::new(443, 0, Config::default());
        he.resolved(Family::V4, &[v4(1)], 5 * MS);
        assert!(he.poll(5 * MS).is_empty());
        assert_eq!(he.next_wakeup(), Some(55 * MS));
        // AAAA within the delay: IPv6 still goes first.
        he.resolved(Family::V6, &[v6(1)], 30 * MS);
        assert_eq!(he.poll(30 * MS), vec![connect(0, v6(1))]);

        let mut he = HappyEyeballs::new(443, 0, Config::default());
        he.resolved(Family::V4, &[v4(1)], 5 * MS);
        assert!(he.poll(54 * MS).is_empty());
        assert_eq!(he.poll(55 * MS), vec![connect(0, v4(1))]);
        // A late AAAA joins the queue: tried next, after the attempt delay.
        he.resolved(Family::V6, &[v6(1)], 100 * MS);
        assert!(he.poll(100 * MS).is_empty());
        assert_eq!(he.poll(305 * MS), vec![connect(1, v6(1))]);
    }

    #[test]
    fn a_failed_or_empty_aaaa_starts_ipv4_at_once() {
        let mut he = HappyEyeballs::new(443, 0, Config::default());
        he.resolved(Family::V4, &[v4(1)], 5 * MS);
        he.resolved(Family::V6, &[], 6 * MS);
        assert_eq!(he.poll(6 * MS), vec![connect(0, v4(1))]);
    }

    #[test]
    fn a_failure_starts_the_next_attempt_without_waiting() {
        let addrs = [v6(1), v6(2), v4(1), v4(2)];
        let mut he = HappyEyeballs::with_addresses(&addrs, 443, 0, Config::default());
        assert_eq!(he.poll(0), vec![connect(0, v6(1))]);
        he.failed(0);
        assert_eq!(he.poll(MS), vec![connect(1, v4(1))], "families alternate");
        assert_eq!(he.poll(251 * MS), vec![connect(2, v6(2))]);
        he.failed(1);
        he.failed(2);
        assert_eq!(he.poll(260 * MS), vec![connect(3, v4(2))]);
        he.failed(3);
        assert_eq!(
            he.poll(261 * MS),
            vec![Action::Done(Err(Error::AllFailed { tried: 4 }))]
        );
    }

    #[test]
    fn the_overall_timeout_closes_what_is_pending() {
        let cfg = Config {
            timeout_ns: 400 * MS,
            ..Config::default()
        };
        let mut he = HappyEyeballs::with_addresses(&[v6(1), v4(1)], 443, 0, cfg);
        assert_eq!(he.poll(0).len(), 1);
        assert_eq!(he.poll(250 * MS).len(), 1);
        assert_eq!(he.next_wakeup(), Some(400 * MS));
        assert_eq!(
            he.poll(400 * MS),
            vec![
                Action::Close { id: 0 },
                Action::Close { id: 1 },
                Action::Done(Err(Error::Timeout))
            ]
        );
        // A connection completing after the end is closed.
        he.connected(0);
        assert!(
            he.poll(401 * MS).is_empty(),
            "attempt 0 was no longer in flight"
        );
    }

    #[test]
    fn no_addresses_at_all_is_its_own_error() {
        let mut he = HappyEyeballs::new(443, 0, Config::default());
        he.resolved(Family::V6, &[], MS);
        assert!(he.poll(MS).is_empty(), "A is still pending");
        he.resolved(Family::V4, &[], 2 * MS);
        assert_eq!(he.poll(2 * MS), vec![Action::Done(Err(Error::NoAddresses))]);
    }

    #[test]
    fn duplicates_and_misfiled_addresses_are_dropped() {
        let mut he = HappyEyeballs::new(443, 0, Config::default());
        he.resolved(Family::V6, &[v6(1), v6(1), v4(9)], 0);
        he.resolved(Family::V4, &[], 0);
        assert_eq!(he.poll(0), vec![connect(0, v6(1))]);
        he.failed(0);
        assert_eq!(
            he.poll(1),
            vec![Action::Done(Err(Error::AllFailed { tried: 1 }))]
        );
    }
}
