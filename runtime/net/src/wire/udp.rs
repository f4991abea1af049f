//! UDP (RFC 768).

use super::checksum::pseudo_header;
use super::{Error, IpAddr, Result, get_u16, proto, put_u16};

pub const HEADER_LEN: usize = 8;

/// A checked view of a UDP datagram. Bytes after the `length` field's end are ignored.
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
        let len = usize::from(get_u16(b, 4));
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len > b.len() {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn src_port(&self) -> u16 {
        get_u16(self.b(), 0)
    }
    pub fn dst_port(&self) -> u16 {
        get_u16(self.b(), 2)
    }
    pub fn len(&self) -> usize {
        usize::from(get_u16(self.b(), 4))
    }
    pub fn is_empty(&self) -> bool {
        self.len() == HEADER_LEN
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.b(), 6)
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.len()]
    }

    /// A zero checksum field means the sender computed none (RFC 768), which is valid over
    /// IPv4 and forbidden over IPv6 (RFC 8200 8.1).
    pub fn verify_checksum(&self, src: impl Into<IpAddr>, dst: impl Into<IpAddr>) -> bool {
        let (src, dst) = (src.into(), dst.into());
        if self.checksum() == 0 {
            return src.is_ipv4();
        }
        let len = self.len();
        pseudo_header(src, dst, proto::UDP, len as u16)
            .push(&self.b()[..len])
            .fold()
            == 0xffff
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
}

impl UdpRepr {
    pub fn parse<T: AsRef<[u8]>>(
        p: &Packet<T>,
        src: impl Into<IpAddr>,
        dst: impl Into<IpAddr>,
    ) -> Result<UdpRepr> {
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        Ok(UdpRepr::parse_trusted(p))
    }

    /// As [`UdpRepr::parse`], without the checksum: for a datagram whose device vouches for it
    /// (receive offload; the field may hold a partial sum).
    pub fn parse_trusted<T: AsRef<[u8]>>(p: &Packet<T>) -> UdpRepr {
        UdpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
        }
    }

    /// Writes the header with a zero checksum, for a caller that computes the checksum once the
    /// payload follows (see `Interface::ipv4_write`).
    pub fn emit_header(&self, buf: &mut [u8], payload_len: usize) -> usize {
        put_u16(buf, 0, self.src_port);
        put_u16(buf, 2, self.dst_port);
        put_u16(buf, 4, (HEADER_LEN + payload_len) as u16);
        put_u16(buf, 6, 0);
        HEADER_LEN
    }

    /// Writes the header into `buf[..8]` and the checksum over `buf[..8 + payload_len]`, whose
    /// payload the caller has already written. A computed checksum of zero is sent as 0xFFFF,
    /// since zero means "no checksum".
    pub fn emit(
        &self,
        buf: &mut [u8],
        payload_len: usize,
        src: impl Into<IpAddr>,
        dst: impl Into<IpAddr>,
    ) -> usize {
        let len = HEADER_LEN + payload_len;
        self.emit_header(buf, payload_len);
        let c = checksum_field(&buf[..len], src, dst);
        put_u16(buf, 6, c);
        len
    }
}

/// The checksum field value for a complete datagram whose checksum field is zero. A computed
/// zero is sent as 0xFFFF, since zero means "no checksum".
pub fn checksum_field(datagram: &[u8], src: impl Into<IpAddr>, dst: impl Into<IpAddr>) -> u16 {
    let c = pseudo_header(src, dst, proto::UDP, datagram.len() as u16)
        .push(datagram)
        .finish();
    if c == 0 { 0xffff } else { c }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Ipv4Addr;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    fn sum_without_field(d: &[u8]) -> u16 {
        pseudo_header(SRC, DST, proto::UDP, d.len() as u16)
            .push(&d[..6])
            .push(&d[8..])
            .fold()
    }

    fn datagram(payload: &[u8]) -> alloc::vec::Vec<u8> {
        let mut buf = alloc::vec![0u8; HEADER_LEN + payload.len()];
        buf[HEADER_LEN..].copy_from_slice(payload);
        UdpRepr {
            src_port: 5353,
            dst_port: 7,
        }
        .emit(&mut buf, payload.len(), SRC, DST);
        buf
    }

    #[test]
    fn roundtrip_odd_payload() {
        let buf = datagram(b"hello");
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.len(), 13);
        assert_eq!(p.payload(), b"hello");
        let r = UdpRepr::parse(&p, SRC, DST).unwrap();
        assert_eq!((r.src_port, r.dst_port), (5353, 7));
        // The pseudo-header matters: same bytes, different addresses fail.
        assert_eq!(
            UdpRepr::parse(&p, SRC, Ipv4Addr::new(10, 0, 0, 3)).unwrap_err(),
            Error::Checksum
        );
    }

    #[test]
    fn zero_checksum_means_none() {
        let mut buf = datagram(b"abc");
        buf[6] = 0;
        buf[7] = 0;
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(UdpRepr::parse(&p, SRC, Ipv4Addr::new(1, 1, 1, 1)).is_ok());
    }

    #[test]
    fn computed_zero_is_sent_as_ffff() {
        // Choose the last two payload bytes so that the complemented sum is exactly 0, i.e. the
        // folded sum of everything else plus those bytes is 0xffff.
        let mut payload = [0u8; 4];
        let header_only = {
            let mut d = alloc::vec![0u8; 12];
            put_u16(&mut d, 0, 5353);
            put_u16(&mut d, 2, 7);
            put_u16(&mut d, 4, 12);
            sum_without_field(&d)
        };
        let fill = 0xffff - header_only;
        payload[2..4].copy_from_slice(&fill.to_be_bytes());
        let buf = datagram(&payload);
        assert_eq!(get_u16(&buf, 6), 0xffff);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum(SRC, DST));
    }

    #[test]
    fn length_field_rules() {
        let buf = datagram(b"abcdef");
        assert_eq!(
            Packet::new_checked(&buf[..7]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Packet::new_checked(&buf[..10]).unwrap_err(),
            Error::Truncated
        );
        let mut short = buf.clone();
        put_u16(&mut short, 4, 7);
        assert_eq!(
            Packet::new_checked(&short[..]).unwrap_err(),
            Error::Malformed
        );
        let mut padded = buf.clone();
        padded.extend_from_slice(&[0, 0]);
        let p = Packet::new_checked(&padded[..]).unwrap();
        assert_eq!(p.payload(), b"abcdef");
        assert!(p.verify_checksum(SRC, DST));
    }
}
