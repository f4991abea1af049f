//! Resolves the name of `--domain-name` and logs each address (`NAME: ADDRESS`), IPv6 first;
//! `--repeat=N` resolves it N times. The client's counters (queries sent, cache hits) are
//! logged at the end. A failed resolution (NXDOMAIN, SERVFAIL, no answer in time) fails the
//! job with the resolver's message.

#![no_std]

extern crate alloc;

use alloc::format;
use unik_dns::devices::DnsClient;
use unik_rt::JobError;

pub struct Resolve;

impl Resolve {
    pub async fn start<D: DnsClient>(dns: &'static D) -> Result<(), JobError> {
        let name = unik_rt::keys::string("domain-name")?;
        let repeat = unik_rt::keys::int("repeat")?;
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
        Ok(())
    }
}
