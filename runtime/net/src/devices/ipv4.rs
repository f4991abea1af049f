//! `create_ipv4`: IPv4 with a static address over Ethernet and ARP (fragmentation and the
//! seeds' reassembly rules are the interface's). `ipv4_of_dhcp` ([`super::dhcp`]) yields the
//! same device type with a leased address.

use alloc::string::ToString;
use alloc::vec::Vec;
use core::future::poll_fn;
use core::net::Ipv4Addr;
use core::task::Poll;

use unik_rt::{NetError, Network};

use super::ConnectError;
use super::arp::Arp;
use super::driver::{Shared, now};
use super::ethernet::Ethernet;
use crate::dhcp::{DhcpState, Lease};
use crate::iface::{Error, IcmpEvent, IpWrite};
use crate::ipv4::Ipv4Config;

/// The IPv4 layer of one interface.
pub struct Ipv4<N: Network + 'static> {
    pub(crate) shared: &'static Shared<N>,
}

/// `create_ipv4 $ eth $ arp` with `cidr` (`"10.0.0.2/24"`) and `gateway` (`""` for none).
pub fn connect<N: Network + 'static>(
    eth: &'static Ethernet<N>,
    arp: &'static Arp<N>,
    cidr: &str,
    gateway: &str,
) -> Result<Ipv4<N>, ConnectError> {
    let shared = same(eth.shared, arp.shared)?;
    let gateway = match gateway.trim() {
        "" => None,
        g => Some(
            g.parse::<Ipv4Addr>()
                .map_err(|_| ConnectError::BadGateway(g.to_string()))?,
        ),
    };
    let cfg = Ipv4Config::from_cidr(cidr.trim(), gateway)
        .map_err(|_| ConnectError::BadCidr(cidr.to_string()))?;
    if shared.addressed.replace(true) {
        return Err(ConnectError::AlreadyConfigured);
    }
    shared.iface.borrow_mut().set_ipv4_config(Some(cfg));
    shared.kick();
    Ok(Ipv4 { shared })
}

/// Checks that two layers belong to the same interface.
pub(crate) fn same<N: Network + 'static>(
    a: &'static Shared<N>,
    b: &'static Shared<N>,
) -> Result<&'static Shared<N>, ConnectError> {
    if core::ptr::eq(a, b) {
        Ok(a)
    } else {
        Err(ConnectError::DifferentInterfaces)
    }
}

impl<N: Network + 'static> Ipv4<N> {
    /// The current address, prefix and gateway (`None` while DHCP has no lease).
    pub fn config(&self) -> Option<Ipv4Config> {
        self.shared.iface.borrow().ipv4_config()
    }

    pub fn addresses(&self) -> Vec<Ipv4Addr> {
        self.config().map(|c| c.address).into_iter().collect()
    }

    /// Waits until the interface has an address (at once for a static one); fails if the
    /// device stopped.
    pub async fn configured(&self) -> Result<Ipv4Config, NetError> {
        loop {
            if let Some(c) = self.config() {
                return Ok(c);
            }
            if let Some(e) = self.shared.failure() {
                return Err(e);
            }
            self.shared.changed().await;
        }
    }

    /// The largest IPv4 packet one frame carries.
    pub fn mtu(&self) -> usize {
        self.shared.iface.borrow().mtu()
    }

    /// The seeds' `Ipv4.write`: `fill` writes up to `size` bytes of transport header (default:
    /// what fits the MTU), `payloads` follow; the transport checksum is computed over the
    /// segment, and the packet is fragmented when it exceeds the MTU and `w.fragment` is set.
    /// Small packets to a resolved neighbour are built in the device's buffer.
    pub async fn write(
        &self,
        w: &IpWrite,
        size: Option<usize>,
        fill: impl FnOnce(&mut [u8]) -> usize,
        payloads: &[&[u8]],
    ) -> Result<(), Error> {
        let mut fill = Some(fill);
        let (r, _) = poll_fn(|cx| {
            let f = fill.take();
            Poll::Ready(self.shared.with_device(cx, |iface, dev| match f {
                Some(f) => iface.ipv4_write(now(), dev, w, size, f, payloads),
                None => Err(Error::Closed),
            }))
        })
        .await;
        // Fragments or an ARP request may be left for the transmitter.
        self.shared.kick();
        // `WouldBlock`: the device refused before `fill` ran; nothing was sent.
        r
    }

    /// The next ICMP echo request, reply or unreachable seen (echo requests are answered by
    /// the stack itself).
    pub async fn icmp_event(&self) -> Result<IcmpEvent, NetError> {
        self.shared.icmp_event().await
    }

    pub fn dhcp_state(&self) -> Option<DhcpState> {
        self.shared.iface.borrow().dhcp_state()
    }

    pub fn dhcp_lease(&self) -> Option<Lease> {
        self.shared.iface.borrow().dhcp_lease().copied()
    }
}
