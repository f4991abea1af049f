//! `generic_dns_client`: a stub resolver over a [`Transport`], with a cache. Each lookup runs
//! the [`crate::lookup`] machine: UDP from a fresh socket (a port the stack picks) with a
//! random query id from the platform's random source, TCP (through happy eyeballs, which
//! bounds the connection time) after a truncated answer or for `tcp:` servers.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use unik_rt::exec;
use unik_rt::time::timeout_at;

use super::eyeballs::{Eyeballs, HappyEyeballs};
use super::{Datagram, Stream, Transport};
use crate::cache::Cache;
use crate::lookup::{self, Answer, Error, Lookup, Request, Step, Via};
use crate::servers::{self, Server};
use crate::wire::{Name, Qtype};

/// Answers the cache holds at most.
pub const CACHE_CAPACITY: usize = 256;

/// Largest answer read from UDP (servers may send more than 512 bytes).
const UDP_BUFFER: usize = 4096;

/// Name resolution (mirage's `Dns_client_mirage.S`).
pub trait DnsClient {
    /// `name`'s addresses of one family, from the cache or the name servers.
    async fn resolve(&self, name: &str, qtype: Qtype) -> Result<Answer, Error>;

    /// The client's counters so far.
    fn stats(&self) -> Stats;

    /// IPv4 addresses (A records).
    async fn gethostbyname(&self, name: &str) -> Result<Vec<Ipv4Addr>, Error> {
        let a = self.resolve(name, Qtype::A).await?;
        Ok(a.addrs
            .into_iter()
            .filter_map(|a| match a {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => None,
            })
            .collect())
    }

    /// IPv6 addresses (AAAA records).
    async fn gethostbyname6(&self, name: &str) -> Result<Vec<Ipv6Addr>, Error> {
        let a = self.resolve(name, Qtype::Aaaa).await?;
        Ok(a.addrs
            .into_iter()
            .filter_map(|a| match a {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => None,
            })
            .collect())
    }

    /// Both families, IPv6 first: an error only if both lookups fail (the AAAA one's
    /// error when both do and it is NXDOMAIN, else the A one's).
    async fn getaddrinfo(&self, name: &str) -> Result<Vec<IpAddr>, Error> {
        let v6 = self.resolve(name, Qtype::Aaaa).await;
        if let Err(e @ Error::NxDomain(_)) = &v6 {
            return Err(e.clone());
        }
        let v4 = self.resolve(name, Qtype::A).await;
        match (v6, v4) {
            (Err(_), Err(e)) => Err(e),
            (v6, v4) => Ok(v6.into_iter().chain(v4).flat_map(|a| a.addrs).collect()),
        }
    }
}

/// Counters of a client, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Messages sent over UDP, and over TCP.
    pub udp_queries: u64,
    pub tcp_queries: u64,
    /// Lookups answered from the cache.
    pub cache_hits: u64,
    /// Lookups that asked the servers.
    pub cache_misses: u64,
}

impl core::fmt::Display for Stats {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "dns: {} UDP and {} TCP queries sent, cache hits {} misses {}",
            self.udp_queries, self.tcp_queries, self.cache_hits, self.cache_misses
        )
    }
}

/// The device: queries over `T`, TCP connections by the happy eyeballs over
/// `H` (usually the same stack; a configuration may give it another).
pub struct Client<T: Transport + 'static, R: unik_rt::Random + 'static, H: Transport + 'static = T>
{
    transport: T,
    he: &'static Eyeballs<H>,
    random: &'static R,
    servers: Vec<Server>,
    config: lookup::Config,
    cache: RefCell<Cache>,
    stats: Cell<Stats>,
    fallback_id: Cell<u16>,
}

/// `generic_dns_client $ stack $ he $ random` over a dual stack (mirage 4's shape), with
/// the servers of `--dns-servers` (IPv4 or IPv6 addresses).
pub fn connect<S: unik_rt::StackV4V6 + 'static, R: unik_rt::Random + 'static, H: Transport>(
    stack: &'static S,
    he: &'static Eyeballs<H>,
    random: &'static R,
    dns_servers: &str,
) -> Result<Client<super::StackV4V6<S>, R, H>, alloc::string::String> {
    with_servers(super::StackV4V6(stack), he, random, dns_servers)
}

/// `dns_client_of_stackv4 $ stack $ he $ random`: over an IPv4-only stack (IPv6 name
/// servers are unreachable there).
pub fn connect_v4<S: unik_rt::StackV4 + 'static, R: unik_rt::Random + 'static, H: Transport>(
    stack: &'static S,
    he: &'static Eyeballs<H>,
    random: &'static R,
    dns_servers: &str,
) -> Result<Client<super::StackV4<S>, R, H>, alloc::string::String> {
    with_servers(super::StackV4(stack), he, random, dns_servers)
}

fn with_servers<T: Transport + 'static, R: unik_rt::Random + 'static, H: Transport>(
    transport: T,
    he: &'static Eyeballs<H>,
    random: &'static R,
    dns_servers: &str,
) -> Result<Client<T, R, H>, alloc::string::String> {
    let servers = servers::parse(dns_servers).map_err(|e| super::key_error("dns-servers", e))?;
    Ok(Client::new(
        transport,
        he,
        random,
        servers,
        lookup::Config::default(),
        CACHE_CAPACITY,
    ))
}

impl<T: Transport + 'static, R: unik_rt::Random + 'static, H: Transport + 'static> Client<T, R, H> {
    pub fn new(
        transport: T,
        he: &'static Eyeballs<H>,
        random: &'static R,
        servers: Vec<Server>,
        config: lookup::Config,
        cache_capacity: usize,
    ) -> Self {
        Client {
            transport,
            he,
            random,
            servers,
            config,
            cache: RefCell::new(Cache::new(cache_capacity)),
            stats: Cell::new(Stats::default()),
            fallback_id: Cell::new(0x5a5a),
        }
    }

    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    fn count(&self, f: impl FnOnce(&mut Stats)) {
        let mut s = self.stats.get();
        f(&mut s);
        self.stats.set(s);
    }

    /// A random query id (RFC 5452): from the platform's source; should it fail, a
    /// counter stirred with the clock, so lookups go on.
    fn id(&self) -> u16 {
        let mut b = [0u8; 2];
        if self.random.fill(&mut b).is_ok() {
            return u16::from_be_bytes(b);
        }
        let n = self
            .fallback_id
            .get()
            .wrapping_mul(0x9e37)
            .wrapping_add(exec::now_ns() as u16 | 1);
        self.fallback_id.set(n);
        n
    }

    async fn run(&self, mut lookup: Lookup) -> Result<Answer, Error> {
        let mut step = lookup.start(exec::now_ns(), self.id());
        loop {
            let req = match step {
                Step::Done(r) => return r,
                Step::Send(req) => req,
            };
            unik_rt::log::debug!(target: "dns", "{} {} to {} over {:?}",
                lookup.qtype(), lookup.name(), req.server, req.via);
            step = match req.via {
                Via::Udp => {
                    self.count(|s| s.udp_queries += 1);
                    self.udp(&mut lookup, &req).await
                }
                Via::Tcp => {
                    self.count(|s| s.tcp_queries += 1);
                    self.tcp(&mut lookup, &req).await
                }
            };
        }
    }

    async fn udp(&self, lookup: &mut Lookup, req: &Request) -> Step {
        let sock = match self.transport.bind().await {
            Ok(s) => s,
            Err(_) => return Step::Done(Err(Error::Transport("no UDP socket"))),
        };
        let before = exec::now_ns();
        if sock.send_to(&req.message, req.server).await.is_err() {
            return lookup.on_send_failed(exec::now_ns(), self.id());
        }
        // The wait starts when the query leaves: sending may have waited for an address
        // (IPv6 duplicate address detection right after boot, a DHCP lease).
        let deadline = exec::now_ns().saturating_add(req.deadline_ns.saturating_sub(before));
        let mut buf = vec![0u8; UDP_BUFFER];
        loop {
            match timeout_at(deadline, sock.recv_from(&mut buf)).await {
                None => return lookup.on_timeout(exec::now_ns(), self.id()),
                Some(Err(_)) => return lookup.on_send_failed(exec::now_ns(), self.id()),
                Some(Ok((n, from))) => {
                    // Only the server's own port may answer (RFC 5452 §4.1).
                    if from != req.server {
                        continue;
                    }
                    if let Some(s) = lookup.on_reply(&buf[..n], exec::now_ns(), self.id()) {
                        return s;
                    }
                }
            }
        }
    }

    async fn tcp(&self, lookup: &mut Lookup, req: &Request) -> Step {
        let exchange = async {
            let (_, flow) = self
                .he
                .connect_ip(&[req.server.ip()], req.server.port())
                .await
                .ok()?;
            let mut framed = Vec::with_capacity(req.message.len() + 2);
            framed.extend_from_slice(&(req.message.len() as u16).to_be_bytes());
            framed.extend_from_slice(&req.message);
            let reply = async {
                flow.write(&framed).await.ok()?;
                let mut len = [0u8; 2];
                read_exact(&flow, &mut len).await?;
                let mut msg = vec![0u8; usize::from(u16::from_be_bytes(len))];
                read_exact(&flow, &mut msg).await?;
                Some(msg)
            }
            .await;
            let _ = flow.close().await;
            reply
        };
        match timeout_at(req.deadline_ns, exchange).await {
            None => lookup.on_timeout(exec::now_ns(), self.id()),
            Some(None) => lookup.on_tcp_failed(exec::now_ns(), self.id()),
            Some(Some(msg)) => match lookup.on_reply(&msg, exec::now_ns(), self.id()) {
                Some(s) => s,
                // Over TCP nothing else will come: a wrong answer fails this try.
                None => lookup.on_tcp_failed(exec::now_ns(), self.id()),
            },
        }
    }
}

async fn read_exact<F: Stream>(flow: &F, buf: &mut [u8]) -> Option<()> {
    let mut at = 0;
    while at < buf.len() {
        match flow.read(&mut buf[at..]).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => at += n,
        }
    }
    Some(())
}

impl<T: Transport + 'static, R: unik_rt::Random + 'static, H: Transport + 'static> DnsClient
    for Client<T, R, H>
{
    fn stats(&self) -> Stats {
        self.stats.get()
    }

    async fn resolve(&self, name: &str, qtype: Qtype) -> Result<Answer, Error> {
        let name = Name::parse(name).map_err(|_| Error::BadName)?;
        if let Some(a) = self.cache.borrow_mut().get(&name, qtype, exec::now_ns()) {
            self.count(|s| s.cache_hits += 1);
            unik_rt::log::debug!(target: "dns", "{qtype} {name}: cached ({} s left)", a.ttl);
            return Ok(a);
        }
        self.count(|s| s.cache_misses += 1);
        let lookup = Lookup::new(name.clone(), qtype, self.servers.clone(), self.config);
        let answer = self.run(lookup).await;
        match &answer {
            Ok(a) => self.cache.borrow_mut().put(a, exec::now_ns()),
            Err(e) => unik_rt::log::debug!(target: "dns", "{qtype} {name}: {e}"),
        }
        answer
    }
}
