//! One resolution of a name's A or AAAA records, sans-IO: the caller sends what [`Step::Send`]
//! asks (over UDP or TCP, until its deadline), feeds back replies, timeouts and TCP failures,
//! and supplies a fresh random query id for every message. The machine tries each server in
//! turn, for [`Config::rounds`] rounds with the timeout doubling each round, retries over
//! TCP when a UDP answer is truncated, follows CNAME chains (asking again for a chain's end
//! when the answer stops at a CNAME), and ends with the addresses or a clear error.

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

use crate::servers::{Proto, Server};
use crate::wire::{self, CLASS_IN, Name, Qtype, Rcode, Rdata};

/// Most CNAMEs followed for one lookup (RFC 1034 leaves it to the resolver).
pub const MAX_CNAMES: usize = 16;

/// Retry policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How long the first round waits for each server; doubled every round.
    pub timeout_ns: u64,
    /// How many times every server is tried.
    pub rounds: u32,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            timeout_ns: 1_000_000_000,
            rounds: 2,
        }
    }
}

/// How a request travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Udp,
    /// The message goes with a two-byte length prefix (RFC 1035 §4.2.2); the caller adds it.
    Tcp,
}

/// A message to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub server: SocketAddr,
    pub via: Via,
    pub message: Vec<u8>,
    /// When to give up on it and call [`Lookup::on_timeout`].
    pub deadline_ns: u64,
}

/// Addresses found for a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The name asked for.
    pub name: Name,
    pub qtype: Qtype,
    /// Where the CNAME chain ended (the name itself without CNAMEs).
    pub canonical: Name,
    /// Empty when the name exists without records of this type (NODATA).
    pub addrs: Vec<IpAddr>,
    /// Seconds the answer may be kept: the smallest TTL of the chain and the records.
    pub ttl: u32,
}

/// Why a lookup failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The name is not valid (empty label, too long, odd characters).
    BadName,
    /// NXDOMAIN: the name does not exist.
    NxDomain(Name),
    /// Every server failed; the last failure (server and what it answered).
    ServFail(SocketAddr),
    Refused(SocketAddr),
    /// Another response code.
    Rcode(SocketAddr, u8),
    /// No server answered in time.
    Timeout {
        servers: usize,
        rounds: u32,
    },
    /// The TCP connection to the server failed.
    Tcp(SocketAddr),
    /// The stack cannot send to the server (an address family it lacks, no route).
    Unreachable(SocketAddr),
    /// A CNAME chain longer than [`MAX_CNAMES`] (or a loop).
    CnameChain(Name),
    /// The transport cannot be used (no socket, a family the stack lacks).
    Transport(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadName => f.write_str("not a valid domain name"),
            Error::NxDomain(_) => f.write_str("no such domain (NXDOMAIN)"),
            Error::ServFail(s) => write!(f, "server {s} failed (SERVFAIL)"),
            Error::Refused(s) => write!(f, "server {s} refused the query (REFUSED)"),
            Error::Rcode(s, c) => write!(f, "server {s} answered with response code {c}"),
            Error::Timeout { servers, rounds } => write!(
                f,
                "no answer from {servers} name server(s) after {rounds} round(s) (timeout)"
            ),
            Error::Tcp(s) => write!(f, "TCP connection to name server {s} failed"),
            Error::Unreachable(s) => write!(f, "name server {s} is unreachable from this stack"),
            Error::CnameChain(_) => f.write_str("CNAME chain too long or looping"),
            Error::Transport(why) => write!(f, "transport: {why}"),
        }
    }
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Send(Request),
    Done(Result<Answer, Error>),
}

/// The state of one lookup.
#[derive(Clone, Debug)]
pub struct Lookup {
    name: Name,
    qtype: Qtype,
    current: Name,
    servers: Vec<Server>,
    config: Config,
    /// Index into the sequence of tries: round * servers + server.
    attempt: usize,
    tcp: bool,
    id: u16,
    chain: Vec<Name>,
    chain_ttl: u32,
    last_error: Option<Error>,
}

impl Lookup {
    /// A lookup of `name`'s `qtype` records; `servers` must not be empty.
    pub fn new(name: Name, qtype: Qtype, servers: Vec<Server>, config: Config) -> Lookup {
        Lookup {
            current: name.clone(),
            name,
            qtype,
            servers,
            config,
            attempt: 0,
            tcp: false,
            id: 0,
            chain: Vec::new(),
            chain_ttl: u32::MAX,
            last_error: None,
        }
    }

    pub fn name(&self) -> &Name {
        &self.name
    }

    pub fn qtype(&self) -> Qtype {
        self.qtype
    }

    /// The first request; `id` is a fresh random query id.
    pub fn start(&mut self, now_ns: u64, id: u16) -> Step {
        self.request(now_ns, id)
    }

    fn request(&mut self, now_ns: u64, id: u16) -> Step {
        let n = self.servers.len();
        let rounds = self.config.rounds.max(1);
        if n == 0 || self.attempt >= n * rounds as usize {
            return Step::Done(Err(self
                .last_error
                .clone()
                .unwrap_or(Error::Timeout { servers: n, rounds })));
        }
        let server = self.servers[self.attempt % n];
        let round = (self.attempt / n) as u32;
        let via = if self.tcp || server.proto == Proto::Tcp {
            Via::Tcp
        } else {
            Via::Udp
        };
        self.id = id;
        let wait = self.config.timeout_ns.saturating_mul(1 << round.min(16));
        Step::Send(Request {
            server: server.addr,
            via,
            message: wire::query(id, &self.current, self.qtype),
            deadline_ns: now_ns.saturating_add(wait),
        })
    }

    fn server(&self) -> SocketAddr {
        self.servers[self.attempt % self.servers.len().max(1)].addr
    }

    /// Moves on to the next try after `error`.
    fn next(&mut self, error: Error, now_ns: u64, id: u16) -> Step {
        self.last_error = Some(error);
        self.attempt += 1;
        self.tcp = false;
        self.request(now_ns, id)
    }

    /// The current request's deadline passed without an answer.
    pub fn on_timeout(&mut self, now_ns: u64, id: u16) -> Step {
        let e = Error::Timeout {
            servers: self.servers.len(),
            rounds: self.config.rounds.max(1),
        };
        self.next(e, now_ns, id)
    }

    /// The TCP connection for the current request failed or closed early.
    pub fn on_tcp_failed(&mut self, now_ns: u64, id: u16) -> Step {
        let e = Error::Tcp(self.server());
        self.next(e, now_ns, id)
    }

    /// The current request could not be sent (the stack lacks the server's address family,
    /// or has no route to it).
    pub fn on_send_failed(&mut self, now_ns: u64, id: u16) -> Step {
        let e = Error::Unreachable(self.server());
        self.next(e, now_ns, id)
    }

    /// A message arrived from the current request's server. `None`: it is not the answer
    /// to the current request (malformed, another id or question); keep waiting.
    pub fn on_reply(&mut self, msg: &[u8], now_ns: u64, id: u16) -> Option<Step> {
        let r = wire::parse(msg).ok()?;
        if r.id != self.id || r.opcode != 0 {
            return None;
        }
        let (qname, qtype, qclass) = r.question.as_ref()?;
        if *qname != self.current || *qtype != self.qtype.code() || *qclass != CLASS_IN {
            return None;
        }
        if r.truncated && !self.tcp {
            self.tcp = true;
            return Some(self.request(now_ns, id));
        }
        let server = self.server();
        match r.rcode {
            Rcode::NoError => {}
            Rcode::NxDomain => return Some(Step::Done(Err(Error::NxDomain(self.name.clone())))),
            Rcode::ServFail => return Some(self.next(Error::ServFail(server), now_ns, id)),
            Rcode::Refused => return Some(self.next(Error::Refused(server), now_ns, id)),
            Rcode::FormErr => return Some(self.next(Error::Rcode(server, 1), now_ns, id)),
            Rcode::NotImp => return Some(self.next(Error::Rcode(server, 4), now_ns, id)),
            Rcode::Other(c) => return Some(self.next(Error::Rcode(server, c), now_ns, id)),
        }
        let mut cur = self.current.clone();
        let mut ttl = self.chain_ttl;
        loop {
            let mut addrs = Vec::new();
            let mut min = ttl;
            for rec in r
                .answers
                .iter()
                .filter(|a| a.name == cur && a.class == CLASS_IN)
            {
                let addr = match (&rec.data, self.qtype) {
                    (Rdata::A(a), Qtype::A) => IpAddr::V4(*a),
                    (Rdata::Aaaa(a), Qtype::Aaaa) => IpAddr::V6(*a),
                    _ => continue,
                };
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
                min = min.min(rec.ttl);
            }
            if !addrs.is_empty() {
                return Some(Step::Done(Ok(Answer {
                    name: self.name.clone(),
                    qtype: self.qtype,
                    canonical: cur,
                    addrs,
                    ttl: min,
                })));
            }
            let next = r.answers.iter().find_map(|a| match &a.data {
                Rdata::Cname(t) if a.name == cur && a.class == CLASS_IN => Some((t, a.ttl)),
                _ => None,
            });
            let Some((target, cttl)) = next else { break };
            if self.chain.len() >= MAX_CNAMES || *target == self.name || self.chain.contains(target)
            {
                return Some(Step::Done(Err(Error::CnameChain(self.name.clone()))));
            }
            self.chain.push(target.clone());
            ttl = ttl.min(cttl);
            cur = target.clone();
        }
        if cur != self.current {
            // The chain stops at a name the server did not resolve: ask for it.
            self.current = cur;
            self.chain_ttl = ttl;
            self.attempt = 0;
            self.tcp = false;
            self.last_error = None;
            return Some(self.request(now_ns, id));
        }
        Some(Step::Done(Ok(Answer {
            name: self.name.clone(),
            qtype: self.qtype,
            canonical: cur,
            addrs: Vec::new(),
            ttl: 0,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servers;
    use crate::wire::build::response;
    use alloc::vec;
    use core::net::{Ipv4Addr, Ipv6Addr};

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    fn lookup(name: &str, qtype: Qtype, list: &str) -> Lookup {
        Lookup::new(
            n(name),
            qtype,
            servers::parse(list).unwrap(),
            Config::default(),
        )
    }

    fn sent(step: Step) -> Request {
        match step {
            Step::Send(r) => r,
            Step::Done(r) => panic!("done early: {r:?}"),
        }
    }

    fn done(step: Option<Step>) -> Result<Answer, Error> {
        match step {
            Some(Step::Done(r)) => r,
            s => panic!("not done: {s:?}"),
        }
    }

    const S1: &str = "10.0.0.1:53";

    #[test]
    fn an_a_answer_ends_the_lookup() {
        let mut l = lookup("Host.Example", Qtype::A, "10.0.0.1");
        let req = sent(l.start(0, 42));
        assert_eq!(req.server, S1.parse().unwrap());
        assert_eq!(req.via, Via::Udp);
        assert_eq!(req.deadline_ns, 1_000_000_000);
        assert_eq!(req.message, wire::query(42, &n("host.example"), Qtype::A));
        let a = Ipv4Addr::new(192, 0, 2, 7);
        let reply = response(
            &req.message,
            0,
            false,
            &[(n("host.example"), 30, Rdata::A(a))],
        );
        let ans = done(l.on_reply(&reply, 5, 1)).unwrap();
        assert_eq!(ans.addrs, vec![IpAddr::V4(a)]);
        assert_eq!(ans.ttl, 30);
    }

    #[test]
    fn replies_with_another_id_or_question_are_ignored() {
        let mut l = lookup("a.example", Qtype::Aaaa, "10.0.0.1");
        let req = sent(l.start(0, 9));
        let other = wire::query(10, &n("a.example"), Qtype::Aaaa);
        let rec = [(n("a.example"), 5, Rdata::Aaaa(Ipv6Addr::LOCALHOST))];
        assert_eq!(l.on_reply(&response(&other, 0, false, &rec), 1, 2), None);
        let wrong_type = wire::query(9, &n("a.example"), Qtype::A);
        assert_eq!(
            l.on_reply(&response(&wrong_type, 0, false, &rec), 1, 2),
            None
        );
        assert_eq!(l.on_reply(b"garbage", 1, 2), None);
        assert_eq!(
            l.on_reply(&req.message, 1, 2),
            None,
            "a query is not a reply"
        );
        let ans = done(l.on_reply(&response(&req.message, 0, false, &rec), 1, 2)).unwrap();
        assert_eq!(ans.addrs, vec![IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }

    #[test]
    fn timeouts_walk_the_servers_for_two_rounds_with_doubling_waits() {
        let mut l = lookup("a.example", Qtype::A, "10.0.0.1,tcp:10.0.0.9");
        let r = sent(l.start(0, 1));
        assert_eq!(
            (r.server, r.via, r.deadline_ns),
            (S1.parse().unwrap(), Via::Udp, 1_000_000_000)
        );
        let r = sent(l.on_timeout(r.deadline_ns, 2));
        assert_eq!((r.server.port(), r.via), (53, Via::Tcp));
        assert_eq!(r.deadline_ns, 2_000_000_000);
        let r = sent(l.on_tcp_failed(r.deadline_ns, 3));
        assert_eq!(
            (r.server, r.via, r.deadline_ns),
            (S1.parse().unwrap(), Via::Udp, 4_000_000_000)
        );
        let r = sent(l.on_timeout(r.deadline_ns, 4));
        assert_eq!(r.deadline_ns, 6_000_000_000);
        match l.on_timeout(r.deadline_ns, 5) {
            Step::Done(Err(e)) => {
                assert_eq!(
                    e,
                    Error::Timeout {
                        servers: 2,
                        rounds: 2
                    }
                );
                assert_eq!(
                    alloc::string::ToString::to_string(&e),
                    "no answer from 2 name server(s) after 2 round(s) (timeout)"
                );
            }
            s => panic!("{s:?}"),
        }
    }

    #[test]
    fn a_truncated_answer_is_asked_again_over_tcp_of_the_same_server() {
        let mut l = lookup("big.example", Qtype::A, "10.0.0.1,10.0.0.2");
        let r = sent(l.start(0, 1));
        let tc = response(&r.message, 0, true, &[]);
        let r2 = sent(l.on_reply(&tc, 10, 2).unwrap());
        assert_eq!((r2.server, r2.via), (S1.parse().unwrap(), Via::Tcp));
        assert_eq!(r2.message, wire::query(2, &n("big.example"), Qtype::A));
        let recs: Vec<_> = (0..40)
            .map(|i| (n("big.example"), 60, Rdata::A(Ipv4Addr::new(10, 1, 0, i))))
            .collect();
        let ans = done(l.on_reply(&response(&r2.message, 0, false, &recs), 20, 3)).unwrap();
        assert_eq!(ans.addrs.len(), 40);
    }

    #[test]
    fn nxdomain_ends_at_once_and_servfail_tries_the_next_server() {
        let mut l = lookup("nope.example", Qtype::A, "10.0.0.1");
        let r = sent(l.start(0, 1));
        let e = done(l.on_reply(&response(&r.message, 3, false, &[]), 1, 2)).unwrap_err();
        assert_eq!(e, Error::NxDomain(n("nope.example")));

        let mut l = lookup("a.example", Qtype::A, "10.0.0.1,10.0.0.2");
        let r = sent(l.start(0, 1));
        let r = sent(
            l.on_reply(&response(&r.message, 2, false, &[]), 1, 2)
                .unwrap(),
        );
        assert_eq!(r.server, "10.0.0.2:53".parse().unwrap());
        let r = sent(
            l.on_reply(&response(&r.message, 5, false, &[]), 1, 3)
                .unwrap(),
        );
        let r = sent(
            l.on_reply(&response(&r.message, 2, false, &[]), 1, 4)
                .unwrap(),
        );
        let last = l.on_reply(&response(&r.message, 2, false, &[]), 1, 5);
        assert_eq!(
            done(last).unwrap_err(),
            Error::ServFail("10.0.0.2:53".parse().unwrap())
        );
    }

    #[test]
    fn cname_chains_are_followed_in_the_answer_and_beyond_it() {
        let mut l = lookup("www.example", Qtype::A, "10.0.0.1");
        let r = sent(l.start(0, 1));
        let a = Ipv4Addr::new(192, 0, 2, 1);
        // www → web (TTL 100) → edge (TTL 50), edge's address not in this answer.
        let part = response(
            &r.message,
            0,
            false,
            &[
                (n("www.example"), 100, Rdata::Cname(n("web.example"))),
                (n("web.example"), 50, Rdata::Cname(n("edge.cdn"))),
            ],
        );
        let r = sent(l.on_reply(&part, 1, 2).unwrap());
        assert_eq!(r.message, wire::query(2, &n("edge.cdn"), Qtype::A));
        let ans = done(l.on_reply(
            &response(&r.message, 0, false, &[(n("edge.cdn"), 300, Rdata::A(a))]),
            2,
            3,
        ))
        .unwrap();
        assert_eq!(ans.canonical, n("edge.cdn"));
        assert_eq!(ans.addrs, vec![IpAddr::V4(a)]);
        assert_eq!(ans.ttl, 50);
    }

    #[test]
    fn cname_loops_end_with_an_error() {
        let mut l = lookup("a.example", Qtype::A, "10.0.0.1");
        let r = sent(l.start(0, 1));
        let looped = response(
            &r.message,
            0,
            false,
            &[
                (n("a.example"), 1, Rdata::Cname(n("b.example"))),
                (n("b.example"), 1, Rdata::Cname(n("a.example"))),
            ],
        );
        assert_eq!(
            done(l.on_reply(&looped, 1, 2)).unwrap_err(),
            Error::CnameChain(n("a.example"))
        );
    }

    #[test]
    fn nodata_is_an_empty_answer() {
        let mut l = lookup("v4only.example", Qtype::Aaaa, "10.0.0.1");
        let r = sent(l.start(0, 1));
        let other = [(n("v4only.example"), 9, Rdata::A(Ipv4Addr::LOCALHOST))];
        let ans = done(l.on_reply(&response(&r.message, 0, false, &other), 1, 2)).unwrap();
        assert!(ans.addrs.is_empty());
    }
}
