//! The catalogue's devices: `cohttp_server` (type `http`) and
//! `cohttp_client` (type `http_client`), over a TCP/IP stack.

use alloc::vec::Vec;
use core::convert::Infallible;

use unik_rt::{JobError, StackStats, StackV4, Tcp, TcpFlow, TcpListener};

use crate::client::{ClientError, Response as ClientResponse};
use crate::io::{Client, Handler, serve};
use crate::server::Limits;

/// An HTTP server (MirageOS `Cohttp_mirage.Server`): serves a handler on a
/// port.
pub trait Http {
    /// Serves `handler` on TCP `port`, each connection in its own task.
    /// With `connections` > 0, stops after that many connections, once
    /// they are served; otherwise serves until accepting fails.
    async fn listen<H: Handler + 'static>(
        &'static self,
        port: u16,
        handler: &'static H,
        connections: u64,
    ) -> Result<(), JobError>;

    /// The counters of the stack below.
    fn stats(&self) -> StackStats;
}

/// An HTTP client (MirageOS `Cohttp_mirage.Client`).
pub trait HttpClient {
    /// Sends `method` on `url` (`http://A.B.C.D[:PORT]/PATH`) with `body`.
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
}

/// `cohttp_server` over a stack's TCP.
pub struct Server<S: StackV4 + 'static> {
    stack: &'static S,
    pub limits: Limits,
}

/// `cohttp_server`'s connect.
pub mod server {
    use super::*;

    /// Connects `cohttp_server` over `stack`, with the default [`Limits`].
    pub fn connect<S: StackV4 + 'static>(stack: &'static S) -> Result<Server<S>, Infallible> {
        Ok(Server {
            stack,
            limits: Limits::default(),
        })
    }
}

impl<S: StackV4 + 'static> Http for Server<S>
where
    <S::Tcp as Tcp>::Flow: 'static,
{
    async fn listen<H: Handler + 'static>(
        &'static self,
        port: u16,
        handler: &'static H,
        connections: u64,
    ) -> Result<(), JobError> {
        let listener = self.stack.tcp().listen(port).await?;
        unik_rt::log::info!(
            target: "http",
            "serving on {:?} port {}",
            self.stack.ipv4_addresses(),
            listener.local_port()
        );
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
        self.stack.stats()
    }
}

/// `cohttp_client` over a stack's TCP: one kept-alive connection.
pub struct StackClient<S: StackV4 + 'static> {
    stack: &'static S,
    client: Client<<S::Tcp as Tcp>::Flow>,
}

/// `cohttp_client`'s connect.
pub mod client {
    use super::*;

    /// Connects `cohttp_client` over `stack`.
    pub fn connect<S: StackV4 + 'static>(stack: &'static S) -> Result<StackClient<S>, Infallible> {
        Ok(StackClient {
            stack,
            client: Client::new(),
        })
    }
}

impl<S: StackV4 + 'static> HttpClient for StackClient<S> {
    async fn request(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<ClientResponse, ClientError> {
        let tcp = self.stack.tcp();
        self.client
            .request(|to| tcp.connect(to), method, url, headers, body)
            .await
    }
}

impl<S: StackV4 + 'static> StackClient<S> {
    /// Closes the kept connection, if any.
    pub async fn close(&self) {
        self.client.close().await;
    }
}
