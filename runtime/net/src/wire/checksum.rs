//! The Internet checksum (RFC 1071), computed incrementally over any number of slices.

use super::IpAddr;

/// Running one's-complement sum. Slices of odd length are handled by carrying the odd byte
/// over to the next slice, so `add(a).push(b)` equals `add(a ++ b)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Checksum {
    sum: u64,
    odd: Option<u8>,
}

impl Checksum {
    pub fn new() -> Checksum {
        Checksum::default()
    }

    pub fn push(mut self, mut data: &[u8]) -> Checksum {
        if let Some(hi) = self.odd.take() {
            match data.split_first() {
                Some((&lo, rest)) => {
                    self.sum += u64::from(u16::from_be_bytes([hi, lo]));
                    data = rest;
                }
                None => {
                    self.odd = Some(hi);
                    return self;
                }
            }
        }
        let mut chunks = data.chunks_exact(2);
        for c in &mut chunks {
            self.sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            self.odd = Some(*last);
        }
        self
    }

    pub fn add_u16(self, v: u16) -> Checksum {
        self.push(&v.to_be_bytes())
    }

    /// The folded sum, not complemented.
    pub fn fold(&self) -> u16 {
        let mut s = self.sum;
        if let Some(hi) = self.odd {
            s += u64::from(hi) << 8;
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// The value to store in a checksum field.
    pub fn finish(&self) -> u16 {
        !self.fold()
    }
}

/// Checksum of one contiguous buffer.
pub fn checksum(data: &[u8]) -> u16 {
    Checksum::new().push(data).finish()
}

/// True if `data`, checksum field included, sums to 0xFFFF (the verification rule).
pub fn verifies(data: &[u8]) -> bool {
    Checksum::new().push(data).fold() == 0xffff
}

/// Sum of the pseudo-header used by UDP, TCP and ICMPv6: IPv4's (RFC 768) or IPv6's
/// (RFC 8200 8.1, whose 32-bit length sums the same as a 16-bit one below 64 KiB).
pub fn pseudo_header(
    src: impl Into<IpAddr>,
    dst: impl Into<IpAddr>,
    protocol: u8,
    length: u16,
) -> Checksum {
    let c = match (src.into(), dst.into()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => Checksum::new().push(&s.octets()).push(&d.octets()),
        (s, d) => Checksum::new().push(&v6(s).octets()).push(&v6(d).octets()),
    };
    c.push(&[0, protocol]).add_u16(length)
}

fn v6(a: IpAddr) -> super::Ipv6Addr {
    match a {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // The worked example from RFC 1071 section 3: sum is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(Checksum::new().push(&data).fold(), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            Checksum::new().push(&[0x12, 0x34, 0x56]).fold(),
            0x1234 + 0x5600
        );
        assert_eq!(Checksum::new().push(&[0xab]).fold(), 0xab00);
    }

    #[test]
    fn odd_split_equals_contiguous() {
        let data: alloc::vec::Vec<u8> = (0u8..=200).map(|x| x.wrapping_mul(37)).collect();
        let whole = Checksum::new().push(&data).finish();
        for cut in [0, 1, 3, 7, 100, 201] {
            let (a, b) = data.split_at(cut);
            assert_eq!(Checksum::new().push(a).push(b).finish(), whole, "cut {cut}");
        }
        let three = Checksum::new()
            .push(&data[..5])
            .push(&data[5..6])
            .push(&[])
            .push(&data[6..]);
        assert_eq!(three.finish(), whole);
    }

    #[test]
    fn folding_carries_wrap_around() {
        // 0xffff + 0x0001 = 0x10000 folds to 0x0001.
        assert_eq!(
            Checksum::new().push(&[0xff, 0xff, 0x00, 0x01]).fold(),
            0x0001
        );
        // Many 0xffff words keep folding to 0xffff, never 0x0000.
        let ones = [0xffu8; 4096];
        assert_eq!(Checksum::new().push(&ones).fold(), 0xffff);
        assert_eq!(checksum(&ones), 0x0000);
        // Long input cannot overflow the accumulator.
        let big = alloc::vec![0xffu8; 1 << 20];
        assert_eq!(Checksum::new().push(&big).fold(), 0xffff);
    }

    #[test]
    fn all_zero_gives_ffff() {
        assert_eq!(checksum(&[0; 20]), 0xffff);
    }

    #[test]
    fn verify_after_insert() {
        let mut data = [
            0x45, 0, 0, 0x1c, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let c = checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(verifies(&data));
        data[0] ^= 1;
        assert!(!verifies(&data));
    }
}
