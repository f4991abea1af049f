//! TCP/UDP over IPv4 (MirageOS `Mirage_stack.V4`, as `socket_stackv4` on
//! unix and the direct stack elsewhere).

use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, SocketAddrV4};

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

/// One TCP connection.
pub trait TcpFlow {
    /// Reads what is available (waiting for at least one byte); `Ok(0)` is
    /// the end of the stream.
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError>;

    /// Writes all of `data`, waiting while the send buffer is full.
    async fn write(&self, data: &[u8]) -> Result<(), TcpError>;

    /// Sends FIN; reads still work.
    async fn shutdown_write(&self) -> Result<(), TcpError>;

    /// Closes both directions; later calls return [`TcpError::Closed`].
    async fn close(&self) -> Result<(), TcpError>;

    fn peer(&self) -> SocketAddrV4;
}

/// A listening TCP port.
pub trait TcpListener {
    type Flow: TcpFlow;

    async fn accept(&self) -> Result<Self::Flow, TcpError>;

    fn local_port(&self) -> u16;
}

pub trait Tcp {
    type Flow: TcpFlow;
    type Listener: TcpListener<Flow = Self::Flow>;

    /// Listens on `port` (0 picks a free one).
    async fn listen(&self, port: u16) -> Result<Self::Listener, TcpError>;

    async fn connect(&self, dst: SocketAddrV4) -> Result<Self::Flow, TcpError>;
}

/// A bound UDP port.
pub trait UdpSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), UdpError>;

    async fn send_to(&self, data: &[u8], dst: SocketAddrV4) -> Result<(), UdpError>;

    fn local_port(&self) -> u16;
}

pub trait Udp {
    type Socket: UdpSocket;

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
}
