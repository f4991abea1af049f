//! Sequence numbers with modulo-2^32 comparison (RFC 9293 section 3.4).

use core::cmp::Ordering;
use core::ops::{Add, Sub};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Seq(pub u32);

impl Seq {
    /// `self - earlier` as a distance; zero if `earlier` is actually later.
    pub fn since(self, earlier: Seq) -> usize {
        let d = self.0.wrapping_sub(earlier.0) as i32;
        d.max(0) as usize
    }

    pub fn max(self, other: Seq) -> Seq {
        if self > other { self } else { other }
    }

    pub fn min(self, other: Seq) -> Seq {
        if self < other { self } else { other }
    }
}

impl Add<usize> for Seq {
    type Output = Seq;
    fn add(self, n: usize) -> Seq {
        Seq(self.0.wrapping_add(n as u32))
    }
}

impl Sub<usize> for Seq {
    type Output = Seq;
    fn sub(self, n: usize) -> Seq {
        Seq(self.0.wrapping_sub(n as u32))
    }
}

impl PartialOrd for Seq {
    fn partial_cmp(&self, other: &Seq) -> Option<Ordering> {
        Some((self.0.wrapping_sub(other.0) as i32).cmp(&0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapping_order() {
        let a = Seq(u32::MAX - 5);
        let b = a + 10;
        assert_eq!(b, Seq(4));
        assert!(a < b);
        assert!(b > a);
        assert!(b >= b);
        assert!(Seq(0x7fff_ffff) > Seq(0));
        assert!(Seq(0x8000_0001) < Seq(0));
        assert_eq!(b.since(a), 10);
        assert_eq!(a.since(b), 0);
        assert_eq!(b - 10, a);
        assert_eq!(a.max(b), b);
        assert_eq!(a.min(b), a);
    }
}
