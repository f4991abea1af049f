//! The catalogue's devices: `cohttp_server` (type `http`) over a `conduit`,
//! and `cohttp_client` (type `http_client`) from a `resolver` and a
//! `conduit` — MirageOS 4's shapes. Whether a connection is HTTP or HTTPS
//! is the conduit's business: the server is given TLS settings or not, the
//! client speaks TLS for `https://` URLs.

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::convert::Infallible;
use core::net::SocketAddrV4;

use unik_dns::devices::DnsClient;
use unik_rt::{
    Conduit, JobError, StackStats, TcpFlow, TcpListener, TlsClientConfig, TlsServerConfig,
};

use crate::client::{ClientError, Response as ClientResponse, Scheme, Url};
use crate::io::{Client, Handler, serve};
use crate::server::Limits;

/// An HTTP server (MirageOS `Cohttp_mirage.Server`): serves a handler on a
/// port, over TLS when given TLS settings.
pub trait Http {
    /// Serves `handler` on TCP `port`, each connection in its own task:
    /// HTTPS with `tls` (the conduit must support TLS), else HTTP. With
    /// `connections` > 0, stops after that many connections, once they are
    /// served; otherwise serves until accepting fails.
    async fn listen<H: Handler + 'static>(
        &'static self,
        port: u16,
        tls: Option<&TlsServerConfig>,
        handler: &'static H,
        connections: u64,
    ) -> Result<(), JobError>;

    /// The counters of the stack below.
    fn stats(&self) -> StackStats;
}

/// An HTTP client (MirageOS `Cohttp_mirage.Client`).
pub trait HttpClient {
    /// Sends `method` on `url` (`http[s]://HOST[:PORT]/PATH`, HOST an IPv4
    /// address or a name the resolver knows) with `body`.
    async fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<ClientResponse, ClientError>;

    async fn get(&self, url: &str) -> Result<ClientResponse, ClientError> {
        self.request("GET", url, &[], &[]).await
    }

    /// Trusts the certificate authorities in `pem` (and only them) for
    /// `https://` URLs; until then an `https://` request is an error.
    fn authorities(&self, pem: Vec<u8>);
}

/// `cohttp_server` over a conduit.
pub struct Server<C: 'static> {
    conduit: &'static C,
    pub limits: Limits,
}

/// `cohttp_server`'s connect.
pub mod server {
    use super::*;

    /// Connects `cohttp_server` over `conduit`, with the default [`Limits`].
    pub fn connect<C: Conduit + 'static>(conduit: &'static C) -> Result<Server<C>, Infallible> {
        Ok(Server {
            conduit,
            limits: Limits::default(),
        })
    }
}

impl<C: Conduit + 'static> Http for Server<C>
where
    C::Flow: 'static,
{
    async fn listen<H: Handler + 'static>(
        &'static self,
        port: u16,
        tls: Option<&TlsServerConfig>,
        handler: &'static H,
        connections: u64,
    ) -> Result<(), JobError> {
        let listener = self
            .conduit
            .listen(port, tls)
            .await
            .map_err(|e| JobError::new(format!("listening on port {port}: {e}")))?;
        let scheme = if tls.is_some() { "HTTPS" } else { "HTTP" };
        unik_rt::log::info!(target: "http", "serving {scheme} on port {}", listener.local_port());
        let limits = self.limits;
        let mut served = Vec::new();
        let mut accepted = 0;
        while connections == 0 || accepted < connections {
            let flow = listener.accept().await?;
            accepted += 1;
            let task = unik_rt::spawn(async move {
                let peer = flow.peer();
                if let Err(e) = serve(&flow, handler, limits).await {
                    unik_rt::log::debug!(target: "http", "{peer}: {e}");
                }
            });
            // Kept only when the server is to stop, to wait for the last connections.
            if connections != 0 {
                served.push(task);
            }
        }
        drop(listener);
        for task in served {
            task.await;
        }
        Ok(())
    }

    fn stats(&self) -> StackStats {
        self.conduit.stats()
    }
}

/// `cohttp_client`: names resolved by a resolver, connections from a
/// conduit, one kept-alive connection.
pub struct ConduitClient<R: 'static, C: Conduit + 'static> {
    resolver: &'static R,
    conduit: &'static C,
    authorities: RefCell<Option<Vec<u8>>>,
    client: Client<C::Flow>,
}

/// `cohttp_client`'s connect.
pub mod client {
    use super::*;

    /// Connects `cohttp_client` from `resolver` and `conduit`.
    pub fn connect<R: DnsClient + 'static, C: Conduit + 'static>(
        resolver: &'static R,
        conduit: &'static C,
    ) -> Result<ConduitClient<R, C>, Infallible> {
        Ok(ConduitClient {
            resolver,
            conduit,
            authorities: RefCell::new(None),
            client: Client::new(),
        })
    }
}

impl<R: DnsClient + 'static, C: Conduit + 'static> ConduitClient<R, C> {
    /// A flow to `url`'s host: resolved unless it is an address, TLS for
    /// `https` (verified against the authorities, for the URL's host name).
    async fn open(&self, url: Url) -> Result<C::Flow, ClientError> {
        let tls = match url.scheme {
            Scheme::Http => None,
            Scheme::Https => {
                let Some(authorities) = self.authorities.borrow().clone() else {
                    return Err(ClientError::Tcp(unik_rt::TcpError::Tls(
                        "no certificate authorities to verify https:// servers against".into(),
                    )));
                };
                Some(TlsClientConfig {
                    authorities,
                    server_name: url.host.clone(),
                    alpn: vec![b"http/1.1".to_vec()],
                })
            }
        };
        let addr = match url.ipv4() {
            Some(a) => a,
            None => {
                let addrs = self
                    .resolver
                    .gethostbyname(&url.host)
                    .await
                    .map_err(|e| ClientError::Resolve(format!("{}: {e}", url.host)))?;
                *addrs
                    .first()
                    .ok_or_else(|| ClientError::Resolve(format!("{}: no IPv4 address", url.host)))?
            }
        };
        Ok(self
            .conduit
            .connect(SocketAddrV4::new(addr, url.port), tls.as_ref())
            .await?)
    }

    /// Closes the kept connection, if any.
    pub async fn close(&self) {
        self.client.close().await;
    }
}

impl<R: DnsClient + 'static, C: Conduit + 'static> HttpClient for ConduitClient<R, C> {
    async fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<ClientResponse, ClientError> {
        self.client
            .request(|u| self.open(u), method, url, headers, body)
            .await
    }

    fn authorities(&self, pem: Vec<u8>) {
        *self.authorities.borrow_mut() = Some(pem);
    }
}
