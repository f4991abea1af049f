//! An in-memory Ethernet segment with simulated time and a deterministic lossy link.
#![allow(dead_code)]

use std::boxed::Box;
use std::vec::Vec;

use unik_net::{
    Config, Duration, FrameQueue, Instant, Interface, Ipv4Addr, Ipv4Config, MacAddr, TcpConfig,
};

pub fn mac(n: u8) -> MacAddr {
    MacAddr([0x02, 0, 0, 0, 0, n])
}

pub fn ip(n: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, n)
}

/// Node `n` gets 10.0.0.n/24 and MAC 02:00:00:00:00:n.
pub fn static_config(n: u8, mtu: usize, tcp: TcpConfig) -> Config {
    let mut c = Config::new(mac(n), mtu);
    c.ipv4 = Some(Ipv4Config {
        address: ip(n),
        prefix_len: 24,
        gateway: None,
    });
    c.seed = u64::from(n) * 7919;
    c.tcp = tcp;
    c
}

/// Link behaviour, in parts per thousand.
#[derive(Debug, Clone, Copy)]
pub struct LinkModel {
    pub delay: Duration,
    /// Extra random delay in [0, jitter): frames overtake each other.
    pub jitter: Duration,
    pub loss_permille: u64,
    pub duplicate_permille: u64,
}

impl Default for LinkModel {
    fn default() -> LinkModel {
        LinkModel {
            delay: Duration::from_millis(1),
            jitter: Duration::ZERO,
            loss_permille: 0,
            duplicate_permille: 0,
        }
    }
}

/// A participant that is not an `Interface` (e.g. a test DHCP server): it sees every frame
/// on the segment and answers with frames of its own.
pub type Peer = Box<dyn FnMut(Instant, &[u8]) -> Vec<Vec<u8>>>;

/// Decides per frame whether the link drops it: `(now, from_node, frame) -> drop`.
pub type Filter = Box<dyn FnMut(Instant, usize, &[u8]) -> bool>;

struct InFlight {
    at: Instant,
    order: u64,
    from: usize,
    frame: Vec<u8>,
}

pub struct Sim {
    pub now: Instant,
    pub nodes: Vec<Interface>,
    pub peers: Vec<Peer>,
    pub model: LinkModel,
    pub filter: Option<Filter>,
    devs: Vec<FrameQueue>,
    in_flight: Vec<InFlight>,
    order: u64,
    rng: u64,
    pub frames_sent: u64,
    pub frames_lost: u64,
}

impl Sim {
    pub fn new(nodes: Vec<Interface>, model: LinkModel, seed: u64) -> Sim {
        let devs = nodes.iter().map(|_| FrameQueue::new()).collect();
        Sim {
            now: Instant::from_secs(1),
            nodes,
            peers: Vec::new(),
            model,
            filter: None,
            devs,
            in_flight: Vec::new(),
            order: 0,
            rng: seed | 1,
            frames_sent: 0,
            frames_lost: 0,
        }
    }

    /// Two static nodes, 10.0.0.1 and 10.0.0.2.
    pub fn pair(tcp: TcpConfig, model: LinkModel, seed: u64) -> Sim {
        let a = Interface::new(static_config(1, 1500, tcp));
        let b = Interface::new(static_config(2, 1500, tcp));
        Sim::new(vec![a, b], model, seed)
    }

    fn random(&mut self, n: u64) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x % n.max(1)
    }

    /// Source index `usize::MAX` marks frames from peers.
    fn schedule(&mut self, from: usize, frame: Vec<u8>) {
        self.frames_sent += 1;
        if let Some(f) = self.filter.as_mut()
            && f(self.now, from, &frame)
        {
            self.frames_lost += 1;
            return;
        }
        if self.random(1000) < self.model.loss_permille {
            self.frames_lost += 1;
            if std::env::var("UNIK_NET_TRACE").is_ok() {
                std::eprintln!("  (lost)");
            }
            return;
        }
        let copies = if self.random(1000) < self.model.duplicate_permille {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let jitter = self.model.jitter.as_nanos() as u64;
            let extra = Duration::from_nanos(if jitter > 0 { self.random(jitter) } else { 0 });
            self.order += 1;
            self.in_flight.push(InFlight {
                at: self.now + self.model.delay + extra,
                order: self.order,
                from,
                frame: frame.clone(),
            });
        }
    }

    /// Gives node `i`'s device TCP segmentation offload up to `tso_max`. Its frames larger
    /// than the MTU reach the other nodes whole, through the receive-offload path: what a
    /// host that segments them and a receiving host that coalesces them again would hand
    /// over (their checksum left partial).
    pub fn offload(&mut self, i: usize, tso_max: usize) {
        self.devs[i].tso_max = tso_max;
    }

    /// Lets every node transmit and puts the frames on the wire.
    pub fn flush(&mut self) {
        for i in 0..self.nodes.len() {
            self.nodes[i].transmit(self.now, &mut self.devs[i]);
            while let Some(f) = self.devs[i].frames.pop_front() {
                self.schedule(i, f);
            }
        }
    }

    fn next_event(&self) -> Option<Instant> {
        let wire = self.in_flight.iter().map(|f| f.at).min();
        let timers = self.nodes.iter().filter_map(|n| n.poll_at()).min();
        match (wire, timers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Transmits, advances time to the next event (at most to `limit`), delivers due frames.
    pub fn step(&mut self, limit: Instant) {
        self.flush();
        let next = self.next_event().unwrap_or(limit).min(limit);
        if next > self.now {
            self.now = next;
        }
        self.in_flight.sort_by_key(|f| (f.at, f.order));
        let due = self
            .in_flight
            .iter()
            .take_while(|f| f.at <= self.now)
            .count();
        let frames: Vec<InFlight> = self.in_flight.drain(..due).collect();
        for f in frames {
            let offloaded = self
                .devs
                .get(f.from)
                .is_some_and(|d| d.tso_max > 0 && f.frame.len() > d.mtu + 14);
            for (i, node) in self.nodes.iter_mut().enumerate() {
                if i == f.from {
                    continue;
                }
                if offloaded {
                    node.receive_offloaded(self.now, &f.frame);
                } else {
                    node.receive(self.now, &f.frame);
                }
            }
            if f.from != usize::MAX {
                let mut replies = Vec::new();
                for p in self.peers.iter_mut() {
                    replies.extend(p(self.now, &f.frame));
                }
                for r in replies {
                    self.schedule(usize::MAX, r);
                }
            }
        }
    }

    /// Runs `app` after every step until it returns true (Ok) or `timeout` of simulated
    /// time passes (Err with the time reached).
    pub fn run_until(
        &mut self,
        timeout: Duration,
        mut app: impl FnMut(&mut Sim) -> bool,
    ) -> Result<Instant, Instant> {
        let deadline = self.now + timeout;
        let mut guard = 0u64;
        loop {
            if app(self) {
                return Ok(self.now);
            }
            if self.now >= deadline {
                return Err(self.now);
            }
            self.step(deadline);
            guard += 1;
            assert!(guard < 50_000_000, "simulation does not progress");
        }
    }

    /// Advances simulated time by `d`, processing everything on the way.
    pub fn advance(&mut self, d: Duration) {
        let _ = self.run_until(d, |_| false);
    }
}

/// A TCP segment seen on the wire.
#[derive(Debug, Clone)]
pub struct Seen {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub repr: unik_net::wire::tcp::TcpRepr,
    pub payload_len: usize,
}

/// Decodes a frame carrying an unfragmented TCP segment.
pub fn tcp_of(frame: &[u8]) -> Option<Seen> {
    use unik_net::wire::{ethernet, ipv4, tcp};
    let f = ethernet::Frame::new_checked(frame).ok()?;
    if f.ethertype() != ethernet::ethertype::IPV4 {
        return None;
    }
    let p = ipv4::Packet::new_checked(f.payload()).ok()?;
    if p.protocol() != unik_net::wire::proto::TCP || p.more_frags() || p.frag_offset() != 0 {
        return None;
    }
    let t = tcp::Packet::new_checked(p.payload()).ok()?;
    let repr = tcp::TcpRepr::parse(&t, p.src(), p.dst()).ok()?;
    Some(Seen {
        src: p.src(),
        dst: p.dst(),
        repr,
        payload_len: t.payload().len(),
    })
}

/// Builds an Ethernet frame with a TCP segment from `from` (node number) to `to`.
pub fn forge_tcp(from: u8, to: u8, repr: &unik_net::wire::tcp::TcpRepr, payload: &[u8]) -> Vec<u8> {
    use unik_net::wire::{ethernet, ipv4, tcp};
    let tcp_len = repr.header_len() + payload.len();
    let mut frame = vec![0u8; 14 + 20 + tcp_len];
    ethernet::EthernetRepr {
        src: mac(from),
        dst: mac(to),
        ethertype: ethernet::ethertype::IPV4,
    }
    .emit(&mut frame);
    ipv4::Ipv4Repr {
        src: ip(from),
        dst: ip(to),
        protocol: unik_net::wire::proto::TCP,
        payload_len: tcp_len,
        ttl: 64,
        ident: 1,
        dont_frag: true,
        more_frags: false,
        frag_offset: 0,
    }
    .emit(&mut frame[14..]);
    let seg = &mut frame[34..];
    let h = repr.emit(seg);
    seg[h..].copy_from_slice(payload);
    tcp::fill_checksum(seg, ip(from), ip(to));
    frame
}
