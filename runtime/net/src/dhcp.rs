//! DHCP client (RFC 2131), sans-IO: `poll` yields messages to send, `process` takes replies.
//!
//! INIT -> SELECTING (DISCOVER) -> REQUESTING (REQUEST) -> BOUND; at T1 RENEWING (unicast
//! REQUEST to the server), at T2 REBINDING (broadcast REQUEST), at lease end back to INIT.

use crate::rng::Rng;
use crate::time::{Duration, Instant, earliest};
use crate::wire::dhcp::{DhcpRepr, MessageType};
use crate::wire::{Ipv4Addr, MacAddr};

/// Options requested from the server: subnet mask, router, DNS.
const PARAMETERS: [u8; 3] = [1, 3, 6];
/// RFC 2131 4.1: retransmission delays start at 4 s and double up to 64 s.
const FIRST_RETRY: Duration = Duration::from_secs(4);
const MAX_RETRY: Duration = Duration::from_secs(64);
/// REQUESTs sent in REQUESTING before starting over.
const MAX_REQUESTS: u32 = 4;
/// RFC 2131 4.4.5: in RENEWING/REBINDING, do not retransmit more often than this.
const MIN_RENEW_RETRY: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpState {
    Init,
    Selecting,
    Requesting,
    Bound,
    Renewing,
    Rebinding,
}

/// An address lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lease {
    pub address: Ipv4Addr,
    pub prefix_len: u8,
    pub router: Option<Ipv4Addr>,
    pub dns_servers: [Option<Ipv4Addr>; 3],
    pub server: Ipv4Addr,
    /// `None` for an infinite lease.
    pub duration: Option<Duration>,
    /// Times the server extended this lease (ACKs in RENEWING or REBINDING). A renewal lasts
    /// one round trip, so watching [`DhcpState`] misses most of them; this count does not.
    pub renewals: u32,
}

/// A change the interface must apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpEvent {
    Configured(Lease),
    Deconfigured,
}

/// A message to transmit: UDP 68 -> 67.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outgoing {
    pub message_type: MessageType,
    pub xid: u32,
    pub secs: u16,
    /// Source address (0.0.0.0 until bound).
    pub src: Ipv4Addr,
    /// Destination address (255.255.255.255 unless renewing).
    pub dst: Ipv4Addr,
    pub ciaddr: Ipv4Addr,
    pub requested_ip: Option<Ipv4Addr>,
    pub server_id: Option<Ipv4Addr>,
}

impl Outgoing {
    /// Encodes the message with `client_id` (hardware type 1 then the MAC) into `buf`;
    /// returns its length. `buf` must hold [`Outgoing::buffer_len`] bytes.
    pub fn emit(&self, mac: MacAddr, buf: &mut [u8]) -> usize {
        self.repr(mac, &client_id(mac)).emit(buf)
    }

    pub fn buffer_len(&self, mac: MacAddr) -> usize {
        self.repr(mac, &client_id(mac)).buffer_len()
    }

    fn repr<'a>(&self, mac: MacAddr, id: &'a [u8; 7]) -> DhcpRepr<'a> {
        let mut r = DhcpRepr::new(self.message_type, self.xid, mac);
        r.secs = self.secs;
        r.ciaddr = self.ciaddr;
        r.requested_ip = self.requested_ip;
        r.server_id = self.server_id;
        r.client_id = Some(id);
        r.parameter_request_list = Some(&PARAMETERS);
        r.max_message_size = Some(1500);
        // Without an address we cannot receive unicast before the ACK.
        r.broadcast = self.src.is_unspecified();
        r
    }
}

fn client_id(mac: MacAddr) -> [u8; 7] {
    let mut id = [1u8; 7];
    id[1..].copy_from_slice(&mac.0);
    id
}

#[derive(Debug, Clone)]
pub struct DhcpClient {
    mac: MacAddr,
    rng: Rng,
    state: DhcpState,
    xid: u32,
    started: Instant,
    /// When to (re)send the current message; `None` when nothing is due.
    send_at: Option<Instant>,
    retry: Duration,
    requests: u32,
    offer: Option<(Ipv4Addr, Ipv4Addr)>,
    lease: Option<Lease>,
    t1: Option<Instant>,
    t2: Option<Instant>,
    expires: Option<Instant>,
    /// When the first REQUEST of the current exchange went out: a lease's
    /// times count from there, not from the ACK (RFC 2131 4.4.1), so that a
    /// slow answer cannot make the client keep an address past its lease.
    requested: Option<Instant>,
}

impl DhcpClient {
    pub fn new(mac: MacAddr, seed: u64) -> DhcpClient {
        DhcpClient {
            mac,
            rng: Rng::new(seed ^ 0xd4c9),
            state: DhcpState::Init,
            xid: 0,
            started: Instant::ZERO,
            send_at: Some(Instant::ZERO),
            retry: FIRST_RETRY,
            requests: 0,
            offer: None,
            lease: None,
            t1: None,
            t2: None,
            expires: None,
            requested: None,
        }
    }

    pub fn state(&self) -> DhcpState {
        self.state
    }

    pub fn lease(&self) -> Option<&Lease> {
        self.lease.as_ref()
    }

    /// RFC 2131 4.1: the delay, randomized by +/- 1 s.
    fn jittered(&mut self, d: Duration) -> Duration {
        let jitter = self.rng.below(2_000_000_000);
        (d + Duration::from_nanos(jitter)).saturating_sub(Duration::from_secs(1))
    }

    fn restart(&mut self, now: Instant) {
        self.state = DhcpState::Init;
        self.offer = None;
        self.lease = None;
        self.t1 = None;
        self.t2 = None;
        self.expires = None;
        self.send_at = Some(now);
    }

    /// Runs timers and returns the message to send now, if any.
    pub fn poll(&mut self, now: Instant) -> (Option<DhcpEvent>, Option<Outgoing>) {
        let mut event = None;
        if self.expires.is_some_and(|t| now >= t) {
            self.restart(now);
            event = Some(DhcpEvent::Deconfigured);
        }
        if self.state == DhcpState::Bound && self.t1.is_some_and(|t| now >= t) {
            self.state = DhcpState::Renewing;
            self.new_xid(now);
            self.send_at = Some(now);
        }
        if self.state == DhcpState::Renewing && self.t2.is_some_and(|t| now >= t) {
            self.state = DhcpState::Rebinding;
            self.new_xid(now);
            self.send_at = Some(now);
        }
        if self.send_at.is_none_or(|t| now < t) {
            return (event, None);
        }
        let out = match self.state {
            DhcpState::Init | DhcpState::Selecting => {
                if self.state == DhcpState::Init {
                    self.state = DhcpState::Selecting;
                    self.new_xid(now);
                    self.retry = FIRST_RETRY;
                }
                let d = self.next_retry();
                self.send_at = Some(now + d);
                self.message(now, MessageType::Discover)
            }
            DhcpState::Requesting => {
                if self.requests >= MAX_REQUESTS {
                    self.restart(now);
                    return (event, None);
                }
                self.requests += 1;
                self.requested.get_or_insert(now);
                let d = self.next_retry();
                self.send_at = Some(now + d);
                self.message(now, MessageType::Request)
            }
            DhcpState::Renewing | DhcpState::Rebinding => {
                let until = if self.state == DhcpState::Renewing {
                    self.t2
                } else {
                    self.expires
                };
                let half = until.map_or(MIN_RENEW_RETRY, |t| t.since(now) / 2);
                self.send_at = Some(now + half.max(MIN_RENEW_RETRY));
                self.requested.get_or_insert(now);
                self.message(now, MessageType::Request)
            }
            DhcpState::Bound => {
                self.send_at = None;
                return (event, None);
            }
        };
        (event, Some(out))
    }

    fn next_retry(&mut self) -> Duration {
        let d = self.jittered(self.retry);
        self.retry = (self.retry * 2).min(MAX_RETRY);
        d
    }

    fn new_xid(&mut self, now: Instant) {
        self.xid = self.rng.next_u32();
        self.started = now;
        self.requested = None;
    }

    fn message(&self, now: Instant, message_type: MessageType) -> Outgoing {
        let secs = now.since(self.started).as_secs().min(0xffff) as u16;
        let mut m = Outgoing {
            message_type,
            xid: self.xid,
            secs,
            src: Ipv4Addr::UNSPECIFIED,
            dst: Ipv4Addr::BROADCAST,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            requested_ip: None,
            server_id: None,
        };
        match self.state {
            DhcpState::Requesting => {
                if let Some((addr, server)) = self.offer {
                    m.requested_ip = Some(addr);
                    m.server_id = Some(server);
                }
            }
            DhcpState::Renewing | DhcpState::Rebinding => {
                if let Some(l) = &self.lease {
                    // RFC 2131 4.3.2: ciaddr set, no requested-ip, no server-id.
                    m.src = l.address;
                    m.ciaddr = l.address;
                    if self.state == DhcpState::Renewing {
                        m.dst = l.server;
                    }
                }
            }
            _ => {}
        }
        m
    }

    /// Handles a message from a server; returns a configuration change.
    pub fn process(&mut self, now: Instant, msg: &DhcpRepr<'_>) -> Option<DhcpEvent> {
        if msg.xid != self.xid || msg.client_hw != self.mac {
            return None;
        }
        match (self.state, msg.message_type) {
            (DhcpState::Selecting, MessageType::Offer) => {
                let server = msg.server_id?;
                if msg.yiaddr.is_unspecified() || msg.yiaddr.is_broadcast() {
                    return None;
                }
                self.offer = Some((msg.yiaddr, server));
                self.state = DhcpState::Requesting;
                self.requests = 0;
                self.requested = None;
                self.retry = FIRST_RETRY;
                self.send_at = Some(now);
                None
            }
            (
                DhcpState::Requesting | DhcpState::Renewing | DhcpState::Rebinding,
                MessageType::Ack,
            ) => self.bind(now, msg),
            (
                DhcpState::Requesting | DhcpState::Renewing | DhcpState::Rebinding,
                MessageType::Nak,
            ) => {
                let was_bound = self.lease.is_some();
                self.restart(now);
                was_bound.then_some(DhcpEvent::Deconfigured)
            }
            _ => None,
        }
    }

    fn bind(&mut self, now: Instant, msg: &DhcpRepr<'_>) -> Option<DhcpEvent> {
        if msg.yiaddr.is_unspecified() {
            return None;
        }
        let server = msg
            .server_id
            .or(self.offer.map(|o| o.1))
            .or(self.lease.map(|l| l.server))?;
        let prefix_len = msg
            .subnet_mask
            .map_or(24, |m| m.to_bits().leading_ones() as u8);
        let duration = match msg.lease_time {
            Some(u32::MAX) => None,
            Some(s) => Some(Duration::from_secs(u64::from(s.max(1)))),
            // RFC 2131 requires the option in an ACK; a missing one gets a short lease.
            None => Some(Duration::from_secs(3600)),
        };
        let renewals = match self.lease {
            Some(l)
                if l.address == msg.yiaddr
                    && matches!(self.state, DhcpState::Renewing | DhcpState::Rebinding) =>
            {
                l.renewals.saturating_add(1)
            }
            _ => 0,
        };
        let lease = Lease {
            address: msg.yiaddr,
            prefix_len,
            router: msg.router,
            dns_servers: msg.dns_servers,
            server,
            duration,
            renewals,
        };
        match duration {
            Some(d) => {
                let t1 = msg
                    .renewal_time
                    .map_or(d / 2, |s| Duration::from_secs(u64::from(s)));
                let t2 = msg
                    .rebinding_time
                    .map_or(d * 7 / 8, |s| Duration::from_secs(u64::from(s)));
                // Keep T1 <= T2 <= lease even if the server sends nonsense.
                let t2 = t2.min(d);
                let t1 = t1.min(t2);
                let base = self.requested.unwrap_or(now).min(now);
                self.t1 = Some(base + t1);
                self.t2 = Some(base + t2);
                self.expires = Some(base + d);
            }
            None => {
                self.t1 = None;
                self.t2 = None;
                self.expires = None;
            }
        }
        let changed = self.lease.map(|l| (l.address, l.prefix_len, l.router))
            != Some((lease.address, lease.prefix_len, lease.router));
        self.lease = Some(lease);
        self.state = DhcpState::Bound;
        self.send_at = None;
        self.offer = None;
        changed.then_some(DhcpEvent::Configured(lease))
    }

    pub fn poll_at(&self) -> Option<Instant> {
        let t1 = (self.state == DhcpState::Bound)
            .then_some(self.t1)
            .flatten();
        let t2 = (self.state == DhcpState::Renewing)
            .then_some(self.t2)
            .flatten();
        [self.send_at, t1, t2, self.expires]
            .into_iter()
            .fold(None, earliest)
    }
}
