//! Resolves the name of `--domain-name` and logs each address (`NAME: ADDRESS`), IPv6 first;
//! `--repeat=N` resolves it N times. The client's counters (queries sent, cache hits) are
//! logged at the end. A failed resolution (NXDOMAIN, SERVFAIL, no answer in time) fails the
//! job with the resolver's message. With `--connect-port=PORT`, it then connects to the name
//! by happy eyeballs (`connected to ADDRESS`), sends a line and logs what comes back.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use unik_dns::devices::{DnsClient, HappyEyeballs, Stream};
use unik_rt::JobError;

pub struct Resolve;

impl Resolve {
    pub async fn start<D: DnsClient, H: HappyEyeballs>(
        dns: &'static D,
        he: &'static H,
    ) -> Result<(), JobError> {
        let name = unik_rt::keys::string("domain-name")?;
        let repeat = unik_rt::keys::int("repeat")?;
        let port = unik_rt::keys::int("connect-port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--connect-port={port} is not a TCP port")))?;
        for _ in 0..repeat.max(1) {
            let addrs = dns
                .getaddrinfo(&name)
                .await
                .map_err(|e| JobError::new(format!("{name}: {e}")));
            let addrs = match addrs {
                Ok(a) if a.is_empty() => Err(JobError::new(format!("{name}: no address"))),
                r => r,
            };
            let addrs = match addrs {
                Ok(a) => a,
                Err(e) => {
                    unik_rt::log::info!(target: "dns", "{}", dns.stats());
                    return Err(e);
                }
            };
            for a in addrs {
                unik_rt::log::info!(target: "dns", "{name}: {a}");
            }
        }
        unik_rt::log::info!(target: "dns", "{}", dns.stats());
        if port != 0 {
            let (addr, flow) = he
                .connect_host(dns, &name, port)
                .await
                .map_err(|e| JobError::new(format!("{name}:{port}: {e}")))?;
            unik_rt::log::info!(target: "dns", "connected to {addr}");
            let line = format!("hello from {addr}\n");
            flow.write(line.as_bytes())
                .await
                .map_err(|e| JobError::new(format!("{addr}: {e}")))?;
            let mut buf = vec![0u8; 512];
            let n = flow
                .read(&mut buf)
                .await
                .map_err(|e| JobError::new(format!("{addr}: {e}")))?;
            unik_rt::log::info!(target: "dns", "{addr} answered {n} bytes");
            let _ = flow.close().await;
        }
        Ok(())
    }
}
