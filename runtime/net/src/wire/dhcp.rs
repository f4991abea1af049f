//! DHCP messages (RFC 2131, options RFC 2132) carried in BOOTP.

use super::{Error, Ipv4Addr, MacAddr, Result, get_ip, get_u16, get_u32, put_ip, put_u16, put_u32};

pub const SERVER_PORT: u16 = 67;
pub const CLIENT_PORT: u16 = 68;

const OPTIONS_AT: usize = 240;
const MAGIC_COOKIE: u32 = 0x6382_5363;
/// BOOTP relays and some servers drop messages shorter than the original BOOTP size.
const MIN_MESSAGE_LEN: usize = 300;

pub mod option {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const CLIENT_ID: u8 = 61;
    pub const END: u8 = 255;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
}

impl MessageType {
    fn from_u8(v: u8) -> Option<MessageType> {
        Some(match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            _ => return None,
        })
    }

    fn to_u8(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
        }
    }

    /// Messages a client sends use BOOTREQUEST; server messages BOOTREPLY.
    fn op(self) -> u8 {
        match self {
            MessageType::Offer | MessageType::Ack | MessageType::Nak => 2,
            _ => 1,
        }
    }
}

/// A checked view of a DHCP message (BOOTP header plus magic cookie).
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let b = buffer.as_ref();
        if b.len() < OPTIONS_AT {
            return Err(Error::Truncated);
        }
        if get_u32(b, 236) != MAGIC_COOKIE {
            return Err(Error::Malformed);
        }
        Ok(Packet { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn op(&self) -> u8 {
        self.b()[0]
    }
    pub fn htype(&self) -> u8 {
        self.b()[1]
    }
    pub fn hlen(&self) -> u8 {
        self.b()[2]
    }
    pub fn xid(&self) -> u32 {
        get_u32(self.b(), 4)
    }
    pub fn secs(&self) -> u16 {
        get_u16(self.b(), 8)
    }
    pub fn broadcast(&self) -> bool {
        get_u16(self.b(), 10) & 0x8000 != 0
    }
    pub fn ciaddr(&self) -> Ipv4Addr {
        get_ip(self.b(), 12)
    }
    pub fn yiaddr(&self) -> Ipv4Addr {
        get_ip(self.b(), 16)
    }
    pub fn siaddr(&self) -> Ipv4Addr {
        get_ip(self.b(), 20)
    }
    pub fn giaddr(&self) -> Ipv4Addr {
        get_ip(self.b(), 24)
    }
    pub fn chaddr(&self) -> &[u8] {
        &self.b()[28..44]
    }
    pub fn options(&self) -> Options<'_> {
        Options {
            rest: &self.b()[OPTIONS_AT..],
        }
    }
}

/// Iterates `(code, data)` pairs, skipping PAD and stopping at END; a length running past the
/// buffer yields one `Err(Malformed)` and ends the iteration.
pub struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<(u8, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&code, after) = self.rest.split_first()?;
            match code {
                option::PAD => self.rest = after,
                option::END => {
                    self.rest = &[];
                    return None;
                }
                _ => {
                    let Some((&len, data)) = after.split_first() else {
                        self.rest = &[];
                        return Some(Err(Error::Malformed));
                    };
                    let len = usize::from(len);
                    if len > data.len() {
                        self.rest = &[];
                        return Some(Err(Error::Malformed));
                    }
                    self.rest = &data[len..];
                    return Some(Ok((code, &data[..len])));
                }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpRepr<'a> {
    pub message_type: MessageType,
    pub xid: u32,
    pub secs: u16,
    pub broadcast: bool,
    pub client_hw: MacAddr,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub server_id: Option<Ipv4Addr>,
    pub requested_ip: Option<Ipv4Addr>,
    /// Seconds.
    pub lease_time: Option<u32>,
    /// T1, seconds.
    pub renewal_time: Option<u32>,
    /// T2, seconds.
    pub rebinding_time: Option<u32>,
    pub subnet_mask: Option<Ipv4Addr>,
    pub router: Option<Ipv4Addr>,
    pub dns_servers: [Option<Ipv4Addr>; 3],
    pub parameter_request_list: Option<&'a [u8]>,
    pub max_message_size: Option<u16>,
    pub client_id: Option<&'a [u8]>,
    pub hostname: Option<&'a [u8]>,
}

impl<'a> DhcpRepr<'a> {
    /// A message with every optional field empty.
    pub fn new(message_type: MessageType, xid: u32, client_hw: MacAddr) -> DhcpRepr<'a> {
        DhcpRepr {
            message_type,
            xid,
            secs: 0,
            broadcast: false,
            client_hw,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            server_id: None,
            requested_ip: None,
            lease_time: None,
            renewal_time: None,
            rebinding_time: None,
            subnet_mask: None,
            router: None,
            dns_servers: [None; 3],
            parameter_request_list: None,
            max_message_size: None,
            client_id: None,
            hostname: None,
        }
    }

    /// Only Ethernet hardware addresses are supported; BOOTP without a message type option
    /// is `Unsupported`.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<DhcpRepr<'a>> {
        if p.htype() != 1 || p.hlen() != 6 {
            return Err(Error::Unsupported);
        }
        let mut r = DhcpRepr::new(
            MessageType::Discover,
            p.xid(),
            MacAddr::from_bytes(p.chaddr()),
        );
        r.secs = p.secs();
        r.broadcast = p.broadcast();
        r.ciaddr = p.ciaddr();
        r.yiaddr = p.yiaddr();
        r.siaddr = p.siaddr();
        r.giaddr = p.giaddr();
        let mut message_type = None;
        let options = Options {
            rest: &p.buffer[OPTIONS_AT..],
        };
        for opt in options {
            let (code, data) = opt?;
            let ip = || (data.len() >= 4).then(|| get_ip(data, 0));
            let u32v = || (data.len() == 4).then(|| get_u32(data, 0));
            match code {
                option::MESSAGE_TYPE => {
                    let [t] = data else {
                        return Err(Error::Malformed);
                    };
                    message_type = Some(MessageType::from_u8(*t).ok_or(Error::Unsupported)?);
                }
                option::SUBNET_MASK => r.subnet_mask = ip(),
                option::ROUTER => r.router = ip(),
                option::DNS => {
                    for (slot, c) in r.dns_servers.iter_mut().zip(data.chunks_exact(4)) {
                        *slot = Some(get_ip(c, 0));
                    }
                }
                option::HOSTNAME => r.hostname = Some(data),
                option::REQUESTED_IP => r.requested_ip = ip(),
                option::LEASE_TIME => r.lease_time = u32v(),
                option::SERVER_ID => r.server_id = ip(),
                option::PARAMETER_REQUEST_LIST => r.parameter_request_list = Some(data),
                option::MAX_MESSAGE_SIZE => {
                    r.max_message_size = (data.len() == 2).then(|| get_u16(data, 0))
                }
                option::RENEWAL_TIME => r.renewal_time = u32v(),
                option::REBINDING_TIME => r.rebinding_time = u32v(),
                option::CLIENT_ID => r.client_id = Some(data),
                _ => {}
            }
        }
        r.message_type = message_type.ok_or(Error::Unsupported)?;
        if p.op() != r.message_type.op() {
            return Err(Error::Malformed);
        }
        Ok(r)
    }

    fn options_len(&self) -> usize {
        let ip = 6;
        let u32o = 6;
        let mut n = 3 + 1; // message type + END
        n += self.server_id.map_or(0, |_| ip);
        n += self.requested_ip.map_or(0, |_| ip);
        n += self.lease_time.map_or(0, |_| u32o);
        n += self.renewal_time.map_or(0, |_| u32o);
        n += self.rebinding_time.map_or(0, |_| u32o);
        n += self.subnet_mask.map_or(0, |_| ip);
        n += self.router.map_or(0, |_| ip);
        let dns = self.dns_servers.iter().flatten().count();
        if dns > 0 {
            n += 2 + 4 * dns;
        }
        n += self
            .parameter_request_list
            .map_or(0, |l| 2 + l.len().min(255));
        n += self.max_message_size.map_or(0, |_| 4);
        n += self.client_id.map_or(0, |l| 2 + l.len().min(255));
        n += self.hostname.map_or(0, |l| 2 + l.len().min(255));
        n
    }

    pub fn buffer_len(&self) -> usize {
        (OPTIONS_AT + self.options_len()).max(MIN_MESSAGE_LEN)
    }

    /// Writes the whole message into `buf[..self.buffer_len()]`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> usize {
        let len = self.buffer_len();
        let b = &mut buf[..len];
        b.fill(0);
        b[0] = self.message_type.op();
        b[1] = 1;
        b[2] = 6;
        put_u32(b, 4, self.xid);
        put_u16(b, 8, self.secs);
        put_u16(b, 10, if self.broadcast { 0x8000 } else { 0 });
        put_ip(b, 12, self.ciaddr);
        put_ip(b, 16, self.yiaddr);
        put_ip(b, 20, self.siaddr);
        put_ip(b, 24, self.giaddr);
        b[28..34].copy_from_slice(&self.client_hw.0);
        put_u32(b, 236, MAGIC_COOKIE);
        let mut w = Writer { b, at: OPTIONS_AT };
        w.opt(option::MESSAGE_TYPE, &[self.message_type.to_u8()]);
        if let Some(v) = self.server_id {
            w.opt(option::SERVER_ID, &v.octets());
        }
        if let Some(v) = self.requested_ip {
            w.opt(option::REQUESTED_IP, &v.octets());
        }
        if let Some(v) = self.lease_time {
            w.opt(option::LEASE_TIME, &v.to_be_bytes());
        }
        if let Some(v) = self.renewal_time {
            w.opt(option::RENEWAL_TIME, &v.to_be_bytes());
        }
        if let Some(v) = self.rebinding_time {
            w.opt(option::REBINDING_TIME, &v.to_be_bytes());
        }
        if let Some(v) = self.subnet_mask {
            w.opt(option::SUBNET_MASK, &v.octets());
        }
        if let Some(v) = self.router {
            w.opt(option::ROUTER, &v.octets());
        }
        let mut dns = [0u8; 12];
        let mut k = 0;
        for d in self.dns_servers.iter().flatten() {
            dns[k..k + 4].copy_from_slice(&d.octets());
            k += 4;
        }
        if k > 0 {
            w.opt(option::DNS, &dns[..k]);
        }
        if let Some(v) = self.parameter_request_list {
            w.opt(option::PARAMETER_REQUEST_LIST, v);
        }
        if let Some(v) = self.max_message_size {
            w.opt(option::MAX_MESSAGE_SIZE, &v.to_be_bytes());
        }
        if let Some(v) = self.client_id {
            w.opt(option::CLIENT_ID, v);
        }
        if let Some(v) = self.hostname {
            w.opt(option::HOSTNAME, v);
        }
        w.b[w.at] = option::END;
        len
    }
}

struct Writer<'b> {
    b: &'b mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn opt(&mut self, code: u8, data: &[u8]) {
        let data = &data[..data.len().min(255)];
        self.b[self.at] = code;
        self.b[self.at + 1] = data.len() as u8;
        self.b[self.at + 2..self.at + 2 + data.len()].copy_from_slice(data);
        self.at += 2 + data.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 7]);

    #[test]
    fn roundtrip_ack_with_all_options() {
        let mut r = DhcpRepr::new(MessageType::Ack, 0xdeadbeef, MAC);
        r.yiaddr = Ipv4Addr::new(10, 0, 0, 50);
        r.siaddr = Ipv4Addr::new(10, 0, 0, 1);
        r.server_id = Some(Ipv4Addr::new(10, 0, 0, 1));
        r.lease_time = Some(3600);
        r.renewal_time = Some(1800);
        r.rebinding_time = Some(3150);
        r.subnet_mask = Some(Ipv4Addr::new(255, 255, 255, 0));
        r.router = Some(Ipv4Addr::new(10, 0, 0, 1));
        r.dns_servers = [
            Some(Ipv4Addr::new(1, 1, 1, 1)),
            Some(Ipv4Addr::new(8, 8, 8, 8)),
            None,
        ];
        r.hostname = Some(b"unik");
        let mut buf = vec![0u8; r.buffer_len()];
        assert_eq!(r.emit(&mut buf), buf.len());
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(DhcpRepr::parse(&p).unwrap(), r);
    }

    #[test]
    fn roundtrip_discover_min_size() {
        let mut r = DhcpRepr::new(MessageType::Discover, 1, MAC);
        r.broadcast = true;
        r.parameter_request_list = Some(&[1, 3, 6]);
        r.max_message_size = Some(1500);
        r.client_id = Some(&[1, 2, 0, 0, 0, 0, 7]);
        assert_eq!(r.buffer_len(), 300);
        let mut buf = vec![0u8; 300];
        r.emit(&mut buf);
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(p.op(), 1);
        assert_eq!(DhcpRepr::parse(&p).unwrap(), r);
    }

    fn with_options(op: u8, opts: &[u8]) -> alloc::vec::Vec<u8> {
        let mut b = vec![0u8; OPTIONS_AT];
        b[0] = op;
        b[1] = 1;
        b[2] = 6;
        put_u32(&mut b, 236, MAGIC_COOKIE);
        b.extend_from_slice(opts);
        b
    }

    #[test]
    fn pad_and_unknown_skipped() {
        let b = with_options(2, &[0, 0, 99, 2, 1, 2, 53, 1, 2, 0, 255, 53, 1, 5]);
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = DhcpRepr::parse(&p).unwrap();
        // Anything after END is ignored.
        assert_eq!(r.message_type, MessageType::Offer);
    }

    #[test]
    fn rejects() {
        let b = with_options(2, &[53, 1, 2, 255]);
        assert_eq!(
            Packet::new_checked(&b[..239]).unwrap_err(),
            Error::Truncated
        );
        let mut cookie = b.clone();
        cookie[236] = 0;
        assert_eq!(
            Packet::new_checked(&cookie[..]).unwrap_err(),
            Error::Malformed
        );
        // Plain BOOTP (no message type).
        let bootp = with_options(2, &[255]);
        let p = Packet::new_checked(&bootp[..]).unwrap();
        assert_eq!(DhcpRepr::parse(&p).unwrap_err(), Error::Unsupported);
        // Option length past the end.
        let over = with_options(2, &[53, 1, 2, 51, 4, 0, 0]);
        let p = Packet::new_checked(&over[..]).unwrap();
        assert_eq!(DhcpRepr::parse(&p).unwrap_err(), Error::Malformed);
        // Op disagrees with the message type.
        let op = with_options(1, &[53, 1, 2, 255]);
        let p = Packet::new_checked(&op[..]).unwrap();
        assert_eq!(DhcpRepr::parse(&p).unwrap_err(), Error::Malformed);
        // Token ring.
        let mut tr = with_options(2, &[53, 1, 2, 255]);
        tr[1] = 6;
        let p = Packet::new_checked(&tr[..]).unwrap();
        assert_eq!(DhcpRepr::parse(&p).unwrap_err(), Error::Unsupported);
        // Bad message type length.
        let mt = with_options(2, &[53, 2, 2, 2, 255]);
        let p = Packet::new_checked(&mt[..]).unwrap();
        assert_eq!(DhcpRepr::parse(&p).unwrap_err(), Error::Malformed);
    }
}
