//! ICMPv4 (RFC 792): echo and destination unreachable.

use super::checksum;
use super::{Error, Result, get_u16, put_u16};

pub const HEADER_LEN: usize = 8;

pub mod kind {
    pub const ECHO_REPLY: u8 = 0;
    pub const DST_UNREACHABLE: u8 = 3;
    pub const ECHO_REQUEST: u8 = 8;
}

/// Destination-unreachable codes used here.
pub mod unreachable {
    pub const NET: u8 = 0;
    pub const HOST: u8 = 1;
    pub const PROTOCOL: u8 = 2;
    pub const PORT: u8 = 3;
    pub const FRAG_NEEDED: u8 = 4;
}

/// A checked view of an ICMPv4 message.
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
    pub fn echo_ident(&self) -> u16 {
        get_u16(self.b(), 4)
    }
    pub fn echo_seq(&self) -> u16 {
        get_u16(self.b(), 6)
    }
    pub fn next_hop_mtu(&self) -> u16 {
        get_u16(self.b(), 6)
    }
    pub fn data(&self) -> &[u8] {
        &self.b()[HEADER_LEN..]
    }
    pub fn verify_checksum(&self) -> bool {
        checksum::verifies(self.b())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcmpRepr<'a> {
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
    /// `data` is the offending datagram's header and at least its first 8 payload bytes.
    DstUnreachable {
        code: u8,
        next_hop_mtu: u16,
        data: &'a [u8],
    },
}

impl<'a> IcmpRepr<'a> {
    /// Parses a message, verifying its checksum; other message types are `Unsupported`.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<IcmpRepr<'a>> {
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        let data = &p.buffer[HEADER_LEN..];
        match (p.msg_type(), p.code()) {
            (kind::ECHO_REQUEST, 0) => Ok(IcmpRepr::EchoRequest {
                ident: p.echo_ident(),
                seq: p.echo_seq(),
                data,
            }),
            (kind::ECHO_REPLY, 0) => Ok(IcmpRepr::EchoReply {
                ident: p.echo_ident(),
                seq: p.echo_seq(),
                data,
            }),
            (kind::DST_UNREACHABLE, code) if code <= 15 => Ok(IcmpRepr::DstUnreachable {
                code,
                next_hop_mtu: p.next_hop_mtu(),
                data,
            }),
            _ => Err(Error::Unsupported),
        }
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + match self {
                IcmpRepr::EchoRequest { data, .. }
                | IcmpRepr::EchoReply { data, .. }
                | IcmpRepr::DstUnreachable { data, .. } => data.len(),
            }
    }

    /// Writes the whole message, checksum included, into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let (t, code, rest, data) = match *self {
            IcmpRepr::EchoRequest { ident, seq, data } => {
                (kind::ECHO_REQUEST, 0, [ident, seq], data)
            }
            IcmpRepr::EchoReply { ident, seq, data } => (kind::ECHO_REPLY, 0, [ident, seq], data),
            IcmpRepr::DstUnreachable {
                code,
                next_hop_mtu,
                data,
            } => (kind::DST_UNREACHABLE, code, [0, next_hop_mtu], data),
        };
        let len = HEADER_LEN + data.len();
        buf[0] = t;
        buf[1] = code;
        put_u16(buf, 2, 0);
        put_u16(buf, 4, rest[0]);
        put_u16(buf, 6, rest[1]);
        buf[HEADER_LEN..len].copy_from_slice(data);
        let c = checksum::checksum(&buf[..len]);
        put_u16(buf, 2, c);
        len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_roundtrip_odd_length() {
        let data = [1u8, 2, 3, 4, 5];
        let repr = IcmpRepr::EchoRequest {
            ident: 0x1234,
            seq: 9,
            data: &data,
        };
        let mut buf = [0u8; 13];
        assert_eq!(repr.buffer_len(), 13);
        assert_eq!(repr.emit(&mut buf), 13);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(IcmpRepr::parse(&p).unwrap(), repr);
    }

    #[test]
    fn linux_echo_request() {
        // ping -s 0 from Linux: type 8, ident 0x0b1c, seq 1, no data.
        let mut buf = [8u8, 0, 0, 0, 0x0b, 0x1c, 0x00, 0x01];
        let c = !(0x0800u16 + 0x0b1c + 0x0001);
        buf[2..4].copy_from_slice(&c.to_be_bytes());
        let p = Packet::new_checked(&buf[..]).unwrap();
        match IcmpRepr::parse(&p).unwrap() {
            IcmpRepr::EchoRequest { ident, seq, data } => {
                assert_eq!((ident, seq, data.len()), (0x0b1c, 1, 0))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unreachable_roundtrip() {
        let orig = [0x45u8; 28];
        let repr = IcmpRepr::DstUnreachable {
            code: unreachable::PORT,
            next_hop_mtu: 0,
            data: &orig,
        };
        let mut buf = [0u8; 36];
        repr.emit(&mut buf);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(IcmpRepr::parse(&p).unwrap(), repr);
    }

    #[test]
    fn rejects() {
        assert_eq!(
            Packet::new_checked(&[0u8; 7][..]).unwrap_err(),
            Error::Truncated
        );
        let mut buf = [0u8; 8];
        IcmpRepr::EchoReply {
            ident: 1,
            seq: 2,
            data: &[],
        }
        .emit(&mut buf);
        buf[7] ^= 0xff;
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(IcmpRepr::parse(&p).unwrap_err(), Error::Checksum);
        // Timestamp request (13) is valid ICMP but unsupported.
        let mut ts = [13u8, 0, 0, 0, 0, 0, 0, 0];
        let c = checksum::checksum(&ts);
        ts[2..4].copy_from_slice(&c.to_be_bytes());
        let p = Packet::new_checked(&ts[..]).unwrap();
        assert_eq!(IcmpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }
}
