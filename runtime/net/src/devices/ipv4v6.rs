//! `create_ipv4v6`: the two IP layers of one interface as one device (MirageOS 4's
//! `Tcpip_stack_direct.IPV4V6`), honouring `--ipv4-only` and `--ipv6-only`.

use unik_rt::Network;

use super::ConnectError;
use super::ipv4::{Ipv4, same};
use super::ipv6::Ipv6;

pub struct Ipv4v6<N: Network + 'static> {
    pub ipv4: &'static Ipv4<N>,
    pub ipv6: &'static Ipv6<N>,
}

/// `create_ipv4v6 $ ipv4 $ ipv6` with the `ipv4-only` and `ipv6-only` keys: the first turns
/// IPv6 off, the second drops the IPv4 address and stops DHCP. Both at once is an error.
pub fn connect<N: Network + 'static>(
    ipv4: &'static Ipv4<N>,
    ipv6: &'static Ipv6<N>,
    ipv4_only: bool,
    ipv6_only: bool,
) -> Result<Ipv4v6<N>, ConnectError> {
    let shared = same(ipv4.shared, ipv6.shared)?;
    if ipv4_only && ipv6_only {
        return Err(ConnectError::BothOnly);
    }
    let mut iface = shared.iface.borrow_mut();
    if ipv4_only {
        iface.disable_ipv6();
    }
    if ipv6_only {
        iface.stop_dhcp();
        iface.set_ipv4_config(None);
    }
    drop(iface);
    shared.kick();
    Ok(Ipv4v6 { ipv4, ipv6 })
}
