//! TCP sockets: listeners with a bounded backlog, connections addressed by handles,
//! demultiplexing, and RSTs for segments nobody wants.
//!
//! Under a SYN flood a listener's half-open table fills; further SYNs are answered with SYN
//! cookies (or, with cookies off, evict the oldest half-open connection), so a legitimate
//! client still connects. Connections reserve their buffer sizes against a global budget
//! (`Config::tcp_memory`) when their handshake completes; half-open ones hold no buffers.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use super::cookie;
use super::link::Ip6Write;
use super::{Error, Interface, IpRx, IpWrite, Stats};
use crate::device::Device;
use crate::tcp::{self as tcp_mod, Connection, Seq, State, TcpError};
use crate::time::{Duration, Instant, earliest};
use crate::wire::ipv4::{HEADER_LEN, MAX_PACKET_LEN};
use crate::wire::ipv6::{HEADER_LEN as HEADER6_LEN, MAX_PAYLOAD_LEN as MAX_PAYLOAD6_LEN};
use crate::wire::proto;
use crate::wire::tcp::{self as tcp_wire, Flags, TcpRepr};

const EPHEMERAL_FIRST: u16 = 49152;
const EPHEMERAL_COUNT: u16 = 16384;

/// A connection owned by the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpHandle {
    index: u32,
    generation: u32,
}

/// A listening port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TcpListener {
    port: u16,
    generation: u32,
}

impl TcpListener {
    pub fn port(&self) -> u16 {
        self.port
    }
}

#[derive(Debug)]
struct Entry {
    conn: Connection,
    /// Listener port while the connection waits to be accepted.
    parent: Option<u16>,
    /// Counted in its listener's accept queue (handshake complete), not its half-open table.
    queued: bool,
    /// The application gave the handle up; the entry goes once the connection is closed.
    released: bool,
    /// Buffer bytes reserved against the memory budget (0 while half-open).
    reserved: usize,
    created: Instant,
}

#[derive(Debug, Default)]
struct Slot {
    generation: u32,
    entry: Option<Entry>,
}

#[derive(Debug)]
struct Listener {
    generation: u32,
    ready: VecDeque<TcpHandle>,
    /// Children in SYN-RECEIVED.
    half_open: usize,
    /// Children past the handshake, waiting in `ready`.
    queued: usize,
    /// ACKs are checked for cookies until then (cookies live two 64-second periods).
    cookies_until: Option<Instant>,
}

type Tuple = (u16, SocketAddr);

/// How long after its last cookie a listener still accepts one.
const COOKIE_LIFETIME: Duration = Duration::from_secs(128);

#[derive(Debug, Default)]
pub(super) struct Sockets {
    slots: Vec<Slot>,
    by_tuple: BTreeMap<Tuple, usize>,
    listeners: BTreeMap<u16, Listener>,
    /// Global bound on reserved buffer bytes (`Config::tcp_memory`).
    budget: usize,
    reserved: usize,
    /// Listener counters; RFC 5961 counters of connections already freed.
    counters: Stats,
}

impl Sockets {
    fn entry(&self, h: TcpHandle) -> Result<&Entry, Error> {
        match self.slots.get(h.index as usize) {
            Some(Slot {
                generation,
                entry: Some(e),
            }) if *generation == h.generation && !e.released && e.parent.is_none() => Ok(e),
            _ => Err(Error::InvalidHandle),
        }
    }

    fn entry_mut(&mut self, h: TcpHandle) -> Result<&mut Entry, Error> {
        match self.slots.get_mut(h.index as usize) {
            Some(Slot {
                generation,
                entry: Some(e),
            }) if *generation == h.generation && !e.released && e.parent.is_none() => Ok(e),
            _ => Err(Error::InvalidHandle),
        }
    }

    fn insert(&mut self, entry: Entry) -> TcpHandle {
        let tuple = (entry.conn.local().port(), entry.conn.remote());
        let index = match self.slots.iter().position(|s| s.entry.is_none()) {
            Some(i) => i,
            None => {
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.entry = Some(entry);
        self.by_tuple.insert(tuple, index);
        TcpHandle {
            index: index as u32,
            generation: slot.generation,
        }
    }
}

impl Sockets {
    pub(super) fn new(budget: usize) -> Sockets {
        Sockets {
            budget,
            ..Sockets::default()
        }
    }

    /// Reserves `n` bytes of the memory budget, if they fit.
    fn reserve(&mut self, n: usize) -> bool {
        if self.reserved + n > self.budget {
            return false;
        }
        self.reserved += n;
        true
    }

    /// A child of listener `port` finished its handshake: it moves to the accept queue if its
    /// buffers fit the memory budget, and is reset otherwise.
    fn handshake_done(&mut self, index: usize, port: u16) {
        let generation = self.slots[index].generation;
        let Some(e) = self.slots[index].entry.as_mut() else {
            return;
        };
        let need = e.conn.buffer_capacity();
        if self.reserved + need > self.budget {
            self.counters.tcp_memory_refused += 1;
            e.conn.abort();
            return;
        }
        self.reserved += need;
        e.reserved = need;
        e.queued = true;
        if let Some(l) = self.listeners.get_mut(&port) {
            l.half_open = l.half_open.saturating_sub(1);
            l.queued += 1;
            l.ready.push_back(TcpHandle {
                index: index as u32,
                generation,
            });
        }
    }

    /// Drops listener `port`'s oldest half-open connection (silently: its peer is most
    /// likely a spoofed address). False if it has none.
    fn evict_oldest_half_open(&mut self, port: u16) -> bool {
        let oldest = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.entry.as_ref().map(|e| (i, e)))
            .filter(|(_, e)| e.parent == Some(port) && !e.queued)
            .min_by_key(|(_, e)| e.created)
            .map(|(i, _)| i);
        let Some(i) = oldest else {
            return false;
        };
        let slot = &mut self.slots[i];
        if let Some(e) = slot.entry.take() {
            let tuple = (e.conn.local().port(), e.conn.remote());
            if self.by_tuple.get(&tuple) == Some(&i) {
                self.by_tuple.remove(&tuple);
            }
        }
        slot.generation = slot.generation.wrapping_add(1);
        if let Some(l) = self.listeners.get_mut(&port) {
            l.half_open = l.half_open.saturating_sub(1);
        }
        self.counters.half_open_evicted += 1;
        true
    }

    /// Adds the TCP counters and the memory held now to `s`.
    pub(super) fn fill_stats(&self, s: &mut Stats) {
        let c = &self.counters;
        s.tcp_accepted = c.tcp_accepted;
        s.syn_received = c.syn_received;
        s.syn_cookies_sent = c.syn_cookies_sent;
        s.syn_cookies_accepted = c.syn_cookies_accepted;
        s.syn_cookies_rejected = c.syn_cookies_rejected;
        s.half_open_evicted = c.half_open_evicted;
        s.half_open_timed_out = c.half_open_timed_out;
        s.syn_dropped = c.syn_dropped;
        s.tcp_memory_refused = c.tcp_memory_refused;
        s.challenge_acks = c.challenge_acks;
        s.challenge_acks_suppressed = c.challenge_acks_suppressed;
        s.old_acks_dropped = c.old_acks_dropped;
        s.tcp_memory_reserved = self.reserved as u64;
        s.tcp_connections = 0;
        s.tcp_half_open = 0;
        s.tcp_buffer_bytes = 0;
        s.tcp_rx_queued = 0;
        s.tcp_out_of_order = 0;
        for e in self.slots.iter().filter_map(|s| s.entry.as_ref()) {
            let st = e.conn.stats();
            s.challenge_acks += st.challenge_acks;
            s.challenge_acks_suppressed += st.challenge_acks_suppressed;
            s.old_acks_dropped += st.old_acks_dropped;
            s.tcp_connections += 1;
            s.tcp_half_open += u64::from(e.conn.state() == State::SynReceived);
            s.tcp_buffer_bytes += e.conn.buffer_allocated() as u64;
            s.tcp_rx_queued += e.conn.recv_available() as u64;
            s.tcp_out_of_order += e.conn.out_of_order_bytes() as u64;
        }
    }
}

fn synchronized(s: State) -> bool {
    !matches!(
        s,
        State::Closed | State::Listen | State::SynSent | State::SynReceived
    )
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// RFC 9293 3.10.7.1: the reset for a segment that matches no connection.
fn reset_for(seg: &TcpRepr, payload_len: usize) -> TcpRepr {
    let mut r = TcpRepr {
        src_port: seg.dst_port,
        dst_port: seg.src_port,
        ..TcpRepr::default()
    };
    if seg.flags.ack() {
        r.seq = seg.ack;
        r.flags = Flags::RST;
    } else {
        r.ack = seg.seq.wrapping_add(
            (payload_len + usize::from(seg.flags.syn()) + usize::from(seg.flags.fin())) as u32,
        );
        r.flags = Flags::RST | Flags::ACK;
    }
    r
}

impl Interface {
    /// RFC 6528 initial sequence number: a 4 µs clock plus a keyed hash of the connection.
    fn isn(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> Seq {
        let bits = |a: IpAddr| match a {
            IpAddr::V4(a) => u128::from(a.to_bits()),
            IpAddr::V6(a) => a.to_bits(),
        };
        let (l, r) = (bits(local.ip()), bits(remote.ip()));
        let mut h = self.secret;
        for v in [
            l as u64,
            (l >> 64) as u64,
            u64::from(local.port()),
            r as u64,
            (r >> 64) as u64,
            u64::from(remote.port()),
        ] {
            h = mix(h ^ v);
        }
        Seq(((now.as_nanos() / 4000) as u32).wrapping_add(h as u32))
    }

    /// The largest segment we receive from `peer`: the MTU less the IP and TCP headers.
    fn our_mss(&self, peer: IpAddr) -> usize {
        match peer {
            IpAddr::V4(_) => self.link.mtu.saturating_sub(40).max(64),
            IpAddr::V6(_) => self.link.mtu6().saturating_sub(60).max(64),
        }
    }

    fn queue_segment(&mut self, dst: IpAddr, repr: &TcpRepr) {
        let mut data = vec![0u8; repr.header_len()];
        repr.emit(&mut data);
        let _ = self.queue_ip(dst, proto::TCP, false, data);
    }

    /// An ICMPv6 packet too big (or IPv4 fragmentation needed) for `dst`: connections to it
    /// send segments of at most `mss` bytes from now on.
    pub(super) fn tcp_path_mtu(&mut self, dst: IpAddr, mss: usize) {
        for slot in &mut self.tcp.slots {
            if let Some(e) = slot.entry.as_mut()
                && e.conn.remote().ip() == dst
            {
                e.conn.lower_mss(mss);
            }
        }
    }

    // ----- application API -----

    pub fn tcp_listen(&mut self, port: u16) -> Result<TcpListener, Error> {
        if port == 0 {
            return Err(Error::InvalidHandle);
        }
        if self.tcp.listeners.contains_key(&port) {
            return Err(Error::AddrInUse);
        }
        let generation = self.new_generation();
        self.tcp.listeners.insert(
            port,
            Listener {
                generation,
                ready: VecDeque::new(),
                half_open: 0,
                queued: 0,
                cookies_until: None,
            },
        );
        Ok(TcpListener { port, generation })
    }

    fn listener_mut(&mut self, l: TcpListener) -> Result<&mut Listener, Error> {
        match self.tcp.listeners.get_mut(&l.port) {
            Some(x) if x.generation == l.generation => Ok(x),
            _ => Err(Error::InvalidHandle),
        }
    }

    /// Takes an established connection from the listener; `WouldBlock` if none is ready.
    pub fn tcp_accept(&mut self, l: TcpListener) -> Result<TcpHandle, Error> {
        loop {
            let h = self
                .listener_mut(l)?
                .ready
                .pop_front()
                .ok_or(Error::WouldBlock)?;
            let live = match self.tcp.slots.get_mut(h.index as usize) {
                Some(Slot {
                    generation,
                    entry: Some(e),
                }) if *generation == h.generation && e.parent == Some(l.port) => {
                    e.parent = None;
                    true
                }
                _ => false,
            };
            if live {
                let l = self.listener_mut(l)?;
                l.queued = l.queued.saturating_sub(1);
                self.tcp.counters.tcp_accepted += 1;
                return Ok(h);
            }
        }
    }

    /// Stops listening; connections not yet accepted are reset.
    pub fn tcp_unlisten(&mut self, l: TcpListener) -> Result<(), Error> {
        self.listener_mut(l)?;
        self.tcp.listeners.remove(&l.port);
        for slot in &mut self.tcp.slots {
            if let Some(e) = slot.entry.as_mut()
                && e.parent == Some(l.port)
            {
                e.parent = None;
                e.released = true;
                e.conn.abort();
            }
        }
        Ok(())
    }

    /// Opens a connection (to an IPv4 or IPv6 address) from an ephemeral port; the SYN goes
    /// out on the next `transmit`.
    pub fn tcp_connect(
        &mut self,
        now: Instant,
        remote: impl Into<SocketAddr>,
    ) -> Result<TcpHandle, Error> {
        self.tcp_connect_from(now, 0, remote)
    }

    /// Like `tcp_connect` from a chosen local port (0: ephemeral). Two stacks connecting to
    /// each other's chosen ports at once perform a simultaneous open.
    pub fn tcp_connect_from(
        &mut self,
        now: Instant,
        local_port: u16,
        remote: impl Into<SocketAddr>,
    ) -> Result<TcpHandle, Error> {
        let remote = remote.into();
        let src = self.source_for(remote.ip()).ok_or(Error::NoAddress)?;
        let port = if local_port != 0 {
            if self.tcp.by_tuple.contains_key(&(local_port, remote)) {
                return Err(Error::AddrInUse);
            }
            local_port
        } else {
            let start = self.rng.below(u64::from(EPHEMERAL_COUNT)) as u16;
            (0..EPHEMERAL_COUNT)
                .map(|i| EPHEMERAL_FIRST + (start + i) % EPHEMERAL_COUNT)
                .find(|p| {
                    !self.tcp.listeners.contains_key(p)
                        && !self.tcp.by_tuple.contains_key(&(*p, remote))
                })
                .ok_or(Error::Exhausted)?
        };
        let local = SocketAddr::new(src, port);
        let need = self.tcp_cfg.send_buffer + self.tcp_cfg.recv_buffer;
        if !self.tcp.reserve(need) {
            self.tcp.counters.tcp_memory_refused += 1;
            return Err(Error::Exhausted);
        }
        let conn = Connection::connect(
            now,
            self.tcp_cfg,
            local,
            remote,
            self.isn(now, local, remote),
            self.our_mss(remote.ip()),
        );
        Ok(self.tcp.insert(Entry {
            conn,
            parent: None,
            queued: false,
            released: false,
            reserved: need,
            created: now,
        }))
    }

    /// Queues data; returns how much fit (`WouldBlock` if none did).
    pub fn tcp_send(&mut self, h: TcpHandle, data: &[u8]) -> Result<usize, Error> {
        Ok(self.tcp.entry_mut(h)?.conn.send(data)?)
    }

    /// Reads data; `Ok(0)` (for a non-empty `out`) is end of stream.
    pub fn tcp_recv(&mut self, h: TcpHandle, out: &mut [u8]) -> Result<usize, Error> {
        Ok(self.tcp.entry_mut(h)?.conn.recv(out)?)
    }

    /// Closes the sending direction (FIN after queued data); reading continues.
    pub fn tcp_shutdown(&mut self, h: TcpHandle) -> Result<(), Error> {
        self.tcp.entry_mut(h)?.conn.close();
        Ok(())
    }

    /// Closes and gives up the handle; the stack finishes the close in the background.
    /// Unread data makes it an abort (RST), as on Linux.
    pub fn tcp_close(&mut self, h: TcpHandle) -> Result<(), Error> {
        let e = self.tcp.entry_mut(h)?;
        if e.conn.recv_available() > 0 {
            e.conn.abort();
        } else {
            e.conn.close();
        }
        e.released = true;
        self.tcp_reap();
        Ok(())
    }

    /// Resets the connection and gives up the handle.
    pub fn tcp_abort(&mut self, h: TcpHandle) -> Result<(), Error> {
        let e = self.tcp.entry_mut(h)?;
        e.conn.abort();
        e.released = true;
        self.tcp_reap();
        Ok(())
    }

    pub fn tcp_state(&self, h: TcpHandle) -> Result<State, Error> {
        Ok(self.tcp.entry(h)?.conn.state())
    }

    /// Read-only view: addresses, buffer levels, window, statistics, error.
    pub fn tcp_connection(&self, h: TcpHandle) -> Result<&Connection, Error> {
        Ok(&self.tcp.entry(h)?.conn)
    }

    // ----- stack side -----

    pub(super) fn receive_tcp(
        &mut self,
        now: Instant,
        rx: &IpRx<'_>,
        payload: &[u8],
        trusted: bool,
    ) {
        let (src, dst) = (rx.src(), rx.dst());
        if !self.our_address(dst) {
            self.link.stats.rx_dropped += 1;
            return;
        }
        let Ok(packet) = tcp_wire::Packet::new_checked(payload) else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let parsed = if trusted {
            TcpRepr::parse_trusted(&packet)
        } else {
            TcpRepr::parse(&packet, src, dst)
        };
        let Ok(seg) = parsed else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let data = packet.payload();
        let remote = SocketAddr::new(src, seg.src_port);

        if let Some(&index) = self.tcp.by_tuple.get(&(seg.dst_port, remote))
            && let Some(e) = self.tcp.slots[index].entry.as_mut()
        {
            let reply = e.conn.process(now, &seg, data);
            if let Some(port) = e.parent
                && !e.queued
                && synchronized(e.conn.state())
            {
                self.tcp.handshake_done(index, port);
            }
            if let Some(r) = reply {
                self.queue_segment(src, &r);
            }
            self.tcp_reap();
            return;
        }

        if self.tcp.listeners.contains_key(&seg.dst_port) && !seg.flags.rst() {
            let local = SocketAddr::new(dst, seg.dst_port);
            if seg.flags.syn() && !seg.flags.ack() {
                self.listener_syn(now, local, remote, &seg);
            } else if seg.flags.ack() {
                let cookie = if seg.flags.syn() {
                    None
                } else {
                    self.cookie_ack(now, local, remote, &seg, data)
                };
                match cookie {
                    Some(Some(reply)) => self.queue_segment(src, &reply),
                    Some(None) => {}
                    None => self.queue_segment(src, &reset_for(&seg, data.len())),
                }
            }
            return;
        }
        if !seg.flags.rst() {
            self.queue_segment(src, &reset_for(&seg, data.len()));
        }
    }

    /// A SYN for a listener: a new half-open connection, or a cookie when the table is full.
    fn listener_syn(&mut self, now: Instant, local: SocketAddr, remote: SocketAddr, seg: &TcpRepr) {
        let cfg = self.tcp_cfg;
        let port = local.port();
        self.tcp.counters.syn_received += 1;
        let Some(l) = self.tcp.listeners.get_mut(&port) else {
            return;
        };
        if l.queued >= cfg.backlog {
            // Nobody accepts: a cookie would only make another connection to drop.
            self.tcp.counters.syn_dropped += 1;
            return;
        }
        if l.half_open >= cfg.backlog {
            if cfg.syn_cookies {
                l.cookies_until = Some(now + COOKIE_LIFETIME);
                self.tcp.counters.syn_cookies_sent += 1;
                let iss = cookie::make(
                    self.cookie_key,
                    now,
                    local,
                    remote,
                    seg.seq,
                    seg.mss,
                    seg.window_scale,
                );
                let reply = TcpRepr {
                    src_port: port,
                    dst_port: remote.port(),
                    seq: iss,
                    ack: seg.seq.wrapping_add(1),
                    flags: Flags::SYN | Flags::ACK,
                    window: cfg.recv_buffer.min(0xffff) as u16,
                    mss: Some(self.our_mss(remote.ip()).min(0xffff) as u16),
                    window_scale: seg
                        .window_scale
                        .map(|_| tcp_mod::wscale_for(cfg.recv_buffer)),
                    ..TcpRepr::default()
                };
                self.queue_segment(remote.ip(), &reply);
                return;
            }
            if !self.tcp.evict_oldest_half_open(port) {
                self.tcp.counters.syn_dropped += 1;
                return;
            }
        }
        let conn = Connection::accept_syn(
            now,
            cfg,
            local,
            remote,
            self.isn(now, local, remote),
            self.our_mss(remote.ip()),
            seg,
        );
        self.tcp.insert(Entry {
            conn,
            parent: Some(port),
            queued: false,
            released: false,
            reserved: 0,
            created: now,
        });
        if let Some(l) = self.tcp.listeners.get_mut(&port) {
            l.half_open += 1;
        }
    }

    /// An ACK for a listener with no connection: completes a cookie handshake if it returns a
    /// valid cookie. `None`: no cookie (answer with RST); `Some(reply)`: handled.
    fn cookie_ack(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &TcpRepr,
        data: &[u8],
    ) -> Option<Option<TcpRepr>> {
        let cfg = self.tcp_cfg;
        let port = local.port();
        let l = self.tcp.listeners.get(&port)?;
        if l.cookies_until.is_none_or(|t| now >= t) {
            return None;
        }
        let Some(d) = cookie::check(self.cookie_key, now, local, remote, seg.seq, seg.ack) else {
            self.tcp.counters.syn_cookies_rejected += 1;
            return None;
        };
        let need = cfg.send_buffer + cfg.recv_buffer;
        if l.queued >= cfg.backlog {
            self.tcp.counters.syn_dropped += 1;
            return Some(None);
        }
        if !self.tcp.reserve(need) {
            self.tcp.counters.tcp_memory_refused += 1;
            return Some(None);
        }
        let mut conn = Connection::from_cookie(
            now,
            cfg,
            local,
            remote,
            d.iss,
            d.irs,
            self.our_mss(remote.ip()),
            d.mss,
            d.wscale,
        );
        let reply = conn.process(now, seg, data);
        self.tcp.counters.syn_cookies_accepted += 1;
        let h = self.tcp.insert(Entry {
            conn,
            parent: Some(port),
            queued: true,
            released: false,
            reserved: need,
            created: now,
        });
        if let Some(l) = self.tcp.listeners.get_mut(&port) {
            l.queued += 1;
            l.ready.push_back(h);
        }
        Some(reply)
    }

    pub(super) fn tcp_tick(&mut self, now: Instant) {
        for slot in &mut self.tcp.slots {
            if let Some(e) = slot.entry.as_mut() {
                e.conn.tick(now);
            }
        }
        self.tcp_reap();
    }

    /// Unregisters closed connections and frees those nobody holds a handle to.
    pub(super) fn tcp_reap(&mut self) {
        let Sockets {
            slots,
            by_tuple,
            listeners,
            reserved,
            counters,
            ..
        } = &mut self.tcp;
        for (index, slot) in slots.iter_mut().enumerate() {
            let Some(e) = slot.entry.as_ref() else {
                continue;
            };
            if e.conn.state() != State::Closed {
                continue;
            }
            let tuple = (e.conn.local().port(), e.conn.remote());
            if by_tuple.get(&tuple) == Some(&index) {
                by_tuple.remove(&tuple);
            }
            if !e.released && e.parent.is_none() {
                continue;
            }
            if let Some(port) = e.parent
                && let Some(l) = listeners.get_mut(&port)
            {
                if e.queued {
                    l.queued = l.queued.saturating_sub(1);
                } else {
                    l.half_open = l.half_open.saturating_sub(1);
                }
            }
            if e.parent.is_some() && !e.queued && e.conn.error() == Some(TcpError::TimedOut) {
                counters.half_open_timed_out += 1;
            }
            let st = e.conn.stats();
            counters.challenge_acks += st.challenge_acks;
            counters.challenge_acks_suppressed += st.challenge_acks_suppressed;
            counters.old_acks_dropped += st.old_acks_dropped;
            *reserved -= e.reserved;
            slot.entry = None;
            slot.generation = slot.generation.wrapping_add(1);
        }
    }

    /// Sends what every connection has ready, one segment per connection per round.
    pub(super) fn tcp_dispatch<D: Device>(
        &mut self,
        now: Instant,
        dev: &mut D,
    ) -> Result<(), Error> {
        let link = &mut self.link;
        loop {
            let mut progress = false;
            for slot in &mut self.tcp.slots {
                let Some(e) = slot.entry.as_mut() else {
                    continue;
                };
                let (local, remote) = (e.conn.local().ip(), e.conn.remote().ip());
                let mut dropped = false;
                let mss = e.conn.mss();
                // Room for the largest TCP header (60 bytes) behind the IP header.
                let tso = match remote {
                    IpAddr::V4(r) if link.tso_ready(now, dev, r) => {
                        dev.tso_max().min(MAX_PACKET_LEN) - HEADER_LEN - 60
                    }
                    IpAddr::V6(r) if link.tso_ready6(now, dev, r) => {
                        dev.tso_max().min(HEADER6_LEN + MAX_PAYLOAD6_LEN) - HEADER6_LEN - 60
                    }
                    _ => 0,
                };
                let sent = e.conn.dispatch_upto(now, tso, |repr, a, b| {
                    let large = a.len() + b.len() > mss;
                    let written = match (local, remote) {
                        (IpAddr::V6(local), IpAddr::V6(remote)) if large => link.write_tso6(
                            now,
                            dev,
                            remote,
                            local,
                            repr.header_len(),
                            |buf| repr.emit(buf),
                            &[a, b],
                            mss,
                        ),
                        (IpAddr::V6(local), IpAddr::V6(remote)) => {
                            let w = Ip6Write {
                                src: Some(local),
                                fragment: false,
                                ..Ip6Write::new(remote, proto::TCP)
                            };
                            link.write6(
                                now,
                                dev,
                                &w,
                                repr.header_len(),
                                |buf| repr.emit(buf),
                                &[a, b],
                            )
                        }
                        (IpAddr::V4(local), IpAddr::V4(remote)) if large => link.write_tso(
                            now,
                            dev,
                            remote,
                            local,
                            repr.header_len(),
                            |buf| repr.emit(buf),
                            &[a, b],
                            mss,
                        ),
                        (IpAddr::V4(local), IpAddr::V4(remote)) => {
                            let w = IpWrite {
                                src: Some(local),
                                fragment: false,
                                ..IpWrite::new(remote, proto::TCP)
                            };
                            link.write(
                                now,
                                dev,
                                &w,
                                repr.header_len(),
                                |buf| repr.emit(buf),
                                &[a, b],
                            )
                        }
                        _ => Err(Error::NoRoute),
                    };
                    match written {
                        Err(Error::WouldBlock) => Err(Error::WouldBlock),
                        // Unroutable: the segment is lost and TCP's timers deal with it.
                        Err(_) => {
                            dropped = true;
                            Ok(())
                        }
                        Ok(()) => Ok(()),
                    }
                })?;
                if dropped {
                    link.stats.tx_dropped += 1;
                }
                progress |= sent;
            }
            if !progress {
                return Ok(());
            }
        }
    }

    pub(super) fn tcp_poll_at(&self) -> Option<Instant> {
        self.tcp
            .slots
            .iter()
            .filter_map(|s| s.entry.as_ref())
            .map(|e| e.conn.poll_at())
            .fold(None, earliest)
    }
}
