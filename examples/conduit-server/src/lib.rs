//! mirage-skeleton device-usage/conduit_server over TLS: every connection is
//! a TLS session (the chain and key from the store), and gets back every
//! byte it sends until it closes. Connections are served concurrently; a
//! refused handshake (no common version, a client that rejects the
//! certificate) is logged with its reason. `--connections=N` stops the
//! server after N connections, once they are served.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use unik_rt::{
    Conduit, ConduitFlow, JobError, KvRo, TcpError, TcpFlow, TcpListener, TlsServerConfig,
};

pub struct Server;

impl Server {
    pub async fn start<C: Conduit, K: KvRo>(
        conduit: &'static C,
        tls: &'static K,
    ) -> Result<(), JobError>
    where
        C::Flow: 'static,
    {
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a TCP port")))?;
        let limit = unik_rt::keys::int("connections")?;
        let limit = u64::try_from(limit)
            .map_err(|_| JobError::new(format!("--connections={limit} is negative")))?;
        let config = TlsServerConfig::from_store(tls, "server.pem", "server.key").await?;
        let listener = conduit.listen(port, Some(&config)).await?;
        unik_rt::log::info!(target: "conduit-server", "TLS echo on port {}", listener.local_port());
        let mut served = Vec::new();
        let mut accepted = 0;
        while limit == 0 || accepted < limit {
            let flow = listener.accept().await?;
            accepted += 1;
            let handle = unik_rt::spawn(async move {
                let peer = flow.peer();
                match echo(&flow).await {
                    Ok(n) => unik_rt::log::info!(
                        target: "conduit-server",
                        "{peer}: {} echoed {n} bytes",
                        flow.tls_version().unwrap_or("TCP")
                    ),
                    Err(e) => unik_rt::log::warn!(target: "conduit-server", "{peer}: {e}"),
                }
                let _ = flow.close().await;
            });
            // Kept only when the server is to stop, to wait for the last connections.
            if limit != 0 {
                served.push(handle);
            }
        }
        drop(listener);
        for handle in served {
            handle.await;
        }
        Ok(())
    }
}

async fn echo(flow: &impl ConduitFlow) -> Result<u64, TcpError> {
    flow.handshake().await?;
    let mut buf = vec![0u8; 1 << 14];
    let mut total = 0;
    loop {
        let n = flow.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        flow.write(&buf[..n]).await?;
        total += n as u64;
    }
}
