//! `direct_stackv4`: the layers of one interface as a `unik_rt::StackV4`, interchangeable with
//! `socket_stackv4`.

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use unik_rt::{Network, StackStats, WireStats};

use super::ConnectError;
use super::arp::Arp;
use super::driver::Shared;
use super::ethernet::Ethernet;
use super::icmpv4::Icmpv4;
use super::ipv4::{Ipv4, same};
use super::ipv4v6::Ipv4v6;
use super::tcp::{Tcpv4, Tcpv4v6};
use super::udp::{Udpv4, Udpv4v6};

/// The direct IPv4 stack.
pub struct Stack<N: Network + 'static> {
    shared: &'static Shared<N>,
    udp: &'static Udpv4<N>,
    tcp: &'static Tcpv4<N>,
}

/// `direct_stackv4 $ net $ eth $ arp $ ip $ icmp $ udp $ tcp`: checks that every layer
/// belongs to the interface over `net`.
pub fn connect<N: Network + 'static>(
    net: &'static N,
    eth: &'static Ethernet<N>,
    arp: &'static Arp<N>,
    ip: &'static Ipv4<N>,
    icmp: &'static Icmpv4<N>,
    udp: &'static Udpv4<N>,
    tcp: &'static Tcpv4<N>,
) -> Result<Stack<N>, ConnectError> {
    let s = same(eth.shared, arp.shared)?;
    let s = same(s, ip.shared)?;
    let s = same(s, icmp.shared)?;
    let s = same(s, udp.shared)?;
    let s = same(s, tcp.shared())?;
    if !core::ptr::eq(net, s.net) {
        return Err(ConnectError::DifferentInterfaces);
    }
    Ok(Stack {
        shared: s,
        udp,
        tcp,
    })
}

impl<N: Network + 'static> unik_rt::StackV4 for Stack<N> {
    type Tcp = Tcpv4<N>;
    type Udp = Udpv4<N>;

    fn tcp(&self) -> &Tcpv4<N> {
        self.tcp
    }

    fn udp(&self) -> &Udpv4<N> {
        self.udp
    }

    fn ipv4_addresses(&self) -> Vec<Ipv4Addr> {
        self.shared
            .iface
            .borrow()
            .ipv4_config()
            .map(|c| c.address)
            .into_iter()
            .collect()
    }

    fn stats(&self) -> StackStats {
        stats_of(&self.shared.iface.borrow(), self.tcp.connected())
    }
}

/// The stack's counters for `unik_rt`'s summary.
fn stats_of(iface: &crate::Interface, tcp_connected: u64) -> StackStats {
    let s = iface.stats();
    StackStats {
        tcp_accepted: s.tcp_accepted,
        tcp_connected,
        wire: Some(WireStats {
            rx_frames: s.rx_frames,
            rx_dropped: s.rx_dropped,
            tx_frames: s.tx_frames,
            tx_dropped: s.tx_dropped,
            syn_received: s.syn_received,
            syn_cookies_sent: s.syn_cookies_sent,
            syn_cookies_accepted: s.syn_cookies_accepted,
            syn_cookies_rejected: s.syn_cookies_rejected,
            half_open_evicted: s.half_open_evicted,
            half_open_timed_out: s.half_open_timed_out,
            syn_dropped: s.syn_dropped,
            tcp_memory_refused: s.tcp_memory_refused,
            challenge_acks: s.challenge_acks,
            challenge_acks_suppressed: s.challenge_acks_suppressed,
            old_acks_dropped: s.old_acks_dropped,
            tcp_connections: s.tcp_connections,
            tcp_half_open: s.tcp_half_open,
            tcp_memory_reserved: s.tcp_memory_reserved,
            tcp_buffer_bytes: s.tcp_buffer_bytes,
            tcp_rx_queued: s.tcp_rx_queued,
            tcp_out_of_order: s.tcp_out_of_order,
            reassembly_bytes: s.reassembly_bytes,
            udp_queued: s.udp_queued,
        }),
    }
}

/// The direct dual stack (`stackv4v6_direct`, built by `direct_stackv4v6`).
pub struct StackV4V6<N: Network + 'static> {
    shared: &'static Shared<N>,
    udp: &'static Udpv4v6<N>,
    tcp: &'static Tcpv4v6<N>,
}

/// `stackv4v6_direct $ net $ eth $ arp $ ip $ icmp $ udp $ tcp`: checks that every layer
/// belongs to the interface over `net`.
pub fn connect_v4v6<N: Network + 'static>(
    net: &'static N,
    eth: &'static Ethernet<N>,
    arp: &'static Arp<N>,
    ip: &'static Ipv4v6<N>,
    icmp: &'static Icmpv4<N>,
    udp: &'static Udpv4v6<N>,
    tcp: &'static Tcpv4v6<N>,
) -> Result<StackV4V6<N>, ConnectError> {
    let s = same(eth.shared, arp.shared)?;
    let s = same(s, ip.ipv4.shared)?;
    let s = same(s, ip.ipv6.shared)?;
    let s = same(s, icmp.shared)?;
    let s = same(s, udp.udp.shared)?;
    let s = same(s, tcp.tcpv4().shared())?;
    if !core::ptr::eq(net, s.net) {
        return Err(ConnectError::DifferentInterfaces);
    }
    Ok(StackV4V6 {
        shared: s,
        udp,
        tcp,
    })
}

impl<N: Network + 'static> unik_rt::StackV4V6 for StackV4V6<N> {
    type Tcp = Tcpv4v6<N>;
    type Udp = Udpv4v6<N>;

    fn tcp(&self) -> &Tcpv4v6<N> {
        self.tcp
    }

    fn udp(&self) -> &Udpv4v6<N> {
        self.udp
    }

    fn ipv4_addresses(&self) -> Vec<Ipv4Addr> {
        self.shared
            .iface
            .borrow()
            .ipv4_config()
            .map(|c| c.address)
            .into_iter()
            .collect()
    }

    fn ipv6_addresses(&self) -> Vec<Ipv6Addr> {
        self.shared
            .iface
            .borrow()
            .ipv6_addresses()
            .into_iter()
            .filter(|a| a.state == crate::ipv6::AddrState::Preferred)
            .map(|a| a.address)
            .collect()
    }

    fn stats(&self) -> StackStats {
        let connected = self.tcp.tcpv4().connected();
        stats_of(&self.shared.iface.borrow(), connected)
    }
}
