//! TCP headers (RFC 9293) and options (MSS, window scale, SACK, timestamps).

use super::checksum::pseudo_header;
use super::{Error, IpAddr, Result, get_u16, get_u32, proto, put_u16, put_u32};

pub const HEADER_LEN: usize = 20;
pub const MAX_HEADER_LEN: usize = 60;

/// The control bits, NS included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags(pub u16);

impl Flags {
    pub const FIN: Flags = Flags(0x001);
    pub const SYN: Flags = Flags(0x002);
    pub const RST: Flags = Flags(0x004);
    pub const PSH: Flags = Flags(0x008);
    pub const ACK: Flags = Flags(0x010);
    pub const URG: Flags = Flags(0x020);
    pub const ECE: Flags = Flags(0x040);
    pub const CWR: Flags = Flags(0x080);
    pub const NS: Flags = Flags(0x100);

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }
    pub fn fin(self) -> bool {
        self.contains(Flags::FIN)
    }
    pub fn syn(self) -> bool {
        self.contains(Flags::SYN)
    }
    pub fn rst(self) -> bool {
        self.contains(Flags::RST)
    }
    pub fn ack(self) -> bool {
        self.contains(Flags::ACK)
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl core::ops::BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

/// A checked view of a TCP segment.
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
        let header_len = usize::from(b[12] >> 4) * 4;
        if header_len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if header_len > b.len() {
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
    pub fn seq(&self) -> u32 {
        get_u32(self.b(), 4)
    }
    pub fn ack_number(&self) -> u32 {
        get_u32(self.b(), 8)
    }
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[12] >> 4) * 4
    }
    pub fn flags(&self) -> Flags {
        Flags(get_u16(self.b(), 12) & 0x01ff)
    }
    pub fn window(&self) -> u16 {
        get_u16(self.b(), 14)
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.b(), 16)
    }
    pub fn urgent(&self) -> u16 {
        get_u16(self.b(), 18)
    }
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
    /// Sequence space used: payload plus one each for SYN and FIN.
    pub fn segment_len(&self) -> usize {
        let f = self.flags();
        self.payload().len() + usize::from(f.syn()) + usize::from(f.fin())
    }
    pub fn verify_checksum(&self, src: impl Into<IpAddr>, dst: impl Into<IpAddr>) -> bool {
        let b = self.b();
        pseudo_header(src, dst, proto::TCP, b.len() as u16)
            .push(b)
            .fold()
            == 0xffff
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    EndOfList,
    NoOp,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    /// Up to four (left, right) edges.
    Sack([Option<(u32, u32)>; 4]),
    Timestamps {
        tsval: u32,
        tsecr: u32,
    },
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

/// Iterates over the options area; yields one `Err(Malformed)` and stops on a bad length.
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Options<'a> {
    pub fn new(area: &'a [u8]) -> Options<'a> {
        Options { rest: area }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after) = self.rest.split_first()?;
        match kind {
            0 => {
                self.rest = &[];
                return Some(Ok(TcpOption::EndOfList));
            }
            1 => {
                self.rest = after;
                return Some(Ok(TcpOption::NoOp));
            }
            _ => {}
        }
        let len = match after.first() {
            Some(&l) if usize::from(l) >= 2 && usize::from(l) <= self.rest.len() => usize::from(l),
            _ => {
                self.rest = &[];
                return Some(Err(Error::Malformed));
            }
        };
        let data = &self.rest[2..len];
        self.rest = &self.rest[len..];
        let opt = match (kind, data.len()) {
            (2, 2) => TcpOption::Mss(get_u16(data, 0)),
            (3, 1) => TcpOption::WindowScale(data[0]),
            (4, 0) => TcpOption::SackPermitted,
            (5, n) if n > 0 && n % 8 == 0 && n <= 32 => {
                let mut blocks = [None; 4];
                for (slot, c) in blocks.iter_mut().zip(data.chunks_exact(8)) {
                    *slot = Some((get_u32(c, 0), get_u32(c, 4)));
                }
                TcpOption::Sack(blocks)
            }
            (8, 8) => TcpOption::Timestamps {
                tsval: get_u32(data, 0),
                tsecr: get_u32(data, 4),
            },
            (2..=5 | 8, _) => {
                self.rest = &[];
                return Some(Err(Error::Malformed));
            }
            _ => TcpOption::Unknown { kind, data },
        };
        Some(Ok(opt))
    }
}

/// TCP header fields; the payload travels separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    /// Meaningful only when `flags` has ACK.
    pub ack: u32,
    pub flags: Flags,
    pub window: u16,
    pub urgent: u16,
    pub mss: Option<u16>,
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: Option<(u32, u32)>,
    pub sack_blocks: [Option<(u32, u32)>; 4],
}

impl TcpRepr {
    /// Verifies the checksum and decodes the header and options.
    pub fn parse<T: AsRef<[u8]>>(
        p: &Packet<T>,
        src: impl Into<IpAddr>,
        dst: impl Into<IpAddr>,
    ) -> Result<TcpRepr> {
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        TcpRepr::parse_trusted(p)
    }

    /// As [`TcpRepr::parse`], without the checksum: for a segment whose device vouches for it
    /// (receive offload; the field may hold a partial sum).
    pub fn parse_trusted<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<TcpRepr> {
        let mut r = TcpRepr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq(),
            ack: p.ack_number(),
            flags: p.flags(),
            window: p.window(),
            urgent: p.urgent(),
            ..TcpRepr::default()
        };
        for opt in Options::new(p.options()) {
            match opt? {
                TcpOption::Mss(m) => r.mss = Some(m),
                TcpOption::WindowScale(s) => r.window_scale = Some(s),
                TcpOption::SackPermitted => r.sack_permitted = true,
                TcpOption::Sack(b) => r.sack_blocks = b,
                TcpOption::Timestamps { tsval, tsecr } => r.timestamps = Some((tsval, tsecr)),
                TcpOption::EndOfList | TcpOption::NoOp | TcpOption::Unknown { .. } => {}
            }
        }
        Ok(r)
    }

    fn options_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4; // NOP + 3
        }
        if self.sack_permitted {
            n += 4; // NOP NOP + 2
        }
        if self.timestamps.is_some() {
            n += 12; // NOP NOP + 10
        }
        n
    }

    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Writes the header with a zero checksum into `buf`; returns its length. Call
    /// [`fill_checksum`] once the payload follows it.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let len = self.header_len();
        put_u16(buf, 0, self.src_port);
        put_u16(buf, 2, self.dst_port);
        put_u32(buf, 4, self.seq);
        put_u32(buf, 8, if self.flags.ack() { self.ack } else { 0 });
        put_u16(buf, 12, ((len as u16 / 4) << 12) | (self.flags.0 & 0x01ff));
        put_u16(buf, 14, self.window);
        put_u16(buf, 16, 0);
        put_u16(buf, 18, self.urgent);
        let mut at = HEADER_LEN;
        if let Some(mss) = self.mss {
            buf[at..at + 2].copy_from_slice(&[2, 4]);
            put_u16(buf, at + 2, mss);
            at += 4;
        }
        if let Some(ws) = self.window_scale {
            buf[at..at + 4].copy_from_slice(&[1, 3, 3, ws]);
            at += 4;
        }
        if self.sack_permitted {
            buf[at..at + 4].copy_from_slice(&[1, 1, 4, 2]);
            at += 4;
        }
        if let Some((tsval, tsecr)) = self.timestamps {
            buf[at..at + 4].copy_from_slice(&[1, 1, 8, 10]);
            put_u32(buf, at + 4, tsval);
            put_u32(buf, at + 8, tsecr);
            at += 12;
        }
        debug_assert_eq!(at, len);
        len
    }
}

/// Computes and stores the checksum of a complete segment (header and payload).
pub fn fill_checksum(segment: &mut [u8], src: impl Into<IpAddr>, dst: impl Into<IpAddr>) {
    put_u16(segment, 16, 0);
    let c = pseudo_header(src, dst, proto::TCP, segment.len() as u16)
        .push(segment)
        .finish();
    put_u16(segment, 16, c);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Ipv4Addr;
    use alloc::vec::Vec;

    const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
    const DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);

    // A Linux SYN: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7.
    fn linux_syn() -> Vec<u8> {
        let mut b = alloc::vec![
            0xa4, 0x1e, 0x00, 0x50, 0x6f, 0x3c, 0x51, 0x2a, 0, 0, 0, 0, 0xa0, 0x02, 0xfa, 0xf0, 0,
            0, 0, 0, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x0b, 0x9c, 0x2e, 0, 0,
            0, 0, 0x01, 0x03, 0x03, 0x07,
        ];
        fill_checksum(&mut b, SRC, DST);
        b
    }

    #[test]
    fn parse_linux_syn() {
        let b = linux_syn();
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = TcpRepr::parse(&p, SRC, DST).unwrap();
        assert_eq!(r.src_port, 0xa41e);
        assert_eq!(r.dst_port, 80);
        assert_eq!(r.seq, 0x6f3c512a);
        assert_eq!(r.flags, Flags::SYN);
        assert_eq!(r.window, 64240);
        assert_eq!(r.mss, Some(1460));
        assert_eq!(r.window_scale, Some(7));
        assert!(r.sack_permitted);
        assert_eq!(r.timestamps, Some((0x000b9c2e, 0)));
        assert_eq!(p.segment_len(), 1);
        assert!(p.payload().is_empty());
    }

    #[test]
    fn emit_roundtrip_with_payload() {
        let repr = TcpRepr {
            src_port: 80,
            dst_port: 40000,
            seq: 0xffff_fff0,
            ack: 12345,
            flags: Flags::SYN | Flags::ACK | Flags::NS,
            window: 512,
            mss: Some(1460),
            window_scale: Some(5),
            ..TcpRepr::default()
        };
        assert_eq!(repr.header_len(), 28);
        let mut buf = alloc::vec![0u8; 28 + 3];
        let h = repr.emit(&mut buf);
        buf[h..].copy_from_slice(b"xyz");
        fill_checksum(&mut buf, SRC, DST);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.payload(), b"xyz");
        assert_eq!(p.segment_len(), 4);
        assert_eq!(TcpRepr::parse(&p, SRC, DST).unwrap(), repr);
        let other = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(TcpRepr::parse(&p, SRC, other).unwrap_err(), Error::Checksum);
    }

    #[test]
    fn all_flags_roundtrip() {
        for bit in 0..9 {
            let flags = Flags(1 << bit);
            let repr = TcpRepr {
                flags: flags | Flags::ACK,
                ..TcpRepr::default()
            };
            let mut buf = [0u8; 20];
            repr.emit(&mut buf);
            fill_checksum(&mut buf, SRC, DST);
            let p = Packet::new_checked(&buf[..]).unwrap();
            assert_eq!(p.flags(), flags | Flags::ACK);
        }
    }

    #[test]
    fn every_option_roundtrip() {
        let repr = TcpRepr {
            flags: Flags::SYN,
            mss: Some(536),
            window_scale: Some(14),
            sack_permitted: true,
            timestamps: Some((1, 2)),
            ..TcpRepr::default()
        };
        let mut buf = alloc::vec![0u8; repr.header_len()];
        repr.emit(&mut buf);
        fill_checksum(&mut buf, SRC, DST);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(TcpRepr::parse(&p, SRC, DST).unwrap(), repr);
    }

    #[test]
    fn sack_blocks() {
        let area = [
            1, 1, 5, 18, 0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30, 0, 0, 0, 40,
        ];
        let opts: Vec<_> = Options::new(&area).collect();
        assert_eq!(
            opts[2],
            Ok(TcpOption::Sack([
                Some((10, 20)),
                Some((30, 40)),
                None,
                None
            ]))
        );
    }

    #[test]
    fn option_errors() {
        // Length running past the area.
        assert_eq!(Options::new(&[2, 4, 5]).next(), Some(Err(Error::Malformed)));
        // Length below 2.
        assert_eq!(Options::new(&[9, 1]).next(), Some(Err(Error::Malformed)));
        // Missing length byte.
        assert_eq!(Options::new(&[2]).next(), Some(Err(Error::Malformed)));
        // Known kind with wrong length.
        assert_eq!(
            Options::new(&[3, 4, 1, 1]).next(),
            Some(Err(Error::Malformed))
        );
        // Unknown kinds are skipped by length, and EOL ends the list.
        let opts: Vec<_> = Options::new(&[30, 3, 9, 0, 2, 4, 0, 1]).collect();
        assert_eq!(
            opts,
            [
                Ok(TcpOption::Unknown {
                    kind: 30,
                    data: &[9]
                }),
                Ok(TcpOption::EndOfList)
            ]
        );
    }

    #[test]
    fn header_length_rules() {
        let b = linux_syn();
        assert_eq!(Packet::new_checked(&b[..19]).unwrap_err(), Error::Truncated);
        assert_eq!(Packet::new_checked(&b[..39]).unwrap_err(), Error::Truncated);
        let mut small = b.clone();
        small[12] = 0x40;
        assert_eq!(
            Packet::new_checked(&small[..]).unwrap_err(),
            Error::Malformed
        );
    }
}
