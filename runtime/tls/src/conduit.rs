//! `conduit_direct { tls = true; }`: a conduit over a stack whose flows are
//! TCP, or TLS when the application passes TLS settings.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::ToString;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::fmt;
use core::net::SocketAddrV4;
use core::time::Duration;

use rustls::client::UnbufferedClientConnection;
use rustls::crypto::{CryptoProvider, GetRandomFailed, SecureRandom};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::UnbufferedServerConnection;
use rustls::time_provider::TimeProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use unik_rt::conduit::{Plain, PlainListener};
use unik_rt::{
    Conduit, ConduitFlow, Pclock, Random, StackV4, Tcp, TcpError, TcpFlow, TcpListener,
    TlsClientConfig, TlsServerConfig,
};

use crate::flow::{Session, TlsFlow, tls_error};
use crate::provider;

/// The platform's random source as rustls's.
struct PlatformRandom<R: 'static>(&'static R);

// SAFETY: images run one executor on one thread, which alone touches the
// devices; rustls asks for Send + Sync only because it can share configs
// across threads, which never happens here.
unsafe impl<R> Send for PlatformRandom<R> {}
unsafe impl<R> Sync for PlatformRandom<R> {}

impl<R> fmt::Debug for PlatformRandom<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("platform random")
    }
}

impl<R: Random> SecureRandom for PlatformRandom<R> {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        self.0.fill(buf).map_err(|_| GetRandomFailed)
    }
}

/// The platform's wall clock, for certificate validity.
struct PlatformClock<P: 'static>(&'static P);

// SAFETY: as for `PlatformRandom`.
unsafe impl<P> Send for PlatformClock<P> {}
unsafe impl<P> Sync for PlatformClock<P> {}

impl<P> fmt::Debug for PlatformClock<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("platform clock")
    }
}

impl<P: Pclock> TimeProvider for PlatformClock<P> {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(Duration::from_nanos(
            self.0.now_ns(),
        )))
    }
}

/// The TLS-capable conduit over a stack.
pub struct TlsConduit<S: 'static> {
    stack: &'static S,
    provider: Arc<CryptoProvider>,
    time: Arc<dyn TimeProvider>,
}

/// The conduit over `stack`, with secrets from `random` and certificate
/// times checked against `clock`. It cannot fail: settings are checked when
/// the application passes them.
pub fn connect<R: Random, P: Pclock, S: StackV4>(
    random: &'static R,
    clock: &'static P,
    stack: &'static S,
) -> Result<TlsConduit<S>, Infallible> {
    let rng: &'static dyn SecureRandom = unik_rt::leak(PlatformRandom(random));
    Ok(TlsConduit {
        stack,
        provider: Arc::new(provider::provider(rng)),
        time: Arc::new(PlatformClock(clock)),
    })
}

fn config_error(what: &str, e: impl fmt::Display) -> TcpError {
    TcpError::Tls(format!("{what}: {e}"))
}

impl<S> TlsConduit<S> {
    /// rustls's server configuration of `tls`.
    pub fn server_config(&self, tls: &TlsServerConfig) -> Result<Arc<ServerConfig>, TcpError> {
        let chain = CertificateDer::pem_slice_iter(&tls.certificates)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error("the server certificates are not valid PEM", e))?;
        if chain.is_empty() {
            return Err(TcpError::Tls(
                "no certificate in the server certificates' PEM".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(&tls.key)
            .map_err(|e| config_error("the server key is not a PEM private key", e))?;
        let mut config =
            ServerConfig::builder_with_details(self.provider.clone(), self.time.clone())
                .with_protocol_versions(rustls::ALL_VERSIONS)
                .map_err(|e| config_error("TLS versions", e))?
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .map_err(|e| config_error("the server certificate and key", e))?;
        config.alpn_protocols = tls.alpn.clone();
        Ok(Arc::new(config))
    }

    /// rustls's client configuration of `tls`.
    pub fn client_config(&self, tls: &TlsClientConfig) -> Result<Arc<ClientConfig>, TcpError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&tls.authorities) {
            let cert = cert.map_err(|e| config_error("the authorities are not valid PEM", e))?;
            roots
                .add(cert)
                .map_err(|e| config_error("an authority's certificate", e))?;
        }
        if roots.is_empty() {
            return Err(TcpError::Tls(
                "no certificate in the authorities' PEM".into(),
            ));
        }
        let mut config =
            ClientConfig::builder_with_details(self.provider.clone(), self.time.clone())
                .with_protocol_versions(rustls::ALL_VERSIONS)
                .map_err(|e| config_error("TLS versions", e))?
                .with_root_certificates(roots)
                .with_no_client_auth();
        config.alpn_protocols = tls.alpn.clone();
        Ok(Arc::new(config))
    }
}

/// A conduit flow: TCP, or TLS over TCP.
pub enum Flow<F> {
    Plain(Plain<F>),
    /// Boxed: a session is large, and a plain flow should not carry its size.
    Tls(Box<TlsFlow<F>>),
}

impl<F: TcpFlow> TcpFlow for Flow<F> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        match self {
            Flow::Plain(f) => f.read(buf).await,
            Flow::Tls(f) => f.read(buf).await,
        }
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        match self {
            Flow::Plain(f) => f.write(data).await,
            Flow::Tls(f) => f.write(data).await,
        }
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        match self {
            Flow::Plain(f) => f.shutdown_write().await,
            Flow::Tls(f) => f.shutdown_write().await,
        }
    }

    async fn close(&self) -> Result<(), TcpError> {
        match self {
            Flow::Plain(f) => f.close().await,
            Flow::Tls(f) => f.close().await,
        }
    }

    fn peer(&self) -> SocketAddrV4 {
        match self {
            Flow::Plain(f) => f.peer(),
            Flow::Tls(f) => f.peer(),
        }
    }
}

impl<F: TcpFlow> ConduitFlow for Flow<F> {
    async fn handshake(&self) -> Result<(), TcpError> {
        match self {
            Flow::Plain(f) => f.handshake().await,
            Flow::Tls(f) => f.handshake().await,
        }
    }

    fn alpn(&self) -> Option<Vec<u8>> {
        match self {
            Flow::Plain(f) => f.alpn(),
            Flow::Tls(f) => f.alpn(),
        }
    }

    fn tls_version(&self) -> Option<&'static str> {
        match self {
            Flow::Plain(f) => f.tls_version(),
            Flow::Tls(f) => f.tls_version(),
        }
    }
}

/// A listener whose flows are TLS server sessions, or plain TCP.
pub struct Listener<L> {
    tcp: PlainListener<L>,
    tls: Option<Arc<ServerConfig>>,
}

impl<L: TcpListener> TcpListener for Listener<L> {
    type Flow = Flow<L::Flow>;

    async fn accept(&self) -> Result<Self::Flow, TcpError> {
        let Plain(flow) = self.tcp.accept().await?;
        let Some(config) = &self.tls else {
            return Ok(Flow::Plain(Plain(flow)));
        };
        match UnbufferedServerConnection::new(config.clone()) {
            Ok(session) => Ok(Flow::Tls(Box::new(TlsFlow::new(
                flow,
                Session::Server(session),
            )))),
            Err(e) => {
                let _ = flow.close().await;
                Err(tls_error(&e))
            }
        }
    }

    fn local_port(&self) -> u16 {
        self.tcp.local_port()
    }
}

impl<S: StackV4> Conduit for TlsConduit<S> {
    type Flow = Flow<<S::Tcp as Tcp>::Flow>;
    type Listener = Listener<<S::Tcp as Tcp>::Listener>;

    fn supports_tls(&self) -> bool {
        true
    }

    fn stats(&self) -> unik_rt::StackStats {
        self.stack.stats()
    }

    async fn listen(
        &self,
        port: u16,
        tls: Option<&TlsServerConfig>,
    ) -> Result<Self::Listener, TcpError> {
        let tls = tls.map(|t| self.server_config(t)).transpose()?;
        let tcp = self.stack.tcp().listen(port).await?;
        Ok(Listener {
            tcp: PlainListener(tcp),
            tls,
        })
    }

    async fn connect(
        &self,
        dst: SocketAddrV4,
        tls: Option<&TlsClientConfig>,
    ) -> Result<Self::Flow, TcpError> {
        let Some(tls) = tls else {
            return self
                .stack
                .tcp()
                .connect(dst)
                .await
                .map(|f| Flow::Plain(Plain(f)));
        };
        let config = self.client_config(tls)?;
        let name = ServerName::try_from(tls.server_name.to_string())
            .map_err(|e| config_error(&format!("server name {:?}", tls.server_name), e))?;
        let session = UnbufferedClientConnection::new(config, name).map_err(|e| tls_error(&e))?;
        let tcp = self.stack.tcp().connect(dst).await?;
        let flow = TlsFlow::new(tcp, Session::Client(session));
        if let Err(e) = flow.handshake().await {
            let _ = flow.close().await;
            return Err(e);
        }
        Ok(Flow::Tls(Box::new(flow)))
    }
}
