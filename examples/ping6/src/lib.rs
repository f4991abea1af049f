//! mirage-skeleton device-usage/ping6: IPv6 over Ethernet. The IPv6 layer answers echo
//! requests by itself; the job logs its addresses once usable, then each request. With
//! `--ping=ADDRESS` it also pings that address and logs the replies.

#![no_std]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use unik_net::devices::ethernet::Ethernet;
use unik_net::devices::ipv6::Ipv6;
use unik_net::ipv6::AddrState;
use unik_net::{Error, Icmpv6Event};
use unik_rt::{JobError, Network};

pub struct Ping6;

/// The identifier of our echo requests.
const IDENT: u16 = 0x7036;

impl Ping6 {
    pub async fn start<N: Network + 'static>(
        net: &'static N,
        eth: &'static Ethernet<N>,
        ip: &'static Ipv6<N>,
    ) -> Result<(), JobError> {
        let target = unik_rt::keys::string("ping")?;
        let target: Option<Ipv6Addr> = if target.is_empty() {
            None
        } else {
            Some(target.parse().map_err(|_| {
                JobError::new(alloc::format!("--ping={target} is not an IPv6 address"))
            })?)
        };
        // Duplicate address detection takes about a second.
        ip.settled().await?;
        let mut known = Vec::new();
        log_new_addresses(net, eth, ip, &mut known);
        // Addresses formed later (SLAAC from a router advertisement) are logged once usable.
        drop(unik_rt::spawn(async move {
            loop {
                unik_rt::time::sleep_until(unik_rt::exec::now_ns() + 250_000_000).await;
                log_new_addresses(net, eth, ip, &mut known);
            }
        }));
        unik_rt::log::info!(target: "ping6", "answering pings");
        if let Some(dst) = target {
            drop(unik_rt::spawn(pinger(eth, dst)));
        }
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
                Icmpv6Event::EchoReply {
                    from,
                    ident: IDENT,
                    seq,
                    len,
                } => unik_rt::log::info!(
                    target: "ping6",
                    "echo reply from {from}: seq {seq}, {len} bytes"
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

/// Logs the usable addresses not in `known` yet and adds them to it.
fn log_new_addresses<N: Network + 'static>(
    net: &N,
    eth: &Ethernet<N>,
    ip: &Ipv6<N>,
    known: &mut Vec<Ipv6Addr>,
) {
    for a in ip.addresses() {
        if a.state != AddrState::Preferred || known.contains(&a.address) {
            continue;
        }
        known.push(a.address);
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
}

/// Three echo requests of 56 bytes then three of 3000 (fragmented), a second apart.
async fn pinger<N: Network + 'static>(eth: &'static Ethernet<N>, dst: Ipv6Addr) {
    for (i, size) in [56usize, 56, 56, 3000, 3000, 3000].into_iter().enumerate() {
        let seq = i as u16 + 1;
        let data = vec![(seq & 0xff) as u8; size];
        loop {
            match eth.with_interface(|i| i.icmpv6_echo_request(dst, IDENT, seq, &data)) {
                Ok(()) => break,
                // The queue is full or the neighbour is being resolved.
                Err(Error::WouldBlock) => eth.changed().await,
                Err(e) => {
                    unik_rt::log::warn!(target: "ping6", "echo request to {dst}: {e}");
                    return;
                }
            }
        }
        unik_rt::log::info!(target: "ping6", "echo request to {dst}: seq {seq}, {size} bytes");
        unik_rt::time::sleep_until(unik_rt::exec::now_ns() + 1_000_000_000).await;
    }
}
