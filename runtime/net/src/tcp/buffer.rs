//! A fixed-capacity ring buffer. The receive side also writes out-of-order data into the free
//! space beyond its end and commits it once the gap before it is filled.
//!
//! Memory is allocated on the first write, so that connections which never carry data (a
//! flood of half-open ones) cost no buffer space.

use alloc::vec;
use alloc::vec::Vec;

#[derive(Debug)]
pub struct Ring {
    /// Empty until the first write, then `cap` bytes.
    buf: Vec<u8>,
    cap: usize,
    head: usize,
    len: usize,
}

impl Ring {
    pub fn new(capacity: usize) -> Ring {
        Ring {
            buf: Vec::new(),
            cap: capacity,
            head: 0,
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.cap
    }
    /// Bytes of memory the ring holds (0 before the first write).
    pub fn allocated(&self) -> usize {
        self.buf.len()
    }
    pub fn len(&self) -> usize {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn free(&self) -> usize {
        self.cap - self.len
    }

    fn index(&self, offset: usize) -> usize {
        (self.head + offset) % self.cap.max(1)
    }

    /// Copies `data` to the position `offset` bytes past the end of the stored data without
    /// making it readable; returns how much fit.
    pub fn write_at(&mut self, offset: usize, data: &[u8]) -> usize {
        if offset >= self.free() {
            return 0;
        }
        let n = data.len().min(self.free() - offset);
        if n == 0 {
            return 0;
        }
        if self.buf.is_empty() {
            self.buf = vec![0; self.cap];
        }
        let start = self.index(self.len + offset);
        let first = n.min(self.cap - start);
        self.buf[start..start + first].copy_from_slice(&data[..first]);
        self.buf[..n - first].copy_from_slice(&data[first..n]);
        n
    }

    /// Makes `n` bytes written by `write_at(0, ..)` readable.
    pub fn commit(&mut self, n: usize) {
        debug_assert!(n <= self.free());
        self.len += n.min(self.free());
    }

    /// Appends as much of `data` as fits; returns the count.
    pub fn push(&mut self, data: &[u8]) -> usize {
        let n = self.write_at(0, data);
        self.commit(n);
        n
    }

    /// The stored bytes from `offset`, at most `len` of them, as up to two slices.
    pub fn peek(&self, offset: usize, len: usize) -> (&[u8], &[u8]) {
        if offset >= self.len {
            return (&[], &[]);
        }
        let n = len.min(self.len - offset);
        let start = self.index(offset);
        let first = n.min(self.cap - start);
        (&self.buf[start..start + first], &self.buf[..n - first])
    }

    /// Drops `n` bytes from the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = self.index(n);
        // The head is never reset: out-of-order data may sit beyond the end.
        self.len -= n;
    }

    /// Moves up to `out.len()` bytes from the front into `out`.
    pub fn pop(&mut self, out: &mut [u8]) -> usize {
        let (a, b) = self.peek(0, out.len());
        let (na, nb) = (a.len(), b.len());
        out[..na].copy_from_slice(a);
        out[na..na + nb].copy_from_slice(b);
        self.consume(na + nb);
        na + nb
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_pop_wraps() {
        let mut r = Ring::new(8);
        assert_eq!(r.push(b"abcdef"), 6);
        let mut out = [0u8; 4];
        assert_eq!(r.pop(&mut out), 4);
        assert_eq!(&out, b"abcd");
        assert_eq!(r.push(b"ghijklmn"), 6);
        assert_eq!(r.free(), 0);
        let (a, b) = r.peek(0, 100);
        assert_eq!([a, b].concat(), b"efghijkl");
        assert_eq!(a, b"efgh");
        let (a, b) = r.peek(3, 2);
        assert_eq!([a, b].concat(), b"hi");
        let mut all = [0u8; 8];
        assert_eq!(r.pop(&mut all), 8);
        assert_eq!(&all, b"efghijkl");
        assert!(r.is_empty());
        assert_eq!(r.peek(0, 1), (&[][..], &[][..]));
    }

    #[test]
    fn out_of_order_then_commit() {
        let mut r = Ring::new(10);
        r.push(b"xx");
        r.consume(2);
        // A later segment lands 3 bytes past the end, then the gap fills.
        assert_eq!(r.write_at(3, b"defgh"), 5);
        assert_eq!(r.len(), 0);
        assert_eq!(r.write_at(0, b"abc"), 3);
        r.commit(8);
        let mut out = [0u8; 8];
        r.pop(&mut out);
        assert_eq!(&out, b"abcdefgh");
        // Past the free space nothing is written.
        let mut f = Ring::new(4);
        assert_eq!(f.write_at(4, b"z"), 0);
        assert_eq!(f.write_at(2, b"zzz"), 2);
    }

    #[test]
    fn zero_capacity() {
        let mut r = Ring::new(0);
        assert_eq!(r.push(b"a"), 0);
        assert_eq!(r.pop(&mut [0u8; 2]), 0);
    }

    #[test]
    fn allocates_on_first_write() {
        let mut r = Ring::new(1 << 20);
        assert_eq!((r.allocated(), r.free()), (0, 1 << 20));
        assert_eq!(r.peek(0, 10), (&[][..], &[][..]));
        assert_eq!(r.write_at(5, b""), 0);
        assert_eq!(r.allocated(), 0);
        assert_eq!(r.push(b"x"), 1);
        assert_eq!(r.allocated(), 1 << 20);
    }
}
