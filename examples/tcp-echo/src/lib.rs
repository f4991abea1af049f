//! A TCP echo server: each connection gets back every byte it sends, until it closes its
//! side. Connections are served concurrently. With `--connections=N` the server stops after
//! N connections, once they are all served, and logs the stack's counters (`StackV4::stats`)
//! on one line before the unikernel exits; the counters are also logged if accepting fails.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
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
        let limit = unik_rt::keys::int("connections")?;
        let limit = u64::try_from(limit)
            .map_err(|_| JobError::new(format!("--connections={limit} is negative")))?;
        let listener = stack.tcp().listen(port).await?;
        let addrs = stack.ipv4_addresses();
        unik_rt::log::info!(target: "tcp-echo", "listening on {addrs:?} port {}", listener.local_port());
        let mut served = Vec::new();
        let mut accepted = 0;
        while limit == 0 || accepted < limit {
            let flow = match listener.accept().await {
                Ok(flow) => flow,
                Err(e) => {
                    unik_rt::log::info!(target: "tcp-echo", "{}", stack.stats());
                    return Err(e.into());
                }
            };
            accepted += 1;
            let handle = unik_rt::spawn(async move {
                let peer = flow.peer();
                match echo(&flow).await {
                    Ok(n) => unik_rt::log::info!(target: "tcp-echo", "{peer}: echoed {n} bytes"),
                    Err(e) => unik_rt::log::warn!(target: "tcp-echo", "{peer}: {e}"),
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
        unik_rt::log::info!(target: "tcp-echo", "{}", stack.stats());
        Ok(())
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
