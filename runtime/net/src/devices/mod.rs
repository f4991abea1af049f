//! The catalogue's network devices: the layers of the seeds' functor stack (`ethif`, `arpv4`,
//! `create_ipv4`, `ipv4_of_dhcp`, `direct_icmpv4`, `direct_udpv4`, `direct_tcpv4`,
//! `direct_stackv4`) over one sans-IO [`Interface`](crate::Interface), run by the unik-rt
//! executor.
//!
//! [`ethernet::connect`] creates the interface for a [`unik_rt::Network`] device and spawns
//! its driver: one task receives frames, one transmits and runs the timers (sleeping until
//! `poll_at`, woken when an application queued work). Every other layer is a view of that
//! same interface: `create_ipv4`/`ipv4_of_dhcp` configure its address, `direct_tcpv4` seeds it,
//! and the transports implement the `unik_rt` stack traits, so code written against
//! `StackV4` runs unchanged on `socket_stackv4`.
//!
//! Transmission goes through the device's `write(size, fill)`: the stack builds each frame in
//! the buffer the device lends (a TCP segment's header and payload are written straight from
//! the send buffer). A device whose write is still pending after `fill` ran loses that frame
//! (counted in [`ethernet::Ethernet::tx_lost`]); TCP recovers it like any loss.

pub mod arp;
pub mod dhcp;
mod driver;
pub mod ethernet;
pub mod icmpv4;
pub mod ipv4;
pub mod ipv4v6;
pub mod ipv6;
pub mod stack;
pub mod tcp;
pub mod udp;

// One module per catalogue type (a module stands for one device type):
// the dual stack's transports and stack under their own names.
/// `direct_udpv4v6`: UDP over IPv4 and IPv6.
pub mod udpv4v6 {
    pub use super::udp::connect_v4v6 as connect;
}
/// `direct_tcpv4v6`: TCP over IPv4 and IPv6.
pub mod tcpv4v6 {
    pub use super::tcp::connect_v4v6 as connect;
}
/// `stackv4v6_direct`: the direct dual stack.
pub mod stackv4v6 {
    pub use super::stack::connect_v4v6 as connect;
}

use alloc::string::String;
use core::fmt;

use unik_rt::RandomError;

/// Why a layer could not be connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// The device's MTU cannot carry an IPv4 header and a minimal transport segment.
    MtuTooSmall(usize),
    /// `create_ipv4` got an address that is not `a.b.c.d/n`.
    BadCidr(String),
    /// `create_ipv4` got a gateway that is not an IPv4 address.
    BadGateway(String),
    /// The interface already has an IPv4 layer (static or DHCP).
    AlreadyConfigured,
    /// The layers passed together belong to different interfaces.
    DifferentInterfaces,
    /// `create_ipv6` got an address that is not `ADDR/PREFIX`.
    BadIpv6Cidr(String),
    BadIpv6Gateway(String),
    /// `--ipv4-only` and `--ipv6-only` together.
    BothOnly,
    Random(RandomError),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::MtuTooSmall(m) => {
                write!(f, "device MTU {m} is below the IPv4 minimum of 68")
            }
            ConnectError::BadCidr(s) => write!(f, "bad IPv4 address `{s}` (expected a.b.c.d/n)"),
            ConnectError::BadGateway(s) => write!(f, "bad IPv4 gateway `{s}`"),
            ConnectError::AlreadyConfigured => {
                f.write_str("the interface already has an IPv4 layer")
            }
            ConnectError::BadIpv6Cidr(s) => {
                write!(
                    f,
                    "bad IPv6 address `{s}` (expected ADDRESS/PREFIX, e.g. 2001:db8::2/64)"
                )
            }
            ConnectError::BadIpv6Gateway(s) => write!(f, "bad IPv6 gateway `{s}`"),
            ConnectError::BothOnly => f.write_str("--ipv4-only and --ipv6-only exclude each other"),
            ConnectError::DifferentInterfaces => {
                f.write_str("the layers given belong to different network interfaces")
            }
            ConnectError::Random(e) => write!(f, "random source: {e}"),
        }
    }
}

impl From<RandomError> for ConnectError {
    fn from(e: RandomError) -> ConnectError {
        ConnectError::Random(e)
    }
}

/// Linux errno values for the `Io(code)` variants of the `unik_rt` errors, so that the direct
/// stack and `socket_stackv4` report the same codes.
pub(crate) mod code {
    pub const EBADF: i32 = 9;
    pub const EAGAIN: i32 = 11;
    pub const EIO: i32 = 5;
    pub const EMSGSIZE: i32 = 90;
    pub const EADDRNOTAVAIL: i32 = 99;
    pub const ENETDOWN: i32 = 100;
    pub const ENETUNREACH: i32 = 101;
    pub const EHOSTUNREACH: i32 = 113;
}

/// The errno-style code of a stack error that has no variant of its own.
pub(crate) fn errno(e: crate::iface::Error) -> i32 {
    use crate::iface::Error;
    match e {
        Error::WouldBlock | Error::Exhausted => code::EAGAIN,
        Error::InvalidHandle | Error::Closed => code::EBADF,
        Error::NoAddress => code::EADDRNOTAVAIL,
        Error::NoRoute => code::ENETUNREACH,
        Error::TooLarge => code::EMSGSIZE,
        Error::Reset | Error::Refused | Error::TimedOut | Error::AddrInUse => code::EIO,
    }
}

/// The code of a device failure.
pub(crate) fn net_errno(e: &unik_rt::NetError) -> i32 {
    match e {
        unik_rt::NetError::Io(c) => *c,
        unik_rt::NetError::Disconnected => code::ENETDOWN,
        _ => code::EIO,
    }
}
