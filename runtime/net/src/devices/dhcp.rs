//! `ipv4_of_dhcp`: IPv4 whose address comes from a DHCP lease (RFC 2131), renewed at T1,
//! rebound at T2, dropped at expiry. Operations that need an address wait for the lease.

use unik_rt::{Network, Random};

use super::ConnectError;
use super::arp::Arp;
use super::ethernet::Ethernet;
use super::ipv4::{Ipv4, same};

/// `ipv4_of_dhcp $ net $ eth $ arp $ random`: starts the DHCP client on the interface.
pub fn connect<N: Network + 'static, R: Random>(
    net: &'static N,
    eth: &'static Ethernet<N>,
    arp: &'static Arp<N>,
    random: &'static R,
) -> Result<Ipv4<N>, ConnectError> {
    let shared = same(eth.shared, arp.shared)?;
    if !core::ptr::eq(net, shared.net) {
        return Err(ConnectError::DifferentInterfaces);
    }
    let seed = seed(random)?;
    if shared.addressed.replace(true) {
        return Err(ConnectError::AlreadyConfigured);
    }
    let mut iface = shared.iface.borrow_mut();
    iface.reseed(seed);
    iface.start_dhcp();
    drop(iface);
    shared.kick();
    Ok(Ipv4 { shared })
}

pub(crate) fn seed<R: Random>(random: &R) -> Result<u64, ConnectError> {
    let mut b = [0u8; 8];
    random.fill(&mut b)?;
    Ok(u64::from_le_bytes(b))
}
