//! ICMPv4: echo replies, echo requests for the application, destination unreachable.

use alloc::vec;
use alloc::vec::Vec;

use super::{Error, Interface, IpWrite, Outgoing};
use crate::wire::icmpv4::{self, IcmpRepr};
use crate::wire::ipv4::{HEADER_LEN, Ipv4Repr};
use crate::wire::{Ipv4Addr, get_ip, get_u16, proto};

/// What the ICMP hook sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpEvent {
    /// A ping for us (answered if it was unicast).
    EchoRequest {
        from: Ipv4Addr,
        ident: u16,
        seq: u16,
        len: usize,
    },
    EchoReply {
        from: Ipv4Addr,
        ident: u16,
        seq: u16,
        len: usize,
    },
    /// `protocol`, `dst` and `dst_port` describe the packet of ours that was refused.
    Unreachable {
        from: Ipv4Addr,
        code: u8,
        protocol: u8,
        dst: Ipv4Addr,
        dst_port: Option<u16>,
    },
}

/// Bytes of the offending datagram's payload quoted in an error (RFC 792: 64 bits).
const QUOTED: usize = 8;

impl Interface {
    fn icmp_event(&mut self, e: IcmpEvent) {
        if let Some(hook) = self.icmp_hook.as_mut() {
            hook(&e);
        }
    }

    pub(super) fn receive_icmp(&mut self, ip: &Ipv4Repr, payload: &[u8]) {
        let Ok(packet) = icmpv4::Packet::new_checked(payload) else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        let Ok(repr) = IcmpRepr::parse(&packet) else {
            self.link.stats.rx_dropped += 1;
            return;
        };
        match repr {
            IcmpRepr::EchoRequest { ident, seq, data } => {
                self.icmp_event(IcmpEvent::EchoRequest {
                    from: ip.src,
                    ident,
                    seq,
                    len: data.len(),
                });
                // Broadcast pings go unanswered, as on Linux by default.
                if self.our_unicast(ip.dst) {
                    let reply = IcmpRepr::EchoReply { ident, seq, data };
                    let mut buf = vec![0u8; reply.buffer_len()];
                    reply.emit(&mut buf);
                    let _ = self.queue(Outgoing::Ip {
                        w: IpWrite::new(ip.src, proto::ICMP),
                        data: buf,
                    });
                }
            }
            IcmpRepr::EchoReply { ident, seq, data } => self.icmp_event(IcmpEvent::EchoReply {
                from: ip.src,
                ident,
                seq,
                len: data.len(),
            }),
            IcmpRepr::DstUnreachable { code, data, .. } => {
                // The quoted header may be cut short; read only what is there.
                if data.len() < HEADER_LEN {
                    return;
                }
                let ihl = usize::from(data[0] & 0x0f) * 4;
                let dst_port =
                    (ihl >= HEADER_LEN && data.len() >= ihl + 4).then(|| get_u16(data, ihl + 2));
                self.icmp_event(IcmpEvent::Unreachable {
                    from: ip.src,
                    code,
                    protocol: data[9],
                    dst: get_ip(data, 16),
                    dst_port,
                });
            }
        }
    }

    /// Queues an echo request; the reply arrives through the ICMP hook.
    pub fn icmp_echo_request(
        &mut self,
        dst: Ipv4Addr,
        ident: u16,
        seq: u16,
        data: &[u8],
    ) -> Result<(), Error> {
        if self.link.ip.is_none() {
            return Err(Error::NoAddress);
        }
        let req = IcmpRepr::EchoRequest { ident, seq, data };
        if req.buffer_len() > 65515 {
            return Err(Error::TooLarge);
        }
        let mut buf = vec![0u8; req.buffer_len()];
        req.emit(&mut buf);
        self.queue(Outgoing::Ip {
            w: IpWrite::new(dst, proto::ICMP),
            data: buf,
        })
    }

    /// Reports an undeliverable unicast datagram to its sender (never for broadcasts, and
    /// never about ICMP errors).
    pub(super) fn send_unreachable(
        &mut self,
        ip: &Ipv4Repr,
        header: Option<&[u8]>,
        payload: &[u8],
        code: u8,
    ) {
        let bad_src = ip.src.is_broadcast()
            || ip.src.is_multicast()
            || ip.src.is_unspecified()
            || self
                .link
                .ip
                .is_some_and(|c| c.prefix_len < 31 && c.broadcast() == ip.src);
        if !self.our_unicast(ip.dst) || bad_src {
            return;
        }
        let mut quoted: Vec<u8> = match header {
            Some(h) => h.to_vec(),
            None => {
                let mut h = vec![0u8; HEADER_LEN];
                ip.emit(&mut h);
                h
            }
        };
        quoted.extend_from_slice(&payload[..payload.len().min(QUOTED)]);
        let msg = IcmpRepr::DstUnreachable {
            code,
            next_hop_mtu: 0,
            data: &quoted,
        };
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.emit(&mut buf);
        let _ = self.queue(Outgoing::Ip {
            w: IpWrite::new(ip.src, proto::ICMP),
            data: buf,
        });
    }
}
