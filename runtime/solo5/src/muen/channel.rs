//! Muen SHMStream v2 channels: one writer subject, any number of readers,
//! over a shared memory region: a 64-byte header, then `elements` slots
//! of `size` bytes. The writer never waits; a reader that falls more than
//! a ring behind loses data and learns so (overrun). The region belongs to
//! another subject, so every header value is checked before use and every
//! access is volatile.

use core::ptr;

/// `transport` of every SHMStream v2 header.
pub const TRANSPORT: u64 = 0x4873_12b6_b79a_9b6d;
/// Header bytes before the first element.
pub const HEADER: usize = 64;

const EPOCH: usize = 8;
const PROTOCOL: usize = 16;
const SIZE: usize = 24;
const ELEMENTS: usize = 32;
const WSC: usize = 48;
const WC: usize = 56;

/// A channel region: `len` bytes at `base`, mapped for the image's lifetime.
#[derive(Clone, Copy, Debug)]
pub struct Region {
    base: *mut u8,
    len: usize,
}

impl Region {
    /// # Safety
    /// `base..base + len` stays mapped (and writable, for a writer) while
    /// the region is used; other parties may change it at any time.
    pub const unsafe fn new(base: *mut u8, len: usize) -> Self {
        Self { base, len }
    }

    fn load(&self, at: usize) -> u64 {
        debug_assert!(at + 8 <= self.len);
        // SAFETY: header fields lie inside the region (checked by callers
        // against HEADER <= len); 8-byte aligned as the region is.
        unsafe { ptr::read_volatile(self.base.add(at).cast::<u64>()) }
    }

    fn store(&self, at: usize, value: u64) {
        debug_assert!(at + 8 <= self.len);
        // SAFETY: as in `load`; only writers store.
        unsafe { ptr::write_volatile(self.base.add(at).cast::<u64>(), value) }
    }

    fn fence() {
        core::sync::atomic::fence(core::sync::atomic::Ordering::SeqCst);
    }
}

/// Slots that fit a region of `len` bytes with elements of `size` bytes.
pub fn capacity(len: usize, size: usize) -> u64 {
    if size == 0 {
        return 0;
    }
    (len.saturating_sub(HEADER) / size) as u64
}

/// The writing end.
#[derive(Debug)]
pub struct Writer {
    region: Region,
    size: usize,
    elements: u64,
}

impl Writer {
    /// Initialise the channel for `protocol` with elements of `size` bytes,
    /// as many as fit, and activate it with `epoch` (non-zero). Readers
    /// see an inactive channel (epoch 0) until the header is complete.
    pub fn new(region: Region, protocol: u64, size: usize, epoch: u64) -> Option<Self> {
        let elements = capacity(region.len, size);
        if elements == 0 || epoch == 0 {
            return None;
        }
        region.store(EPOCH, 0);
        Region::fence();
        // SAFETY: the whole region is the writer's to fill.
        unsafe { ptr::write_bytes(region.base.add(8), 0, region.len - 8) };
        region.store(0, TRANSPORT);
        region.store(PROTOCOL, protocol);
        region.store(SIZE, size as u64);
        region.store(ELEMENTS, elements);
        region.store(WSC, 0);
        region.store(WC, 0);
        Region::fence();
        region.store(EPOCH, epoch);
        Some(Self {
            region,
            size,
            elements,
        })
    }

    pub fn element_size(&self) -> usize {
        self.size
    }

    /// Append one element (`data` shorter than an element is zero-padded).
    pub fn write(&mut self, data: &[u8]) {
        let n = data.len().min(self.size);
        let wc = self.region.load(WC);
        let slot = (wc % self.elements) as usize;
        self.region.store(WSC, wc.wrapping_add(1));
        Region::fence();
        let at = HEADER + slot * self.size;
        // SAFETY: slot < elements and HEADER + elements * size <= len.
        unsafe {
            let dst = self.region.base.add(at);
            let padded = data[..n].iter().copied().chain(core::iter::repeat(0));
            for (i, b) in padded.take(self.size).enumerate() {
                ptr::write_volatile(dst.add(i), b);
            }
        }
        Region::fence();
        self.region.store(WC, wc.wrapping_add(1));
    }
}

/// What a read found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// One element, copied into the buffer.
    Element,
    /// Nothing new.
    Empty,
    /// The writer has not activated the channel.
    Inactive,
    /// The writer restarted the channel (new epoch); the reader starts over.
    EpochChanged,
    /// The header does not describe this protocol, or is unusable.
    Incompatible,
    /// The writer overwrote elements not yet read; the reader skipped to
    /// the writer's position.
    Overrun,
}

/// The reading end: its own position and the epoch it synchronised to.
#[derive(Debug)]
pub struct Reader {
    region: Region,
    protocol: u64,
    size: usize,
    epoch: u64,
    elements: u64,
    rc: u64,
}

impl Reader {
    /// A reader of `protocol` elements of `size` bytes.
    pub fn new(region: Region, protocol: u64, size: usize) -> Self {
        Self {
            region,
            protocol,
            size,
            epoch: 0,
            elements: 0,
            rc: 0,
        }
    }

    fn synchronise(&mut self, epoch: u64) -> Read {
        self.epoch = 0;
        let r = &self.region;
        if r.len < HEADER
            || r.load(0) != TRANSPORT
            || r.load(PROTOCOL) != self.protocol
            || r.load(SIZE) != self.size as u64
        {
            return Read::Incompatible;
        }
        let elements = r.load(ELEMENTS);
        if elements == 0 || elements > capacity(r.len, self.size) {
            return Read::Incompatible;
        }
        self.elements = elements;
        self.epoch = epoch;
        self.rc = 0;
        Read::EpochChanged
    }

    /// Whether an element (or an epoch change) is waiting.
    pub fn pending(&self) -> bool {
        if self.region.len < HEADER {
            return false;
        }
        let epoch = self.region.load(EPOCH);
        epoch != 0 && (epoch != self.epoch || self.region.load(WC) != self.rc)
    }

    /// Read the next element into `buf` (at least an element long).
    pub fn read(&mut self, buf: &mut [u8]) -> Read {
        if self.region.len < HEADER || buf.len() < self.size {
            return Read::Incompatible;
        }
        let epoch = self.region.load(EPOCH);
        if epoch == 0 {
            self.epoch = 0;
            return Read::Inactive;
        }
        if epoch != self.epoch {
            return self.synchronise(epoch);
        }
        let wc = self.region.load(WC);
        if wc == self.rc {
            return Read::Empty;
        }
        if wc.wrapping_sub(self.rc) > self.elements {
            self.rc = wc;
            return Read::Overrun;
        }
        Region::fence();
        let at = HEADER + (self.rc % self.elements) as usize * self.size;
        // SAFETY: the slot lies inside the region (elements checked against
        // the region's length at synchronisation).
        unsafe {
            let src = self.region.base.add(at);
            for (i, b) in buf[..self.size].iter_mut().enumerate() {
                *b = ptr::read_volatile(src.add(i));
            }
        }
        Region::fence();
        // The writer may have lapped us while we copied: the copy is torn.
        if self.region.load(WSC).wrapping_sub(self.rc) > self.elements {
            self.rc = self.region.load(WC);
            return Read::Overrun;
        }
        if self.region.load(EPOCH) != self.epoch {
            return self.synchronise(self.region.load(EPOCH));
        }
        self.rc = self.rc.wrapping_add(1);
        Read::Element
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    const PROTO: u64 = 0x1234;

    /// An 8-byte aligned region of `slots` elements of `size` bytes.
    fn memory(slots: usize, size: usize) -> Vec<u64> {
        vec![0u64; (HEADER + slots * size).div_ceil(8)]
    }

    fn region(mem: &mut [u64]) -> Region {
        // SAFETY: the vector outlives every use in the test.
        unsafe { Region::new(mem.as_mut_ptr().cast(), mem.len() * 8) }
    }

    fn read_all(r: &mut Reader) -> (Vec<u8>, Vec<Read>) {
        let mut got = Vec::new();
        let mut events = Vec::new();
        let mut buf = [0u8; 8];
        loop {
            match r.read(&mut buf) {
                Read::Empty | Read::Inactive | Read::Incompatible => break,
                Read::Element => got.push(buf[0]),
                other => events.push(other),
            }
        }
        (got, events)
    }

    #[test]
    fn inactive_until_the_writer_starts() {
        let mut mem = memory(4, 8);
        let mut r = Reader::new(region(&mut mem), PROTO, 8);
        assert!(!r.pending());
        assert_eq!(r.read(&mut [0; 8]), Read::Inactive);
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 7).unwrap();
        assert!(r.pending());
        assert_eq!(r.read(&mut [0; 8]), Read::EpochChanged);
        assert_eq!(r.read(&mut [0; 8]), Read::Empty);
        w.write(&[42]);
        assert!(r.pending());
        let mut buf = [0xffu8; 8];
        assert_eq!(r.read(&mut buf), Read::Element);
        assert_eq!(buf, [42, 0, 0, 0, 0, 0, 0, 0], "short data is zero-padded");
        assert!(!r.pending());
    }

    #[test]
    fn wraps_around_the_ring_in_order() {
        let mut mem = memory(4, 8);
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 1).unwrap();
        let mut r = Reader::new(region(&mut mem), PROTO, 8);
        assert_eq!(r.read(&mut [0; 8]), Read::EpochChanged);
        let mut all = Vec::new();
        for round in 0..10u8 {
            for i in 0..3 {
                w.write(&[round * 3 + i]);
            }
            all.extend(read_all(&mut r).0);
        }
        assert_eq!(all, (0..30).collect::<Vec<u8>>());
    }

    #[test]
    fn a_full_ring_is_not_an_overrun_but_one_more_is() {
        let mut mem = memory(4, 8);
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 1).unwrap();
        let mut r = Reader::new(region(&mut mem), PROTO, 8);
        assert_eq!(r.read(&mut [0; 8]), Read::EpochChanged);
        for i in 0..4 {
            w.write(&[i]);
        }
        assert_eq!(read_all(&mut r), (vec![0, 1, 2, 3], vec![]));
        for i in 0..6 {
            w.write(&[10 + i]);
        }
        let (got, events) = read_all(&mut r);
        assert_eq!(events, vec![Read::Overrun]);
        assert!(got.is_empty(), "skipped to the writer: {got:?}");
        w.write(&[99]);
        assert_eq!(read_all(&mut r), (vec![99], vec![]));
    }

    #[test]
    fn a_torn_copy_is_an_overrun() {
        let mut mem = memory(2, 8);
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 1).unwrap();
        let mut r = Reader::new(region(&mut mem), PROTO, 8);
        assert_eq!(r.read(&mut [0; 8]), Read::EpochChanged);
        w.write(&[1]);
        // The writer has started a write that laps the reader's slot
        // (wsc ahead by more than the ring) while wc still looks fine.
        let reg = region(&mut mem);
        reg.store(WSC, 3);
        assert_eq!(r.read(&mut [0; 8]), Read::Overrun);
    }

    #[test]
    fn a_new_epoch_starts_over() {
        let mut mem = memory(4, 8);
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 1).unwrap();
        let mut r = Reader::new(region(&mut mem), PROTO, 8);
        w.write(&[1]);
        w.write(&[2]);
        assert_eq!(read_all(&mut r), (vec![1, 2], vec![Read::EpochChanged]));
        w.write(&[3]);
        // The writer restarts (a new subject instance): old data is gone.
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 2).unwrap();
        w.write(&[4]);
        assert_eq!(read_all(&mut r), (vec![4], vec![Read::EpochChanged]));
        // Deactivated: the reader waits for the next epoch.
        region(&mut mem).store(EPOCH, 0);
        assert_eq!(r.read(&mut [0; 8]), Read::Inactive);
    }

    #[test]
    fn foreign_or_broken_headers_are_refused() {
        let mut mem = memory(4, 8);
        Writer::new(region(&mut mem), PROTO, 8, 1).unwrap();
        let mut other = Reader::new(region(&mut mem), PROTO + 1, 8);
        assert_eq!(other.read(&mut [0; 8]), Read::Incompatible);
        let mut bigger = Reader::new(region(&mut mem), PROTO, 16);
        assert_eq!(bigger.read(&mut [0; 16]), Read::Incompatible);
        let reg = region(&mut mem);
        reg.store(ELEMENTS, 1000);
        let mut r = Reader::new(reg, PROTO, 8);
        assert_eq!(
            r.read(&mut [0; 8]),
            Read::Incompatible,
            "ring beyond the region"
        );
        reg.store(ELEMENTS, 0);
        assert_eq!(r.read(&mut [0; 8]), Read::Incompatible, "no slots");
        reg.store(ELEMENTS, 4);
        reg.store(0, 0);
        assert_eq!(r.read(&mut [0; 8]), Read::Incompatible, "not SHMStream");
        assert_eq!(r.read(&mut [0; 4]), Read::Incompatible, "buffer too small");
        assert!(
            Writer::new(reg, PROTO, 8, 0).is_none(),
            "epoch 0 is inactive"
        );
        assert!(
            Writer::new(reg, PROTO, 4096, 1).is_none(),
            "no room for one"
        );
    }

    /// Any header the other subject writes: reads stay inside the region.
    #[test]
    fn arbitrary_headers_never_escape_the_region() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let mut mem = memory(4, 8);
            let reg = region(&mut mem);
            reg.store(0, if next() % 4 == 0 { next() } else { TRANSPORT });
            reg.store(EPOCH, next() % 3);
            reg.store(PROTOCOL, if next() % 4 == 0 { next() } else { PROTO });
            reg.store(SIZE, if next() % 4 == 0 { next() } else { 8 });
            reg.store(ELEMENTS, next() % 8);
            reg.store(WSC, next() % 16);
            reg.store(WC, next() % 16);
            let mut r = Reader::new(reg, PROTO, 8);
            let mut buf = [0u8; 8];
            for _ in 0..8 {
                let _ = r.pending();
                let _ = r.read(&mut buf);
                reg.store(WC, next() % 16);
                reg.store(WSC, next() % 16);
            }
        }
    }

    #[test]
    fn counters_wrap_at_u64() {
        let mut mem = memory(4, 8);
        let mut w = Writer::new(region(&mut mem), PROTO, 8, 1).unwrap();
        let mut r = Reader::new(region(&mut mem), PROTO, 8);
        assert_eq!(r.read(&mut [0; 8]), Read::EpochChanged);
        let start = u64::MAX - 1;
        region(&mut mem).store(WC, start);
        region(&mut mem).store(WSC, start);
        r.rc = start;
        for i in 0..4 {
            w.write(&[i]);
        }
        assert_eq!(read_all(&mut r), (vec![0, 1, 2, 3], vec![]));
    }
}
