//! `socket_stackv4`: TCP and UDP over the host kernel's sockets, bound to
//! one IPv4 address, non-blocking and driven by the executor; and
//! `socket_stackv4v6`, the same over dual-stack sockets.

use std::cell::Cell;
use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::{self, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;

use unik_rt::exec::{readable, writable};
use unik_rt::{TcpError, UdpError};

use crate::sys;

/// The stack: `tcp()` and `udp()` bind to `address`.
#[derive(Debug)]
pub struct SocketStack {
    tcp: SocketTcp,
    udp: SocketUdp,
}

#[derive(Debug)]
pub struct SocketTcp {
    address: Ipv4Addr,
    /// Connections accepted (shared with the listeners) and established by `connect`.
    accepted: Rc<Cell<u64>>,
    connected: Cell<u64>,
}

#[derive(Debug)]
pub struct SocketUdp {
    address: Ipv4Addr,
}

/// A stack whose listeners and sockets bind to `address` (`0.0.0.0` for
/// every host address).
pub fn connect(address: Ipv4Addr) -> Result<SocketStack, Infallible> {
    Ok(SocketStack {
        tcp: SocketTcp {
            address,
            accepted: Rc::new(Cell::new(0)),
            connected: Cell::new(0),
        },
        udp: SocketUdp { address },
    })
}

/// A peer of a dual-stack socket: IPv4 peers arrive as v4-mapped IPv6 addresses.
fn unmapped(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(ip) => SocketAddr::V4(SocketAddrV4::new(ip, a.port())),
            None => addr,
        },
        a => a,
    }
}

fn v4(addr: SocketAddr) -> SocketAddrV4 {
    match addr {
        SocketAddr::V4(a) => a,
        // Only IPv4 sockets are created here; a v6 address cannot appear.
        SocketAddr::V6(a) => SocketAddrV4::new(
            a.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
            a.port(),
        ),
    }
}

fn tcp_error(e: &io::Error) -> TcpError {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => TcpError::Refused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => TcpError::Reset,
        io::ErrorKind::TimedOut => TcpError::TimedOut,
        io::ErrorKind::AddrInUse => TcpError::AddrInUse,
        _ => TcpError::Io(sys::code(e)),
    }
}

fn udp_error(e: &io::Error) -> UdpError {
    match e.raw_os_error() {
        Some(libc::EADDRINUSE) => UdpError::AddrInUse,
        _ => UdpError::Io(sys::code(e)),
    }
}

impl unik_rt::StackV4 for SocketStack {
    type Tcp = SocketTcp;
    type Udp = SocketUdp;

    fn tcp(&self) -> &SocketTcp {
        &self.tcp
    }

    fn udp(&self) -> &SocketUdp {
        &self.udp
    }

    fn ipv4_addresses(&self) -> Vec<Ipv4Addr> {
        vec![self.tcp.address]
    }

    /// What this stack sees: the flows it handed out. The packets are the kernel's (no
    /// `wire` counters).
    fn stats(&self) -> unik_rt::StackStats {
        unik_rt::StackStats {
            tcp_accepted: self.tcp.accepted.get(),
            tcp_connected: self.tcp.connected.get(),
            wire: None,
        }
    }
}

/// A listening socket.
#[derive(Debug)]
pub struct TcpListener {
    inner: net::TcpListener,
    port: u16,
    accepted: Rc<Cell<u64>>,
}

/// One TCP connection.
#[derive(Debug)]
pub struct TcpFlow {
    stream: net::TcpStream,
    peer: SocketAddr,
    closed: Cell<bool>,
}

impl TcpFlow {
    fn new(stream: net::TcpStream, peer: SocketAddr) -> Result<Self, TcpError> {
        stream.set_nonblocking(true).map_err(|e| tcp_error(&e))?;
        // Echo-style request/response traffic should not wait for Nagle.
        stream.set_nodelay(true).map_err(|e| tcp_error(&e))?;
        Ok(Self {
            stream,
            peer,
            closed: Cell::new(false),
        })
    }

    fn handle(&self) -> u64 {
        self.stream.as_raw_fd() as u64
    }

    fn open(&self) -> Result<(), TcpError> {
        if self.closed.get() {
            Err(TcpError::Closed)
        } else {
            Ok(())
        }
    }
}

impl unik_rt::Tcp for SocketTcp {
    type Flow = TcpFlow;
    type Listener = TcpListener;

    async fn listen(&self, port: u16) -> Result<TcpListener, TcpError> {
        let inner = net::TcpListener::bind((self.address, port)).map_err(|e| tcp_error(&e))?;
        inner.set_nonblocking(true).map_err(|e| tcp_error(&e))?;
        let port = inner.local_addr().map_err(|e| tcp_error(&e))?.port();
        Ok(TcpListener {
            inner,
            port,
            accepted: Rc::clone(&self.accepted),
        })
    }

    async fn connect(&self, dst: SocketAddrV4) -> Result<TcpFlow, TcpError> {
        let flow = TcpFlow::new(connect_stream(dst.into()).await?, dst.into())?;
        self.connected.set(self.connected.get() + 1);
        Ok(flow)
    }
}

/// A non-blocking connection to `dst` (either family), once established.
async fn connect_stream(dst: SocketAddr) -> Result<net::TcpStream, TcpError> {
    let family = if dst.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    // SAFETY: plain socket creation.
    let raw = unsafe {
        libc::socket(
            family,
            libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if raw < 0 {
        return Err(tcp_error(&sys::last_error()));
    }
    // SAFETY: `raw` is a fresh descriptor owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let rc = match dst {
        SocketAddr::V4(d) => {
            let addr = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: d.port().to_be(),
                sin_addr: libc::in_addr {
                    s_addr: u32::from(*d.ip()).to_be(),
                },
                sin_zero: [0; 8],
            };
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `addr` is a valid sockaddr_in of `len` bytes.
            unsafe { libc::connect(fd.as_raw_fd(), (&raw const addr).cast(), len) }
        }
        SocketAddr::V6(d) => {
            let addr = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: d.port().to_be(),
                sin6_flowinfo: d.flowinfo(),
                sin6_addr: libc::in6_addr {
                    s6_addr: d.ip().octets(),
                },
                sin6_scope_id: d.scope_id(),
            };
            let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            // SAFETY: `addr` is a valid sockaddr_in6 of `len` bytes.
            unsafe { libc::connect(fd.as_raw_fd(), (&raw const addr).cast(), len) }
        }
    };
    if rc < 0 {
        let err = sys::last_error();
        if err.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(tcp_error(&err));
        }
        writable(fd.as_raw_fd() as u64).await;
        let mut so_error: libc::c_int = 0;
        let mut optlen = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: SO_ERROR writes one int into `so_error`.
        let rc = unsafe {
            libc::getsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut so_error).cast(),
                &mut optlen,
            )
        };
        if rc < 0 {
            return Err(tcp_error(&sys::last_error()));
        }
        if so_error != 0 {
            return Err(tcp_error(&io::Error::from_raw_os_error(so_error)));
        }
    }
    Ok(net::TcpStream::from(fd))
}

impl unik_rt::TcpListener for TcpListener {
    type Flow = TcpFlow;

    async fn accept(&self) -> Result<TcpFlow, TcpError> {
        loop {
            match self.inner.accept() {
                Ok((stream, peer)) => {
                    let flow = TcpFlow::new(stream, unmapped(peer))?;
                    self.accepted.set(self.accepted.get() + 1);
                    return Ok(flow);
                }
                Err(e) if sys::is_would_block(&e) => readable(self.inner.as_raw_fd() as u64).await,
                Err(e) if sys::is_interrupted(&e) => {}
                // The peer gave up before we accepted; wait for the next one.
                Err(e) if e.kind() == io::ErrorKind::ConnectionAborted => {}
                Err(e) => return Err(tcp_error(&e)),
            }
        }
    }

    fn local_port(&self) -> u16 {
        self.port
    }
}

impl unik_rt::TcpFlow for TcpFlow {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        loop {
            self.open()?;
            match (&self.stream).read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if sys::is_would_block(&e) => readable(self.handle()).await,
                Err(e) if sys::is_interrupted(&e) => {}
                Err(e) => return Err(tcp_error(&e)),
            }
        }
    }

    async fn write(&self, mut data: &[u8]) -> Result<(), TcpError> {
        while !data.is_empty() {
            self.open()?;
            match (&self.stream).write(data) {
                Ok(n) => data = &data[n..],
                Err(e) if sys::is_would_block(&e) => writable(self.handle()).await,
                Err(e) if sys::is_interrupted(&e) => {}
                Err(e) => return Err(tcp_error(&e)),
            }
        }
        Ok(())
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        self.open()?;
        self.stream
            .shutdown(Shutdown::Write)
            .map_err(|e| tcp_error(&e))
    }

    async fn close(&self) -> Result<(), TcpError> {
        self.open()?;
        self.closed.set(true);
        match self.stream.shutdown(Shutdown::Both) {
            // Already torn down by the peer: closing is still done.
            Err(e) if e.raw_os_error() == Some(libc::ENOTCONN) => Ok(()),
            r => r.map_err(|e| tcp_error(&e)),
        }
    }

    fn peer(&self) -> SocketAddrV4 {
        v4(self.peer)
    }
}

/// A bound UDP socket.
#[derive(Debug)]
pub struct UdpSocket {
    inner: net::UdpSocket,
    port: u16,
}

impl unik_rt::Udp for SocketUdp {
    type Socket = UdpSocket;

    async fn bind(&self, port: u16) -> Result<UdpSocket, UdpError> {
        let inner = net::UdpSocket::bind((self.address, port)).map_err(|e| udp_error(&e))?;
        inner.set_nonblocking(true).map_err(|e| udp_error(&e))?;
        let port = inner.local_addr().map_err(|e| udp_error(&e))?.port();
        Ok(UdpSocket { inner, port })
    }
}

impl unik_rt::UdpSocket for UdpSocket {
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddrV4), UdpError> {
        loop {
            match self.inner.recv_from(buf) {
                Ok((n, from)) => return Ok((n, v4(from))),
                Err(e) if sys::is_would_block(&e) => readable(self.inner.as_raw_fd() as u64).await,
                Err(e) if sys::is_interrupted(&e) => {}
                Err(e) => return Err(udp_error(&e)),
            }
        }
    }

    async fn send_to(&self, data: &[u8], dst: SocketAddrV4) -> Result<(), UdpError> {
        self.send_any(data, dst.into()).await
    }

    fn local_port(&self) -> u16 {
        self.port
    }
}

impl UdpSocket {
    async fn send_any(&self, data: &[u8], dst: SocketAddr) -> Result<(), UdpError> {
        loop {
            match self.inner.send_to(data, dst) {
                Ok(_) => return Ok(()),
                Err(e) if sys::is_would_block(&e) => writable(self.inner.as_raw_fd() as u64).await,
                Err(e) if sys::is_interrupted(&e) => {}
                Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                    return Err(UdpError::TooLarge(data.len()));
                }
                Err(e) => return Err(udp_error(&e)),
            }
        }
    }
}

/// `socket_stackv4v6`: the host's sockets for both families. Listeners and bound ports are
/// dual-stack IPv6 sockets on `::` (IPv4 peers appear as IPv4 addresses); `connect` and
/// `send_to` use the destination's family.
#[derive(Debug)]
pub struct SocketStackV4V6 {
    tcp: SocketTcp6,
    udp: SocketUdp6,
}

#[derive(Debug)]
pub struct SocketTcp6 {
    accepted: Rc<Cell<u64>>,
    connected: Cell<u64>,
}

#[derive(Debug)]
pub struct SocketUdp6;

/// `socket_stackv4v6`.
pub fn connect_v4v6() -> Result<SocketStackV4V6, Infallible> {
    Ok(SocketStackV4V6 {
        tcp: SocketTcp6 {
            accepted: Rc::new(Cell::new(0)),
            connected: Cell::new(0),
        },
        udp: SocketUdp6,
    })
}

impl unik_rt::StackV4V6 for SocketStackV4V6 {
    type Tcp = SocketTcp6;
    type Udp = SocketUdp6;

    fn tcp(&self) -> &SocketTcp6 {
        &self.tcp
    }

    fn udp(&self) -> &SocketUdp6 {
        &self.udp
    }

    fn ipv4_addresses(&self) -> Vec<Ipv4Addr> {
        vec![Ipv4Addr::UNSPECIFIED]
    }

    fn ipv6_addresses(&self) -> Vec<Ipv6Addr> {
        vec![Ipv6Addr::UNSPECIFIED]
    }

    fn stats(&self) -> unik_rt::StackStats {
        unik_rt::StackStats {
            tcp_accepted: self.tcp.accepted.get(),
            tcp_connected: self.tcp.connected.get(),
            wire: None,
        }
    }
}

/// A dual-stack socket of `kind` bound to `[::]:port` (IPV6_V6ONLY off, whatever the host's
/// default).
fn dual_socket(kind: libc::c_int, port: u16) -> io::Result<OwnedFd> {
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_INET6, kind | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(sys::last_error());
    }
    // SAFETY: `raw` is a fresh descriptor owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let off: libc::c_int = 0;
    let on: libc::c_int = 1;
    let int_len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: both options take one int.
    unsafe {
        if libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_V6ONLY,
            (&raw const off).cast(),
            int_len,
        ) < 0
        {
            return Err(sys::last_error());
        }
        if kind == libc::SOCK_STREAM {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_REUSEADDR,
                (&raw const on).cast(),
                int_len,
            );
        }
    }
    let addr = libc::sockaddr_in6 {
        sin6_family: libc::AF_INET6 as libc::sa_family_t,
        sin6_port: port.to_be(),
        sin6_flowinfo: 0,
        sin6_addr: libc::in6_addr { s6_addr: [0; 16] },
        sin6_scope_id: 0,
    };
    let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
    // SAFETY: `addr` is a valid sockaddr_in6 of `len` bytes.
    if unsafe { libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len) } < 0 {
        return Err(sys::last_error());
    }
    Ok(fd)
}

/// A connection of `socket_stackv4v6`.
#[derive(Debug)]
pub struct TcpFlow6(TcpFlow);

/// A dual-stack listening socket.
#[derive(Debug)]
pub struct TcpListener6(TcpListener);

impl unik_rt::Tcp<SocketAddr> for SocketTcp6 {
    type Flow = TcpFlow6;
    type Listener = TcpListener6;

    async fn listen(&self, port: u16) -> Result<TcpListener6, TcpError> {
        let fd = dual_socket(libc::SOCK_STREAM, port).map_err(|e| tcp_error(&e))?;
        // SAFETY: listen on a bound stream socket.
        if unsafe { libc::listen(fd.as_raw_fd(), 1024) } < 0 {
            return Err(tcp_error(&sys::last_error()));
        }
        let inner = net::TcpListener::from(fd);
        inner.set_nonblocking(true).map_err(|e| tcp_error(&e))?;
        let port = inner.local_addr().map_err(|e| tcp_error(&e))?.port();
        Ok(TcpListener6(TcpListener {
            inner,
            port,
            accepted: Rc::clone(&self.accepted),
        }))
    }

    async fn connect(&self, dst: SocketAddr) -> Result<TcpFlow6, TcpError> {
        let flow = TcpFlow::new(connect_stream(dst).await?, dst)?;
        self.connected.set(self.connected.get() + 1);
        Ok(TcpFlow6(flow))
    }
}

impl unik_rt::TcpListener<SocketAddr> for TcpListener6 {
    type Flow = TcpFlow6;

    async fn accept(&self) -> Result<TcpFlow6, TcpError> {
        <TcpListener as unik_rt::TcpListener>::accept(&self.0)
            .await
            .map(TcpFlow6)
    }

    fn local_port(&self) -> u16 {
        self.0.port
    }
}

impl unik_rt::TcpFlow<SocketAddr> for TcpFlow6 {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        <TcpFlow as unik_rt::TcpFlow>::read(&self.0, buf).await
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        <TcpFlow as unik_rt::TcpFlow>::write(&self.0, data).await
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        <TcpFlow as unik_rt::TcpFlow>::shutdown_write(&self.0).await
    }

    async fn close(&self) -> Result<(), TcpError> {
        <TcpFlow as unik_rt::TcpFlow>::close(&self.0).await
    }

    fn peer(&self) -> SocketAddr {
        self.0.peer
    }
}

/// A dual-stack UDP socket.
#[derive(Debug)]
pub struct UdpSocket6(UdpSocket);

impl unik_rt::Udp<SocketAddr> for SocketUdp6 {
    type Socket = UdpSocket6;

    async fn bind(&self, port: u16) -> Result<UdpSocket6, UdpError> {
        let fd = dual_socket(libc::SOCK_DGRAM, port).map_err(|e| udp_error(&e))?;
        let inner = net::UdpSocket::from(fd);
        inner.set_nonblocking(true).map_err(|e| udp_error(&e))?;
        let port = inner.local_addr().map_err(|e| udp_error(&e))?.port();
        Ok(UdpSocket6(UdpSocket { inner, port }))
    }
}

impl unik_rt::UdpSocket<SocketAddr> for UdpSocket6 {
    async fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, SocketAddr), UdpError> {
        loop {
            match self.0.inner.recv_from(buf) {
                Ok((n, from)) => return Ok((n, unmapped(from))),
                Err(e) if sys::is_would_block(&e) => {
                    readable(self.0.inner.as_raw_fd() as u64).await
                }
                Err(e) if sys::is_interrupted(&e) => {}
                Err(e) => return Err(udp_error(&e)),
            }
        }
    }

    async fn send_to(&self, data: &[u8], dst: SocketAddr) -> Result<(), UdpError> {
        // A dual-stack socket reaches IPv4 through the v4-mapped address.
        let dst = match dst {
            SocketAddr::V4(a) => SocketAddr::new(a.ip().to_ipv6_mapped().into(), a.port()),
            a => a,
        };
        self.0.send_any(data, dst).await
    }

    fn local_port(&self) -> u16 {
        self.0.port
    }
}
