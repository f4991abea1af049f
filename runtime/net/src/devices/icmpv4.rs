//! `direct_icmpv4`: ICMPv4 over IPv4. The interface answers echo requests and reports closed
//! UDP ports and protocols; this device sends echo requests and reports what arrives.

use core::net::Ipv4Addr;

use unik_rt::{NetError, Network};

use super::ConnectError;
use super::driver::Shared;
use super::ipv4::Ipv4;
use crate::iface::{Error, IcmpEvent};

/// The ICMP layer of one interface.
pub struct Icmpv4<N: Network + 'static> {
    pub(crate) shared: &'static Shared<N>,
}

/// `direct_icmpv4 $ ip`.
pub fn connect<N: Network + 'static>(ip: &'static Ipv4<N>) -> Result<Icmpv4<N>, ConnectError> {
    Ok(Icmpv4 { shared: ip.shared })
}

impl<N: Network + 'static> Icmpv4<N> {
    /// Sends an echo request (`ping`); the reply arrives as [`IcmpEvent::EchoReply`].
    /// Waits while the interface has no address or its transmit queue is full.
    pub async fn echo_request(
        &self,
        dst: Ipv4Addr,
        ident: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), Error> {
        loop {
            let r = self
                .shared
                .iface
                .borrow_mut()
                .icmp_echo_request(dst, ident, seq, data);
            match r {
                Err(Error::WouldBlock | Error::NoAddress) if self.shared.failure().is_none() => {
                    self.shared.kick();
                    self.shared.changed().await;
                }
                r => {
                    self.shared.kick();
                    return r;
                }
            }
        }
    }

    /// The next ICMP event (echo request answered, echo reply, destination unreachable).
    pub async fn event(&self) -> Result<IcmpEvent, NetError> {
        self.shared.icmp_event().await
    }
}
