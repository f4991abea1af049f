//! One TCP connection: the transmission control block and its state machine, sans-IO.
//!
//! Segments come in through [`Connection::process`]; segments go out through
//! [`Connection::dispatch`], which hands the header and payload to an emitter (normally writing
//! straight into a device buffer) and only commits the state change if the emitter succeeded.

use alloc::vec::Vec;
use core::net::SocketAddr;

use super::buffer::Ring;
use super::rtt::Rtt;
use super::seq::Seq;
use super::{State, TcpConfig, TcpError};
use crate::time::{Instant, earliest};
use crate::wire::tcp::{Flags, TcpRepr};

/// RFC 9293 default send MSS when the peer sends no MSS option.
const DEFAULT_MSS: usize = 536;
const MAX_WSCALE: u8 = 14;
/// Out-of-order ranges tracked in the receive buffer; segments that would need more are dropped.
const MAX_OOO_RANGES: usize = 16;
/// Bound on duplicate ACKs sent back to back.
const MAX_DUPACKS_OWED: u32 = 8;
/// Keeps cwnd arithmetic far from overflow.
const MAX_CWND: usize = 1 << 30;

/// Counters, for tests and monitoring.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub segments_sent: u64,
    pub segments_received: u64,
    /// Retransmission timer expiries.
    pub timeouts: u64,
    pub fast_retransmits: u64,
    pub dup_acks: u64,
    pub window_probes: u64,
    pub keepalive_probes: u64,
    pub bytes_acked: u64,
    /// RFC 5961 challenge ACKs sent, and those the rate limit (section 7) held back.
    pub challenge_acks: u64,
    pub challenge_acks_suppressed: u64,
    /// Segments dropped because their ACK lies too far below SND.UNA (RFC 5961 section 5).
    pub old_acks_dropped: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rst,
    Syn,
    Data,
    Retransmit,
    WindowProbe,
    Keepalive,
    Ack,
}

/// The next segment to send; payload is `tx[off..off + len]`.
#[derive(Debug, Clone, Copy)]
struct Plan {
    kind: Kind,
    seq: Seq,
    flags: Flags,
    off: usize,
    len: usize,
}

#[derive(Debug)]
pub struct Connection {
    cfg: TcpConfig,
    state: State,
    local: SocketAddr,
    remote: SocketAddr,
    error: Option<TcpError>,
    passive: bool,
    our_mss: usize,
    stats: Stats,

    // Send side. `tx[0]` has sequence number `tx_seq`.
    iss: Seq,
    snd_una: Seq,
    snd_nxt: Seq,
    /// One past the highest sequence number sent.
    snd_max: Seq,
    snd_wnd: usize,
    max_snd_wnd: usize,
    snd_wl1: Seq,
    snd_wl2: Seq,
    /// Shift applied to windows the peer advertises.
    snd_wscale: u8,
    smss: usize,
    tx: Ring,
    tx_seq: Seq,
    fin_queued: bool,
    send_rst: bool,

    // Receive side.
    irs: Seq,
    rcv_nxt: Seq,
    /// Right edge of the window last advertised.
    rcv_adv: Seq,
    /// Shift applied to windows we advertise.
    rcv_wscale: u8,
    /// Whether window scaling is offered (before the handshake) or agreed (after).
    ws_ok: bool,
    rx: Ring,
    ooo: Vec<(Seq, Seq)>,
    fin_at: Option<Seq>,
    fin_rcvd: bool,

    // Timers and pending output.
    rtt: Rtt,
    rto_at: Option<Instant>,
    timeouts: u32,
    rtt_probe: Option<(Seq, Instant)>,
    /// The SYN or SYN-ACK had to be retransmitted.
    syn_timed_out: bool,
    ack_now: bool,
    ack_at: Option<Instant>,
    unacked_segs: u32,
    /// Out-of-order segments received but not yet answered by their own duplicate ACK. Input
    /// is batched before output, yet the sender counts duplicates to detect loss.
    dupacks_owed: u32,
    persist_at: Option<Instant>,
    persist_backoff: u32,
    probe_now: bool,
    probes_unanswered: u32,
    last_rx: Instant,
    ka_sent: u32,
    ka_last: Instant,
    ka_now: bool,
    time_wait_at: Option<Instant>,
    /// RFC 5961 (7): challenge ACKs sent since `challenge_since`.
    challenge_since: Instant,
    challenges: u32,

    // Congestion control (RFC 5681, NewReno RFC 6582).
    cwnd: usize,
    ssthresh: usize,
    dupacks: u32,
    in_recovery: bool,
    recover: Seq,
    retransmit_one: bool,
}

/// The window scale we offer for a receive buffer of `buffer` bytes.
pub(crate) fn wscale_for(buffer: usize) -> u8 {
    let mut s = 0;
    while s < MAX_WSCALE && (buffer >> s) > 0xffff {
        s += 1;
    }
    s
}

impl Connection {
    fn new(
        now: Instant,
        cfg: TcpConfig,
        local: impl Into<SocketAddr>,
        remote: impl Into<SocketAddr>,
        iss: Seq,
        our_mss: usize,
    ) -> Connection {
        let smss = our_mss.min(DEFAULT_MSS);
        Connection {
            cfg,
            state: State::Closed,
            local: local.into(),
            remote: remote.into(),
            error: None,
            passive: false,
            our_mss,
            stats: Stats::default(),
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            max_snd_wnd: 0,
            snd_wl1: Seq(0),
            snd_wl2: iss,
            snd_wscale: 0,
            smss,
            tx: Ring::new(cfg.send_buffer),
            tx_seq: iss + 1,
            fin_queued: false,
            send_rst: false,
            irs: Seq(0),
            rcv_nxt: Seq(0),
            rcv_adv: Seq(0),
            rcv_wscale: wscale_for(cfg.recv_buffer),
            ws_ok: true,
            rx: Ring::new(cfg.recv_buffer),
            ooo: Vec::new(),
            fin_at: None,
            fin_rcvd: false,
            rtt: Rtt::new(cfg.initial_rto, cfg.min_rto, cfg.max_rto),
            rto_at: None,
            timeouts: 0,
            rtt_probe: None,
            syn_timed_out: false,
            ack_now: false,
            ack_at: None,
            unacked_segs: 0,
            dupacks_owed: 0,
            persist_at: None,
            persist_backoff: 0,
            probe_now: false,
            probes_unanswered: 0,
            last_rx: now,
            ka_sent: 0,
            ka_last: now,
            ka_now: false,
            time_wait_at: None,
            challenge_since: now,
            challenges: 0,
            cwnd: 0,
            ssthresh: MAX_CWND,
            dupacks: 0,
            in_recovery: false,
            recover: iss,
            retransmit_one: false,
        }
    }

    /// Active open: the SYN goes out on the next `dispatch`. `our_mss` is the largest segment
    /// this host can receive (MTU minus 40).
    pub fn connect(
        now: Instant,
        cfg: TcpConfig,
        local: impl Into<SocketAddr>,
        remote: impl Into<SocketAddr>,
        iss: Seq,
        our_mss: usize,
    ) -> Connection {
        let mut c = Connection::new(now, cfg, local, remote, iss, our_mss);
        c.state = State::SynSent;
        c.init_cwnd();
        c
    }

    /// Passive open from a listener's received SYN; the SYN-ACK goes out on `dispatch`.
    pub fn accept_syn(
        now: Instant,
        cfg: TcpConfig,
        local: impl Into<SocketAddr>,
        remote: impl Into<SocketAddr>,
        iss: Seq,
        our_mss: usize,
        syn: &TcpRepr,
    ) -> Connection {
        let mut c = Connection::new(now, cfg, local, remote, iss, our_mss);
        c.state = State::SynReceived;
        c.passive = true;
        c.take_syn(syn);
        c.snd_wnd = usize::from(syn.window);
        c.max_snd_wnd = c.snd_wnd;
        c.snd_wl1 = c.irs;
        c.init_cwnd();
        c
    }

    /// Passive open completed by a valid SYN cookie (RFC 4987 3.6): the SYN-ACK with ISS
    /// `iss` went out without a connection; `irs`, the peer's MSS and window scale come back
    /// decoded from the cookie. Feed the completing ACK to `process` next.
    #[allow(clippy::too_many_arguments)]
    pub fn from_cookie(
        now: Instant,
        cfg: TcpConfig,
        local: impl Into<SocketAddr>,
        remote: impl Into<SocketAddr>,
        iss: Seq,
        irs: Seq,
        our_mss: usize,
        peer_mss: u16,
        peer_wscale: Option<u8>,
    ) -> Connection {
        let (local, remote) = (local.into(), remote.into());
        let syn = TcpRepr {
            src_port: remote.port(),
            dst_port: local.port(),
            seq: irs.0,
            flags: Flags::SYN,
            mss: Some(peer_mss),
            window_scale: peer_wscale,
            ..TcpRepr::default()
        };
        let mut c = Connection::accept_syn(now, cfg, local, remote, iss, our_mss, &syn);
        // The SYN-ACK is out: it was the cookie.
        c.snd_nxt = iss + 1;
        c.snd_max = iss + 1;
        c
    }

    /// Records the peer's SYN: sequence numbers and negotiated options.
    fn take_syn(&mut self, syn: &TcpRepr) {
        self.irs = Seq(syn.seq);
        self.rcv_nxt = self.irs + 1;
        self.rcv_adv = self.rcv_nxt;
        self.smss = usize::from(syn.mss.unwrap_or(DEFAULT_MSS as u16))
            .min(self.our_mss)
            .max(64);
        match syn.window_scale {
            Some(ws) if self.ws_ok => self.snd_wscale = ws.min(MAX_WSCALE),
            _ => {
                self.ws_ok = false;
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
    }

    fn init_cwnd(&mut self) {
        // RFC 5681 (3.1) initial window.
        self.cwnd = (4 * self.smss).min((2 * self.smss).max(4380));
    }

    // ----- accessors -----

    pub fn state(&self) -> State {
        self.state
    }
    pub fn local(&self) -> SocketAddr {
        self.local
    }
    pub fn remote(&self) -> SocketAddr {
        self.remote
    }
    /// Why the connection ended abnormally, if it did.
    pub fn error(&self) -> Option<TcpError> {
        self.error
    }
    pub fn stats(&self) -> Stats {
        self.stats
    }
    /// Send MSS in use.
    pub fn mss(&self) -> usize {
        self.smss
    }
    /// RFC 8201 / RFC 1191: an ICMP "packet too big" said segments over `mss` bytes of payload
    /// do not reach the peer. Lowers the send MSS (never below 64 nor raises it) and goes back
    /// to the first unacknowledged byte, since everything in flight was sent too large; the
    /// congestion state is kept (this is not congestion). True if the MSS changed.
    pub fn lower_mss(&mut self, mss: usize) -> bool {
        let mss = mss.max(64);
        if mss >= self.smss {
            return false;
        }
        self.smss = mss;
        let sending = matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        );
        if sending && self.snd_nxt > self.snd_una {
            self.snd_nxt = self.snd_una;
            self.rtt_probe = None;
            self.retransmit_one = false;
        }
        true
    }
    /// The peer's advertised window in bytes (scaled).
    pub fn send_window(&self) -> usize {
        self.snd_wnd
    }
    pub fn window_scales(&self) -> (u8, u8) {
        (self.snd_wscale, self.rcv_wscale)
    }
    /// Smoothed round-trip time, once measured.
    pub fn srtt(&self) -> Option<crate::time::Duration> {
        self.rtt.srtt()
    }
    /// Current retransmission timeout, backoff included.
    pub fn rto(&self) -> crate::time::Duration {
        self.rtt.rto()
    }
    /// Congestion window and slow-start threshold, in bytes.
    pub fn congestion(&self) -> (usize, usize) {
        (self.cwnd, self.ssthresh)
    }
    pub fn was_passive(&self) -> bool {
        self.passive
    }
    /// Bytes `send` would accept now.
    pub fn send_capacity(&self) -> usize {
        if self.may_send() { self.tx.free() } else { 0 }
    }
    /// Bytes queued for sending or awaiting acknowledgement.
    pub fn send_queued(&self) -> usize {
        self.tx.len()
    }
    /// Bytes ready for `recv`.
    pub fn recv_available(&self) -> usize {
        self.rx.len()
    }
    /// The peer has closed its side and every byte before its FIN was read.
    pub fn at_eof(&self) -> bool {
        self.fin_rcvd && self.rx.is_empty()
    }
    /// Send plus receive buffer sizes: the most memory the connection's buffers take.
    pub fn buffer_capacity(&self) -> usize {
        self.tx.capacity() + self.rx.capacity()
    }
    /// Bytes of buffer memory held (send and receive rings are allocated on first use).
    pub fn buffer_allocated(&self) -> usize {
        self.tx.allocated() + self.rx.allocated()
    }
    /// Bytes received out of order and held until the gap before them fills.
    pub fn out_of_order_bytes(&self) -> usize {
        self.ooo.iter().map(|&(s, e)| e.since(s)).sum()
    }
    /// True while data is queued, in flight, or a FIN/RST is still to be sent.
    pub fn has_pending_output(&self) -> bool {
        !self.tx.is_empty() || self.send_rst || (self.fin_queued && !self.fin_acked())
    }

    fn may_send(&self) -> bool {
        !self.fin_queued
            && matches!(
                self.state,
                State::SynSent | State::SynReceived | State::Established | State::CloseWait
            )
    }

    fn synchronized(&self) -> bool {
        !matches!(
            self.state,
            State::Closed | State::Listen | State::SynSent | State::SynReceived
        )
    }

    fn data_end(&self) -> Seq {
        self.tx_seq + self.tx.len()
    }

    fn fin_acked(&self) -> bool {
        self.fin_queued && self.snd_una > self.data_end()
    }

    // ----- application calls -----

    /// Queues data; returns how much fit. `WouldBlock` when the send buffer is full.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, TcpError> {
        if !self.may_send() {
            return Err(self.error.unwrap_or(TcpError::Closed));
        }
        if data.is_empty() {
            return Ok(0);
        }
        match self.tx.push(data) {
            0 => Err(TcpError::WouldBlock),
            n => Ok(n),
        }
    }

    /// Reads received data. `Ok(0)` for a non-empty `out` means end of stream.
    pub fn recv(&mut self, out: &mut [u8]) -> Result<usize, TcpError> {
        if out.is_empty() {
            return Ok(0);
        }
        let n = self.rx.pop(out);
        if n > 0 {
            self.maybe_window_update();
            return Ok(n);
        }
        if self.fin_rcvd {
            return Ok(0);
        }
        match (self.error, self.state) {
            (Some(e), _) => Err(e),
            (None, State::Closed) => Ok(0),
            _ => Err(TcpError::WouldBlock),
        }
    }

    /// Graceful close of our direction: a FIN follows the queued data.
    pub fn close(&mut self) {
        match self.state {
            State::SynSent => self.state = State::Closed,
            // The FIN waits for the handshake; ACK processing moves to FIN-WAIT-1.
            State::SynReceived => self.fin_queued = true,
            State::Established => {
                self.fin_queued = true;
                self.state = State::FinWait1;
            }
            State::CloseWait => {
                self.fin_queued = true;
                self.state = State::LastAck;
            }
            _ => {}
        }
    }

    /// Abortive close: RST if the peer knows about us, then CLOSED.
    pub fn abort(&mut self) {
        match self.state {
            State::Closed | State::Listen | State::SynSent | State::TimeWait => {
                self.enter_closed(None)
            }
            _ => {
                self.fin_queued = true;
                self.send_rst = true;
            }
        }
        if self.error.is_none() {
            self.error = Some(TcpError::Closed);
        }
    }

    /// Opens the window again once the application has read enough (receiver SWS avoidance).
    fn maybe_window_update(&mut self) {
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            return;
        }
        let edge = self.rcv_nxt + self.rx.free();
        if edge > self.rcv_adv && edge.since(self.rcv_adv) >= self.window_threshold() {
            self.ack_now = true;
        }
    }

    fn window_threshold(&self) -> usize {
        (self.rx.capacity() / 2).min(self.our_mss).max(1)
    }

    fn enter_closed(&mut self, error: Option<TcpError>) {
        self.state = State::Closed;
        if error.is_some() {
            self.error = error;
        }
        self.rto_at = None;
        self.ack_at = None;
        self.persist_at = None;
        self.time_wait_at = None;
        self.ack_now = false;
        self.probe_now = false;
        self.ka_now = false;
        self.retransmit_one = false;
        self.send_rst = false;
        self.dupacks_owed = 0;
    }

    fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.time_wait_at = Some(now + self.cfg.msl * 2);
        self.rto_at = None;
        self.persist_at = None;
        self.retransmit_one = false;
    }

    // ----- input -----

    /// Handles one segment for this connection. Returns a segment to send that is not part of
    /// the connection's own output (an RST answering an unacceptable ACK).
    pub fn process(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) -> Option<TcpRepr> {
        self.stats.segments_received += 1;
        match self.state {
            State::Closed | State::Listen => return None,
            State::SynSent => return self.process_syn_sent(now, seg, payload),
            _ => {}
        }
        let mut seq = Seq(seg.seq);
        let mut syn = seg.flags.syn();
        let mut fin = seg.flags.fin();
        let mut payload = payload;
        if syn && seq == self.irs {
            if self.state == State::SynReceived && !seg.flags.ack() {
                // The peer retransmitted its SYN: our SYN-ACK was lost.
                self.snd_nxt = self.iss;
                return None;
            }
            // A duplicate SYN(-ACK): strip the SYN, acknowledge (a challenge ACK, RFC 5961
            // section 4, which also answers a SYN-ACK whose ACK we lost), and use the rest.
            syn = false;
            seq = seq + 1;
            self.challenge_ack(now);
        }

        let wnd = self.rx.free();
        let seg_len = payload.len() + usize::from(fin);
        if !self.acceptable(seq, seg_len, wnd) {
            if syn && !seg.flags.rst() {
                // RFC 5961 (4.2): a SYN gets a challenge ACK whatever its sequence number.
                self.challenge_ack(now);
            } else if !seg.flags.rst() {
                self.ack_now = true;
                if self.state == State::TimeWait && fin {
                    self.time_wait_at = Some(now + self.cfg.msl * 2);
                }
            }
            return None;
        }
        self.last_rx = now;
        self.ka_sent = 0;
        self.probes_unanswered = 0;
        if wnd == 0 && !payload.is_empty() {
            // Zero window: keep the ACK and RST information, drop the rest, say so. A bare
            // FIN needs no buffer space and is still taken.
            payload = &[];
            fin = false;
            self.ack_now = true;
        }

        if seg.flags.rst() {
            self.process_rst(now, seq);
            return None;
        }
        if syn {
            // RFC 5961 (4): a SYN in a synchronized state gets a challenge ACK.
            self.challenge_ack(now);
            return None;
        }
        if !seg.flags.ack() {
            return None;
        }
        if let Err(reply) = self.process_ack(now, seg, seq, seg_len > 0) {
            return reply;
        }

        if !payload.is_empty()
            && matches!(
                self.state,
                State::Established | State::FinWait1 | State::FinWait2
            )
        {
            self.receive_data(now, seq, payload);
        }
        if fin {
            match self.state {
                State::Established | State::FinWait1 | State::FinWait2 => {
                    let at = seq + payload.len();
                    if at >= self.rcv_nxt && self.fin_at.is_none() {
                        self.fin_at = Some(at);
                    }
                    self.ack_now = true;
                }
                State::TimeWait => {
                    self.ack_now = true;
                    self.time_wait_at = Some(now + self.cfg.msl * 2);
                }
                _ => self.ack_now = true,
            }
        }
        self.check_fin(now);
        None
    }

    fn acceptable(&self, seq: Seq, len: usize, wnd: usize) -> bool {
        let nxt = self.rcv_nxt;
        let in_window = |s: Seq| s >= nxt && s < nxt + wnd;
        match (len, wnd) {
            (0, 0) => seq == nxt,
            (0, _) => in_window(seq),
            // RFC 9293: with a zero window, still take valid ACKs and RSTs.
            (_, 0) => seq == nxt,
            _ => in_window(seq) || in_window(seq + (len - 1)),
        }
    }

    fn process_syn_sent(&mut self, now: Instant, seg: &TcpRepr, payload: &[u8]) -> Option<TcpRepr> {
        let ack = Seq(seg.ack);
        let mut ack_ok = false;
        if seg.flags.ack() {
            if ack <= self.iss || ack > self.snd_max {
                return (!seg.flags.rst()).then(|| self.reset_reply(ack));
            }
            ack_ok = true;
        }
        if seg.flags.rst() {
            if ack_ok {
                self.enter_closed(Some(TcpError::Refused));
            }
            return None;
        }
        if !seg.flags.syn() {
            return None;
        }
        self.take_syn(seg);
        self.init_cwnd();
        self.snd_wnd = usize::from(seg.window);
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = self.irs;
        self.snd_wl2 = ack;
        self.last_rx = now;
        if ack_ok {
            self.on_new_ack(now, ack);
            self.state = State::Established;
            self.ack_now = true;
            if !payload.is_empty() {
                self.receive_data(now, self.irs + 1, payload);
            }
            if seg.flags.fin() {
                self.fin_at = Some(self.irs + 1 + payload.len());
                self.check_fin(now);
            }
        } else {
            // Simultaneous open: answer with SYN-ACK carrying the same ISS.
            self.state = State::SynReceived;
            self.snd_nxt = self.iss;
            self.rto_at = None;
            self.timeouts = 0;
        }
        None
    }

    fn reset_reply(&self, ack: Seq) -> TcpRepr {
        TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq: ack.0,
            flags: Flags::RST,
            ..TcpRepr::default()
        }
    }

    /// RFC 5961 (7): a challenge ACK, unless this connection already sent
    /// `challenge_ack_limit` of them in the current interval. The limit is per connection, not
    /// global, so that its state reveals nothing about other connections (CVE-2016-5696).
    fn challenge_ack(&mut self, now: Instant) {
        if now >= self.challenge_since + self.cfg.challenge_ack_interval {
            self.challenge_since = now;
            self.challenges = 0;
        }
        if self.challenges < self.cfg.challenge_ack_limit {
            self.challenges += 1;
            self.stats.challenge_acks += 1;
            self.ack_now = true;
        } else {
            self.stats.challenge_acks_suppressed += 1;
        }
    }

    fn process_rst(&mut self, now: Instant, seq: Seq) {
        if seq != self.rcv_nxt {
            // RFC 5961 (3.2): in window but not exact, challenge.
            self.challenge_ack(now);
            return;
        }
        match self.state {
            State::SynReceived if self.passive => self.enter_closed(Some(TcpError::Reset)),
            State::SynReceived => self.enter_closed(Some(TcpError::Refused)),
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait => {
                self.enter_closed(Some(TcpError::Reset))
            }
            _ => self.enter_closed(None),
        }
    }

    /// The ACK step; `Err` stops processing the segment (with an optional reply).
    fn process_ack(
        &mut self,
        now: Instant,
        seg: &TcpRepr,
        seq: Seq,
        carries_data: bool,
    ) -> Result<(), Option<TcpRepr>> {
        let ack = Seq(seg.ack);
        let wnd = if seg.flags.syn() {
            usize::from(seg.window)
        } else {
            usize::from(seg.window) << self.snd_wscale
        };
        if self.state == State::SynReceived {
            if !(self.snd_una < ack && ack <= self.snd_max) {
                return Err(Some(self.reset_reply(ack)));
            }
            self.state = if self.fin_queued {
                State::FinWait1
            } else {
                State::Established
            };
            self.snd_wnd = wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
        }
        if ack > self.snd_max {
            // RFC 5961 (5.2): acknowledges data never sent.
            self.challenge_ack(now);
            return Err(None);
        }
        // RFC 5961 (5.2): acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT]; one further
        // back is blind injection (or ancient): drop the segment, data included.
        if ack < self.snd_una - self.max_snd_wnd.min(1 << 30) {
            self.stats.old_acks_dropped += 1;
            self.challenge_ack(now);
            return Err(None);
        }
        if ack < self.snd_una {
            // An old duplicate ACK: nothing to learn from it.
            return Ok(());
        }
        if ack > self.snd_una {
            self.on_new_ack(now, ack);
        } else if !carries_data
            && !seg.flags.syn()
            && !seg.flags.fin()
            && wnd == self.snd_wnd
            && wnd > 0
            && self.snd_max > self.snd_una
        {
            // RFC 5681 duplicate ACK; with a zero window these answer probes instead.
            self.on_dup_ack();
        }
        if self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack) {
            self.snd_wnd = wnd;
            self.max_snd_wnd = self.max_snd_wnd.max(wnd);
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
        }
        if self.fin_acked() {
            match self.state {
                State::FinWait1 => self.state = State::FinWait2,
                State::Closing => self.enter_time_wait(now),
                State::LastAck => {
                    self.enter_closed(None);
                    return Err(None);
                }
                _ => {}
            }
        }
        self.update_persist(now);
        Ok(())
    }

    fn on_new_ack(&mut self, now: Instant, ack: Seq) {
        let acked = ack.since(self.snd_una);
        if ack > self.tx_seq {
            let n = ack.min(self.data_end()).since(self.tx_seq);
            self.tx.consume(n);
            self.tx_seq = self.tx_seq + n;
            self.stats.bytes_acked += n as u64;
        }
        self.snd_una = ack;
        if self.snd_nxt < ack {
            self.snd_nxt = ack;
        }
        if let Some((end, sent)) = self.rtt_probe
            && ack >= end
        {
            self.rtt.sample(now - sent);
            self.rtt_probe = None;
        }
        self.rtt.reset_backoff();
        if self.syn_timed_out {
            self.syn_timed_out = false;
            self.rtt.restart(crate::time::Duration::from_secs(3));
        }
        self.timeouts = 0;
        self.probes_unanswered = 0;

        if self.in_recovery {
            if ack >= self.recover {
                // Full acknowledgement: leave fast recovery (RFC 6582 3.2 step 3).
                let flight = self.snd_max.since(self.snd_una);
                self.cwnd = self.ssthresh.min(flight.max(self.smss) + self.smss);
                self.in_recovery = false;
                self.dupacks = 0;
            } else {
                // Partial acknowledgement: retransmit the next hole, deflate (step 4).
                self.retransmit_one = true;
                self.cwnd = self.cwnd.saturating_sub(acked);
                if acked >= self.smss {
                    self.cwnd += self.smss;
                }
                self.cwnd = self.cwnd.max(self.smss);
            }
        } else {
            self.dupacks = 0;
            if self.cwnd < self.ssthresh {
                self.cwnd += acked.min(self.smss);
            } else {
                self.cwnd += (self.smss * self.smss / self.cwnd.max(1)).max(1);
            }
            self.cwnd = self.cwnd.min(MAX_CWND);
        }
        self.rto_at = if self.snd_una == self.snd_max {
            None
        } else {
            Some(now + self.rtt.rto())
        };
    }

    fn on_dup_ack(&mut self) {
        self.dupacks += 1;
        self.stats.dup_acks += 1;
        if self.in_recovery {
            // Each further duplicate means a segment left the network (RFC 5681 3.2 step 4).
            self.cwnd = (self.cwnd + self.smss).min(MAX_CWND);
        } else if self.dupacks >= self.dupthresh() && self.snd_una > self.recover {
            let flight = self.snd_max.since(self.snd_una);
            self.ssthresh = (flight / 2).max(2 * self.smss);
            self.recover = self.snd_max;
            self.cwnd = self.ssthresh + 3 * self.smss;
            self.in_recovery = true;
            self.retransmit_one = true;
            self.stats.fast_retransmits += 1;
        }
    }

    /// Duplicate ACKs that signal a loss: 3, or fewer when so few segments are outstanding
    /// that 3 cannot arrive and no new data can be sent to provoke them (RFC 5827 early
    /// retransmit).
    fn dupthresh(&self) -> u32 {
        let flight = self.snd_max.since(self.snd_una);
        let oseg = flight.div_ceil(self.smss.max(1));
        let more = self.data_end() > self.snd_max && self.snd_wnd > flight;
        // One outstanding segment cannot cause a duplicate ACK by being lost.
        if (2..4).contains(&oseg) && !more {
            oseg as u32 - 1
        } else {
            3
        }
    }

    /// RFC 3042 limited transmit: each of the first two duplicate ACKs lets one new segment
    /// out beyond the congestion window, keeping the ACK clock running for small windows.
    fn limited_transmit(&self) -> usize {
        if self.in_recovery {
            0
        } else {
            self.dupacks.min(2) as usize * self.smss
        }
    }

    fn receive_data(&mut self, now: Instant, seq: Seq, payload: &[u8]) {
        let (mut seq, mut data) = (seq, payload);
        if seq < self.rcv_nxt {
            let skip = self.rcv_nxt.since(seq);
            if skip >= data.len() {
                self.ack_now = true;
                return;
            }
            data = &data[skip..];
            seq = self.rcv_nxt;
        }
        let off = seq.since(self.rcv_nxt);
        if off > 0 && self.ooo.len() >= MAX_OOO_RANGES && !self.touches_ooo(seq, seq + data.len()) {
            self.ack_now = true;
            return;
        }
        let written = self.rx.write_at(off, data);
        if written < data.len() {
            self.ack_now = true;
        }
        if written == 0 {
            return;
        }
        if off > 0 {
            self.add_ooo(seq, seq + written);
            // A duplicate ACK per segment, right away, so the sender can fast-retransmit.
            self.ack_now = true;
            self.dupacks_owed = (self.dupacks_owed + 1).min(MAX_DUPACKS_OWED);
            return;
        }
        self.dupacks_owed = 0;
        self.rx.commit(written);
        self.rcv_nxt = self.rcv_nxt + written;
        let mut filled = false;
        while let Some(&(start, end)) = self.ooo.first() {
            if start > self.rcv_nxt {
                break;
            }
            if end > self.rcv_nxt {
                let extra = end.since(self.rcv_nxt);
                self.rx.commit(extra);
                self.rcv_nxt = end;
            }
            self.ooo.remove(0);
            filled = true;
        }
        if filled || !self.ooo.is_empty() {
            self.ack_now = true;
            return;
        }
        // Counted in full-sized segments, so that a segment the host coalesced from several
        // (receive offload) is acknowledged at once, as those would have been (RFC 5681 4.2).
        self.unacked_segs += written.div_ceil(self.our_mss.max(1)).max(1) as u32;
        match self.cfg.ack_delay {
            Some(delay) if self.unacked_segs < 2 => {
                if self.ack_at.is_none() {
                    self.ack_at = Some(now + delay);
                }
            }
            _ => self.ack_now = true,
        }
    }

    fn touches_ooo(&self, start: Seq, end: Seq) -> bool {
        self.ooo.iter().any(|&(s, e)| start <= e && s <= end)
    }

    fn add_ooo(&mut self, start: Seq, end: Seq) {
        let (mut start, mut end) = (start, end);
        self.ooo.retain(|&(s, e)| {
            if start <= e && s <= end {
                start = start.min(s);
                end = end.max(e);
                false
            } else {
                true
            }
        });
        let at = self.ooo.partition_point(|&(s, _)| s < start);
        self.ooo.insert(at, (start, end));
    }

    fn check_fin(&mut self, now: Instant) {
        if self.fin_rcvd || self.fin_at != Some(self.rcv_nxt) {
            return;
        }
        self.rcv_nxt = self.rcv_nxt + 1;
        self.fin_rcvd = true;
        self.ack_now = true;
        match self.state {
            State::SynReceived | State::Established => self.state = State::CloseWait,
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(now);
                } else {
                    self.state = State::Closing;
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            _ => {}
        }
    }

    // ----- timers -----

    /// Runs expired timers. Call before `dispatch` with the current time.
    pub fn tick(&mut self, now: Instant) {
        if self.time_wait_at.is_some_and(|t| now >= t) {
            self.enter_closed(None);
            return;
        }
        if self.rto_at.is_some_and(|t| now >= t) {
            self.on_timeout(now);
            if self.state == State::Closed {
                return;
            }
        }
        if self.ack_at.is_some_and(|t| now >= t) {
            self.ack_at = None;
            self.ack_now = true;
        }
        if self.persist_at.is_some_and(|t| now >= t) {
            self.persist_at = None;
            if self.probes_unanswered >= self.cfg.max_retransmissions {
                self.enter_closed(Some(TcpError::TimedOut));
                return;
            }
            self.probe_now = true;
        }
        if let Some(due) = self.keepalive_due()
            && now >= due
        {
            let probes = self.cfg.keepalive.map_or(0, |k| k.probes);
            if self.ka_sent >= probes {
                self.error = Some(TcpError::TimedOut);
                self.send_rst = true;
                self.fin_queued = true;
            } else {
                self.ka_now = true;
            }
        }
        self.update_persist(now);
    }

    fn on_timeout(&mut self, now: Instant) {
        if self.synchronized() && self.snd_wnd == 0 && self.data_end() > self.snd_una {
            // Window closed: this is persist territory, not loss. Probes take over.
            self.snd_nxt = self.snd_una;
            self.rto_at = None;
            self.retransmit_one = false;
            self.update_persist(now);
            return;
        }
        self.stats.timeouts += 1;
        self.timeouts += 1;
        let limit = if self.synchronized() {
            self.cfg.max_retransmissions
        } else if self.state == State::SynReceived && self.passive {
            self.cfg.synack_retries
        } else {
            self.cfg.syn_retries
        };
        if self.timeouts > limit {
            self.enter_closed(Some(TcpError::TimedOut));
            return;
        }
        self.rtt.back_off();
        self.rtt_probe = None;
        if matches!(self.state, State::SynSent | State::SynReceived) {
            self.syn_timed_out = true;
            self.snd_nxt = self.iss;
            self.rto_at = Some(now + self.rtt.rto());
            return;
        }
        // RFC 5681 (3.1) loss window; go back to the first unacknowledged byte.
        let flight = self.snd_max.since(self.snd_una);
        self.ssthresh = (flight / 2).max(2 * self.smss);
        self.cwnd = self.smss;
        self.snd_nxt = self.snd_una;
        self.in_recovery = false;
        self.recover = self.snd_max;
        self.dupacks = 0;
        self.retransmit_one = false;
        self.rto_at = Some(now + self.rtt.rto());
    }

    /// Data waits behind a zero window with nothing in flight: only probes can make progress.
    fn needs_persist(&self) -> bool {
        matches!(
            self.state,
            State::Established
                | State::CloseWait
                | State::FinWait1
                | State::Closing
                | State::LastAck
        ) && self.snd_wnd == 0
            && self.data_end() > self.snd_nxt
            && self.snd_nxt == self.snd_una
            && self.rto_at.is_none()
    }

    fn update_persist(&mut self, now: Instant) {
        if self.needs_persist() {
            if self.persist_at.is_none() && !self.probe_now {
                self.persist_at = Some(now + self.persist_interval());
            }
        } else {
            self.persist_at = None;
            self.persist_backoff = 0;
            self.probe_now = false;
        }
    }

    fn persist_interval(&self) -> crate::time::Duration {
        let shift = self.persist_backoff.min(16);
        (self.rtt.rto() * (1u32 << shift)).min(self.cfg.max_rto)
    }

    fn keepalive_due(&self) -> Option<Instant> {
        let ka = self.cfg.keepalive?;
        let idle_state = matches!(
            self.state,
            State::Established | State::CloseWait | State::FinWait2
        );
        if !idle_state || self.snd_max != self.snd_una || self.send_rst || self.ka_now {
            return None;
        }
        Some(if self.ka_sent == 0 {
            self.last_rx + ka.idle
        } else {
            self.ka_last + ka.interval
        })
    }

    /// The earliest time this connection needs `tick`/`dispatch`; `Instant::ZERO` when it has
    /// something to send right away.
    pub fn poll_at(&self) -> Option<Instant> {
        if self.state == State::Closed && !self.send_rst {
            return None;
        }
        // Also when the persist timer is due to be armed (data queued into a closed window).
        if self.next_plan(Instant::ZERO, 0).is_some()
            || (self.needs_persist() && self.persist_at.is_none() && !self.probe_now)
        {
            return Some(Instant::ZERO);
        }
        [
            self.rto_at,
            self.ack_at,
            self.persist_at,
            self.time_wait_at,
            self.keepalive_due(),
        ]
        .into_iter()
        .fold(None, earliest)
    }

    // ----- output -----

    /// Sends at most one segment through `emit(header, payload_head, payload_tail)`; the
    /// connection's state changes only if `emit` succeeds. Returns whether a segment went out.
    pub fn dispatch<E>(
        &mut self,
        now: Instant,
        emit: impl FnOnce(&TcpRepr, &[u8], &[u8]) -> Result<(), E>,
    ) -> Result<bool, E> {
        self.dispatch_upto(now, 0, emit)
    }

    /// As `dispatch`, but new data may go out in one segment of up to `max_payload` bytes
    /// (rounded down to whole MSS) for a device that segments it (TSO); retransmissions
    /// stay at one MSS.
    pub fn dispatch_upto<E>(
        &mut self,
        now: Instant,
        max_payload: usize,
        emit: impl FnOnce(&TcpRepr, &[u8], &[u8]) -> Result<(), E>,
    ) -> Result<bool, E> {
        let Some(plan) = self.next_plan(now, max_payload) else {
            self.probe_now = false;
            return Ok(false);
        };
        let (repr, adv) = self.header(&plan);
        let (a, b) = self.tx.peek(plan.off, plan.len);
        emit(&repr, a, b)?;
        self.commit(now, &plan, adv);
        Ok(true)
    }

    fn plan(&self, kind: Kind, seq: Seq, flags: Flags, len: usize) -> Plan {
        Plan {
            kind,
            seq,
            flags,
            off: seq.since(self.tx_seq),
            len,
        }
    }

    fn next_plan(&self, now: Instant, max_payload: usize) -> Option<Plan> {
        let ack_due =
            self.ack_now || self.dupacks_owed > 0 || self.ack_at.is_some_and(|t| now >= t);
        if self.send_rst {
            // Pure ACKs and RSTs carry SND.MAX: after a timeout SND.NXT is rewound below what the
            // peer has seen, and a segment below its window would be dropped unread.
            return Some(self.plan(Kind::Rst, self.snd_max, Flags::RST | Flags::ACK, 0));
        }
        match self.state {
            State::Closed | State::Listen => return None,
            State::SynSent => {
                return (self.snd_nxt == self.iss)
                    .then(|| self.plan(Kind::Syn, self.iss, Flags::SYN, 0));
            }
            State::SynReceived => {
                if self.snd_nxt == self.iss {
                    return Some(self.plan(Kind::Syn, self.iss, Flags::SYN | Flags::ACK, 0));
                }
                return ack_due.then(|| self.plan(Kind::Ack, self.snd_max, Flags::ACK, 0));
            }
            State::TimeWait => {
                return ack_due.then(|| self.plan(Kind::Ack, self.snd_max, Flags::ACK, 0));
            }
            _ => {}
        }
        let data_end = self.data_end();
        if self.retransmit_one && self.snd_una < self.snd_max {
            let len = self
                .snd_max
                .min(data_end)
                .since(self.snd_una)
                .min(self.smss);
            let mut flags = Flags::ACK;
            if self.fin_queued && self.snd_max > data_end && self.snd_una + len == data_end {
                flags |= Flags::FIN;
            }
            if len > 0 || flags.fin() {
                return Some(self.plan(Kind::Retransmit, self.snd_una, flags, len));
            }
        }
        if self.snd_nxt < data_end {
            let avail = data_end.since(self.snd_nxt);
            let edge = self.snd_una + self.snd_wnd.min(self.cwnd + self.limited_transmit());
            let most = (max_payload / self.smss.max(1) * self.smss).max(self.smss);
            let len = avail.min(edge.since(self.snd_nxt)).min(most);
            if len > 0 && self.worth_sending(len, avail) {
                let mut flags = Flags::ACK;
                if len == avail {
                    flags |= Flags::PSH;
                    if self.fin_queued {
                        flags |= Flags::FIN;
                    }
                }
                return Some(self.plan(Kind::Data, self.snd_nxt, flags, len));
            }
        } else if self.fin_queued && self.snd_nxt == data_end {
            return Some(self.plan(Kind::Data, self.snd_nxt, Flags::FIN | Flags::ACK, 0));
        }
        if self.probe_now && self.snd_nxt < data_end {
            return Some(self.plan(Kind::WindowProbe, self.snd_nxt, Flags::ACK, 1));
        }
        if self.ka_now {
            return Some(self.plan(Kind::Keepalive, self.snd_una - 1, Flags::ACK, 0));
        }
        ack_due.then(|| self.plan(Kind::Ack, self.snd_max, Flags::ACK, 0))
    }

    /// Sender-side silly window avoidance (RFC 1122 4.2.3.4) and optional Nagle.
    fn worth_sending(&self, len: usize, avail: usize) -> bool {
        let idle = self.snd_nxt == self.snd_una;
        if len >= self.smss {
            return true;
        }
        if len == avail && (idle || !self.cfg.nagle || self.fin_queued) {
            return true;
        }
        if self.max_snd_wnd > 0 && len >= self.max_snd_wnd / 2 {
            return true;
        }
        // Nothing in flight means no ACK will come to trigger a later send.
        idle
    }

    /// Builds the header for `plan`; also returns the window edge it advertises.
    fn header(&self, plan: &Plan) -> (TcpRepr, Seq) {
        let syn = plan.flags.syn();
        let free = self.rx.free();
        let edge_now = self.rcv_nxt + free;
        let win =
            if edge_now > self.rcv_adv && edge_now.since(self.rcv_adv) < self.window_threshold() {
                self.rcv_adv.since(self.rcv_nxt)
            } else {
                free
            };
        let (field, adv) = if syn {
            let w = win.min(0xffff);
            (w as u16, self.rcv_nxt + w)
        } else {
            let w = (win >> self.rcv_wscale).min(0xffff);
            (w as u16, self.rcv_nxt + (w << self.rcv_wscale))
        };
        let mut repr = TcpRepr {
            src_port: self.local.port(),
            dst_port: self.remote.port(),
            seq: plan.seq.0,
            ack: self.rcv_nxt.0,
            flags: plan.flags,
            window: field,
            ..TcpRepr::default()
        };
        if syn {
            repr.mss = Some(self.our_mss.min(0xffff) as u16);
            if self.ws_ok {
                repr.window_scale = Some(self.rcv_wscale);
            }
        }
        (repr, adv)
    }

    fn commit(&mut self, now: Instant, plan: &Plan, adv: Seq) {
        self.stats.segments_sent += 1;
        if plan.flags.ack() {
            self.ack_now = false;
            self.ack_at = None;
            self.unacked_segs = 0;
            self.rcv_adv = self.rcv_adv.max(adv);
        }
        match plan.kind {
            Kind::Rst => self.enter_closed(None),
            Kind::Syn | Kind::Data | Kind::Retransmit => {
                let end = plan.seq
                    + plan.len
                    + usize::from(plan.flags.syn())
                    + usize::from(plan.flags.fin());
                if plan.seq < self.snd_max {
                    // Karn: no RTT sample across a retransmission.
                    self.rtt_probe = None;
                }
                if plan.kind == Kind::Retransmit {
                    self.retransmit_one = false;
                } else {
                    self.snd_nxt = end;
                }
                if end > self.snd_max {
                    if plan.seq >= self.snd_max && self.rtt_probe.is_none() {
                        self.rtt_probe = Some((end, now));
                    }
                    self.snd_max = end;
                }
                if self.rto_at.is_none() {
                    self.rto_at = Some(now + self.rtt.rto());
                }
                self.persist_at = None;
            }
            Kind::WindowProbe => {
                self.stats.window_probes += 1;
                self.probe_now = false;
                self.snd_max = self.snd_max.max(plan.seq + 1);
                self.probes_unanswered += 1;
                self.persist_backoff += 1;
                self.persist_at = Some(now + self.persist_interval());
            }
            Kind::Keepalive => {
                self.stats.keepalive_probes += 1;
                self.ka_now = false;
                self.ka_sent += 1;
                self.ka_last = now;
            }
            Kind::Ack => {
                // The ACK just sent repeats rcv_nxt; keep repeating while duplicates are owed.
                self.dupacks_owed = self.dupacks_owed.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Duration;
    use alloc::vec;
    use core::net::{Ipv4Addr, SocketAddrV4};

    const A: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000);
    const B: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);

    fn t(ms: u64) -> Instant {
        Instant::from_millis(ms)
    }

    /// Everything `c` wants to send now.
    fn out(c: &mut Connection, now: Instant) -> Vec<(TcpRepr, Vec<u8>)> {
        let mut v = Vec::new();
        while c
            .dispatch::<()>(now, |r, a, b| {
                v.push((*r, [a, b].concat()));
                Ok(())
            })
            .unwrap()
        {}
        v
    }

    #[test]
    fn offloaded_segments_are_whole_mss_multiples_and_retransmissions_one_mss() {
        let (mut a, mut b) = pair(TcpConfig::default());
        a.send(&[7u8; 10 * 1460]).unwrap();
        let mut segs = Vec::new();
        // Room for 2.5 MSS: the segment carries two, the rest follows.
        while a
            .dispatch_upto::<()>(t(40), 1460 * 5 / 2, |r, x, y| {
                segs.push((*r, [x, y].concat()));
                Ok(())
            })
            .unwrap()
        {}
        assert!(!segs.is_empty());
        assert_eq!(segs[0].1.len(), 2 * 1460);
        assert!(segs.iter().all(|(_, p)| p.len() <= 2 * 1460));
        let sent: usize = segs.iter().map(|(_, p)| p.len()).sum();
        deliver(&mut b, t(50), &segs);
        assert_eq!(b.recv_available(), sent);
        // Nothing acknowledged: after the RTO the first MSS alone goes again.
        let rto = a.poll_at().unwrap();
        a.tick(rto);
        let mut retx = Vec::new();
        a.dispatch_upto::<()>(rto, 1460 * 40, |r, x, y| {
            retx.push((*r, [x, y].concat()));
            Ok(())
        })
        .unwrap();
        assert_eq!(retx.len(), 1);
        assert_eq!(retx[0].1.len(), 1460);
    }

    fn deliver(to: &mut Connection, now: Instant, segs: &[(TcpRepr, Vec<u8>)]) {
        for (r, p) in segs {
            assert!(to.process(now, r, p).is_none());
        }
    }

    fn pair(cfg: TcpConfig) -> (Connection, Connection) {
        let mut a = Connection::connect(t(0), cfg, A, B, Seq(1000), 1460);
        let syn = out(&mut a, t(0));
        assert_eq!(syn.len(), 1);
        let mut b = Connection::accept_syn(t(10), cfg, B, A, Seq(5000), 1460, &syn[0].0);
        let synack = out(&mut b, t(10));
        deliver(&mut a, t(20), &synack);
        let ack = out(&mut a, t(20));
        deliver(&mut b, t(30), &ack);
        assert_eq!(
            (a.state(), b.state()),
            (State::Established, State::Established)
        );
        (a, b)
    }

    #[test]
    fn handshake_measures_rtt() {
        let (a, b) = pair(TcpConfig::default());
        // SYN at 0, SYN-ACK processed at 20; SYN-ACK at 10, ACK processed at 30.
        assert_eq!(a.srtt(), Some(Duration::from_millis(20)));
        assert_eq!(b.srtt(), Some(Duration::from_millis(20)));
        assert_eq!(a.rto(), Duration::from_secs(1));
    }

    #[test]
    fn handshake_after_syn_timeout_starts_data_with_three_second_rto() {
        let cfg = TcpConfig::default();
        let mut a = Connection::connect(t(0), cfg, A, B, Seq(1000), 1460);
        out(&mut a, t(0));
        a.tick(t(1000));
        let syn = out(&mut a, t(1000));
        assert_eq!(syn.len(), 1);
        let mut b = Connection::accept_syn(t(1010), cfg, B, A, Seq(5000), 1460, &syn[0].0);
        deliver(&mut a, t(1020), &out(&mut b, t(1010)));
        assert_eq!(a.state(), State::Established);
        // Karn: no sample from the retransmitted SYN; RFC 6298 (5.7): RTO restarts at 3 s.
        assert_eq!(a.srtt(), None);
        assert_eq!(a.rto(), Duration::from_secs(3));
    }

    #[test]
    fn syn_sent_answers_a_bad_ack_with_rst() {
        let mut a = Connection::connect(t(0), TcpConfig::default(), A, B, Seq(1000), 1460);
        out(&mut a, t(0));
        let bad = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: 77,
            ack: 1000 + 5,
            flags: Flags::SYN | Flags::ACK,
            ..TcpRepr::default()
        };
        let rst = a.process(t(1), &bad, &[]).unwrap();
        assert_eq!((rst.flags, rst.seq), (Flags::RST, 1005));
        assert_eq!(a.state(), State::SynSent);
        // A RST with an unacceptable ACK, or without ACK, is ignored.
        let r1 = TcpRepr {
            flags: Flags::RST | Flags::ACK,
            ..bad
        };
        assert!(a.process(t(2), &r1, &[]).is_none());
        let r2 = TcpRepr {
            flags: Flags::RST,
            ..bad
        };
        assert!(a.process(t(3), &r2, &[]).is_none());
        assert_eq!(a.state(), State::SynSent);
        // With the right ACK the RST refuses the connection.
        let r3 = TcpRepr {
            flags: Flags::RST | Flags::ACK,
            ack: 1001,
            ..bad
        };
        a.process(t(4), &r3, &[]);
        assert_eq!(a.state(), State::Closed);
        assert_eq!(a.error(), Some(TcpError::Refused));
    }

    #[test]
    fn syn_received_answers_a_bad_ack_with_rst() {
        let cfg = TcpConfig::default();
        let mut a = Connection::connect(t(0), cfg, A, B, Seq(1000), 1460);
        let syn = out(&mut a, t(0));
        let mut b = Connection::accept_syn(t(1), cfg, B, A, Seq(5000), 1460, &syn[0].0);
        out(&mut b, t(1));
        let bad = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1001,
            ack: 9999,
            flags: Flags::ACK,
            ..TcpRepr::default()
        };
        let rst = b.process(t(2), &bad, &[]).unwrap();
        assert_eq!((rst.flags, rst.seq), (Flags::RST, 9999));
        assert_eq!(b.state(), State::SynReceived);
    }

    /// An established pair whose sender has seen the receiver's scaled window (duplicate
    /// ACKs must repeat the window to count).
    fn settled_pair() -> (Connection, Connection) {
        let cfg = TcpConfig {
            ack_delay: None,
            ..TcpConfig::default()
        };
        let (mut a, mut b) = pair(cfg);
        a.send(&[1u8; 10]).unwrap();
        deliver(&mut b, t(40), &out(&mut a, t(40)));
        deliver(&mut a, t(50), &out(&mut b, t(50)));
        let mut buf = [0u8; 10];
        assert_eq!(b.recv(&mut buf), Ok(10));
        (a, b)
    }

    #[test]
    fn early_retransmit_with_two_segments_outstanding() {
        let (mut a, mut b) = settled_pair();
        // Two segments and nothing more to send: a lost first one yields one duplicate ACK.
        a.send(&[5u8; 2920]).unwrap();
        let segs = out(&mut a, t(100));
        assert_eq!(segs.len(), 2);
        deliver(&mut b, t(110), &segs[1..]);
        let dups = out(&mut b, t(110));
        assert_eq!(dups.len(), 1);
        deliver(&mut a, t(120), &dups);
        let again = out(&mut a, t(120));
        assert_eq!(again.len(), 1, "RFC 5827: oseg - 1 = 1 duplicate suffices");
        assert_eq!(again[0].0.seq, segs[0].0.seq);
        assert_eq!(a.stats().fast_retransmits, 1);
        assert_eq!(a.stats().timeouts, 0);
    }

    #[test]
    fn limited_transmit_sends_new_data_on_the_first_two_duplicates() {
        let (mut a, mut b) = settled_pair();
        // The window lets three segments out; the rest waits.
        a.send(&[5u8; 8 * 1460]).unwrap();
        let segs = out(&mut a, t(100));
        assert_eq!(segs.len(), 3);
        deliver(&mut b, t(110), &segs[1..]);
        let dups = out(&mut b, t(110));
        assert_eq!(dups.len(), 2);
        let before = a.congestion();
        deliver(&mut a, t(120), &dups[..1]);
        let first = out(&mut a, t(120));
        assert_eq!(first.len(), 1, "one new segment per duplicate ACK");
        assert_eq!(first[0].0.seq, segs[2].0.seq + 1460);
        deliver(&mut a, t(121), &dups[1..]);
        assert_eq!(out(&mut a, t(121)).len(), 1);
        assert_eq!(a.congestion(), before, "RFC 3042 leaves cwnd alone");
    }

    #[test]
    fn zero_window_keeps_acks_drops_data() {
        let cfg = TcpConfig {
            recv_buffer: 1000,
            ack_delay: None,
            ..TcpConfig::default()
        };
        let (mut a, mut b) = pair(cfg);
        a.send(&[1u8; 1000]).unwrap();
        let segs = out(&mut a, t(100));
        // B advertised 1000 bytes: exactly that much went out.
        assert_eq!(segs.iter().map(|s| s.1.len()).sum::<usize>(), 1000);
        deliver(&mut b, t(110), &segs);
        let acks = out(&mut b, t(110));
        assert_eq!(acks.last().unwrap().0.window, 0);
        deliver(&mut a, t(120), &acks);
        assert_eq!(a.send_window(), 0);
        assert_eq!(a.poll_at(), None);
        // Data queued into the closed window: an executor that sleeps until `poll_at` must
        // wake to arm the persist timer, which then fires after one RTO.
        a.send(&[1u8; 2000]).unwrap();
        assert_eq!(a.poll_at(), Some(Instant::ZERO));
        a.tick(t(125));
        assert!(out(&mut a, t(125)).is_empty());
        assert_eq!(a.poll_at(), Some(t(1125)));
        // A probe byte at RCV.NXT into a zero window: dropped, but answered at once.
        let probe = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1001 + 1000,
            ack: 5001,
            flags: Flags::ACK,
            window: 1000,
            ..TcpRepr::default()
        };
        b.process(t(130), &probe, &[9]);
        assert_eq!(b.recv_available(), 1000);
        let reply = out(&mut b, t(130));
        assert_eq!(reply.len(), 1);
        assert_eq!((reply[0].0.ack, reply[0].0.window), (2001, 0));
    }

    #[test]
    fn receive_window_never_shrinks_and_opens_in_large_steps() {
        let cfg = TcpConfig {
            recv_buffer: 8000,
            ack_delay: None,
            ..TcpConfig::default()
        };
        let (mut a, mut b) = pair(cfg);
        a.send(&[7u8; 20000]).unwrap();
        let mut edge = Seq(0);
        let mut now = 100;
        // Fill B's buffer completely; the advertised right edge never moves left.
        while b.rx.free() > 0 {
            now += 10;
            let segs = out(&mut a, t(now));
            assert!(!segs.is_empty(), "sender stalled with room at the receiver");
            deliver(&mut b, t(now), &segs);
            let acks = out(&mut b, t(now));
            for (r, _) in &acks {
                let right = Seq(r.ack) + usize::from(r.window);
                assert!(right >= edge);
                edge = right;
            }
            deliver(&mut a, t(now), &acks);
        }
        assert_eq!(a.send_window(), 0);
        // Receiver SWS avoidance: reading less than min(buffer/2, MSS) = 1460 bytes does not
        // announce a window; reaching it does.
        let mut buf = [0u8; 1000];
        assert_eq!(b.recv(&mut buf), Ok(1000));
        assert!(out(&mut b, t(now)).is_empty());
        assert_eq!(b.recv(&mut buf[..460]), Ok(460));
        let update = out(&mut b, t(now));
        assert_eq!(update.len(), 1);
        assert_eq!(update[0].0.window, 1460);
    }

    #[test]
    fn timeout_goes_back_and_retransmits_the_same_bytes() {
        let (mut a, _b) = pair(TcpConfig::default());
        a.send(b"hello world").unwrap();
        let first = out(&mut a, t(100));
        assert_eq!(first.len(), 1);
        assert_eq!(a.poll_at(), Some(t(1100)));
        a.tick(t(1099));
        assert!(out(&mut a, t(1099)).is_empty());
        a.tick(t(1100));
        let again = out(&mut a, t(1100));
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].0.seq, first[0].0.seq);
        assert_eq!(again[0].1, b"hello world");
        assert_eq!(a.stats().timeouts, 1);
        // Backed off: the next timeout is 2 s away.
        assert_eq!(a.poll_at(), Some(t(3100)));
        assert_eq!(a.congestion().0, a.mss());
    }

    #[test]
    fn send_after_close_is_refused_and_data_precedes_fin() {
        let (mut a, mut b) = pair(TcpConfig::default());
        a.send(b"last words").unwrap();
        a.close();
        assert_eq!(a.send(b"more"), Err(TcpError::Closed));
        let segs = out(&mut a, t(100));
        assert_eq!(segs.len(), 1);
        assert!(segs[0].0.flags.fin());
        assert_eq!(segs[0].1, b"last words");
        deliver(&mut b, t(110), &segs);
        let mut buf = [0u8; 32];
        assert_eq!(b.recv(&mut buf), Ok(10));
        assert_eq!(b.recv(&mut buf), Ok(0));
        assert!(b.at_eof());
        assert_eq!(b.state(), State::CloseWait);
    }

    #[test]
    fn out_of_order_data_is_held_and_each_segment_dup_acked() {
        let cfg = TcpConfig {
            ack_delay: None,
            ..TcpConfig::default()
        };
        let (mut a, mut b) = pair(cfg);
        a.send(&[3u8; 3 * 1460]).unwrap();
        // The initial window (RFC 5681) is three segments of 1460.
        let segs = out(&mut a, t(100));
        assert_eq!(segs.len(), 3);
        // Lose the first; the other two arrive in one batch.
        deliver(&mut b, t(110), &segs[1..]);
        let dups = out(&mut b, t(110));
        assert_eq!(dups.len(), 2);
        assert!(dups.iter().all(|(r, p)| r.ack == 1001 && p.is_empty()));
        assert_eq!(b.recv_available(), 0);
        deliver(&mut b, t(120), &segs[..1]);
        assert_eq!(b.recv_available(), 3 * 1460);
        let ack = out(&mut b, t(120));
        assert_eq!(ack.last().unwrap().0.ack, 1001 + 3 * 1460);
    }

    #[test]
    fn ooo_range_limit() {
        let cfg = TcpConfig {
            recv_buffer: 1 << 20,
            ..TcpConfig::default()
        };
        let (_a, mut b) = pair(cfg);
        // 20 disjoint segments, each after a gap: only 16 can be tracked.
        for i in 0..20u32 {
            let seg = TcpRepr {
                src_port: 40000,
                dst_port: 80,
                seq: 1001 + 100 + i * 200,
                ack: 5001,
                flags: Flags::ACK,
                window: 1000,
                ..TcpRepr::default()
            };
            b.process(t(100), &seg, &[1u8; 100]);
        }
        assert_eq!(b.ooo.len(), MAX_OOO_RANGES);
        // Filling the first gap releases the first range only.
        let fill = TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq: 1001,
            ack: 5001,
            flags: Flags::ACK,
            window: 1000,
            ..TcpRepr::default()
        };
        b.process(t(101), &fill, &[2u8; 100]);
        assert_eq!(b.recv_available(), 200);
        let mut buf = vec![0u8; 200];
        b.recv(&mut buf).unwrap();
        assert_eq!(&buf[..100], &[2u8; 100][..]);
        assert_eq!(&buf[100..], &[1u8; 100][..]);
    }

    // ----- RFC 5961 -----

    /// B established with A; B's receive window starts at RCV.NXT 1001.
    fn seg_to_b(seq: u32, ack: u32, flags: Flags) -> TcpRepr {
        TcpRepr {
            src_port: 40000,
            dst_port: 80,
            seq,
            ack,
            flags,
            window: 1000,
            ..TcpRepr::default()
        }
    }

    fn challenge_acks(b: &Connection) -> u64 {
        b.stats().challenge_acks
    }

    #[test]
    fn rfc5961_rst_exactly_at_rcv_nxt_resets() {
        let (_a, mut b) = pair(TcpConfig::default());
        b.process(t(100), &seg_to_b(1001, 0, Flags::RST), &[]);
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.error(), Some(TcpError::Reset));
    }

    #[test]
    fn rfc5961_rst_in_window_but_not_exact_is_challenged() {
        let (_a, mut b) = pair(TcpConfig::default());
        b.process(t(100), &seg_to_b(1001 + 500, 0, Flags::RST), &[]);
        assert_eq!(b.state(), State::Established);
        let reply = out(&mut b, t(100));
        assert_eq!(reply.len(), 1);
        assert_eq!((reply[0].0.flags, reply[0].0.ack), (Flags::ACK, 1001));
        assert_eq!(challenge_acks(&b), 1);
    }

    #[test]
    fn rfc5961_rst_outside_the_window_is_ignored() {
        let (_a, mut b) = pair(TcpConfig::default());
        b.process(t(100), &seg_to_b(1001 + 100_000, 0, Flags::RST), &[]);
        b.process(t(100), &seg_to_b(1000, 0, Flags::RST), &[]);
        assert_eq!(b.state(), State::Established);
        assert!(out(&mut b, t(100)).is_empty());
        assert_eq!(challenge_acks(&b), 0);
    }

    #[test]
    fn rfc5961_syn_in_any_position_gets_a_challenge_ack() {
        let (_a, mut b) = pair(TcpConfig::default());
        for seq in [1001 + 10, 1001 + 1_000_000, 7] {
            b.process(t(100), &seg_to_b(seq, 0, Flags::SYN), &[]);
            assert_eq!(b.state(), State::Established);
            let reply = out(&mut b, t(100));
            assert_eq!(reply.len(), 1, "SYN at {seq}");
            assert_eq!((reply[0].0.flags, reply[0].0.ack), (Flags::ACK, 1001));
        }
        assert_eq!(challenge_acks(&b), 3);
    }

    #[test]
    fn rfc5961_ack_beyond_snd_nxt_is_dropped_with_a_challenge() {
        let (_a, mut b) = pair(TcpConfig::default());
        b.process(t(100), &seg_to_b(1001, 5001 + 10, Flags::ACK), b"data");
        assert_eq!(b.recv_available(), 0, "data under a bad ACK is dropped");
        let reply = out(&mut b, t(100));
        assert_eq!((reply.len(), reply[0].0.ack), (1, 1001));
        assert_eq!(challenge_acks(&b), 1);
    }

    #[test]
    fn rfc5961_ack_far_below_snd_una_is_dropped_with_a_challenge() {
        let (mut a, mut b) = pair(TcpConfig {
            ack_delay: None,
            ..TcpConfig::default()
        });
        // Move B's SND.UNA well past its initial sequence: 100 KB sent and acknowledged.
        let mut now = 100;
        let mut sent = 0;
        while sent < 100_000 {
            sent += b.send(&[1u8; 8192]).unwrap_or(0);
            now += 1;
            let segs = out(&mut b, t(now));
            deliver(&mut a, t(now), &segs);
            let mut sink = [0u8; 65536];
            while a.recv(&mut sink).is_ok_and(|n| n > 0) {}
            deliver(&mut b, t(now), &out(&mut a, t(now)));
        }
        while b.send_queued() > 0 {
            now += 1;
            let segs = out(&mut b, t(now));
            deliver(&mut a, t(now), &segs);
            let mut sink = [0u8; 65536];
            while a.recv(&mut sink).is_ok_and(|n| n > 0) {}
            deliver(&mut b, t(now), &out(&mut a, t(now)));
        }
        let una = b.snd_una.0;
        let max_wnd = b.max_snd_wnd as u32;
        assert!(una.wrapping_sub(5001) > max_wnd);
        // An ACK just inside [SND.UNA - MAX.SND.WND, SND.UNA]: its data is taken.
        let ok = seg_to_b(1001, una - max_wnd, Flags::ACK);
        b.process(t(now), &ok, b"old ack");
        assert_eq!(b.recv_available(), 7);
        assert_eq!(b.stats().old_acks_dropped, 0);
        // One byte further back: dropped, answered by a challenge ACK.
        let bad = seg_to_b(1001 + 7, una - max_wnd - 1, Flags::ACK);
        out(&mut b, t(now));
        b.process(t(now), &bad, b"injected");
        assert_eq!(b.recv_available(), 7);
        assert_eq!(b.stats().old_acks_dropped, 1);
        let reply = out(&mut b, t(now));
        assert_eq!((reply.len(), reply[0].0.ack), (1, 1008));
        assert_eq!(challenge_acks(&b), 1);
    }

    #[test]
    fn rfc5961_challenge_acks_are_rate_limited_per_connection() {
        let cfg = TcpConfig::default();
        let (_a, mut b) = pair(cfg);
        let mut sent = 0;
        // 100 in-window RSTs within one interval: only the limit is answered.
        for i in 0..100u32 {
            b.process(
                t(100 + u64::from(i)),
                &seg_to_b(1001 + 1 + i, 0, Flags::RST),
                &[],
            );
            sent += out(&mut b, t(100 + u64::from(i))).len();
        }
        assert_eq!(sent, cfg.challenge_ack_limit as usize);
        assert_eq!(b.stats().challenge_acks, u64::from(cfg.challenge_ack_limit));
        assert_eq!(b.stats().challenge_acks_suppressed, 90);
        assert_eq!(b.state(), State::Established);
        // The next interval allows another batch.
        let later = 100 + cfg.challenge_ack_interval.as_millis() as u64;
        b.process(t(later), &seg_to_b(1001 + 5, 0, Flags::SYN), &[]);
        assert_eq!(out(&mut b, t(later)).len(), 1);
    }

    #[test]
    fn half_open_gives_up_after_synack_retries() {
        let cfg = TcpConfig::default();
        let mut a = Connection::connect(t(0), cfg, A, B, Seq(1000), 1460);
        let syn = out(&mut a, t(0));
        let mut b = Connection::accept_syn(t(0), cfg, B, A, Seq(5000), 1460, &syn[0].0);
        let mut synacks = out(&mut b, t(0)).len();
        let mut now = t(0);
        while let Some(at) = b.poll_at() {
            now = at;
            b.tick(now);
            synacks += out(&mut b, now).len();
        }
        assert_eq!(b.state(), State::Closed);
        assert_eq!(b.error(), Some(TcpError::TimedOut));
        assert_eq!(synacks, 1 + cfg.synack_retries as usize);
        // 1 + 2 + 4 + 8 seconds of backoff.
        assert_eq!(now, t(15_000));
    }
}
