//! IPv6 header (RFC 8200) and a bounded walker over its extension-header chain.

use super::{Error, Ipv6Addr, Result, get_u16, get_u32, put_u16, put_u32};

pub const HEADER_LEN: usize = 40;
/// The largest payload the 16-bit payload length describes (jumbograms are not supported).
pub const MAX_PAYLOAD_LEN: usize = 65535;
/// RFC 8200 5: every link carries 1280-byte packets.
pub const MIN_MTU: usize = 1280;
pub const FRAGMENT_HEADER_LEN: usize = 8;

/// Next-header values of the extension headers this stack walks, and of its transports.
pub mod next {
    pub const HOP_BY_HOP: u8 = 0;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const NO_NEXT: u8 = 59;
    pub const DEST_OPTS: u8 = 60;
}

/// A read-only view of an IPv6 packet; the buffer is cut to the payload length.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    len: usize,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Error::Malformed);
        }
        let payload = usize::from(get_u16(b, 4));
        if payload == 0 && b[6] == next::HOP_BY_HOP {
            // A jumbogram (RFC 2675) or nonsense; neither fits an Ethernet frame.
            return Err(Error::Unsupported);
        }
        let len = HEADER_LEN + payload;
        if b.len() < len {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer, len })
    }

    fn b(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.len]
    }
    pub fn traffic_class(&self) -> u8 {
        ((get_u16(self.b(), 0) >> 4) & 0xff) as u8
    }
    pub fn flow_label(&self) -> u32 {
        get_u32(self.b(), 0) & 0x000f_ffff
    }
    pub fn payload_len(&self) -> usize {
        self.len - HEADER_LEN
    }
    pub fn next_header(&self) -> u8 {
        self.b()[6]
    }
    pub fn hop_limit(&self) -> u8 {
        self.b()[7]
    }
    pub fn src(&self) -> Ipv6Addr {
        get_ip6(self.b(), 8)
    }
    pub fn dst(&self) -> Ipv6Addr {
        get_ip6(self.b(), 24)
    }
    pub fn header(&self) -> &[u8] {
        &self.b()[..HEADER_LEN]
    }
    /// Everything after the fixed header: extension headers, then the upper layer.
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    /// The whole packet, header included (what an ICMPv6 error quotes).
    pub fn bytes(&self) -> &[u8] {
        self.b()
    }
}

pub(crate) fn get_ip6(b: &[u8], at: usize) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[at..at + 16]);
    Ipv6Addr::from(a)
}

pub(crate) fn put_ip6(b: &mut [u8], at: usize, v: Ipv6Addr) {
    b[at..at + 16].copy_from_slice(&v.octets());
}

/// The fixed header's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub payload_len: usize,
    pub hop_limit: u8,
}

impl Ipv6Repr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Ipv6Repr> {
        Ok(Ipv6Repr {
            src: p.src(),
            dst: p.dst(),
            next_header: p.next_header(),
            payload_len: p.payload_len(),
            hop_limit: p.hop_limit(),
        })
    }

    /// Writes the 40-byte header (traffic class and flow label zero).
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        put_u32(buf, 0, 6 << 28);
        put_u16(buf, 4, self.payload_len as u16);
        buf[6] = self.next_header;
        buf[7] = self.hop_limit;
        put_ip6(buf, 8, self.src);
        put_ip6(buf, 24, self.dst);
        HEADER_LEN
    }
}

/// The fragment header's fields (RFC 8200 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FragmentRepr {
    pub next_header: u8,
    /// Offset of this fragment's data in the fragmentable part, in bytes (a multiple of 8).
    pub offset: usize,
    pub more: bool,
    pub ident: u32,
}

impl FragmentRepr {
    pub fn parse(b: &[u8]) -> Result<FragmentRepr> {
        if b.len() < FRAGMENT_HEADER_LEN {
            return Err(Error::Truncated);
        }
        let off = get_u16(b, 2);
        Ok(FragmentRepr {
            next_header: b[0],
            offset: usize::from(off & !7),
            more: off & 1 == 1,
            ident: get_u32(b, 4),
        })
    }

    pub fn emit(&self, buf: &mut [u8]) -> usize {
        buf[0] = self.next_header;
        buf[1] = 0;
        put_u16(buf, 2, (self.offset as u16 & !7) | u16::from(self.more));
        put_u32(buf, 4, self.ident);
        FRAGMENT_HEADER_LEN
    }
}

/// Extension headers one packet may carry before the walker gives up (RFC 8504 5.3 lets a
/// host bound the chain; real traffic has one or two).
pub const MAX_EXTENSION_HEADERS: usize = 8;

/// Where the walk over the extension headers ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// The upper-layer protocol (or `FRAGMENT` when `fragment` is set).
    pub protocol: u8,
    /// Offset of the upper-layer header (or of the fragment's data) in the IPv6 payload.
    pub offset: usize,
    /// The fragment header, if the chain reached one; the rest of the chain is in the
    /// fragmentable part and is walked after reassembly.
    pub fragment: Option<FragmentRepr>,
    /// The hop-by-hop header held a router alert option (RFC 2711; MLD uses it).
    pub router_alert: bool,
}

/// Why a chain was rejected: drop silently, or drop and answer with an ICMPv6 parameter
/// problem (`code`, `pointer` counted from the start of the IPv6 header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalkError {
    Drop,
    ParamProblem { code: u8, pointer: u32 },
}

/// Parameter problem codes (RFC 4443 3.4).
pub mod param {
    pub const ERRONEOUS_FIELD: u8 = 0;
    pub const UNKNOWN_NEXT_HEADER: u8 = 1;
    pub const UNKNOWN_OPTION: u8 = 2;
}

/// Walks the extension headers after a fixed header whose next header is `first`, over the
/// IPv6 payload `payload`, stopping at an upper-layer protocol or a fragment header.
/// `dst_multicast` decides the ICMP action of unknown options of type `11`.
/// Bounded by [`MAX_EXTENSION_HEADERS`]; never reads past `payload`.
pub fn walk(
    first: u8,
    payload: &[u8],
    dst_multicast: bool,
) -> core::result::Result<Walk, WalkError> {
    walk_from(first, payload, 0, dst_multicast)
}

/// As [`walk`], starting at `offset` (after reassembly: past the unfragmentable part).
pub fn walk_from(
    first: u8,
    payload: &[u8],
    mut offset: usize,
    dst_multicast: bool,
) -> core::result::Result<Walk, WalkError> {
    let mut nh = first;
    let mut router_alert = false;
    // Offset (from the IPv6 header) of the byte naming the current next header.
    let mut nh_field = 6u32;
    for count in 0..=MAX_EXTENSION_HEADERS {
        match nh {
            next::HOP_BY_HOP | next::DEST_OPTS | next::ROUTING | next::FRAGMENT
                if count == MAX_EXTENSION_HEADERS =>
            {
                return Err(WalkError::Drop);
            }
            next::HOP_BY_HOP | next::DEST_OPTS => {
                // Hop-by-hop is only allowed first (RFC 8200 4.1).
                if nh == next::HOP_BY_HOP && offset != 0 {
                    return Err(WalkError::ParamProblem {
                        code: param::UNKNOWN_NEXT_HEADER,
                        pointer: nh_field,
                    });
                }
                let h = payload.get(offset..offset + 2).ok_or(WalkError::Drop)?;
                let len = (usize::from(h[1]) + 1) * 8;
                let body = payload.get(offset..offset + len).ok_or(WalkError::Drop)?;
                let ra = options(body, (HEADER_LEN + offset) as u32, dst_multicast)?;
                router_alert |= ra && nh == next::HOP_BY_HOP;
                nh_field = (HEADER_LEN + offset) as u32;
                nh = body[0];
                offset += len;
            }
            next::ROUTING => {
                let h = payload.get(offset..offset + 4).ok_or(WalkError::Drop)?;
                let len = (usize::from(h[1]) + 1) * 8;
                if payload.len() < offset + len {
                    return Err(WalkError::Drop);
                }
                // A host is the final destination only once no segments are left; it
                // forwards nothing (RFC 8200 4.4).
                if h[3] != 0 {
                    return Err(WalkError::ParamProblem {
                        code: param::ERRONEOUS_FIELD,
                        pointer: (HEADER_LEN + offset + 2) as u32,
                    });
                }
                nh_field = (HEADER_LEN + offset) as u32;
                nh = h[0];
                offset += len;
            }
            next::FRAGMENT => {
                let f = payload
                    .get(offset..)
                    .and_then(|b| FragmentRepr::parse(b).ok())
                    .ok_or(WalkError::Drop)?;
                return Ok(Walk {
                    protocol: next::FRAGMENT,
                    offset: offset + FRAGMENT_HEADER_LEN,
                    fragment: Some(f),
                    router_alert,
                });
            }
            next::NO_NEXT => return Err(WalkError::Drop),
            p => {
                return Ok(Walk {
                    protocol: p,
                    offset,
                    fragment: None,
                    router_alert,
                });
            }
        }
    }
    Err(WalkError::Drop)
}

/// Checks the TLV options of a hop-by-hop or destination options header (`h`, including its
/// two leading bytes); `at` is its offset from the IPv6 header. Returns whether a router alert
/// was present.
fn options(h: &[u8], at: u32, dst_multicast: bool) -> core::result::Result<bool, WalkError> {
    let mut i = 2;
    let mut alert = false;
    while i < h.len() {
        let t = h[i];
        if t == 0 {
            i += 1;
            continue;
        }
        let Some(&len) = h.get(i + 1) else {
            return Err(WalkError::Drop);
        };
        let end = i + 2 + usize::from(len);
        if end > h.len() {
            return Err(WalkError::Drop);
        }
        match t {
            1 => {}
            5 if len == 2 => alert = true,
            _ => match t >> 6 {
                0 => {}
                1 => return Err(WalkError::Drop),
                3 if dst_multicast => return Err(WalkError::Drop),
                _ => {
                    return Err(WalkError::ParamProblem {
                        code: param::UNKNOWN_OPTION,
                        pointer: at + i as u32,
                    });
                }
            },
        }
        i = end;
    }
    Ok(alert)
}

/// The hop-by-hop header MLD messages carry: router alert (value 0, MLD), padded to 8 bytes.
pub fn emit_router_alert(buf: &mut [u8], next_header: u8) -> usize {
    buf[..8].copy_from_slice(&[next_header, 0, 5, 2, 0, 0, 1, 0]);
    8
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const A: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    const B: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);

    fn packet(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; HEADER_LEN + payload.len()];
        Ipv6Repr {
            src: A,
            dst: B,
            next_header: next,
            payload_len: payload.len(),
            hop_limit: 64,
        }
        .emit(&mut b);
        b[HEADER_LEN..].copy_from_slice(payload);
        b
    }

    #[test]
    fn header_roundtrip_and_trailing_bytes() {
        let mut b = packet(next::UDP, &[1, 2, 3, 4]);
        b.extend_from_slice(&[9, 9]); // Ethernet padding
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = Ipv6Repr::parse(&p).unwrap();
        assert_eq!((r.src, r.dst, r.next_header, r.payload_len), (A, B, 17, 4));
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.flow_label(), 0);
    }

    #[test]
    fn rejects_bad_packets() {
        assert_eq!(
            Packet::new_checked(&[0x60u8; 39][..]).unwrap_err(),
            Error::Truncated
        );
        let mut b = packet(next::UDP, &[0; 8]);
        b[0] = 0x45;
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Malformed);
        let mut b = packet(next::UDP, &[0; 8]);
        b.truncate(45);
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Truncated);
        let b = packet(next::HOP_BY_HOP, &[]);
        assert_eq!(Packet::new_checked(&b[..]).unwrap_err(), Error::Unsupported);
    }

    #[test]
    fn walks_options_routing_and_fragment() {
        // Hop-by-hop (router alert + PadN), destination options (Pad1s), routing with no
        // segments left, fragment.
        let mut p = vec![next::DEST_OPTS, 0, 5, 2, 0, 0, 1, 0];
        p.extend_from_slice(&[next::ROUTING, 0, 0, 0, 0, 0, 0, 0]);
        p.extend_from_slice(&[next::FRAGMENT, 0, 2, 0, 0, 0, 0, 0]);
        let f = FragmentRepr {
            next_header: next::UDP,
            offset: 1448,
            more: true,
            ident: 0xdead_beef,
        };
        let mut fb = [0u8; 8];
        f.emit(&mut fb);
        p.extend_from_slice(&fb);
        p.extend_from_slice(&[0xaa; 16]);
        let w = walk(next::HOP_BY_HOP, &p, false).unwrap();
        assert_eq!(w.protocol, next::FRAGMENT);
        assert_eq!(w.offset, 32);
        assert_eq!(w.fragment, Some(f));
        assert!(w.router_alert);
        assert_eq!(FragmentRepr::parse(&fb).unwrap(), f);

        let w = walk(next::TCP, &p, false).unwrap();
        assert_eq!((w.protocol, w.offset, w.fragment), (next::TCP, 0, None));
    }

    #[test]
    fn rejects_bad_chains() {
        // Hop-by-hop not first.
        let p = [
            next::HOP_BY_HOP,
            0,
            1,
            4,
            0,
            0,
            0,
            0,
            next::UDP,
            0,
            1,
            4,
            0,
            0,
            0,
            0,
        ];
        assert_eq!(
            walk(next::DEST_OPTS, &p, false),
            Err(WalkError::ParamProblem {
                code: param::UNKNOWN_NEXT_HEADER,
                pointer: 40
            })
        );
        // Truncated header, option running past its header.
        assert_eq!(
            walk(next::DEST_OPTS, &[next::UDP], false),
            Err(WalkError::Drop)
        );
        let p = [next::UDP, 0, 1, 9, 0, 0, 0, 0];
        assert_eq!(walk(next::DEST_OPTS, &p, false), Err(WalkError::Drop));
        // Unknown options by their action bits.
        let opt = |t: u8| [next::UDP, 0, t, 4, 0, 0, 0, 0];
        assert!(walk(next::DEST_OPTS, &opt(0x1e), false).is_ok());
        assert_eq!(
            walk(next::DEST_OPTS, &opt(0x5e), false),
            Err(WalkError::Drop)
        );
        assert_eq!(
            walk(next::DEST_OPTS, &opt(0x9e), true),
            Err(WalkError::ParamProblem {
                code: param::UNKNOWN_OPTION,
                pointer: 42
            })
        );
        assert_eq!(
            walk(next::DEST_OPTS, &opt(0xde), true),
            Err(WalkError::Drop)
        );
        assert!(matches!(
            walk(next::DEST_OPTS, &opt(0xde), false),
            Err(WalkError::ParamProblem { .. })
        ));
        // Routing header with segments left.
        let p = [next::UDP, 0, 4, 1, 0, 0, 0, 0];
        assert_eq!(
            walk(next::ROUTING, &p, false),
            Err(WalkError::ParamProblem {
                code: 0,
                pointer: 42
            })
        );
        // No next header, and a truncated fragment header.
        assert_eq!(walk(next::NO_NEXT, &[], false), Err(WalkError::Drop));
        assert_eq!(
            walk(next::FRAGMENT, &[17, 0, 0], false),
            Err(WalkError::Drop)
        );
    }

    #[test]
    fn long_chains_are_dropped() {
        let chain = |n: usize| {
            let mut p = Vec::new();
            for i in 0..n {
                let nh = if i + 1 == n {
                    next::UDP
                } else {
                    next::DEST_OPTS
                };
                p.extend_from_slice(&[nh, 0, 1, 4, 0, 0, 0, 0]);
            }
            p.extend_from_slice(&[0; 8]);
            p
        };
        let w = walk(next::DEST_OPTS, &chain(MAX_EXTENSION_HEADERS), false).unwrap();
        assert_eq!(w.offset, 8 * MAX_EXTENSION_HEADERS);
        assert_eq!(
            walk(next::DEST_OPTS, &chain(MAX_EXTENSION_HEADERS + 1), false),
            Err(WalkError::Drop)
        );
        assert_eq!(
            walk(next::DEST_OPTS, &chain(1000), false),
            Err(WalkError::Drop)
        );
    }
}
