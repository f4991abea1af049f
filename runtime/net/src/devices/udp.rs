//! `direct_udpv4`: UDP over IPv4, as the `unik_rt::Udp` trait.

use core::future::poll_fn;
use core::net::{IpAddr, SocketAddr, SocketAddrV4};
use core::task::Poll;

use unik_rt::{Network, UdpError};

use super::ConnectError;
use super::driver::{Shared, now};
use super::errno;
use super::ipv4::Ipv4;
use crate::iface::{Error, Ip6Write, IpWrite, Neighbour, UdpHandle};
use crate::wire::proto;
use crate::wire::udp::{HEADER_LEN, UdpRepr};

/// Largest UDP payload in one IPv4 datagram.
const MAX_DATAGRAM: usize = 65507;

/// The UDP layer of one interface.
pub struct Udpv4<N: Network + 'static> {
    pub(crate) shared: &'static Shared<N>,
}

/// `direct_udpv4 $ ip`.
pub fn connect<N: Network + 'static>(ip: &'static Ipv4<N>) -> Result<Udpv4<N>, ConnectError> {
    Ok(Udpv4 { shared: ip.shared })
}

/// A bound UDP port; dropping it closes the port.
pub struct Socket<N: Network + 'static> {
    shared: &'static Shared<N>,
    handle: UdpHandle,
}

fn udp_error(e: Error) -> UdpError {
    match e {
        Error::AddrInUse => UdpError::AddrInUse,
        e => UdpError::Io(errno(e)),
    }
}

impl<N: Network + 'static> unik_rt::Udp for Udpv4<N> {
    type Socket = Socket<N>;

    async fn bind(&self, port: u16) -> Result<Socket<N>, UdpError> {
        let handle = self
            .shared
            .iface
            .borrow_mut()
            .udp_bind(port)
            .map_err(udp_error)?;
        Ok(Socket {
            shared: self.shared,
            handle,
        })
    }
}

impl<N: Network + 'static> Socket<N> {
    fn failed(&self) -> Result<(), UdpError> {
        match self.shared.failure() {
            Some(e) => Err(UdpError::Io(super::net_errno(&e))),
            None => Ok(()),
        }
    }
}

impl<N: Network + 'static> Socket<N> {
    /// The next datagram of either family.
    async fn recv_any(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), UdpError> {
        loop {
            let r = self.shared.iface.borrow_mut().udp_recv(self.handle, buf);
            match r {
                Err(Error::WouldBlock) => {
                    self.failed()?;
                    self.shared.changed().await;
                }
                r => return r.map_err(udp_error),
            }
        }
    }

    /// Builds the datagram in the device's buffer (or fragments it); waits while the
    /// interface has no address of `dst`'s family (DHCP, DAD) or the device is busy.
    async fn send_any(&self, data: &[u8], dst: SocketAddr) -> Result<(), UdpError> {
        if data.len() > MAX_DATAGRAM {
            return Err(UdpError::TooLarge(data.len()));
        }
        let udp = UdpRepr {
            src_port: self.handle.port(),
            dst_port: dst.port(),
        };
        loop {
            self.failed()?;
            let (r, _) = poll_fn(|cx| {
                Poll::Ready(self.shared.with_device(cx, |iface, dev| {
                    let fill = |b: &mut [u8]| {
                        udp.emit_header(b, data.len());
                        HEADER_LEN
                    };
                    match dst.ip() {
                        IpAddr::V4(ip) => iface.ipv4_write(
                            now(),
                            dev,
                            &IpWrite::new(ip, proto::UDP),
                            Some(HEADER_LEN),
                            fill,
                            &[data],
                        ),
                        IpAddr::V6(ip) => iface.ipv6_write(
                            now(),
                            dev,
                            &Ip6Write::new(ip, proto::UDP),
                            Some(HEADER_LEN),
                            fill,
                            &[data],
                        ),
                    }
                }))
            })
            .await;
            match r {
                Ok(()) => {
                    // Fragments or a neighbour request may be left for the transmitter.
                    self.shared.kick();
                    return self.left(dst.ip()).await;
                }
                Err(Error::WouldBlock | Error::NoAddress) => {
                    self.shared.kick();
                    self.shared.changed().await;
                }
                Err(Error::TooLarge) => return Err(UdpError::TooLarge(data.len())),
                Err(e) => return Err(udp_error(e)),
            }
        }
    }
}

impl<N: Network + 'static> Socket<N> {
    /// Waits while the datagram is queued for its next hop's link address, as MirageOS's
    /// `Udp.write` does: a caller's timeout (a DNS round) then starts when the datagram left,
    /// not while ARP or neighbour discovery still asks. If the hop never answered, the
    /// datagram was dropped: EHOSTUNREACH.
    async fn left(&self, dst: IpAddr) -> Result<(), UdpError> {
        loop {
            match self.shared.iface.borrow_mut().neighbour(now(), dst) {
                Neighbour::Known => return Ok(()),
                Neighbour::Unreachable => return Err(UdpError::Io(super::code::EHOSTUNREACH)),
                Neighbour::Resolving => {}
            }
            self.failed()?;
            self.shared.changed().await;
        }
    }
}

impl<N: Network + 'static> unik_rt::UdpSocket for Socket<N> {
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), UdpError> {
        loop {
            // This IPv4 device's sockets skip IPv6 datagrams (the dual stack's device
            // delivers both).
            if let (n, SocketAddr::V4(from)) = self.recv_any(buf).await? {
                return Ok((n, from));
            }
        }
    }

    async fn send_to(&self, data: &[u8], dst: SocketAddrV4) -> Result<(), UdpError> {
        self.send_any(data, dst.into()).await
    }

    fn local_port(&self) -> u16 {
        self.handle.port()
    }
}

impl<N: Network + 'static> Drop for Socket<N> {
    fn drop(&mut self) {
        let _ = self.shared.iface.borrow_mut().udp_close(self.handle);
    }
}

/// `direct_udpv4v6 $ ip`: UDP over both families of one interface, as
/// `unik_rt::Udp<SocketAddr>`: a bound port receives both, `send_to` goes by the address.
pub struct Udpv4v6<N: Network + 'static> {
    pub(crate) udp: Udpv4<N>,
}

/// `direct_udpv4v6 $ ip`.
pub fn connect_v4v6<N: Network + 'static>(
    ip: &'static super::ipv4v6::Ipv4v6<N>,
) -> Result<Udpv4v6<N>, ConnectError> {
    Ok(Udpv4v6 {
        udp: Udpv4 {
            shared: ip.ipv4.shared,
        },
    })
}

/// A bound port of the dual stack.
pub struct Socket6<N: Network + 'static>(Socket<N>);

impl<N: Network + 'static> unik_rt::Udp<SocketAddr> for Udpv4v6<N> {
    type Socket = Socket6<N>;

    async fn bind(&self, port: u16) -> Result<Socket6<N>, UdpError> {
        <Udpv4<N> as unik_rt::Udp>::bind(&self.udp, port)
            .await
            .map(Socket6)
    }
}

impl<N: Network + 'static> unik_rt::UdpSocket<SocketAddr> for Socket6<N> {
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), UdpError> {
        self.0.recv_any(buf).await
    }

    async fn send_to(&self, data: &[u8], dst: SocketAddr) -> Result<(), UdpError> {
        self.0.send_any(data, dst).await
    }

    fn local_port(&self) -> u16 {
        self.0.handle.port()
    }
}
