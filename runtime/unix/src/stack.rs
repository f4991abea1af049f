//! `socket_stackv4`: TCP and UDP over the host kernel's sockets, bound to
//! one IPv4 address, non-blocking and driven by the executor.

use std::cell::Cell;
use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::{self, Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4};
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
    peer: SocketAddrV4,
    closed: Cell<bool>,
}

impl TcpFlow {
    fn new(stream: net::TcpStream, peer: SocketAddrV4) -> Result<Self, TcpError> {
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
        // SAFETY: plain socket creation.
        let raw = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if raw < 0 {
            return Err(tcp_error(&sys::last_error()));
        }
        // SAFETY: `raw` is a fresh descriptor owned by nothing else.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let addr = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: dst.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*dst.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: `addr` is a valid sockaddr_in of `len` bytes.
        let rc = unsafe { libc::connect(fd.as_raw_fd(), (&raw const addr).cast(), len) };
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
        let flow = TcpFlow::new(net::TcpStream::from(fd), dst)?;
        self.connected.set(self.connected.get() + 1);
        Ok(flow)
    }
}

impl unik_rt::TcpListener for TcpListener {
    type Flow = TcpFlow;

    async fn accept(&self) -> Result<TcpFlow, TcpError> {
        loop {
            match self.inner.accept() {
                Ok((stream, peer)) => {
                    let flow = TcpFlow::new(stream, v4(peer))?;
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
        self.peer
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

    fn local_port(&self) -> u16 {
        self.port
    }
}
