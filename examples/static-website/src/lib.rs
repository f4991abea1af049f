//! mirage-skeleton applications/static_website (without TLS): HTTP/1.1 GET and HEAD of the
//! files in a read-only store, `index.html` for directories, keep-alive connections.

#![no_std]

extern crate alloc;

mod http;

use alloc::format;

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
        let listener = stack.tcp().listen(port).await?;
        let addrs = stack.ipv4_addresses();
        unik_rt::log::info!(target: "http", "serving on {addrs:?} port {}", listener.local_port());
        loop {
            let flow = listener.accept().await?;
            drop(unik_rt::spawn(http::serve(kv, flow)));
        }
    }
}
