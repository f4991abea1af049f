//! ICMPv6 (RFC 4443) with neighbour discovery (RFC 4861) and MLDv2 (RFC 3810) messages.
//!
//! The checksum covers the IPv6 pseudo-header: [`Icmpv6Repr::parse`] verifies it given the
//! addresses, [`Icmpv6Repr::emit`] leaves it zero for the write path to fill (or
//! [`Icmpv6Repr::emit_checked`] fills it).

use super::checksum::{self, Checksum};
use super::ipv6::{get_ip6, put_ip6};
use super::{Error, Ipv6Addr, MacAddr, Result, get_u16, get_u32, put_u16, put_u32};

pub const HEADER_LEN: usize = 8;
pub const PROTOCOL: u8 = 58;

pub mod kind {
    pub const DST_UNREACHABLE: u8 = 1;
    pub const PACKET_TOO_BIG: u8 = 2;
    pub const TIME_EXCEEDED: u8 = 3;
    pub const PARAM_PROBLEM: u8 = 4;
    pub const ECHO_REQUEST: u8 = 128;
    pub const ECHO_REPLY: u8 = 129;
    pub const MLD_QUERY: u8 = 130;
    pub const ROUTER_SOLICIT: u8 = 133;
    pub const ROUTER_ADVERT: u8 = 134;
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
    pub const REDIRECT: u8 = 137;
    pub const MLDV2_REPORT: u8 = 143;
}

/// Destination-unreachable codes (RFC 4443 3.1).
pub mod unreachable {
    pub const NO_ROUTE: u8 = 0;
    pub const ADMIN: u8 = 1;
    pub const ADDRESS: u8 = 3;
    pub const PORT: u8 = 4;
}

/// Neighbour discovery option types (RFC 4861 4.6).
pub mod opt {
    pub const SOURCE_LL: u8 = 1;
    pub const TARGET_LL: u8 = 2;
    pub const PREFIX_INFO: u8 = 3;
    pub const MTU: u8 = 5;
}

/// MLDv2 multicast address record types (RFC 3810 5.2.12).
pub mod record {
    pub const MODE_IS_EXCLUDE: u8 = 2;
    pub const CHANGE_TO_EXCLUDE: u8 = 4;
    pub const CHANGE_TO_INCLUDE: u8 = 3;
}

/// A length-checked view of an ICMPv6 message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn msg_type(&self) -> u8 {
        self.b()[0]
    }
    pub fn code(&self) -> u8 {
        self.b()[1]
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.b(), 2)
    }
    pub fn verify_checksum(&self, src: Ipv6Addr, dst: Ipv6Addr) -> bool {
        let b = self.b();
        b.len() <= 0xffff
            && checksum::pseudo_header(src, dst, PROTOCOL, b.len() as u16)
                .push(b)
                .fold()
                == 0xffff
    }
}

/// Validated neighbour discovery options: every option has a non-zero length that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NdOptions<'a>(&'a [u8]);

impl<'a> NdOptions<'a> {
    pub fn parse(b: &'a [u8]) -> Result<NdOptions<'a>> {
        let mut i = 0;
        while i < b.len() {
            let len = usize::from(*b.get(i + 1).ok_or(Error::Truncated)?) * 8;
            if len == 0 {
                return Err(Error::Malformed);
            }
            if i + len > b.len() {
                return Err(Error::Truncated);
            }
            i += len;
        }
        Ok(NdOptions(b))
    }

    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }

    /// `(type, body after the two-byte type and length)` of each option.
    pub fn iter(&self) -> impl Iterator<Item = (u8, &'a [u8])> + 'a {
        let b = self.0;
        let mut i = 0;
        core::iter::from_fn(move || {
            let t = *b.get(i)?;
            let len = usize::from(*b.get(i + 1)?) * 8;
            let body = b.get(i + 2..i + len)?;
            i += len;
            Some((t, body))
        })
    }

    fn link_layer(&self, kind: u8) -> Option<MacAddr> {
        self.iter()
            .find(|(t, body)| *t == kind && body.len() >= 6)
            .map(|(_, body)| MacAddr::from_bytes(body))
    }

    pub fn source_mac(&self) -> Option<MacAddr> {
        self.link_layer(opt::SOURCE_LL)
    }

    pub fn target_mac(&self) -> Option<MacAddr> {
        self.link_layer(opt::TARGET_LL)
    }

    pub fn mtu(&self) -> Option<u32> {
        self.iter()
            .find(|(t, body)| *t == opt::MTU && body.len() >= 6)
            .map(|(_, body)| get_u32(body, 2))
    }

    /// The prefix information options (malformed ones, shorter than 32 bytes, are skipped).
    pub fn prefixes(&self) -> impl Iterator<Item = PrefixInfo> + 'a {
        self.iter()
            .filter(|(t, body)| *t == opt::PREFIX_INFO && body.len() >= 30)
            .map(|(_, b)| PrefixInfo {
                prefix_len: b[0],
                on_link: b[1] & 0x80 != 0,
                autonomous: b[1] & 0x40 != 0,
                valid_lifetime: get_u32(b, 2),
                preferred_lifetime: get_u32(b, 6),
                prefix: get_ip6(b, 14),
            })
    }
}

/// A prefix information option (RFC 4861 4.6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefixInfo {
    pub prefix_len: u8,
    /// The L flag: addresses in the prefix are on the link.
    pub on_link: bool,
    /// The A flag: hosts may form addresses in it (SLAAC).
    pub autonomous: bool,
    /// Seconds; 0xffffffff is infinity.
    pub valid_lifetime: u32,
    pub preferred_lifetime: u32,
    pub prefix: Ipv6Addr,
}

impl PrefixInfo {
    pub const OPTION_LEN: usize = 32;

    /// Writes the option (32 bytes).
    pub fn emit(&self, b: &mut [u8]) -> usize {
        b[..32].fill(0);
        b[0] = opt::PREFIX_INFO;
        b[1] = 4;
        b[2] = self.prefix_len;
        b[3] = (u8::from(self.on_link) << 7) | (u8::from(self.autonomous) << 6);
        put_u32(b, 4, self.valid_lifetime);
        put_u32(b, 8, self.preferred_lifetime);
        put_ip6(b, 16, self.prefix);
        32
    }
}

/// Writes a link-layer address option (8 bytes).
pub fn emit_ll_option(b: &mut [u8], kind: u8, mac: MacAddr) -> usize {
    b[0] = kind;
    b[1] = 1;
    b[2..8].copy_from_slice(&mac.0);
    8
}

/// Validated MLDv2 multicast address records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MldRecords<'a> {
    count: u16,
    bytes: &'a [u8],
}

impl<'a> MldRecords<'a> {
    fn parse(count: u16, b: &'a [u8]) -> Result<MldRecords<'a>> {
        let mut i = 0;
        for _ in 0..count {
            let h = b.get(i..i + 20).ok_or(Error::Truncated)?;
            let len = 20 + 16 * usize::from(get_u16(h, 2)) + 4 * usize::from(h[1]);
            if i + len > b.len() {
                return Err(Error::Truncated);
            }
            i += len;
        }
        Ok(MldRecords {
            count,
            bytes: &b[..i],
        })
    }

    /// `(record type, multicast address)` of each record.
    pub fn iter(&self) -> impl Iterator<Item = (u8, Ipv6Addr)> + 'a {
        let (b, mut left, mut i) = (self.bytes, self.count, 0usize);
        core::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            left -= 1;
            let h = b.get(i..i + 20)?;
            let item = (h[0], get_ip6(h, 4));
            i += 20 + 16 * usize::from(get_u16(h, 2)) + 4 * usize::from(h[1]);
            Some(item)
        })
    }

    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Writes an MLDv2 report (type 143) with one source-less record per `(type, group)`;
/// returns its length. The checksum is left zero.
pub fn emit_mld_report(b: &mut [u8], records: &[(u8, Ipv6Addr)]) -> usize {
    b[..HEADER_LEN].fill(0);
    b[0] = kind::MLDV2_REPORT;
    put_u16(b, 6, records.len() as u16);
    let mut at = HEADER_LEN;
    for (t, group) in records {
        b[at..at + 4].copy_from_slice(&[*t, 0, 0, 0]);
        put_ip6(b, at + 4, *group);
        at += 20;
    }
    at
}

/// Bytes of an MLDv2 report with `n` source-less records.
pub fn mld_report_len(n: usize) -> usize {
    HEADER_LEN + 20 * n
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NdiscRepr<'a> {
    RouterSolicit {
        source_mac: Option<MacAddr>,
    },
    /// `options` holds every option (source address, MTU, prefixes: see [`NdOptions`]).
    RouterAdvert {
        hop_limit: u8,
        managed: bool,
        other: bool,
        /// Seconds this router is a default router; 0: not one.
        router_lifetime: u16,
        reachable_time: u32,
        retrans_time: u32,
        options: NdOptions<'a>,
    },
    NeighborSolicit {
        target: Ipv6Addr,
        source_mac: Option<MacAddr>,
    },
    NeighborAdvert {
        router: bool,
        solicited: bool,
        override_: bool,
        target: Ipv6Addr,
        target_mac: Option<MacAddr>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Icmpv6Repr<'a> {
    /// `data`: as much of the offending packet as fits the minimum MTU.
    DstUnreachable {
        code: u8,
        data: &'a [u8],
    },
    PacketTooBig {
        mtu: u32,
        data: &'a [u8],
    },
    TimeExceeded {
        code: u8,
        data: &'a [u8],
    },
    ParamProblem {
        code: u8,
        pointer: u32,
        data: &'a [u8],
    },
    EchoRequest {
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    EchoReply {
        ident: u16,
        seq: u16,
        data: &'a [u8],
    },
    Ndisc(NdiscRepr<'a>),
    /// MLDv1 or v2 query; `group` unspecified for a general query.
    MldQuery {
        max_response: u16,
        group: Ipv6Addr,
    },
    MldReport(MldRecords<'a>),
}

impl<'a> Icmpv6Repr<'a> {
    /// Parses a message after verifying its checksum against `src` and `dst`; types this
    /// stack does not handle (redirects, MLDv1 reports, ...) are `Unsupported`.
    pub fn parse(p: &Packet<&'a [u8]>, src: Ipv6Addr, dst: Ipv6Addr) -> Result<Icmpv6Repr<'a>> {
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Icmpv6Repr::parse_unchecked(p)
    }

    /// As [`Icmpv6Repr::parse`], without the checksum.
    pub fn parse_unchecked(p: &Packet<&'a [u8]>) -> Result<Icmpv6Repr<'a>> {
        let b: &'a [u8] = p.buffer;
        let data = &b[HEADER_LEN..];
        let code = p.code();
        let word = get_u32(b, 4);
        let nd_code = |r: NdiscRepr<'a>| {
            if code == 0 {
                Ok(Icmpv6Repr::Ndisc(r))
            } else {
                Err(Error::Malformed)
            }
        };
        match p.msg_type() {
            kind::DST_UNREACHABLE => Ok(Icmpv6Repr::DstUnreachable { code, data }),
            kind::PACKET_TOO_BIG => Ok(Icmpv6Repr::PacketTooBig { mtu: word, data }),
            kind::TIME_EXCEEDED => Ok(Icmpv6Repr::TimeExceeded { code, data }),
            kind::PARAM_PROBLEM => Ok(Icmpv6Repr::ParamProblem {
                code,
                pointer: word,
                data,
            }),
            kind::ECHO_REQUEST if code == 0 => Ok(Icmpv6Repr::EchoRequest {
                ident: get_u16(b, 4),
                seq: get_u16(b, 6),
                data,
            }),
            kind::ECHO_REPLY if code == 0 => Ok(Icmpv6Repr::EchoReply {
                ident: get_u16(b, 4),
                seq: get_u16(b, 6),
                data,
            }),
            kind::ROUTER_SOLICIT => {
                let o = NdOptions::parse(data)?;
                nd_code(NdiscRepr::RouterSolicit {
                    source_mac: o.source_mac(),
                })
            }
            kind::ROUTER_ADVERT => {
                if b.len() < 16 {
                    return Err(Error::Truncated);
                }
                let options = NdOptions::parse(&b[16..])?;
                nd_code(NdiscRepr::RouterAdvert {
                    hop_limit: b[4],
                    managed: b[5] & 0x80 != 0,
                    other: b[5] & 0x40 != 0,
                    router_lifetime: get_u16(b, 6),
                    reachable_time: get_u32(b, 8),
                    retrans_time: get_u32(b, 12),
                    options,
                })
            }
            kind::NEIGHBOR_SOLICIT | kind::NEIGHBOR_ADVERT => {
                if b.len() < 24 {
                    return Err(Error::Truncated);
                }
                let target = get_ip6(b, 8);
                if target.is_multicast() {
                    return Err(Error::Malformed);
                }
                let o = NdOptions::parse(&b[24..])?;
                if p.msg_type() == kind::NEIGHBOR_SOLICIT {
                    nd_code(NdiscRepr::NeighborSolicit {
                        target,
                        source_mac: o.source_mac(),
                    })
                } else {
                    nd_code(NdiscRepr::NeighborAdvert {
                        router: b[4] & 0x80 != 0,
                        solicited: b[4] & 0x40 != 0,
                        override_: b[4] & 0x20 != 0,
                        target,
                        target_mac: o.target_mac(),
                    })
                }
            }
            kind::MLD_QUERY => {
                if b.len() < 24 {
                    return Err(Error::Truncated);
                }
                Ok(Icmpv6Repr::MldQuery {
                    max_response: get_u16(b, 4),
                    group: get_ip6(b, 8),
                })
            }
            kind::MLDV2_REPORT => {
                let n = get_u16(b, 6);
                Ok(Icmpv6Repr::MldReport(MldRecords::parse(n, data)?))
            }
            _ => Err(Error::Unsupported),
        }
    }

    pub fn buffer_len(&self) -> usize {
        match self {
            Icmpv6Repr::DstUnreachable { data, .. }
            | Icmpv6Repr::PacketTooBig { data, .. }
            | Icmpv6Repr::TimeExceeded { data, .. }
            | Icmpv6Repr::ParamProblem { data, .. }
            | Icmpv6Repr::EchoRequest { data, .. }
            | Icmpv6Repr::EchoReply { data, .. } => HEADER_LEN + data.len(),
            Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { source_mac }) => {
                HEADER_LEN + if source_mac.is_some() { 8 } else { 0 }
            }
            Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert { options, .. }) => {
                16 + options.bytes().len()
            }
            Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { source_mac: m, .. })
            | Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert { target_mac: m, .. }) => {
                24 + if m.is_some() { 8 } else { 0 }
            }
            Icmpv6Repr::MldQuery { .. } => 24,
            Icmpv6Repr::MldReport(r) => HEADER_LEN + r.bytes.len(),
        }
    }

    /// Writes the message with a zero checksum; returns its length.
    pub fn emit(&self, b: &mut [u8]) -> usize {
        let len = self.buffer_len();
        b[..HEADER_LEN].fill(0);
        let (t, code) = match *self {
            Icmpv6Repr::DstUnreachable { code, data } => {
                b[HEADER_LEN..len].copy_from_slice(data);
                (kind::DST_UNREACHABLE, code)
            }
            Icmpv6Repr::PacketTooBig { mtu, data } => {
                put_u32(b, 4, mtu);
                b[HEADER_LEN..len].copy_from_slice(data);
                (kind::PACKET_TOO_BIG, 0)
            }
            Icmpv6Repr::TimeExceeded { code, data } => {
                b[HEADER_LEN..len].copy_from_slice(data);
                (kind::TIME_EXCEEDED, code)
            }
            Icmpv6Repr::ParamProblem {
                code,
                pointer,
                data,
            } => {
                put_u32(b, 4, pointer);
                b[HEADER_LEN..len].copy_from_slice(data);
                (kind::PARAM_PROBLEM, code)
            }
            Icmpv6Repr::EchoRequest { ident, seq, data }
            | Icmpv6Repr::EchoReply { ident, seq, data } => {
                put_u16(b, 4, ident);
                put_u16(b, 6, seq);
                b[HEADER_LEN..len].copy_from_slice(data);
                let t = if matches!(self, Icmpv6Repr::EchoRequest { .. }) {
                    kind::ECHO_REQUEST
                } else {
                    kind::ECHO_REPLY
                };
                (t, 0)
            }
            Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit { source_mac }) => {
                if let Some(m) = source_mac {
                    emit_ll_option(&mut b[HEADER_LEN..], opt::SOURCE_LL, m);
                }
                (kind::ROUTER_SOLICIT, 0)
            }
            Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
                hop_limit,
                managed,
                other,
                router_lifetime,
                reachable_time,
                retrans_time,
                options,
            }) => {
                b[4] = hop_limit;
                b[5] = (u8::from(managed) << 7) | (u8::from(other) << 6);
                put_u16(b, 6, router_lifetime);
                put_u32(b, 8, reachable_time);
                put_u32(b, 12, retrans_time);
                b[16..len].copy_from_slice(options.bytes());
                (kind::ROUTER_ADVERT, 0)
            }
            Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit { target, source_mac }) => {
                put_ip6(b, 8, target);
                if let Some(m) = source_mac {
                    emit_ll_option(&mut b[24..], opt::SOURCE_LL, m);
                }
                (kind::NEIGHBOR_SOLICIT, 0)
            }
            Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
                router,
                solicited,
                override_,
                target,
                target_mac,
            }) => {
                b[4] = (u8::from(router) << 7)
                    | (u8::from(solicited) << 6)
                    | (u8::from(override_) << 5);
                put_ip6(b, 8, target);
                if let Some(m) = target_mac {
                    emit_ll_option(&mut b[24..], opt::TARGET_LL, m);
                }
                (kind::NEIGHBOR_ADVERT, 0)
            }
            Icmpv6Repr::MldQuery {
                max_response,
                group,
            } => {
                put_u16(b, 4, max_response);
                put_ip6(b, 8, group);
                (kind::MLD_QUERY, 0)
            }
            Icmpv6Repr::MldReport(r) => {
                put_u16(b, 6, r.count);
                b[HEADER_LEN..len].copy_from_slice(r.bytes);
                (kind::MLDV2_REPORT, 0)
            }
        };
        b[0] = t;
        b[1] = code;
        len
    }

    /// Writes the message with its checksum for `src` → `dst`.
    pub fn emit_checked(&self, b: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) -> usize {
        let len = self.emit(b);
        fill_checksum(&mut b[..len], src, dst);
        len
    }
}

/// Computes and stores the checksum of a complete message.
pub fn fill_checksum(msg: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) {
    put_u16(msg, 2, 0);
    let c: Checksum = checksum::pseudo_header(src, dst, PROTOCOL, msg.len() as u16).push(msg);
    put_u16(msg, 2, c.finish());
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const S: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const D: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 7]);
    const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

    fn roundtrip(r: Icmpv6Repr<'_>) -> Vec<u8> {
        let mut b = vec![0u8; r.buffer_len()];
        assert_eq!(r.emit_checked(&mut b, S, D), b.len());
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, S, D).unwrap(), r);
        // The checksum covers the pseudo-header.
        assert_eq!(
            Icmpv6Repr::parse(&p, S, ALL_ROUTERS).unwrap_err(),
            Error::Checksum
        );
        b
    }

    #[test]
    fn roundtrips() {
        roundtrip(Icmpv6Repr::EchoRequest {
            ident: 7,
            seq: 9,
            data: b"ping",
        });
        roundtrip(Icmpv6Repr::EchoReply {
            ident: 7,
            seq: 9,
            data: b"",
        });
        roundtrip(Icmpv6Repr::PacketTooBig {
            mtu: 1280,
            data: &[0x60; 48],
        });
        roundtrip(Icmpv6Repr::DstUnreachable {
            code: unreachable::PORT,
            data: &[1; 48],
        });
        roundtrip(Icmpv6Repr::TimeExceeded {
            code: 1,
            data: &[2; 40],
        });
        roundtrip(Icmpv6Repr::ParamProblem {
            code: 1,
            pointer: 40,
            data: &[3; 40],
        });
        roundtrip(Icmpv6Repr::Ndisc(NdiscRepr::RouterSolicit {
            source_mac: Some(MAC),
        }));
        roundtrip(Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
            target: S,
            source_mac: None,
        }));
        roundtrip(Icmpv6Repr::Ndisc(NdiscRepr::NeighborAdvert {
            router: true,
            solicited: true,
            override_: false,
            target: S,
            target_mac: Some(MAC),
        }));
        roundtrip(Icmpv6Repr::MldQuery {
            max_response: 1000,
            group: Ipv6Addr::UNSPECIFIED,
        });
        let mut rep = vec![0u8; mld_report_len(2)];
        emit_mld_report(
            &mut rep,
            &[(record::CHANGE_TO_EXCLUDE, D), (record::MODE_IS_EXCLUDE, S)],
        );
        fill_checksum(&mut rep, S, D);
        let p = Packet::new_checked(&rep[..]).unwrap();
        let Icmpv6Repr::MldReport(r) = Icmpv6Repr::parse(&p, S, D).unwrap() else {
            panic!("not a report");
        };
        assert_eq!(
            r.iter().collect::<Vec<_>>(),
            [(record::CHANGE_TO_EXCLUDE, D), (record::MODE_IS_EXCLUDE, S)]
        );
        roundtrip(Icmpv6Repr::MldReport(r));
    }

    #[test]
    fn router_advert_options() {
        let pi = PrefixInfo {
            prefix_len: 64,
            on_link: true,
            autonomous: true,
            valid_lifetime: 86400,
            preferred_lifetime: 14400,
            prefix: Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, 0),
        };
        let mut o = vec![0u8; 8 + 8 + 32];
        emit_ll_option(&mut o, opt::SOURCE_LL, MAC);
        o[8..16].copy_from_slice(&[opt::MTU, 1, 0, 0, 0, 0, 0x05, 0xdc]);
        pi.emit(&mut o[16..]);
        let options = NdOptions::parse(&o).unwrap();
        let ra = Icmpv6Repr::Ndisc(NdiscRepr::RouterAdvert {
            hop_limit: 64,
            managed: false,
            other: true,
            router_lifetime: 1800,
            reachable_time: 0,
            retrans_time: 0,
            options,
        });
        roundtrip(ra);
        assert_eq!(options.source_mac(), Some(MAC));
        assert_eq!(options.mtu(), Some(1500));
        assert_eq!(options.prefixes().collect::<Vec<_>>(), [pi]);
        // A zero-length option and one running past the end are rejected.
        assert_eq!(
            NdOptions::parse(&[1, 0, 0, 0]).unwrap_err(),
            Error::Malformed
        );
        assert_eq!(
            NdOptions::parse(&[1, 2, 0, 0, 0, 0, 0, 0]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(NdOptions::parse(&[1]).unwrap_err(), Error::Truncated);
    }

    #[test]
    fn rejects() {
        // NS with a nonzero code, a multicast target, too short.
        let ns = Icmpv6Repr::Ndisc(NdiscRepr::NeighborSolicit {
            target: S,
            source_mac: None,
        });
        let mut b = vec![0u8; ns.buffer_len()];
        ns.emit(&mut b);
        b[1] = 1;
        fill_checksum(&mut b, S, D);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, S, D).unwrap_err(), Error::Malformed);
        b[1] = 0;
        b[8] = 0xff;
        fill_checksum(&mut b, S, D);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, S, D).unwrap_err(), Error::Malformed);
        fill_checksum(&mut b[..20], S, D);
        let p = Packet::new_checked(&b[..20]).unwrap();
        assert_eq!(Icmpv6Repr::parse(&p, S, D).unwrap_err(), Error::Truncated);
        // An MLD report claiming more records than it carries.
        let mut rep = vec![0u8; mld_report_len(1)];
        emit_mld_report(&mut rep, &[(record::MODE_IS_EXCLUDE, D)]);
        put_u16(&mut rep, 6, 2);
        let p = Packet::new_checked(&rep[..]).unwrap();
        assert_eq!(
            Icmpv6Repr::parse_unchecked(&p).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Packet::new_checked(&[0u8; 7][..]).unwrap_err(),
            Error::Truncated
        );
    }
}
