//! `ethif`: Ethernet over a network device. Connecting it creates the interface every
//! higher layer shares and starts its driver.

use unik_rt::{ETHERNET_HEADER, Mac, NetError, Network};

use super::ConnectError;
use super::driver::Shared;
use crate::iface::{Icmpv6Event, Interface, Stats};
use crate::wire::MacAddr;
use crate::wire::ethernet::EthernetRepr;

/// The Ethernet layer of one interface.
pub struct Ethernet<N: Network + 'static> {
    pub(crate) shared: &'static Shared<N>,
}

/// `ethif $ net`: creates the interface over `net` and spawns its driver.
pub fn connect<N: Network + 'static>(net: &'static N) -> Result<Ethernet<N>, ConnectError> {
    Ok(Ethernet {
        shared: Shared::start(net)?,
    })
}

impl<N: Network + 'static> Ethernet<N> {
    pub fn mac(&self) -> Mac {
        self.shared.net.mac()
    }

    /// The largest payload after the Ethernet header.
    pub fn mtu(&self) -> usize {
        self.shared.net.mtu()
    }

    /// The seeds' `Ethernet.write`: `fill` gets the buffer after the header, `size` bytes
    /// (default: the MTU), and returns the payload length; `src` defaults to our address.
    pub async fn write<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        src: Option<Mac>,
        dst: Mac,
        ethertype: u16,
        size: Option<usize>,
        fill: F,
    ) -> Result<(), NetError> {
        let size = size.unwrap_or(self.mtu());
        let repr = EthernetRepr {
            src: MacAddr(src.unwrap_or(self.mac()).0),
            dst: MacAddr(dst.0),
            ethertype,
        };
        self.shared
            .net
            .write(ETHERNET_HEADER + size, |buf| {
                repr.emit(buf);
                let n = fill(&mut buf[ETHERNET_HEADER..]).min(size);
                ETHERNET_HEADER + n
            })
            .await
    }

    /// Runs `f` on the interface every layer of this device shares (the sans-IO API: IPv6
    /// configuration, `udp_send`/`tcp_connect` to IPv6 addresses, `icmpv6_echo_request`),
    /// then lets the driver transmit what `f` queued (only then: a kick wakes every waiter,
    /// so kicking for nothing would make a polling caller spin with the transmitter).
    pub fn with_interface<R>(&self, f: impl FnOnce(&mut Interface) -> R) -> R {
        let mut iface = self.shared.iface.borrow_mut();
        let r = f(&mut iface);
        let due = iface.poll_at().is_some_and(|t| t <= super::driver::now());
        drop(iface);
        if due {
            self.shared.kick();
        }
        r
    }

    /// Completes after the interface next made progress (a frame arrived, timers ran): wait
    /// on it between retries of a `with_interface` call that would block.
    pub async fn changed(&self) {
        self.shared.changed().await
    }

    /// The next ICMPv6 event (echo, error, duplicate address).
    pub async fn icmpv6_event(&self) -> Result<Icmpv6Event, NetError> {
        self.shared.icmpv6_event().await
    }

    /// Interface counters.
    pub fn stats(&self) -> Stats {
        self.shared.iface.borrow().stats()
    }

    /// Frames lost because the device was still busy with them after they were built.
    pub fn tx_lost(&self) -> u64 {
        self.shared.tx_lost()
    }

    /// The device error that stopped the interface's driver, if any.
    pub fn failure(&self) -> Option<NetError> {
        self.shared.failure()
    }
}
