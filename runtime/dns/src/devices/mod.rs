//! The catalogue's devices: `generic_dns_client` ([`client`]) and `generic_happy_eyeballs`
//! ([`eyeballs`]), driven by the unik-rt executor over a [`Transport`].
//!
//! [`Transport`] is all they need from a network stack: UDP datagrams and TCP connections
//! to a `core::net::SocketAddr`. [`StackV4V6`] adapts any `unik_rt::StackV4V6` (mirage 4's
//! shape: the catalogue's `generic_dns_client` and `generic_happy_eyeballs` take the dual
//! stack), so name servers may be IPv6 addresses and AAAA answers are connectable.
//! [`StackV4`] adapts an IPv4-only `unik_rt::StackV4`; it refuses IPv6 peers with
//! [`TransportError::Family`], which the resolver and happy eyeballs treat as an
//! unreachable address.

pub mod client;
pub mod eyeballs;

/// mirage 3's `resolver_dns` (over an IPv4 stack, as in mirage 3): the client of
/// [`client`] under a module of its own, so one configuration can hold a `resolver` and a
/// `dns_client` (a module stands for one device type).
pub mod resolver {
    pub use super::client::{DnsClient, connect_v4 as connect};
}

/// `dns_client_of_stackv4`: the DNS client over an IPv4-only stack.
pub mod client_v4 {
    pub use super::client::{DnsClient, connect_v4 as connect};
}

/// `happy_eyeballs_of_stackv4`: happy eyeballs over an IPv4-only stack.
pub mod eyeballs_v4 {
    pub use super::eyeballs::{HappyEyeballs, connect_v4 as connect};
}

use alloc::string::String;
use core::fmt;
use core::net::{IpAddr, SocketAddr, SocketAddrV4};

use unik_rt::{TcpError, UdpError};

pub use client::{DnsClient, connect as connect_dns};
pub use eyeballs::{HappyEyeballs, connect as connect_happy_eyeballs};

/// Why a transport operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportError {
    /// The stack has no address of the peer's family.
    Family(SocketAddr),
    Tcp(TcpError),
    Udp(UdpError),
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Family(a) => {
                write!(f, "{a}: address family not supported by the stack")
            }
            TransportError::Tcp(e) => write!(f, "{e}"),
            TransportError::Udp(e) => write!(f, "{e}"),
        }
    }
}

/// A bound UDP socket.
pub trait Datagram {
    async fn send_to(&self, data: &[u8], dst: SocketAddr) -> Result<(), TransportError>;
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), TransportError>;
}

/// A TCP connection.
pub trait Stream {
    /// Reads what is available; `Ok(0)` is the end of the stream.
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TransportError>;
    /// Writes all of `data`.
    async fn write(&self, data: &[u8]) -> Result<(), TransportError>;
    async fn close(&self) -> Result<(), TransportError>;
    fn peer(&self) -> SocketAddr;
}

/// What the DNS client and happy eyeballs use of a stack.
pub trait Transport {
    type Socket: Datagram;
    type Flow: Stream;
    /// A UDP socket on a port the stack picks.
    async fn bind(&self) -> Result<Self::Socket, TransportError>;
    async fn connect(&self, dst: SocketAddr) -> Result<Self::Flow, TransportError>;
}

/// An IPv4 stack as a [`Transport`].
pub struct StackV4<S: unik_rt::StackV4 + 'static>(pub &'static S);

impl<S: unik_rt::StackV4 + 'static> Clone for StackV4<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: unik_rt::StackV4 + 'static> Copy for StackV4<S> {}

fn v4(dst: SocketAddr) -> Result<SocketAddrV4, TransportError> {
    match dst {
        SocketAddr::V4(a) => Ok(a),
        SocketAddr::V6(_) => Err(TransportError::Family(dst)),
    }
}

/// A UDP socket of a [`StackV4`].
pub struct SocketV4<U>(pub U);

impl<U: unik_rt::UdpSocket> Datagram for SocketV4<U> {
    async fn send_to(&self, data: &[u8], dst: SocketAddr) -> Result<(), TransportError> {
        self.0
            .send_to(data, v4(dst)?)
            .await
            .map_err(TransportError::Udp)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), TransportError> {
        let (n, from) = self.0.recv_from(buf).await.map_err(TransportError::Udp)?;
        Ok((n, SocketAddr::V4(from)))
    }
}

/// A TCP connection of a [`StackV4`]; `.0` is the stack's own flow.
pub struct FlowV4<F>(pub F);

impl<F: unik_rt::TcpFlow> Stream for FlowV4<F> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TransportError> {
        self.0.read(buf).await.map_err(TransportError::Tcp)
    }

    async fn write(&self, data: &[u8]) -> Result<(), TransportError> {
        self.0.write(data).await.map_err(TransportError::Tcp)
    }

    async fn close(&self) -> Result<(), TransportError> {
        self.0.close().await.map_err(TransportError::Tcp)
    }

    fn peer(&self) -> SocketAddr {
        SocketAddr::V4(self.0.peer())
    }
}

impl<S: unik_rt::StackV4 + 'static> Transport for StackV4<S> {
    type Socket = SocketV4<<S::Udp as unik_rt::Udp>::Socket>;
    type Flow = FlowV4<<S::Tcp as unik_rt::Tcp>::Flow>;

    async fn bind(&self) -> Result<Self::Socket, TransportError> {
        use unik_rt::Udp;
        let s = self.0.udp().bind(0).await.map_err(TransportError::Udp)?;
        Ok(SocketV4(s))
    }

    async fn connect(&self, dst: SocketAddr) -> Result<Self::Flow, TransportError> {
        use unik_rt::Tcp;
        let dst = v4(dst)?;
        let f = self
            .0
            .tcp()
            .connect(dst)
            .await
            .map_err(TransportError::Tcp)?;
        Ok(FlowV4(f))
    }
}

/// A dual IPv4/IPv6 stack as a [`Transport`]: one UDP port for both families, TCP to
/// either; the stack picks the family by the destination.
pub struct StackV4V6<S: unik_rt::StackV4V6 + 'static>(pub &'static S);

impl<S: unik_rt::StackV4V6 + 'static> Clone for StackV4V6<S> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: unik_rt::StackV4V6 + 'static> Copy for StackV4V6<S> {}

/// An IPv4 peer seen through an IPv6 socket (`::ffff:a.b.c.d`) as the IPv4 address the
/// name servers are written with, so replies match their server.
fn unmapped(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => a,
        },
        a => a,
    }
}

/// A UDP socket of a [`StackV4V6`].
pub struct SocketV4V6<U>(pub U);

impl<U: unik_rt::UdpSocket<SocketAddr>> Datagram for SocketV4V6<U> {
    async fn send_to(&self, data: &[u8], dst: SocketAddr) -> Result<(), TransportError> {
        self.0.send_to(data, dst).await.map_err(TransportError::Udp)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), TransportError> {
        let (n, from) = self.0.recv_from(buf).await.map_err(TransportError::Udp)?;
        Ok((n, unmapped(from)))
    }
}

/// A TCP connection of a [`StackV4V6`]; `.0` is the stack's own flow.
pub struct FlowV4V6<F>(pub F);

impl<F: unik_rt::TcpFlow<SocketAddr>> Stream for FlowV4V6<F> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TransportError> {
        self.0.read(buf).await.map_err(TransportError::Tcp)
    }

    async fn write(&self, data: &[u8]) -> Result<(), TransportError> {
        self.0.write(data).await.map_err(TransportError::Tcp)
    }

    async fn close(&self) -> Result<(), TransportError> {
        self.0.close().await.map_err(TransportError::Tcp)
    }

    fn peer(&self) -> SocketAddr {
        unmapped(self.0.peer())
    }
}

impl<S: unik_rt::StackV4V6 + 'static> Transport for StackV4V6<S> {
    type Socket = SocketV4V6<<S::Udp as unik_rt::Udp<SocketAddr>>::Socket>;
    type Flow = FlowV4V6<<S::Tcp as unik_rt::Tcp<SocketAddr>>::Flow>;

    async fn bind(&self) -> Result<Self::Socket, TransportError> {
        use unik_rt::Udp;
        let s = self.0.udp().bind(0).await.map_err(TransportError::Udp)?;
        Ok(SocketV4V6(s))
    }

    async fn connect(&self, dst: SocketAddr) -> Result<Self::Flow, TransportError> {
        use unik_rt::Tcp;
        let f = self
            .0
            .tcp()
            .connect(dst)
            .await
            .map_err(TransportError::Tcp)?;
        Ok(FlowV4V6(f))
    }
}

/// A boot key's text, for errors of `connect`.
fn key_error(what: &str, e: impl fmt::Display) -> String {
    alloc::format!("{what}: {e}")
}
