//! Connections that are TCP or TLS over TCP (MirageOS `Conduit_mirage.S`,
//! the device `conduit_direct ?tls`). Applications written against
//! [`Conduit`] run unchanged over plain TCP ([`TcpConduit`], here) and over
//! TLS (`unik-tls`): a conduit's flows are [`TcpFlow`]s.
//!
//! TLS settings are plain data (PEM bytes, names), read from a store with
//! [`TlsServerConfig::from_store`] and [`TlsClientConfig::from_store`], so
//! this crate needs no TLS library.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::SocketAddrV4;

use crate::devices::stack::{StackStats, StackV4, Tcp, TcpError, TcpFlow, TcpListener};
use crate::devices::{Key, KvError, KvRo};

/// A flow of a conduit: TCP, or TLS over TCP.
pub trait ConduitFlow: TcpFlow {
    /// Completes the TLS handshake if it is not done yet (the first read or
    /// write does it too); nothing for plain TCP. A server learns here why
    /// a client was refused.
    async fn handshake(&self) -> Result<(), TcpError>;

    /// The application protocol ALPN agreed on, after the handshake.
    fn alpn(&self) -> Option<Vec<u8>>;

    /// `"TLSv1.3"` or `"TLSv1.2"` after the handshake; `None` for TCP.
    fn tls_version(&self) -> Option<&'static str>;
}

/// A server's TLS settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsServerConfig {
    /// The certificate chain, PEM, the server's own certificate first.
    pub certificates: Vec<u8>,
    /// The private key, PEM (PKCS#8, SEC1 or PKCS#1).
    pub key: Vec<u8>,
    /// Application protocols offered by ALPN, in order of preference.
    pub alpn: Vec<Vec<u8>>,
}

/// A client's TLS settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsClientConfig {
    /// The certificates of the authorities trusted, PEM.
    pub authorities: Vec<u8>,
    /// The name the server's certificate must be valid for, also sent as SNI;
    /// a DNS name or an IP address.
    pub server_name: String,
    /// Application protocols asked for by ALPN, in order of preference.
    pub alpn: Vec<Vec<u8>>,
}

async fn read<K: KvRo>(kv: &K, path: &str) -> Result<Vec<u8>, KvError> {
    kv.get(&Key::parse(path)?).await
}

impl TlsServerConfig {
    /// The chain and key stored at `certificates` and `key` (paths such as
    /// `server.pem`).
    pub async fn from_store<K: KvRo>(
        kv: &K,
        certificates: &str,
        key: &str,
    ) -> Result<Self, KvError> {
        Ok(Self {
            certificates: read(kv, certificates).await?,
            key: read(kv, key).await?,
            alpn: Vec::new(),
        })
    }
}

impl TlsClientConfig {
    /// The authorities stored at `authorities`, for a server named `server_name`.
    pub async fn from_store<K: KvRo>(
        kv: &K,
        authorities: &str,
        server_name: &str,
    ) -> Result<Self, KvError> {
        Ok(Self {
            authorities: read(kv, authorities).await?,
            server_name: server_name.to_string(),
            alpn: Vec::new(),
        })
    }
}

/// Connections over TCP, or TLS over TCP.
pub trait Conduit {
    type Flow: ConduitFlow;
    type Listener: TcpListener<Flow = Self::Flow>;

    /// Whether this conduit can speak TLS (`conduit_direct { tls = true; }`).
    fn supports_tls(&self) -> bool;

    /// The counters of the stack below.
    fn stats(&self) -> StackStats;

    /// Listens on `port`; with `tls`, every accepted flow is a TLS server
    /// session (its handshake runs on the flow's first use).
    async fn listen(
        &self,
        port: u16,
        tls: Option<&TlsServerConfig>,
    ) -> Result<Self::Listener, TcpError>;

    /// Connects to `dst`; with `tls`, completes the handshake, verifying the
    /// server, before returning.
    async fn connect(
        &self,
        dst: SocketAddrV4,
        tls: Option<&TlsClientConfig>,
    ) -> Result<Self::Flow, TcpError>;
}

/// The error of a TLS request to a conduit without TLS.
pub fn no_tls() -> TcpError {
    TcpError::Tls("this conduit has no TLS: use `conduit_direct { tls = true; }`".to_string())
}

/// A conduit of plain TCP flows over a stack (`conduit_direct {}`).
pub struct TcpConduit<S: 'static> {
    stack: &'static S,
}

/// The plain conduit over `stack` (it cannot fail).
pub fn connect<S: StackV4>(stack: &'static S) -> Result<TcpConduit<S>, core::convert::Infallible> {
    Ok(TcpConduit { stack })
}

/// A plain TCP flow as a [`ConduitFlow`].
pub struct Plain<F>(pub F);

impl<F: TcpFlow> TcpFlow for Plain<F> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        self.0.read(buf).await
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        self.0.write(data).await
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        self.0.shutdown_write().await
    }

    async fn close(&self) -> Result<(), TcpError> {
        self.0.close().await
    }

    fn peer(&self) -> SocketAddrV4 {
        self.0.peer()
    }
}

impl<F: TcpFlow> ConduitFlow for Plain<F> {
    async fn handshake(&self) -> Result<(), TcpError> {
        Ok(())
    }

    fn alpn(&self) -> Option<Vec<u8>> {
        None
    }

    fn tls_version(&self) -> Option<&'static str> {
        None
    }
}

/// A TCP listener whose flows are [`Plain`].
pub struct PlainListener<L>(pub L);

impl<L: TcpListener> TcpListener for PlainListener<L> {
    type Flow = Plain<L::Flow>;

    async fn accept(&self) -> Result<Self::Flow, TcpError> {
        self.0.accept().await.map(Plain)
    }

    fn local_port(&self) -> u16 {
        self.0.local_port()
    }
}

impl<S: StackV4> Conduit for TcpConduit<S> {
    type Flow = Plain<<S::Tcp as Tcp>::Flow>;
    type Listener = PlainListener<<S::Tcp as Tcp>::Listener>;

    fn supports_tls(&self) -> bool {
        false
    }

    fn stats(&self) -> StackStats {
        self.stack.stats()
    }

    async fn listen(
        &self,
        port: u16,
        tls: Option<&TlsServerConfig>,
    ) -> Result<Self::Listener, TcpError> {
        if tls.is_some() {
            return Err(no_tls());
        }
        self.stack.tcp().listen(port).await.map(PlainListener)
    }

    async fn connect(
        &self,
        dst: SocketAddrV4,
        tls: Option<&TlsClientConfig>,
    ) -> Result<Self::Flow, TcpError> {
        if tls.is_some() {
            return Err(no_tls());
        }
        self.stack.tcp().connect(dst).await.map(Plain)
    }
}
