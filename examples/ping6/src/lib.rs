//! mirage-skeleton device-usage/ping6: IPv6 over Ethernet. The IPv6 layer answers echo
//! requests by itself; the job logs its addresses once usable, then each request.

#![no_std]

use unik_net::Icmpv6Event;
use unik_net::devices::ethernet::Ethernet;
use unik_net::devices::ipv6::Ipv6;
use unik_rt::{JobError, Network};

pub struct Ping6;

impl Ping6 {
    pub async fn start<N: Network + 'static>(
        net: &'static N,
        eth: &'static Ethernet<N>,
        ip: &'static Ipv6<N>,
    ) -> Result<(), JobError> {
        // Duplicate address detection takes about a second.
        ip.settled().await?;
        for a in ip.addresses() {
            unik_rt::log::info!(
                target: "ping6",
                "{}/{} ({:?}, {:?}) on {} (MTU {})",
                a.address,
                a.prefix_len,
                a.origin,
                a.state,
                eth.mac(),
                net.mtu()
            );
        }
        unik_rt::log::info!(target: "ping6", "answering pings");
        loop {
            match eth.icmpv6_event().await? {
                Icmpv6Event::EchoRequest {
                    from,
                    ident,
                    seq,
                    len,
                } => unik_rt::log::info!(
                    target: "ping6",
                    "echo request from {from}: id {ident} seq {seq}, {len} bytes"
                ),
                Icmpv6Event::DuplicateAddress { address } => unik_rt::log::error!(
                    target: "ping6",
                    "{address} is in use on the link: not used"
                ),
                Icmpv6Event::Unreachable { from, code, .. } => unik_rt::log::warn!(
                    target: "ping6",
                    "destination unreachable (code {code}) from {from}"
                ),
                _ => {}
            }
        }
    }
}
