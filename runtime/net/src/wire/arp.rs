//! ARP for IPv4 over Ethernet (RFC 826).

use super::{Error, Ipv4Addr, MacAddr, Result, get_ip, get_u16, put_ip, put_u16};

pub const PACKET_LEN: usize = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Request,
    Reply,
}

/// A checked view of an Ethernet/IPv4 ARP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Accepts only hardware type Ethernet (1) with 6-byte addresses and protocol IPv4 with
    /// 4-byte addresses; anything else is `Unsupported`.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < 8 {
            return Err(Error::Truncated);
        }
        if get_u16(b, 0) != 1 || get_u16(b, 2) != 0x0800 || b[4] != 6 || b[5] != 4 {
            return Err(Error::Unsupported);
        }
        if b.len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn operation(&self) -> u16 {
        get_u16(self.b(), 6)
    }
    pub fn sender_mac(&self) -> MacAddr {
        MacAddr::from_bytes(&self.b()[8..14])
    }
    pub fn sender_ip(&self) -> Ipv4Addr {
        get_ip(self.b(), 14)
    }
    pub fn target_mac(&self) -> MacAddr {
        MacAddr::from_bytes(&self.b()[18..24])
    }
    pub fn target_ip(&self) -> Ipv4Addr {
        get_ip(self.b(), 24)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    pub operation: Operation,
    pub sender_mac: MacAddr,
    pub sender_ip: Ipv4Addr,
    pub target_mac: MacAddr,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<ArpRepr> {
        let operation = match p.operation() {
            1 => Operation::Request,
            2 => Operation::Reply,
            _ => return Err(Error::Unsupported),
        };
        Ok(ArpRepr {
            operation,
            sender_mac: p.sender_mac(),
            sender_ip: p.sender_ip(),
            target_mac: p.target_mac(),
            target_ip: p.target_ip(),
        })
    }

    /// Writes the 28-byte packet into `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        put_u16(buf, 0, 1);
        put_u16(buf, 2, 0x0800);
        buf[4] = 6;
        buf[5] = 4;
        put_u16(
            buf,
            6,
            match self.operation {
                Operation::Request => 1,
                Operation::Reply => 2,
            },
        );
        buf[8..14].copy_from_slice(&self.sender_mac.0);
        put_ip(buf, 14, self.sender_ip);
        buf[18..24].copy_from_slice(&self.target_mac.0);
        put_ip(buf, 24, self.target_ip);
        PACKET_LEN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A request captured from Linux: who-has 10.0.0.1 tell 10.0.0.2.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 10, 0,
        0, 2, 0, 0, 0, 0, 0, 0, 10, 0, 0, 1,
    ];

    #[test]
    fn parse_request() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        let r = ArpRepr::parse(&p).unwrap();
        assert_eq!(r.operation, Operation::Request);
        assert_eq!(r.sender_mac, MacAddr([2, 0, 0, 0, 0, 2]));
        assert_eq!(r.sender_ip, Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(r.target_mac, MacAddr::ZERO);
        assert_eq!(r.target_ip, Ipv4Addr::new(10, 0, 0, 1));
        let mut out = [0u8; 28];
        assert_eq!(r.emit(&mut out), 28);
        assert_eq!(out, REQUEST);
    }

    #[test]
    fn rejects() {
        assert_eq!(
            Packet::new_checked(&REQUEST[..27]).unwrap_err(),
            Error::Truncated
        );
        assert_eq!(
            Packet::new_checked(&REQUEST[..5]).unwrap_err(),
            Error::Truncated
        );
        let mut bad = REQUEST;
        bad[3] = 0xdd; // IPv6 ethertype as protocol
        assert_eq!(
            Packet::new_checked(&bad[..]).unwrap_err(),
            Error::Unsupported
        );
        let mut op = REQUEST;
        op[7] = 9;
        let p = Packet::new_checked(&op[..]).unwrap();
        assert_eq!(ArpRepr::parse(&p).unwrap_err(), Error::Unsupported);
    }
}
