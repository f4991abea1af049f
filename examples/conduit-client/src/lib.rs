//! A TLS client over a conduit: connects, verifies the server against the
//! authorities in the store (`ca.pem`), sends one line and prints the
//! answer, with the TLS version and the ALPN protocol agreed on. Every
//! failure (refused certificate included) is the job's error: printed,
//! and the exit status is 1.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec;
use core::net::{Ipv4Addr, SocketAddrV4};
use unik_rt::{Conduit, ConduitFlow, JobError, KvRo, TcpFlow, TlsClientConfig};

pub struct Client;

impl Client {
    pub async fn start<C: Conduit, K: KvRo>(
        conduit: &'static C,
        ca: &'static K,
    ) -> Result<(), JobError> {
        let host = unik_rt::keys::string("host")?;
        let addr: Ipv4Addr = host
            .parse()
            .map_err(|_| JobError::new(format!("--host={host} is not an IPv4 address")))?;
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a TCP port")))?;
        let mut name = unik_rt::keys::string("name")?;
        if name.is_empty() {
            name = host.clone();
        }
        let message = unik_rt::keys::string("message")?;
        let alpn = unik_rt::keys::string("alpn")?;

        let mut tls = TlsClientConfig::from_store(ca, "ca.pem", &name).await?;
        if !alpn.is_empty() {
            tls.alpn = vec![alpn.into_bytes()];
        }
        let flow = conduit
            .connect(SocketAddrV4::new(addr, port), Some(&tls))
            .await
            .map_err(|e| JobError::new(format!("{name} ({addr}:{port}): {e}")))?;
        let agreed = flow
            .alpn()
            .map(|p| String::from_utf8_lossy(&p).into_owned())
            .unwrap_or_else(|| "-".into());
        unik_rt::log::info!(
            target: "conduit-client",
            "connected to {name}: {} alpn {agreed}",
            flow.tls_version().unwrap_or("TCP")
        );
        flow.write(format!("{message}\n").as_bytes()).await?;
        // The answer is one line (an echo server's, or `openssl s_server`'s).
        let mut answer = vec![];
        let mut buf = [0u8; 1024];
        while !answer.contains(&b'\n') {
            let n = flow.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
        }
        let _ = flow.close().await;
        let answer = String::from_utf8_lossy(&answer);
        unik_rt::log::info!(target: "conduit-client", "answer: {}", answer.trim_end());
        Ok(())
    }
}
