//! IPv4 headers (RFC 791). Options are accepted and skipped, never emitted.

use super::checksum;
use super::{Error, Ipv4Addr, Result, get_ip, get_u16, put_ip, put_u16};

pub const HEADER_LEN: usize = 20;
pub const MAX_PACKET_LEN: usize = 65535;

const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const OFFSET_MASK: u16 = 0x1fff;

/// A checked view of an IPv4 packet. The buffer may be longer than `total_len` (Ethernet
/// pads short frames); `payload` honours `total_len`.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(Error::Malformed);
        }
        let header_len = usize::from(b[0] & 0x0f) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        let total_len = usize::from(get_u16(b, 2));
        if total_len < header_len {
            return Err(Error::Malformed);
        }
        if b.len() < header_len || b.len() < total_len {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }
    pub fn dscp_ecn(&self) -> u8 {
        self.b()[1]
    }
    pub fn total_len(&self) -> usize {
        usize::from(get_u16(self.b(), 2))
    }
    pub fn ident(&self) -> u16 {
        get_u16(self.b(), 4)
    }
    pub fn dont_frag(&self) -> bool {
        get_u16(self.b(), 6) & FLAG_DF != 0
    }
    pub fn more_frags(&self) -> bool {
        get_u16(self.b(), 6) & FLAG_MF != 0
    }
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        usize::from(get_u16(self.b(), 6) & OFFSET_MASK) * 8
    }
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.b(), 10)
    }
    pub fn src(&self) -> Ipv4Addr {
        get_ip(self.b(), 12)
    }
    pub fn dst(&self) -> Ipv4Addr {
        get_ip(self.b(), 16)
    }
    pub fn header(&self) -> &[u8] {
        &self.b()[..self.header_len()]
    }
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.header())
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len()]
    }
    /// The packet without any link-layer padding.
    pub fn bytes(&self) -> &[u8] {
        &self.b()[..self.total_len()]
    }
}

/// IPv4 header fields. `payload_len` excludes the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub payload_len: usize,
    pub ttl: u8,
    pub ident: u16,
    pub dont_frag: bool,
    pub more_frags: bool,
    /// In bytes; a multiple of 8.
    pub frag_offset: usize,
}

impl Ipv4Repr {
    /// Parses the header and verifies its checksum.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Ipv4Repr> {
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        Ok(Ipv4Repr {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            payload_len: p.total_len() - p.header_len(),
            ttl: p.ttl(),
            ident: p.ident(),
            dont_frag: p.dont_frag(),
            more_frags: p.more_frags(),
            frag_offset: p.frag_offset(),
        })
    }

    pub fn is_fragment(&self) -> bool {
        self.more_frags || self.frag_offset != 0
    }

    /// Writes the 20-byte header, checksum included, at the start of `buf`.
    /// `payload_len` must be at most 65515 and `frag_offset` a multiple of 8 below 65536.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        debug_assert!(self.payload_len <= MAX_PACKET_LEN - HEADER_LEN);
        debug_assert!(self.frag_offset.is_multiple_of(8));
        buf[0] = 0x45;
        buf[1] = 0;
        put_u16(buf, 2, (HEADER_LEN + self.payload_len) as u16);
        put_u16(buf, 4, self.ident);
        let mut flags = ((self.frag_offset / 8) as u16) & OFFSET_MASK;
        if self.dont_frag {
            flags |= FLAG_DF;
        }
        if self.more_frags {
            flags |= FLAG_MF;
        }
        put_u16(buf, 6, flags);
        buf[8] = self.ttl;
        buf[9] = self.protocol;
        put_u16(buf, 10, 0);
        put_ip(buf, 12, self.src);
        put_ip(buf, 16, self.dst);
        let c = checksum::checksum(&buf[..HEADER_LEN]);
        put_u16(buf, 10, c);
        HEADER_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A Linux-generated ICMP echo request header, 10.0.0.1 -> 10.0.0.2, DF set, 84 bytes.
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x54, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x01, 0x0a, 0x61, 10, 0, 0, 1, 10, 0,
        0, 2,
    ];

    fn packet_with_payload() -> alloc::vec::Vec<u8> {
        let mut v = HEADER.to_vec();
        v.resize(84, 0xaa);
        v
    }

    #[test]
    fn parse_linux_header() {
        let buf = packet_with_payload();
        let p = Packet::new_checked(&buf[..]).unwrap();
        let r = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(r.src, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(r.dst, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(r.protocol, 1);
        assert_eq!(r.payload_len, 64);
        assert_eq!(r.ttl, 64);
        assert_eq!(r.ident, 0x1c46);
        assert!(r.dont_frag && !r.more_frags && r.frag_offset == 0);
        assert!(!r.is_fragment());
        let mut out = [0u8; 20];
        r.emit(&mut out);
        assert_eq!(out, HEADER);
    }

    #[test]
    fn bad_checksum_rejected() {
        let mut buf = packet_with_payload();
        buf[11] ^= 0x01;
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p).unwrap_err(), Error::Checksum);
    }

    #[test]
    fn padding_ignored() {
        let mut buf = packet_with_payload();
        buf.extend_from_slice(&[0; 10]);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload().len(), 64);
        assert_eq!(p.bytes().len(), 84);
    }

    #[test]
    fn options_skipped() {
        // IHL 6: a 4-byte option (NOP NOP NOP EOL) before the payload.
        let mut buf = alloc::vec![0u8; 28];
        buf[0] = 0x46;
        put_u16(&mut buf, 2, 28);
        buf[8] = 1;
        buf[9] = 17;
        buf[20..24].copy_from_slice(&[1, 1, 1, 0]);
        buf[24..28].copy_from_slice(&[9, 9, 9, 9]);
        let c = checksum::checksum(&buf[..24]);
        put_u16(&mut buf, 10, c);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(Ipv4Repr::parse(&p).is_ok());
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload(), &[9, 9, 9, 9]);
    }

    #[test]
    fn fragment_fields() {
        let r = Ipv4Repr {
            src: Ipv4Addr::new(1, 2, 3, 4),
            dst: Ipv4Addr::new(5, 6, 7, 8),
            protocol: 17,
            payload_len: 8,
            ttl: 1,
            ident: 7,
            dont_frag: false,
            more_frags: true,
            frag_offset: 8 * 0x1fff,
        };
        let mut buf = [0u8; 28];
        r.emit(&mut buf);
        let p = Packet::new_checked(&buf[..]).unwrap();
        let back = Ipv4Repr::parse(&p).unwrap();
        assert_eq!(back, r);
        assert!(back.is_fragment());
    }

    #[test]
    fn malformed_lengths() {
        let buf = packet_with_payload();
        assert_eq!(
            Packet::new_checked(&buf[..19]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Packet::new_checked(&buf[..83]).unwrap_err(),
            Error::Truncated
        );
        let mut v6 = buf.clone();
        v6[0] = 0x65;
        assert_eq!(Packet::new_checked(&v6[..]).unwrap_err(), Error::Malformed);
        let mut ihl = buf.clone();
        ihl[0] = 0x44;
        assert_eq!(Packet::new_checked(&ihl[..]).unwrap_err(), Error::Malformed);
        let mut total = buf.clone();
        put_u16(&mut total, 2, 19);
        assert_eq!(
            Packet::new_checked(&total[..]).unwrap_err(),
            Error::Malformed
        );
        let mut long_ihl = buf[..20].to_vec();
        long_ihl[0] = 0x4f;
        put_u16(&mut long_ihl, 2, 60);
        assert_eq!(
            Packet::new_checked(&long_ihl[..]).unwrap_err(),
            Error::Truncated
        );
    }
}
