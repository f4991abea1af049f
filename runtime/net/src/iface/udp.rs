//! UDP sockets: bind a port, send datagrams, receive them with their source.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;

use super::{Error, Interface, IpRx};
use crate::time::Instant;
use crate::wire::dhcp::{self as dhcp_wire, DhcpRepr};
use crate::wire::icmpv4::unreachable;
use crate::wire::proto;
use crate::wire::udp::{self as udp_wire, UdpRepr};

/// Largest UDP payload in one datagram (IPv4's bound, applied to both families).
pub const MAX_DATAGRAM: usize = 65507;

/// A bound UDP port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpHandle {
    port: u16,
    generation: u32,
}

impl UdpHandle {
    pub fn port(&self) -> u16 {
        self.port
    }
}

#[derive(Debug)]
pub(super) struct Socket {
    generation: u32,
    rx: VecDeque<(SocketAddr, Vec<u8>)>,
    pub rx_bytes: usize,
    pub dropped: u64,
}

impl Interface {
    fn udp_socket(&mut self, h: UdpHandle) -> Result<&mut Socket, Error> {
        match self.udp.get_mut(&h.port) {
            Some(s) if s.generation == h.generation => Ok(s),
            _ => Err(Error::InvalidHandle),
        }
    }

    /// Binds `port` (0 picks an ephemeral port).
    pub fn udp_bind(&mut self, port: u16) -> Result<UdpHandle, Error> {
        let dhcp_port = self.dhcp.is_some().then_some(dhcp_wire::CLIENT_PORT);
        let port = if port == 0 {
            let start = self.rng.below(16384) as u16;
            (0..16384u16)
                .map(|i| 49152 + (start + i) % 16384)
                .find(|p| !self.udp.contains_key(p))
                .ok_or(Error::Exhausted)?
        } else {
            port
        };
        if self.udp.contains_key(&port) || Some(port) == dhcp_port {
            return Err(Error::AddrInUse);
        }
        let generation = self.new_generation();
        self.udp.insert(
            port,
            Socket {
                generation,
                rx: VecDeque::new(),
                rx_bytes: 0,
                dropped: 0,
            },
        );
        Ok(UdpHandle { port, generation })
    }

    pub fn udp_close(&mut self, h: UdpHandle) -> Result<(), Error> {
        self.udp_socket(h)?;
        self.udp.remove(&h.port);
        Ok(())
    }

    /// Queues one datagram to an IPv4 or IPv6 destination; `WouldBlock` when the transmit
    /// queue is full, `NoAddress` without an address of the destination's family.
    pub fn udp_send(
        &mut self,
        h: UdpHandle,
        dst: impl Into<SocketAddr>,
        data: &[u8],
    ) -> Result<(), Error> {
        let dst = dst.into();
        self.udp_socket(h)?;
        if data.len() > MAX_DATAGRAM {
            return Err(Error::TooLarge);
        }
        if self.source_for(dst.ip()).is_none() {
            return Err(Error::NoAddress);
        }
        let mut buf = vec![0u8; udp_wire::HEADER_LEN + data.len()];
        UdpRepr {
            src_port: h.port,
            dst_port: dst.port(),
        }
        .emit_header(&mut buf, data.len());
        buf[udp_wire::HEADER_LEN..].copy_from_slice(data);
        self.queue_ip(dst.ip(), proto::UDP, true, buf)
    }

    /// Takes the oldest datagram: copies what fits into `out` (the rest is discarded) and
    /// returns the copied length and the sender.
    pub fn udp_recv(&mut self, h: UdpHandle, out: &mut [u8]) -> Result<(usize, SocketAddr), Error> {
        let s = self.udp_socket(h)?;
        let (from, data) = s.rx.pop_front().ok_or(Error::WouldBlock)?;
        s.rx_bytes -= data.len();
        let n = data.len().min(out.len());
        out[..n].copy_from_slice(&data[..n]);
        Ok((n, from))
    }

    /// Datagrams dropped on this socket because its receive buffer was full.
    pub fn udp_dropped(&mut self, h: UdpHandle) -> Result<u64, Error> {
        Ok(self.udp_socket(h)?.dropped)
    }

    pub(super) fn receive_udp(
        &mut self,
        now: Instant,
        rx: &IpRx<'_>,
        payload: &[u8],
        trusted: bool,
    ) {
        let Ok(packet) = udp_wire::Packet::new_checked(payload) else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let parsed = if trusted {
            Ok(UdpRepr::parse_trusted(&packet))
        } else {
            UdpRepr::parse(&packet, rx.src(), rx.dst())
        };
        let Ok(repr) = parsed else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let v4 = matches!(rx, IpRx::V4 { .. });
        if v4 && repr.dst_port == dhcp_wire::CLIENT_PORT && self.dhcp.is_some() {
            self.receive_dhcp(now, packet.payload());
            return;
        }
        if v4 && self.link.ip.is_none() {
            self.link.stats.rx_dropped += 1;
            return;
        }
        let limit = self.udp_recv_buffer;
        match self.udp.get_mut(&repr.dst_port) {
            Some(s) => {
                let data = packet.payload();
                if s.rx_bytes + data.len() > limit {
                    s.dropped += 1;
                    return;
                }
                s.rx_bytes += data.len();
                s.rx.push_back((SocketAddr::new(rx.src(), repr.src_port), data.to_vec()));
            }
            None => {
                self.link.stats.rx_dropped += 1;
                match *rx {
                    IpRx::V4 { repr, header } => {
                        self.send_unreachable(repr, header, payload, unreachable::PORT)
                    }
                    IpRx::V6 { .. } => self.send_port_unreachable6(rx, payload),
                }
            }
        }
    }

    fn receive_dhcp(&mut self, now: Instant, payload: &[u8]) {
        let Ok(p) = dhcp_wire::Packet::new_checked(payload) else {
            return;
        };
        let Ok(msg) = DhcpRepr::parse(&p) else {
            return;
        };
        let event = self.dhcp.as_mut().and_then(|d| d.process(now, &msg));
        if let Some(e) = event {
            self.apply_dhcp(e);
        }
    }
}
