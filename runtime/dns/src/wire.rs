//! The DNS message format (RFC 1035 §4, RFC 3596 for AAAA): queries are built, responses
//! parsed into owned values. Only what a stub resolver needs is decoded (A, AAAA, CNAME in
//! the answer section); other records are kept as their type. Parsing never panics: every
//! read is bounds-checked, compression pointers must point strictly backwards (so they
//! cannot loop) and names are limited to 255 bytes on the wire.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{Ipv4Addr, Ipv6Addr};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;
/// Largest name on the wire (labels and their length bytes, root included).
pub const MAX_NAME: usize = 255;
/// Largest label.
pub const MAX_LABEL: usize = 63;
/// Largest UDP message without EDNS (RFC 1035 §4.2.1): longer answers come truncated.
pub const UDP_MAX: usize = 512;

/// Class IN.
pub const CLASS_IN: u16 = 1;

/// Record types this resolver asks for or follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Qtype {
    A,
    Aaaa,
}

impl Qtype {
    pub const fn code(self) -> u16 {
        match self {
            Qtype::A => 1,
            Qtype::Aaaa => 28,
        }
    }
}

impl fmt::Display for Qtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Qtype::A => "A",
            Qtype::Aaaa => "AAAA",
        })
    }
}

/// Type code of CNAME.
pub const TYPE_CNAME: u16 = 5;

/// Response codes (RFC 1035 §4.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rcode {
    NoError,
    FormErr,
    ServFail,
    NxDomain,
    NotImp,
    Refused,
    Other(u8),
}

impl Rcode {
    fn from_bits(b: u8) -> Rcode {
        match b {
            0 => Rcode::NoError,
            1 => Rcode::FormErr,
            2 => Rcode::ServFail,
            3 => Rcode::NxDomain,
            4 => Rcode::NotImp,
            5 => Rcode::Refused,
            n => Rcode::Other(n),
        }
    }
}

/// Why a name or message was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// The message ends before a field it announces.
    Truncated,
    /// A compression pointer that does not point strictly backwards.
    BadPointer,
    /// A name longer than 255 bytes, or a label longer than 63.
    NameTooLong,
    /// An empty label inside a name, or the label type bits 01/10 (reserved).
    BadLabel,
    /// A record whose data does not fit its type (an A record of 3 bytes).
    BadRdata,
    /// Not a response (QR clear).
    NotResponse,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WireError::Truncated => "message truncated",
            WireError::BadPointer => "bad compression pointer",
            WireError::NameTooLong => "name too long",
            WireError::BadLabel => "bad label",
            WireError::BadRdata => "record data does not fit its type",
            WireError::NotResponse => "not a response",
        })
    }
}

/// A domain name: its labels, lower-cased (DNS compares names case-insensitively, RFC 4343),
/// kept in presentation form without the trailing dot (`www.example.com`). Labels holding a
/// dot or a non-printable byte are refused by [`Name::parse`]; from the wire such bytes are
/// kept escaped (`\046`), so two distinct wire names never compare equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(String);

impl Name {
    /// A name from its text form (`example.com` or `example.com.`). Labels are 1..=63
    /// bytes of letters, digits, `-` and `_`; the whole name at most 255 bytes on the wire.
    pub fn parse(text: &str) -> Result<Name, WireError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        if text.is_empty() {
            return Err(WireError::BadLabel);
        }
        let mut wire_len = 1;
        for label in text.split('.') {
            if label.is_empty()
                || !label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(WireError::BadLabel);
            }
            if label.len() > MAX_LABEL {
                return Err(WireError::NameTooLong);
            }
            wire_len += 1 + label.len();
        }
        if wire_len > MAX_NAME {
            return Err(WireError::NameTooLong);
        }
        Ok(Name(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Appends the uncompressed wire form (names from `parse` hold no escapes).
    fn emit(&self, out: &mut Vec<u8>) {
        for label in self.0.split('.') {
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
        out.push(0);
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A query for `name`'s `qtype` records with recursion desired: the message, without the
/// two-byte length prefix TCP adds.
pub fn query(id: u16, name: &Name, qtype: Qtype) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + name.0.len() + 6);
    out.extend_from_slice(&id.to_be_bytes());
    // RD set, everything else clear.
    out.extend_from_slice(&0x0100u16.to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    name.emit(&mut out);
    out.extend_from_slice(&qtype.code().to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    out
}

/// What a record holds, for the types this resolver uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rdata {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(Name),
    /// Any other type (its code); the data is skipped.
    Other(u16),
}

/// One answer record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub name: Name,
    pub class: u16,
    pub ttl: u32,
    pub data: Rdata,
}

/// A parsed response: the header fields a resolver checks, the question, the answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub id: u16,
    pub opcode: u8,
    /// TC: the answer did not fit (UDP); ask again over TCP.
    pub truncated: bool,
    pub rcode: Rcode,
    /// The first question (name, type code, class), if there was one.
    pub question: Option<(Name, u16, u16)>,
    pub answers: Vec<Record>,
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let s = self.msg.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A possibly compressed name starting at the cursor; the cursor ends after its
    /// in-place part (the pointer, or the root label).
    fn name(&mut self) -> Result<Name, WireError> {
        let (name, end) = read_name(self.msg, self.pos)?;
        self.pos = end;
        Ok(name)
    }
}

/// Decodes the name at `start` of `msg`; returns it and the offset after its in-place part.
fn read_name(msg: &[u8], start: usize) -> Result<(Name, usize), WireError> {
    let mut text = String::new();
    let mut wire_len = 1usize;
    let mut pos = start;
    let mut end = None;
    loop {
        let len = *msg.get(pos).ok_or(WireError::Truncated)?;
        match len >> 6 {
            0b00 => {
                let len = usize::from(len);
                if len == 0 {
                    let end = end.unwrap_or(pos + 1);
                    return Ok((Name(text), end));
                }
                wire_len += 1 + len;
                if wire_len > MAX_NAME {
                    return Err(WireError::NameTooLong);
                }
                let label = msg
                    .get(pos + 1..pos + 1 + len)
                    .ok_or(WireError::Truncated)?;
                if !text.is_empty() {
                    text.push('.');
                }
                for &b in label {
                    let b = b.to_ascii_lowercase();
                    if b.is_ascii_graphic() && b != b'.' && b != b'\\' {
                        text.push(char::from(b));
                    } else {
                        // RFC 4343 escapes: distinct wire names stay distinct.
                        text.push('\\');
                        text.push(char::from(b'0' + b / 100));
                        text.push(char::from(b'0' + b / 10 % 10));
                        text.push(char::from(b'0' + b % 10));
                    }
                }
                pos += 1 + len;
            }
            0b11 => {
                let lo = *msg.get(pos + 1).ok_or(WireError::Truncated)?;
                let target = usize::from(u16::from_be_bytes([len & 0x3f, lo]));
                // Strictly backwards: each jump lowers the offset, so there is no loop.
                if target >= pos {
                    return Err(WireError::BadPointer);
                }
                if end.is_none() {
                    end = Some(pos + 2);
                }
                pos = target;
            }
            _ => return Err(WireError::BadLabel),
        }
    }
}

/// Parses a response. Any message whose announced sections do not fit is refused, except
/// that a truncated (TC) message may stop early: its records up to the cut are kept.
pub fn parse(msg: &[u8]) -> Result<Response, WireError> {
    let mut r = Reader { msg, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    if flags & 0x8000 == 0 {
        return Err(WireError::NotResponse);
    }
    let opcode = ((flags >> 11) & 0xf) as u8;
    let truncated = flags & 0x0200 != 0;
    let rcode = Rcode::from_bits((flags & 0xf) as u8);
    let qdcount = r.u16()?;
    let ancount = r.u16()?;
    let _nscount = r.u16()?;
    let _arcount = r.u16()?;
    let mut question = None;
    let sections = (|| {
        for i in 0..qdcount {
            let name = r.name()?;
            let qtype = r.u16()?;
            let qclass = r.u16()?;
            if i == 0 {
                question = Some((name, qtype, qclass));
            }
        }
        let mut answers = Vec::new();
        for _ in 0..ancount {
            answers.push(record(&mut r)?);
        }
        Ok(answers)
    })();
    let answers = match sections {
        Ok(a) => a,
        // A truncated message may be cut anywhere; what it held is useless anyway.
        Err(WireError::Truncated) if truncated => Vec::new(),
        Err(e) => return Err(e),
    };
    Ok(Response {
        id,
        opcode,
        truncated,
        rcode,
        question,
        answers,
    })
}

fn record(r: &mut Reader<'_>) -> Result<Record, WireError> {
    let name = r.name()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = usize::from(r.u16()?);
    let start = r.pos;
    let rdata = r.take(rdlen)?;
    let data = match rtype {
        1 => Rdata::A(Ipv4Addr::from(
            <[u8; 4]>::try_from(rdata).map_err(|_| WireError::BadRdata)?,
        )),
        28 => Rdata::Aaaa(Ipv6Addr::from(
            <[u8; 16]>::try_from(rdata).map_err(|_| WireError::BadRdata)?,
        )),
        TYPE_CNAME => {
            // The target may be compressed, pointing anywhere before it.
            let (target, end) = read_name(r.msg, start)?;
            if end != start + rdlen {
                return Err(WireError::BadRdata);
            }
            Rdata::Cname(target)
        }
        t => Rdata::Other(t),
    };
    Ok(Record {
        name,
        class,
        // RFC 2181 §8: a TTL with the top bit set counts as zero.
        ttl: if ttl & 0x8000_0000 != 0 { 0 } else { ttl },
        data,
    })
}

/// Builders of responses, for tests and the benchmarks' servers (not used by the client).
pub mod build {
    use super::*;

    /// A response to `query` (as built by [`super::query`]) with `rcode`, `tc`, and the
    /// answers given as (owner, ttl, data); names are written uncompressed.
    pub fn response(query: &[u8], rcode: u8, tc: bool, answers: &[(Name, u32, Rdata)]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(query.get(..2).unwrap_or(&[0, 0]));
        let mut flags = 0x8180u16 | u16::from(rcode & 0xf);
        if tc {
            flags |= 0x0200;
        }
        out.extend_from_slice(&flags.to_be_bytes());
        out.extend_from_slice(&[0, 1]);
        out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(query.get(HEADER_LEN..).unwrap_or(&[]));
        for (name, ttl, data) in answers {
            name.emit(&mut out);
            let (t, rd): (u16, Vec<u8>) = match data {
                Rdata::A(a) => (1, a.octets().to_vec()),
                Rdata::Aaaa(a) => (28, a.octets().to_vec()),
                Rdata::Cname(n) => {
                    let mut v = Vec::new();
                    n.emit(&mut v);
                    (TYPE_CNAME, v)
                }
                Rdata::Other(t) => (*t, Vec::new()),
            };
            out.extend_from_slice(&t.to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&ttl.to_be_bytes());
            out.extend_from_slice(&(rd.len() as u16).to_be_bytes());
            out.extend_from_slice(&rd);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn n(s: &str) -> Name {
        Name::parse(s).unwrap()
    }

    #[test]
    fn names_are_checked_and_lower_cased() {
        assert_eq!(n("WWW.Example.COM.").as_str(), "www.example.com");
        assert_eq!(Name::parse(""), Err(WireError::BadLabel));
        assert_eq!(Name::parse("."), Err(WireError::BadLabel));
        assert_eq!(Name::parse("a..b"), Err(WireError::BadLabel));
        assert_eq!(Name::parse("a b"), Err(WireError::BadLabel));
        let long = "a".repeat(64);
        assert_eq!(Name::parse(&long), Err(WireError::NameTooLong));
        // 4 labels of 63: 4 * 64 + 1 = 257 bytes on the wire.
        let l63 = "b".repeat(63);
        let too_long = [l63.as_str(); 4].join(".");
        assert_eq!(Name::parse(&too_long), Err(WireError::NameTooLong));
        let fits = [
            l63.as_str(),
            l63.as_str(),
            l63.as_str(),
            "c".repeat(61).as_str(),
        ]
        .join(".");
        assert!(Name::parse(&fits).is_ok());
    }

    #[test]
    fn a_query_is_laid_out_as_rfc_1035_says() {
        let q = query(0xbeef, &n("a.io"), Qtype::Aaaa);
        assert_eq!(
            q,
            vec![
                0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 2, b'i', b'o', 0, 0, 28,
                0, 1
            ]
        );
    }

    #[test]
    fn responses_round_trip_through_the_builder() {
        let q = query(7, &n("www.example.com"), Qtype::A);
        let answers = vec![
            (n("www.example.com"), 300, Rdata::Cname(n("example.com"))),
            (n("example.com"), 60, Rdata::A(Ipv4Addr::new(192, 0, 2, 1))),
            (n("example.com"), 60, Rdata::Aaaa(Ipv6Addr::LOCALHOST)),
        ];
        let r = parse(&build::response(&q, 0, false, &answers)).unwrap();
        assert_eq!(r.id, 7);
        assert_eq!(r.rcode, Rcode::NoError);
        assert!(!r.truncated);
        assert_eq!(r.question, Some((n("www.example.com"), 1, 1)));
        let got: Vec<_> = r
            .answers
            .into_iter()
            .map(|a| (a.name, a.ttl, a.data))
            .collect();
        assert_eq!(got, answers);
    }

    #[test]
    fn compressed_names_are_followed_backwards_only() {
        // Header, question `a.io` A IN, one answer whose owner points at the question name
        // (offset 12) and whose CNAME target is `b` + pointer to `io` (offset 14).
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
        m.extend_from_slice(&[1, b'a', 2, b'i', b'o', 0, 0, 1, 0, 1]);
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 9, 0, 4, 1, b'b', 0xc0, 14]);
        let r = parse(&m).unwrap();
        assert_eq!(r.answers[0].name, n("a.io"));
        assert_eq!(r.answers[0].data, Rdata::Cname(n("b.io")));
        // A pointer to itself, and one pointing forwards.
        let mut looped = m.clone();
        looped[23] = 22;
        assert_eq!(parse(&looped), Err(WireError::BadPointer));
        let mut fwd = m.clone();
        fwd[23] = 40;
        assert_eq!(parse(&fwd).unwrap_err(), WireError::BadPointer);
    }

    #[test]
    fn odd_bytes_in_wire_labels_are_escaped() {
        let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[3, b'a', b'.', 0xff, 0, 0, 1, 0, 1]);
        let r = parse(&m).unwrap();
        assert_eq!(r.question.unwrap().0.as_str(), "a\\046\\255");
    }

    #[test]
    fn malformed_messages_are_errors() {
        assert_eq!(parse(&[]), Err(WireError::Truncated));
        assert_eq!(parse(&[0; 12]), Err(WireError::NotResponse));
        let q = query(1, &n("x.y"), Qtype::A);
        let ok = build::response(
            &q,
            0,
            false,
            &[(n("x.y"), 1, Rdata::A(Ipv4Addr::LOCALHOST))],
        );
        for cut in 0..ok.len() {
            assert!(parse(&ok[..cut]).is_err(), "cut at {cut}");
        }
        // An A record of 3 bytes.
        let mut bad = ok.clone();
        let at = bad.len() - 6;
        bad[at] = 0;
        bad[at + 1] = 3;
        bad.pop();
        assert_eq!(parse(&bad), Err(WireError::BadRdata));
        // A truncated (TC) message cut short keeps its header.
        let tc = build::response(&q, 0, true, &[(n("x.y"), 1, Rdata::A(Ipv4Addr::LOCALHOST))]);
        let r = parse(&tc[..tc.len() - 2]).unwrap();
        assert!(r.truncated && r.answers.is_empty());
    }

    #[test]
    fn ttls_with_the_top_bit_count_as_zero() {
        let q = query(1, &n("x.y"), Qtype::A);
        let m = build::response(
            &q,
            0,
            false,
            &[(n("x.y"), 0x8000_0001, Rdata::A(Ipv4Addr::LOCALHOST))],
        );
        assert_eq!(parse(&m).unwrap().answers[0].ttl, 0);
    }
}
