//! TCP (RFC 9293) with RFC 6298 timers, RFC 5681/6582 congestion control, RFC 7323 window
//! scaling, RFC 5961 reset/SYN/ACK hardening with rate-limited challenge ACKs, RFC 4987 SYN
//! cookies (in the interface's listeners), and RFC 1122 keepalive.

mod buffer;
mod conn;
mod rtt;
mod seq;

pub(crate) use conn::wscale_for;
pub use conn::{Connection, Stats};
pub use seq::Seq;

use crate::time::Duration;

/// Connection states (RFC 9293 section 3.3.2). `Listen` is only reported for listeners.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// Why a connection ended abnormally, or why a call cannot proceed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpError {
    /// Nothing can be read or written right now; retry after the stack made progress.
    WouldBlock,
    /// The peer refused the connection (RST in reply to our SYN).
    Refused,
    /// The peer reset the connection.
    Reset,
    /// Retransmissions or keepalive probes went unanswered.
    TimedOut,
    /// The local side closed or aborted; no more sending.
    Closed,
}

/// Keepalive (RFC 1122 4.2.3.6): after `idle` without receiving anything, send up to `probes`
/// probes `interval` apart, then drop the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keepalive {
    pub idle: Duration,
    pub interval: Duration,
    pub probes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpConfig {
    /// Bytes the application may queue before `send` pushes back.
    pub send_buffer: usize,
    /// Bytes received but not yet read; bounds the advertised window.
    pub recv_buffer: usize,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this.
    pub msl: Duration,
    pub initial_rto: Duration,
    /// RFC 6298 (2.4) asks for 1 s; lower bounds are common in practice.
    pub min_rto: Duration,
    pub max_rto: Duration,
    /// Consecutive timeouts on data before the connection is dropped.
    pub max_retransmissions: u32,
    /// Consecutive timeouts on our SYN before an active open gives up.
    pub syn_retries: u32,
    /// SYN-ACK retransmissions before a half-open connection is dropped: fewer than
    /// `syn_retries`, so that SYNs nobody completes free their slot soon.
    pub synack_retries: u32,
    /// Delayed ACK timeout (RFC 1122: under 500 ms); `None` acknowledges every segment.
    pub ack_delay: Option<Duration>,
    pub keepalive: Option<Keepalive>,
    /// Nagle's algorithm: hold small segments while data is unacknowledged.
    pub nagle: bool,
    /// Per listener: at most this many half-open connections, and at most this many
    /// established ones waiting for `accept`.
    pub backlog: usize,
    /// With the half-open table full, answer SYNs with SYN cookies (RFC 4987 3.6) instead of
    /// evicting the oldest half-open connection.
    pub syn_cookies: bool,
    /// RFC 5961 (7): at most this many challenge ACKs per connection per
    /// `challenge_ack_interval`.
    pub challenge_ack_limit: u32,
    pub challenge_ack_interval: Duration,
}

impl Default for TcpConfig {
    fn default() -> TcpConfig {
        TcpConfig {
            send_buffer: 64 * 1024,
            recv_buffer: 64 * 1024,
            msl: Duration::from_secs(30),
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            max_retransmissions: 12,
            syn_retries: 6,
            // SYN-ACKs at 0, 1, 3 and 7 s; the slot is free after 15 s.
            synack_retries: 3,
            ack_delay: Some(Duration::from_millis(40)),
            keepalive: None,
            nagle: false,
            backlog: 32,
            syn_cookies: true,
            // RFC 5961 (7) suggests 10 in 5 seconds.
            challenge_ack_limit: 10,
            challenge_ack_interval: Duration::from_secs(5),
        }
    }
}
