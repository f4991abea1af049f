//! TCP/UDP over IPv4 (MirageOS `Mirage_stack.V4`, as `socket_stackv4` on
//! unix and the direct stack elsewhere).

use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4};

/// Errors of TCP flows and listeners.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpError {
    Refused,
    Reset,
    TimedOut,
    /// The flow was closed by this side.
    Closed,
    AddrInUse,
    /// The backend failed (OS error code where there is one).
    Io(i32),
    /// The TLS layer of a conduit failed: the handshake (an untrusted or
    /// expired certificate, a name mismatch, no common version) or a record.
    Tls(alloc::string::String),
}

impl fmt::Display for TcpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TcpError::Refused => f.write_str("connection refused"),
            TcpError::Reset => f.write_str("connection reset"),
            TcpError::TimedOut => f.write_str("connection timed out"),
            TcpError::Closed => f.write_str("flow is closed"),
            TcpError::AddrInUse => f.write_str("address in use"),
            TcpError::Io(code) => write!(f, "TCP I/O failed (os error {code})"),
            TcpError::Tls(why) => write!(f, "TLS: {why}"),
        }
    }
}

/// Errors of UDP sockets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UdpError {
    AddrInUse,
    /// A datagram larger than the stack can send.
    TooLarge(usize),
    /// The backend failed (OS error code where there is one).
    Io(i32),
}

impl fmt::Display for UdpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UdpError::AddrInUse => f.write_str("address in use"),
            UdpError::TooLarge(n) => write!(f, "datagram of {n} bytes is too large"),
            UdpError::Io(code) => write!(f, "UDP I/O failed (os error {code})"),
        }
    }
}

/// One TCP connection. `A` is the address type: `SocketAddrV4` for the IPv4 stacks
/// (`tcpv4`), `SocketAddr` for the dual stacks (`tcpv4v6`, MirageOS 4's `Tcpv4v6`).
pub trait TcpFlow<A = SocketAddrV4> {
    /// Reads what is available (waiting for at least one byte); `Ok(0)` is
    /// the end of the stream.
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError>;

    /// Writes all of `data`, waiting while the send buffer is full.
    async fn write(&self, data: &[u8]) -> Result<(), TcpError>;

    /// Sends FIN; reads still work.
    async fn shutdown_write(&self) -> Result<(), TcpError>;

    /// Closes both directions; later calls return [`TcpError::Closed`].
    async fn close(&self) -> Result<(), TcpError>;

    fn peer(&self) -> A;
}

/// A listening TCP port (on every address of the stack, both families on a dual stack).
pub trait TcpListener<A = SocketAddrV4> {
    type Flow: TcpFlow<A>;

    async fn accept(&self) -> Result<Self::Flow, TcpError>;

    fn local_port(&self) -> u16;
}

pub trait Tcp<A = SocketAddrV4> {
    type Flow: TcpFlow<A>;
    type Listener: TcpListener<A, Flow = Self::Flow>;

    /// Listens on `port` (0 picks a free one).
    async fn listen(&self, port: u16) -> Result<Self::Listener, TcpError>;

    /// Connects to `dst`; a dual stack chooses the family by the address.
    async fn connect(&self, dst: A) -> Result<Self::Flow, TcpError>;
}

/// A bound UDP port (`A` as for [`TcpFlow`]).
pub trait UdpSocket<A = SocketAddrV4> {
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, A), UdpError>;

    async fn send_to(&self, data: &[u8], dst: A) -> Result<(), UdpError>;

    fn local_port(&self) -> u16;
}

pub trait Udp<A = SocketAddrV4> {
    type Socket: UdpSocket<A>;

    /// Binds `port` (0 picks a free one).
    async fn bind(&self, port: u16) -> Result<Self::Socket, UdpError>;
}

/// An IPv4 stack offering TCP and UDP.
pub trait StackV4 {
    type Tcp: Tcp;
    type Udp: Udp;

    fn tcp(&self) -> &Self::Tcp;

    fn udp(&self) -> &Self::Udp;

    fn ipv4_addresses(&self) -> Vec<Ipv4Addr>;

    /// The stack's counters now, for a summary at exit (`Display` prints one line).
    fn stats(&self) -> StackStats;
}

/// A dual IPv4/IPv6 stack offering TCP and UDP over both families (MirageOS 4's
/// `Tcpip.Stack.V4V6`): listeners and bound ports take both, `connect` and `send_to` choose
/// the family by the destination.
pub trait StackV4V6 {
    type Tcp: Tcp<SocketAddr>;
    type Udp: Udp<SocketAddr>;

    fn tcp(&self) -> &Self::Tcp;

    fn udp(&self) -> &Self::Udp;

    fn ipv4_addresses(&self) -> Vec<Ipv4Addr>;

    /// Usable IPv6 addresses (link-local included on the direct stack).
    fn ipv6_addresses(&self) -> Vec<Ipv6Addr>;

    fn stats(&self) -> StackStats;
}

/// `tcpv4v6_of_stackv4v6`: the TCP layer of a dual stack as a device of its own.
pub struct TcpOfStack<S: StackV4V6 + 'static>(pub &'static S);

/// `tcpv4v6_of_stackv4v6 $ stack`.
pub fn tcp_of_stack<S: StackV4V6 + 'static>(
    stack: &'static S,
) -> Result<TcpOfStack<S>, core::convert::Infallible> {
    Ok(TcpOfStack(stack))
}

impl<S: StackV4V6 + 'static> Tcp<SocketAddr> for TcpOfStack<S> {
    type Flow = <S::Tcp as Tcp<SocketAddr>>::Flow;
    type Listener = <S::Tcp as Tcp<SocketAddr>>::Listener;

    async fn listen(&self, port: u16) -> Result<Self::Listener, TcpError> {
        self.0.tcp().listen(port).await
    }

    async fn connect(&self, dst: SocketAddr) -> Result<Self::Flow, TcpError> {
        self.0.tcp().connect(dst).await
    }
}

/// `udpv4v6_of_stackv4v6`: the UDP layer of a dual stack as a device of its own.
pub struct UdpOfStack<S: StackV4V6 + 'static>(pub &'static S);

/// `udpv4v6_of_stackv4v6 $ stack`.
pub fn udp_of_stack<S: StackV4V6 + 'static>(
    stack: &'static S,
) -> Result<UdpOfStack<S>, core::convert::Infallible> {
    Ok(UdpOfStack(stack))
}

impl<S: StackV4V6 + 'static> Udp<SocketAddr> for UdpOfStack<S> {
    type Socket = <S::Udp as Udp<SocketAddr>>::Socket;

    async fn bind(&self, port: u16) -> Result<Self::Socket, UdpError> {
        self.0.udp().bind(port).await
    }
}

/// Counters of a [`StackV4`]. `tcp_accepted` and `tcp_connected` are counted by every stack;
/// `wire` only by a stack that handles the packets itself (the direct stack) and is `None`
/// where the host kernel does (`socket_stackv4`: SYN cookies, challenge ACKs and buffer
/// memory are the kernel's, shared with every other process, and not this stack's to report).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StackStats {
    /// Connections handed out by listeners' `accept`.
    pub tcp_accepted: u64,
    /// Connections `connect` established.
    pub tcp_connected: u64,
    pub wire: Option<WireStats>,
}

/// What a stack that sees every frame counts: traffic, the listeners' defences against SYN
/// floods, the RFC 5961 defences against blind attacks, and the memory it holds now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStats {
    pub rx_frames: u64,
    /// Frames or packets dropped as malformed, misaddressed or unhandled.
    pub rx_dropped: u64,
    pub tx_frames: u64,
    /// Packets dropped on the way out (no route, no address, too large).
    pub tx_dropped: u64,
    /// SYNs received for listening ports.
    pub syn_received: u64,
    /// SYN-ACKs sent as SYN cookies; connections returning cookies created; ACKs carrying no
    /// valid cookie (answered with RST).
    pub syn_cookies_sent: u64,
    pub syn_cookies_accepted: u64,
    pub syn_cookies_rejected: u64,
    /// Half-open connections evicted for newer SYNs (cookies off), and given up after their
    /// SYN-ACK retries.
    pub half_open_evicted: u64,
    pub half_open_timed_out: u64,
    /// SYNs dropped because the accept queue was full.
    pub syn_dropped: u64,
    /// Connections refused because the TCP memory budget was spent.
    pub tcp_memory_refused: u64,
    /// RFC 5961: challenge ACKs sent, those the rate limit held back, and segments dropped for
    /// an ACK too far below the oldest unacknowledged byte.
    pub challenge_acks: u64,
    pub challenge_acks_suppressed: u64,
    pub old_acks_dropped: u64,
    /// Held now: TCP connections (half-open and closing ones included), half-open ones.
    pub tcp_connections: u64,
    pub tcp_half_open: u64,
    /// Held now, in bytes: the TCP memory budget reserved and the buffers allocated, data
    /// received but unread (in order, and out of order), IPv4 reassembly, UDP receive queues.
    pub tcp_memory_reserved: u64,
    pub tcp_buffer_bytes: u64,
    pub tcp_rx_queued: u64,
    pub tcp_out_of_order: u64,
    pub reassembly_bytes: u64,
    pub udp_queued: u64,
}

impl fmt::Display for StackStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stack: tcp accepted {} connected {}",
            self.tcp_accepted, self.tcp_connected
        )?;
        let Some(w) = &self.wire else {
            return f.write_str("; packets handled by the host");
        };
        write!(
            f,
            "; frames rx {} (dropped {}) tx {} (dropped {})",
            w.rx_frames, w.rx_dropped, w.tx_frames, w.tx_dropped
        )?;
        write!(
            f,
            "; syn {} cookies sent {} accepted {} rejected {} half-open evicted {} timed out {} \
             syn dropped {} memory refused {}",
            w.syn_received,
            w.syn_cookies_sent,
            w.syn_cookies_accepted,
            w.syn_cookies_rejected,
            w.half_open_evicted,
            w.half_open_timed_out,
            w.syn_dropped,
            w.tcp_memory_refused
        )?;
        write!(
            f,
            "; challenge acks {} (suppressed {}) old acks dropped {}",
            w.challenge_acks, w.challenge_acks_suppressed, w.old_acks_dropped
        )?;
        write!(
            f,
            "; held: tcp {} ({} half-open) reserved {} B buffers {} B rx {} B out-of-order {} B \
             reassembly {} B udp {} B",
            w.tcp_connections,
            w.tcp_half_open,
            w.tcp_memory_reserved,
            w.tcp_buffer_bytes,
            w.tcp_rx_queued,
            w.tcp_out_of_order,
            w.reassembly_bytes,
            w.udp_queued
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn host_stats_print_on_one_line_without_wire_counters() {
        let s = StackStats {
            tcp_accepted: 3,
            tcp_connected: 1,
            wire: None,
        };
        assert_eq!(
            s.to_string(),
            "stack: tcp accepted 3 connected 1; packets handled by the host"
        );
    }

    #[test]
    fn wire_stats_print_every_counter_on_one_line() {
        let w = WireStats {
            syn_received: 2000,
            syn_cookies_sent: 1968,
            challenge_acks: 5,
            tcp_memory_reserved: 524288,
            ..WireStats::default()
        };
        let line = StackStats {
            tcp_accepted: 1,
            wire: Some(w),
            ..StackStats::default()
        }
        .to_string();
        assert!(!line.contains('\n'), "{line}");
        for part in [
            "tcp accepted 1 connected 0",
            "syn 2000 cookies sent 1968 accepted 0",
            "challenge acks 5 (suppressed 0)",
            "reserved 524288 B",
        ] {
            assert!(line.contains(part), "{part:?} missing from {line}");
        }
    }
}
