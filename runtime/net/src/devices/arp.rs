//! `arpv4`: ARP over Ethernet. The cache, retried requests, replies and gratuitous ARP live in
//! the shared interface; this device is the layer handle and looks into the cache.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use unik_rt::{Mac, Network};

use super::ConnectError;
use super::driver::{Shared, now};
use super::ethernet::Ethernet;

/// The ARP layer of one interface.
pub struct Arp<N: Network + 'static> {
    pub(crate) shared: &'static Shared<N>,
}

/// `arpv4 $ eth`.
pub fn connect<N: Network + 'static>(eth: &'static Ethernet<N>) -> Result<Arp<N>, ConnectError> {
    Ok(Arp { shared: eth.shared })
}

impl<N: Network + 'static> Arp<N> {
    /// The addresses ARP answers for (the interface's, once configured).
    pub fn addresses(&self) -> Vec<Ipv4Addr> {
        self.shared
            .iface
            .borrow()
            .ipv4_config()
            .map(|c| c.address)
            .into_iter()
            .collect()
    }

    /// The neighbour's MAC address if the cache holds a live entry for `ip`.
    pub fn lookup(&self, ip: Ipv4Addr) -> Option<Mac> {
        self.shared
            .iface
            .borrow_mut()
            .arp_lookup(now(), ip)
            .map(|m| Mac(m.0))
    }
}
