//! mirage-skeleton device-usage/network on the dual stack: a TCP echo server on IPv4 and
//! IPv6. Each connection gets back every byte it sends, until it closes its side; the same
//! port echoes UDP datagrams of either family.
//! `--connections=N` stops it after N connections, once served, logging the counters.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;

use unik_rt::{JobError, StackV4V6, Tcp, TcpFlow, TcpListener, Udp, UdpSocket};

pub struct Echo;

impl Echo {
    pub async fn start<S: StackV4V6>(stack: &'static S) -> Result<(), JobError> {
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a TCP port")))?;
        let limit = unik_rt::keys::int("connections")?;
        let limit = u64::try_from(limit)
            .map_err(|_| JobError::new(format!("--connections={limit} is negative")))?;
        let listener = stack.tcp().listen(port).await?;
        let socket = stack.udp().bind(port).await?;
        // Runs until the job returns.
        drop(unik_rt::spawn(async move {
            let mut buf = vec![0u8; 65536];
            loop {
                match socket.recv_from(&mut buf).await {
                    Ok((n, from)) => {
                        if let Err(e) = socket.send_to(&buf[..n], from).await {
                            unik_rt::log::warn!(target: "network", "UDP to {from}: {e}");
                        }
                    }
                    Err(e) => {
                        unik_rt::log::warn!(target: "network", "UDP: {e}");
                        return;
                    }
                }
            }
        }));
        unik_rt::log::info!(
            target: "network",
            "echo server listening on TCP and UDP port {} (IPv4 {:?}, IPv6 {:?})",
            listener.local_port(),
            stack.ipv4_addresses(),
            stack.ipv6_addresses()
        );
        let mut served = Vec::new();
        let mut accepted = 0;
        while limit == 0 || accepted < limit {
            let flow = listener.accept().await?;
            accepted += 1;
            let handle = unik_rt::spawn(async move {
                let peer: SocketAddr = flow.peer();
                match echo(&flow).await {
                    Ok(n) => unik_rt::log::info!(target: "network", "{peer}: echoed {n} bytes"),
                    Err(e) => unik_rt::log::warn!(target: "network", "{peer}: {e}"),
                }
                let _ = flow.close().await;
            });
            if limit != 0 {
                served.push(handle);
            }
        }
        drop(listener);
        for handle in served {
            handle.await;
        }
        unik_rt::log::info!(target: "network", "{}", stack.stats());
        Ok(())
    }
}

/// Echoes until the peer's end of stream; returns the byte count.
async fn echo(flow: &impl TcpFlow<SocketAddr>) -> Result<usize, unik_rt::TcpError> {
    let mut buf = vec![0u8; 4096];
    let mut total = 0;
    loop {
        let n = flow.read(&mut buf).await?;
        if n == 0 {
            return Ok(total);
        }
        flow.write(&buf[..n]).await?;
        total += n;
    }
}
