//! mirage-skeleton applications/static_website (without TLS): HTTP/1.1 GET and HEAD of the
//! files in a read-only store, `index.html` for directories, keep-alive connections.
//! `--connections=N` stops it after N connections, once they are served, logging the stack's
//! counters on one line.

#![no_std]

extern crate alloc;

mod http;

use alloc::format;
use alloc::vec::Vec;

use unik_rt::{JobError, KvRo, StackV4, Tcp, TcpListener};

pub struct Server;

impl Server {
    pub async fn start<K: KvRo, S: StackV4>(
        kv: &'static K,
        stack: &'static S,
    ) -> Result<(), JobError>
    where
        <S::Tcp as Tcp>::Flow: 'static,
    {
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a TCP port")))?;
        let limit = unik_rt::keys::int("connections")?;
        let limit = u64::try_from(limit)
            .map_err(|_| JobError::new(format!("--connections={limit} is negative")))?;
        let listener = stack.tcp().listen(port).await?;
        let addrs = stack.ipv4_addresses();
        unik_rt::log::info!(target: "http", "serving on {addrs:?} port {}", listener.local_port());
        let mut served = Vec::new();
        let mut accepted = 0;
        while limit == 0 || accepted < limit {
            let flow = match listener.accept().await {
                Ok(flow) => flow,
                Err(e) => {
                    unik_rt::log::info!(target: "http", "{}", stack.stats());
                    return Err(e.into());
                }
            };
            accepted += 1;
            let handle = unik_rt::spawn(http::serve(kv, flow));
            // Kept only when the server is to stop, to wait for the last connections.
            if limit != 0 {
                served.push(handle);
            }
        }
        drop(listener);
        for handle in served {
            handle.await;
        }
        unik_rt::log::info!(target: "http", "{}", stack.stats());
        Ok(())
    }
}
