//! mirage-skeleton device-usage/ping (IPv4): the direct stack's layers applied one by one.
//! The IPv4 layer answers ICMP echo requests by itself; the job logs each one.

#![no_std]

use unik_net::IcmpEvent;
use unik_net::devices::ethernet::Ethernet;
use unik_net::devices::ipv4::Ipv4;
use unik_rt::{JobError, Network};

pub struct Ping;

impl Ping {
    pub async fn start<N: Network + 'static>(
        net: &'static N,
        eth: &'static Ethernet<N>,
        ip: &'static Ipv4<N>,
    ) -> Result<(), JobError> {
        let cfg = ip.configured().await?;
        unik_rt::log::info!(
            target: "ping",
            "{}/{} on {} (MTU {}), answering pings",
            cfg.address,
            cfg.prefix_len,
            eth.mac(),
            net.mtu()
        );
        loop {
            match ip.icmp_event().await? {
                IcmpEvent::EchoRequest {
                    from,
                    ident,
                    seq,
                    len,
                } => unik_rt::log::info!(
                    target: "ping",
                    "echo request from {from}: id {ident} seq {seq}, {len} bytes"
                ),
                IcmpEvent::Unreachable { from, code, .. } => unik_rt::log::warn!(
                    target: "ping",
                    "destination unreachable (code {code}) from {from}"
                ),
                IcmpEvent::EchoReply { .. } => {}
            }
        }
    }
}
