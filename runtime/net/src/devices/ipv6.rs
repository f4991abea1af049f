//! `create_ipv6`: IPv6 over Ethernet (neighbour discovery, SLAAC, duplicate address
//! detection, MLD, fragmentation and reassembly are the interface's).

use alloc::string::ToString;
use alloc::vec::Vec;
use core::net::Ipv6Addr;

use unik_rt::{NetError, Network};

use super::ConnectError;
use super::ethernet::Ethernet;
use crate::ipv6::{AddrInfo, AddrState, Ipv6Config};

/// The IPv6 layer of one interface.
pub struct Ipv6<N: Network + 'static> {
    pub(crate) shared: &'static super::driver::Shared<N>,
}

/// `create_ipv6 $ net $ eth` with `cidr` (`"2001:db8::2/64"`, `""` for none: link-local and
/// router advertisements only), `gateway` (`""` for none) and whether to form addresses
/// from router advertisements. The link-local address is always configured.
pub fn connect<N: Network + 'static>(
    net: &'static N,
    eth: &'static Ethernet<N>,
    cidr: &str,
    gateway: &str,
    accept_ra: bool,
) -> Result<Ipv6<N>, ConnectError> {
    if !core::ptr::eq(net, eth.shared.net) {
        return Err(ConnectError::DifferentInterfaces);
    }
    let gateway = match gateway.trim() {
        "" => None,
        g => Some(
            g.parse::<Ipv6Addr>()
                .map_err(|_| ConnectError::BadIpv6Gateway(g.to_string()))?,
        ),
    };
    let cfg = match cidr.trim() {
        "" => None,
        c => Some(
            Ipv6Config::from_cidr(c, gateway)
                .map_err(|_| ConnectError::BadIpv6Cidr(cidr.to_string()))?,
        ),
    };
    if net.mtu() < crate::wire::ipv6::MIN_MTU {
        return Err(ConnectError::MtuTooSmall(net.mtu()));
    }
    let shared = eth.shared;
    let mut iface = shared.iface.borrow_mut();
    if iface.ipv6_enabled() {
        return Err(ConnectError::AlreadyConfigured);
    }
    iface.enable_ipv6(cfg, accept_ra);
    drop(iface);
    shared.kick();
    Ok(Ipv6 { shared })
}

impl<N: Network + 'static> Ipv6<N> {
    /// Every address and its state (tentative during DAD, preferred, duplicate).
    pub fn addresses(&self) -> Vec<AddrInfo> {
        self.shared.iface.borrow().ipv6_addresses()
    }

    /// Usable addresses.
    pub fn preferred(&self) -> Vec<Ipv6Addr> {
        self.addresses()
            .into_iter()
            .filter(|a| a.state == AddrState::Preferred)
            .map(|a| a.address)
            .collect()
    }

    /// Waits until `address` passed duplicate address detection; fails with
    /// `NetError::Io(EADDRINUSE)` if another node on the link uses it.
    pub async fn ready(&self, address: Ipv6Addr) -> Result<(), NetError> {
        loop {
            let state = self
                .addresses()
                .into_iter()
                .find(|a| a.address == address)
                .map(|a| a.state);
            match state {
                Some(AddrState::Preferred) => return Ok(()),
                Some(AddrState::Duplicate) => return Err(NetError::Io(98)),
                _ => {}
            }
            if let Some(e) = self.shared.failure() {
                return Err(e);
            }
            self.shared.changed().await;
        }
    }

    /// Waits until no address is tentative any more (every one passed or failed DAD).
    pub async fn settled(&self) -> Result<(), NetError> {
        loop {
            if self
                .addresses()
                .iter()
                .all(|a| a.state != AddrState::Tentative)
            {
                return Ok(());
            }
            if let Some(e) = self.shared.failure() {
                return Err(e);
            }
            self.shared.changed().await;
        }
    }

    /// The largest IPv6 packet on the link.
    pub fn mtu(&self) -> usize {
        self.shared.iface.borrow().ipv6_mtu()
    }
}
