//! A TCP echo server: each connection gets back every byte it sends, until it closes its
//! side. Connections are served concurrently.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use unik_rt::{JobError, StackV4, Tcp, TcpError, TcpFlow, TcpListener};

pub struct Echo;

impl Echo {
    pub async fn start<S: StackV4>(stack: &'static S) -> Result<(), JobError>
    where
        <S::Tcp as Tcp>::Flow: 'static,
    {
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a TCP port")))?;
        let listener = stack.tcp().listen(port).await?;
        let addrs = stack.ipv4_addresses();
        unik_rt::log::info!(target: "tcp-echo", "listening on {addrs:?} port {}", listener.local_port());
        loop {
            let flow = listener.accept().await?;
            drop(unik_rt::spawn(async move {
                let peer = flow.peer();
                match echo(&flow).await {
                    Ok(n) => unik_rt::log::info!(target: "tcp-echo", "{peer}: echoed {n} bytes"),
                    Err(e) => unik_rt::log::warn!(target: "tcp-echo", "{peer}: {e}"),
                }
                let _ = flow.close().await;
            }));
        }
    }
}

async fn echo(flow: &impl TcpFlow) -> Result<u64, TcpError> {
    let mut buf = vec![0u8; 1 << 16];
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
