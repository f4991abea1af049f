//! `direct_tcpv4`: TCP over IPv4, as the `unik_rt::Tcp` trait.

use core::cell::Cell;
use core::net::{SocketAddr, SocketAddrV4};

use unik_rt::{Network, Random, TcpError};

use super::driver::{Shared, now};
use super::ipv4::Ipv4;
use super::{ConnectError, errno, net_errno};
use crate::iface::{Error, TcpHandle};
use crate::tcp::{Connection, State, Stats, TcpConfig};
use crate::time::Duration;

const EPHEMERAL_FIRST: u16 = 49152;
const EPHEMERAL_COUNT: u16 = 16384;

/// The TCP layer of one interface.
pub struct Tcpv4<N: Network + 'static> {
    shared: &'static Shared<N>,
    next_port: Cell<u16>,
    /// Connections `connect` established.
    connected: Cell<u64>,
}

/// `direct_tcpv4 $ ip $ random`: `random` seeds initial sequence numbers and ports.
pub fn connect<N: Network + 'static, R: Random>(
    ip: &'static Ipv4<N>,
    random: &'static R,
) -> Result<Tcpv4<N>, ConnectError> {
    let seed = super::dhcp::seed(random)?;
    let mut iface = ip.shared.iface.borrow_mut();
    iface.reseed(seed);
    iface.set_tcp_config(default_config());
    drop(iface);
    Ok(Tcpv4 {
        shared: ip.shared,
        next_port: Cell::new((seed % u64::from(EPHEMERAL_COUNT)) as u16),
        connected: Cell::new(0),
    })
}

/// The device's defaults: unik-net's, with Linux's 200 ms RTO floor (RFC 6298 asks for 1 s,
/// which makes every tail loss on a sub-millisecond link cost a second) and 256 KiB buffers
/// each way (64 KiB caps a transfer at 64 MB/s per millisecond of round trip).
pub fn default_config() -> TcpConfig {
    TcpConfig {
        min_rto: Duration::from_millis(200),
        send_buffer: 256 << 10,
        recv_buffer: 256 << 10,
        ..TcpConfig::default()
    }
}

fn tcp_error(e: Error) -> TcpError {
    match e {
        Error::Reset => TcpError::Reset,
        Error::Refused => TcpError::Refused,
        Error::TimedOut => TcpError::TimedOut,
        Error::Closed | Error::InvalidHandle => TcpError::Closed,
        Error::AddrInUse => TcpError::AddrInUse,
        e => TcpError::Io(errno(e)),
    }
}

fn failed<N: Network + 'static>(s: &Shared<N>) -> Result<(), TcpError> {
    match s.failure() {
        Some(e) => Err(TcpError::Io(net_errno(&e))),
        None => Ok(()),
    }
}

impl<N: Network + 'static> Tcpv4<N> {
    /// Buffers, timers, keepalive, Nagle, backlog of connections opened from now on.
    pub fn config(&self) -> TcpConfig {
        self.shared.iface.borrow().tcp_config()
    }

    pub fn set_config(&self, cfg: TcpConfig) {
        self.shared.iface.borrow_mut().set_tcp_config(cfg);
    }

    pub(crate) fn shared(&self) -> &'static Shared<N> {
        self.shared
    }

    pub(crate) fn connected(&self) -> u64 {
        self.connected.get()
    }

    fn flow(&self, handle: TcpHandle, peer: SocketAddr) -> Flow<N> {
        Flow {
            shared: self.shared,
            handle,
            peer,
            closed: Cell::new(false),
        }
    }

    /// Listens on `port` (0: an ephemeral one); a `dual` listener accepts both families.
    fn listen_on(&self, port: u16, dual: bool) -> Result<Listener<N>, TcpError> {
        let mut iface = self.shared.iface.borrow_mut();
        let listener = if port != 0 {
            iface.tcp_listen(port).map_err(tcp_error)?
        } else {
            let mut found = None;
            for _ in 0..EPHEMERAL_COUNT {
                let n = self.next_port.get();
                self.next_port.set((n + 1) % EPHEMERAL_COUNT);
                match iface.tcp_listen(EPHEMERAL_FIRST + n) {
                    Ok(l) => {
                        found = Some(l);
                        break;
                    }
                    Err(Error::AddrInUse) => {}
                    Err(e) => return Err(tcp_error(e)),
                }
            }
            found.ok_or(TcpError::AddrInUse)?
        };
        Ok(Listener {
            shared: self.shared,
            listener,
            dual,
        })
    }

    /// Opens a connection to `dst` (either family) and waits for the handshake.
    async fn connect_to(&self, dst: SocketAddr) -> Result<Flow<N>, TcpError> {
        let handle = loop {
            let r = self.shared.iface.borrow_mut().tcp_connect(now(), dst);
            match r {
                Ok(h) => break h,
                // DHCP has not bound yet, or IPv6 DAD has not passed.
                Err(Error::NoAddress) => {
                    failed(self.shared)?;
                    self.shared.changed().await;
                }
                Err(e) => return Err(tcp_error(e)),
            }
        };
        // Dropped on failure or cancellation, which releases the connection.
        let flow = self.flow(handle, dst);
        self.shared.kick();
        loop {
            let state = self
                .shared
                .iface
                .borrow()
                .tcp_state(handle)
                .map_err(tcp_error)?;
            match state {
                State::SynSent | State::SynReceived => {
                    failed(self.shared)?;
                    self.shared.changed().await;
                }
                State::Closed => {
                    let e = flow.error().unwrap_or(TcpError::Refused);
                    return Err(e);
                }
                _ => {
                    self.connected.set(self.connected.get() + 1);
                    return Ok(flow);
                }
            }
        }
    }
}

impl<N: Network + 'static> unik_rt::Tcp for Tcpv4<N> {
    type Flow = Flow<N>;
    type Listener = Listener<N>;

    async fn listen(&self, port: u16) -> Result<Listener<N>, TcpError> {
        self.listen_on(port, false)
    }

    async fn connect(&self, dst: SocketAddrV4) -> Result<Flow<N>, TcpError> {
        self.connect_to(dst.into()).await
    }
}

/// A listening port; dropping it stops listening (connections not yet accepted are reset).
pub struct Listener<N: Network + 'static> {
    shared: &'static Shared<N>,
    listener: crate::iface::TcpListener,
    /// Accepts IPv6 connections too (the dual stack's listener).
    dual: bool,
}

impl<N: Network + 'static> unik_rt::TcpListener for Listener<N> {
    type Flow = Flow<N>;

    async fn accept(&self) -> Result<Flow<N>, TcpError> {
        loop {
            let r = self.shared.iface.borrow_mut().tcp_accept(self.listener);
            match r {
                Ok(handle) => {
                    let peer = self
                        .shared
                        .iface
                        .borrow()
                        .tcp_connection(handle)
                        .map_err(tcp_error)?
                        .remote();
                    // An IPv4 listener on an interface that also runs IPv6 (a dual stack
                    // built beside it) leaves IPv6 peers out.
                    if !self.dual && peer.is_ipv6() {
                        let _ = self.shared.iface.borrow_mut().tcp_abort(handle);
                        continue;
                    }
                    return Ok(Flow {
                        shared: self.shared,
                        handle,
                        peer,
                        closed: Cell::new(false),
                    });
                }
                Err(Error::WouldBlock) => {
                    failed(self.shared)?;
                    self.shared.changed().await;
                }
                Err(e) => return Err(tcp_error(e)),
            }
        }
    }

    fn local_port(&self) -> u16 {
        self.listener.port()
    }
}

impl<N: Network + 'static> Drop for Listener<N> {
    fn drop(&mut self) {
        let _ = self.shared.iface.borrow_mut().tcp_unlisten(self.listener);
        self.shared.kick();
    }
}

/// One connection; dropping it closes it (an abort if unread data remains, as on Linux).
pub struct Flow<N: Network + 'static> {
    shared: &'static Shared<N>,
    handle: TcpHandle,
    peer: SocketAddr,
    closed: Cell<bool>,
}

impl<N: Network + 'static> Flow<N> {
    fn open(&self) -> Result<(), TcpError> {
        if self.closed.get() {
            Err(TcpError::Closed)
        } else {
            Ok(())
        }
    }

    /// The connection's state (`None` once closed by this side).
    pub fn state(&self) -> Option<State> {
        if self.closed.get() {
            return None;
        }
        self.shared.iface.borrow().tcp_state(self.handle).ok()
    }

    /// Segment, retransmission, keepalive and window-probe counters.
    pub fn stats(&self) -> Option<Stats> {
        if self.closed.get() {
            return None;
        }
        let iface = self.shared.iface.borrow();
        iface.tcp_connection(self.handle).ok().map(|c| c.stats())
    }

    /// Runs `f` on a read-only view of the connection (window, RTT, congestion state).
    pub fn inspect<R>(&self, f: impl FnOnce(&Connection) -> R) -> Option<R> {
        if self.closed.get() {
            return None;
        }
        let iface = self.shared.iface.borrow();
        iface.tcp_connection(self.handle).ok().map(f)
    }

    /// Why the connection ended abnormally, if it did.
    pub fn error(&self) -> Option<TcpError> {
        let iface = self.shared.iface.borrow();
        let e = iface.tcp_connection(self.handle).ok()?.error()?;
        Some(tcp_error(e.into()))
    }
}

impl<N: Network + 'static> unik_rt::TcpFlow for Flow<N> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        loop {
            self.open()?;
            let r = self.shared.iface.borrow_mut().tcp_recv(self.handle, buf);
            match r {
                Ok(n) => {
                    // Reading may open the receive window: let the stack announce it.
                    if n > 0 {
                        self.shared.kick();
                    }
                    return Ok(n);
                }
                Err(Error::WouldBlock) => {
                    failed(self.shared)?;
                    self.shared.changed().await;
                }
                Err(e) => return Err(tcp_error(e)),
            }
        }
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        let mut rest = data;
        while !rest.is_empty() {
            self.open()?;
            let r = self.shared.iface.borrow_mut().tcp_send(self.handle, rest);
            match r {
                Ok(n) => {
                    rest = &rest[n..];
                    self.shared.kick();
                }
                // The send buffer is full: back-pressure until ACKs free it.
                Err(Error::WouldBlock) => {
                    failed(self.shared)?;
                    self.shared.changed().await;
                }
                Err(e) => return Err(tcp_error(e)),
            }
        }
        Ok(())
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        self.open()?;
        let r = self.shared.iface.borrow_mut().tcp_shutdown(self.handle);
        self.shared.kick();
        r.map_err(tcp_error)
    }

    async fn close(&self) -> Result<(), TcpError> {
        self.open()?;
        self.closed.set(true);
        let r = self.shared.iface.borrow_mut().tcp_close(self.handle);
        self.shared.kick();
        r.map_err(tcp_error)
    }

    fn peer(&self) -> SocketAddrV4 {
        match self.peer {
            SocketAddr::V4(a) => a,
            // Not reached: IPv4 listeners and connects only make IPv4 flows.
            SocketAddr::V6(_) => SocketAddrV4::new(core::net::Ipv4Addr::UNSPECIFIED, 0),
        }
    }
}

impl<N: Network + 'static> Drop for Flow<N> {
    fn drop(&mut self) {
        if !self.closed.replace(true) {
            let _ = self.shared.iface.borrow_mut().tcp_close(self.handle);
            self.shared.kick();
        }
    }
}

/// `direct_tcpv4v6 $ ip $ random`: TCP over both families of one interface, as
/// `unik_rt::Tcp<SocketAddr>`. Listeners accept IPv4 and IPv6; `connect` goes by the address.
pub struct Tcpv4v6<N: Network + 'static> {
    tcp: &'static Tcpv4<N>,
}

/// `direct_tcpv4v6 $ ip $ random`.
pub fn connect_v4v6<N: Network + 'static, R: Random>(
    ip: &'static super::ipv4v6::Ipv4v6<N>,
    random: &'static R,
) -> Result<Tcpv4v6<N>, ConnectError> {
    let tcp = unik_rt::leak(connect(ip.ipv4, random)?);
    Ok(Tcpv4v6 { tcp })
}

impl<N: Network + 'static> Tcpv4v6<N> {
    /// The TCP layer underneath (configuration, counters).
    pub fn tcpv4(&self) -> &'static Tcpv4<N> {
        self.tcp
    }
}

/// A connection of the dual stack.
pub struct Flow6<N: Network + 'static>(Flow<N>);

impl<N: Network + 'static> Flow6<N> {
    pub fn inner(&self) -> &Flow<N> {
        &self.0
    }
}

/// A listener of the dual stack (both families).
pub struct Listener6<N: Network + 'static>(Listener<N>);

impl<N: Network + 'static> unik_rt::Tcp<SocketAddr> for Tcpv4v6<N> {
    type Flow = Flow6<N>;
    type Listener = Listener6<N>;

    async fn listen(&self, port: u16) -> Result<Listener6<N>, TcpError> {
        self.tcp.listen_on(port, true).map(Listener6)
    }

    async fn connect(&self, dst: SocketAddr) -> Result<Flow6<N>, TcpError> {
        self.tcp.connect_to(dst).await.map(Flow6)
    }
}

impl<N: Network + 'static> unik_rt::TcpListener<SocketAddr> for Listener6<N> {
    type Flow = Flow6<N>;

    async fn accept(&self) -> Result<Flow6<N>, TcpError> {
        <Listener<N> as unik_rt::TcpListener>::accept(&self.0)
            .await
            .map(Flow6)
    }

    fn local_port(&self) -> u16 {
        self.0.listener.port()
    }
}

impl<N: Network + 'static> unik_rt::TcpFlow<SocketAddr> for Flow6<N> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        <Flow<N> as unik_rt::TcpFlow>::read(&self.0, buf).await
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        <Flow<N> as unik_rt::TcpFlow>::write(&self.0, data).await
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        <Flow<N> as unik_rt::TcpFlow>::shutdown_write(&self.0).await
    }

    async fn close(&self) -> Result<(), TcpError> {
        <Flow<N> as unik_rt::TcpFlow>::close(&self.0).await
    }

    fn peer(&self) -> SocketAddr {
        self.0.peer
    }
}
