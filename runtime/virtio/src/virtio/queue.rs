//! A split virtqueue in the legacy layout: descriptors, then the available
//! ring, then (at the next 4 KiB boundary) the used ring.

use alloc::alloc::{alloc_zeroed, dealloc};
use core::alloc::Layout;
use core::ptr::NonNull;
use core::sync::atomic::{Ordering, fence};

use super::SetupError;

const ALIGN: usize = 4096;
const DESC_F_NEXT: u16 = 1;
const DESC_F_WRITE: u16 = 2;
const AVAIL_F_NO_INTERRUPT: u16 = 1;
const USED_F_NO_NOTIFY: u16 = 1;

/// Byte offsets for a queue of `size` entries: (used ring offset, total size).
pub fn layout(size: u16) -> (usize, usize) {
    let n = usize::from(size);
    let used_offset = (16 * n + 6 + 2 * n).next_multiple_of(ALIGN);
    let total = used_offset + (6 + 8 * n).next_multiple_of(ALIGN);
    (used_offset, total)
}

/// One element of a descriptor chain. Addresses are physical; the platform
/// maps memory 1:1, so a pointer's value is its physical address.
#[derive(Clone, Copy, Debug)]
pub struct Buffer {
    pub addr: u64,
    pub len: u32,
    /// The device writes into this buffer.
    pub device_writes: bool,
}

impl Buffer {
    pub fn readable(data: &[u8]) -> Self {
        Self {
            addr: data.as_ptr() as u64,
            len: data.len() as u32,
            device_writes: false,
        }
    }

    pub fn writable(data: &mut [u8]) -> Self {
        Self {
            addr: data.as_mut_ptr() as u64,
            len: data.len() as u32,
            device_writes: true,
        }
    }
}

pub struct Queue {
    mem: NonNull<u8>,
    mem_layout: Layout,
    size: u16,
    index: u16,
    used_offset: usize,
    free_head: u16,
    num_free: u16,
    /// Our copy of avail.idx (the device only reads it).
    avail_idx: u16,
    last_used: u16,
}

impl Queue {
    pub fn new(size: u16, index: u16) -> Result<Self, SetupError> {
        let (used_offset, total) = layout(size);
        let mem_layout =
            Layout::from_size_align(total, ALIGN).map_err(|_| SetupError::OutOfMemory)?;
        // SAFETY: non-zero size.
        let mem =
            NonNull::new(unsafe { alloc_zeroed(mem_layout) }).ok_or(SetupError::OutOfMemory)?;
        let q = Self {
            mem,
            mem_layout,
            size,
            index,
            used_offset,
            free_head: 0,
            num_free: size,
            avail_idx: 0,
            last_used: 0,
        };
        for i in 0..size {
            // Free descriptors are chained through `next`.
            q.write_desc(i, 0, 0, 0, i.wrapping_add(1));
        }
        Ok(q)
    }

    pub fn size(&self) -> u16 {
        self.size
    }

    pub fn index(&self) -> u16 {
        self.index
    }

    pub fn phys_addr(&self) -> u64 {
        self.mem.as_ptr() as u64
    }

    pub fn num_free(&self) -> u16 {
        self.num_free
    }

    fn desc_ptr(&self, i: u16) -> *mut u8 {
        // SAFETY: i < size keeps us in the descriptor table.
        unsafe { self.mem.as_ptr().add(16 * usize::from(i)) }
    }

    fn write_desc(&self, i: u16, addr: u64, len: u32, flags: u16, next: u16) {
        let d = self.desc_ptr(i);
        // SAFETY: inside the descriptor table; volatile because the device reads it.
        unsafe {
            d.cast::<u64>().write_volatile(addr);
            d.add(8).cast::<u32>().write_volatile(len);
            d.add(12).cast::<u16>().write_volatile(flags);
            d.add(14).cast::<u16>().write_volatile(next);
        }
    }

    fn desc_flags_next(&self, i: u16) -> (u16, u16) {
        let d = self.desc_ptr(i);
        // SAFETY: inside the descriptor table.
        unsafe {
            (
                d.add(12).cast::<u16>().read_volatile(),
                d.add(14).cast::<u16>().read_volatile(),
            )
        }
    }

    fn avail(&self) -> *mut u16 {
        // SAFETY: the available ring follows the descriptor table.
        unsafe { self.mem.as_ptr().add(16 * usize::from(self.size)).cast() }
    }

    fn used(&self) -> *mut u8 {
        // SAFETY: used_offset is inside the allocation.
        unsafe { self.mem.as_ptr().add(self.used_offset) }
    }

    /// Ask the device not to interrupt for this queue (a hint the device may ignore).
    pub fn set_interrupts(&mut self, enabled: bool) {
        let flags = if enabled { 0 } else { AVAIL_F_NO_INTERRUPT };
        // SAFETY: avail.flags.
        unsafe { self.avail().write_volatile(flags) };
    }

    /// Make `chain` available to the device. Returns the head descriptor id,
    /// or None if not enough descriptors are free. Call [`Queue::should_notify`]
    /// and notify the device afterwards.
    pub fn push(&mut self, chain: &[Buffer]) -> Option<u16> {
        if chain.is_empty() || chain.len() > usize::from(self.num_free) {
            return None;
        }
        let head = self.free_head;
        let mut i = head;
        for (k, b) in chain.iter().enumerate() {
            let (_, next_free) = self.desc_flags_next(i);
            let last = k + 1 == chain.len();
            let mut flags = if b.device_writes { DESC_F_WRITE } else { 0 };
            if !last {
                flags |= DESC_F_NEXT;
            }
            self.write_desc(i, b.addr, b.len, flags, next_free);
            if last {
                self.free_head = next_free;
            } else {
                i = next_free;
            }
        }
        self.num_free -= chain.len() as u16;
        let slot = usize::from(self.avail_idx % self.size);
        // SAFETY: avail.ring[slot], then avail.idx after a barrier so the
        // device never sees the index before the entry.
        unsafe {
            self.avail().add(2 + slot).write_volatile(head);
            fence(Ordering::SeqCst);
            self.avail_idx = self.avail_idx.wrapping_add(1);
            self.avail().add(1).write_volatile(self.avail_idx);
            fence(Ordering::SeqCst);
        }
        Some(head)
    }

    /// Whether the device wants a notification for new buffers.
    pub fn should_notify(&self) -> bool {
        // SAFETY: used.flags.
        let flags = unsafe { self.used().cast::<u16>().read_volatile() };
        flags & USED_F_NO_NOTIFY == 0
    }

    fn used_idx(&self) -> u16 {
        // SAFETY: used.idx.
        unsafe { self.used().add(2).cast::<u16>().read_volatile() }
    }

    /// Pointer to `used.idx`, for readiness checks outside the driver.
    pub fn used_idx_ptr(&self) -> *const u16 {
        // SAFETY: used.idx is inside the allocation.
        unsafe { self.used().add(2).cast() }
    }

    pub fn last_used(&self) -> u16 {
        self.last_used
    }

    pub fn has_used(&self) -> bool {
        self.used_idx() != self.last_used
    }

    /// Take the next completed chain: (head id, bytes the device wrote).
    /// Its descriptors return to the free list.
    pub fn pop_used(&mut self) -> Option<(u16, u32)> {
        if !self.has_used() {
            return None;
        }
        fence(Ordering::SeqCst);
        let slot = usize::from(self.last_used % self.size);
        // SAFETY: used.ring[slot] = {id: u32, len: u32}.
        let (id, len) = unsafe {
            let e = self.used().add(4 + 8 * slot);
            (
                e.cast::<u32>().read_volatile(),
                e.add(4).cast::<u32>().read_volatile(),
            )
        };
        self.last_used = self.last_used.wrapping_add(1);
        let head = id as u16;
        // Walk the chain to its tail and splice it onto the free list.
        let mut tail = head;
        let mut count = 1u16;
        loop {
            let (flags, next) = self.desc_flags_next(tail);
            if flags & DESC_F_NEXT == 0 || count >= self.size {
                break;
            }
            tail = next;
            count += 1;
        }
        let tail_flags = self.desc_flags_next(tail).0;
        let d = self.desc_ptr(tail);
        // SAFETY: inside the descriptor table.
        unsafe {
            d.add(12)
                .cast::<u16>()
                .write_volatile(tail_flags & !DESC_F_NEXT);
            d.add(14).cast::<u16>().write_volatile(self.free_head);
        }
        self.free_head = head;
        self.num_free += count;
        Some((head, len))
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // SAFETY: allocated in `new` with this layout; callers reset the device first.
        unsafe { dealloc(self.mem.as_ptr(), self.mem_layout) }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn legacy_layout_sizes() {
        // QEMU's virtio-net queues: 256 entries.
        assert_eq!(layout(256), (8192, 12288));
        assert_eq!(layout(128), (4096, 8192));
        assert_eq!(layout(1024), (20480, 32768));
    }

    /// Pretend to be the device: consume `n` available chains and complete them.
    fn device_complete(q: &Queue, seen_avail: &mut u16, written: u32) {
        unsafe {
            let avail_idx = q.avail().add(1).read_volatile();
            while *seen_avail != avail_idx {
                let head = q
                    .avail()
                    .add(2 + usize::from(*seen_avail % q.size))
                    .read_volatile();
                let used_idx = q.used_idx();
                let e = q.used().add(4 + 8 * usize::from(used_idx % q.size));
                e.cast::<u32>().write_volatile(u32::from(head));
                e.add(4).cast::<u32>().write_volatile(written);
                q.used()
                    .add(2)
                    .cast::<u16>()
                    .write_volatile(used_idx.wrapping_add(1));
                *seen_avail = seen_avail.wrapping_add(1);
            }
        }
    }

    #[test]
    fn chains_cycle_through_the_free_list() {
        let mut q = Queue::new(8, 0).unwrap();
        let mut data = [0u8; 64];
        let mut seen = 0u16;
        for round in 0..100u32 {
            let (a, b) = data.split_at_mut(16);
            let head = q.push(&[Buffer::readable(a), Buffer::writable(b)]).unwrap();
            assert_eq!(q.num_free(), 6);
            assert!(!q.has_used());
            device_complete(&q, &mut seen, round);
            assert_eq!(q.pop_used(), Some((head, round)));
            assert_eq!(q.num_free(), 8);
        }
        // The ring index wraps past u16 without losing track.
        assert_eq!(q.pop_used(), None);
    }

    #[test]
    fn full_queue_refuses_more() {
        let mut q = Queue::new(4, 1).unwrap();
        let mut data = [0u8; 4];
        for _ in 0..4 {
            assert!(q.push(&[Buffer::writable(&mut data)]).is_some());
        }
        assert!(q.push(&[Buffer::writable(&mut data)]).is_none());
        let mut seen = 0;
        device_complete(&q, &mut seen, 4);
        let mut n = 0;
        while q.pop_used().is_some() {
            n += 1;
        }
        assert_eq!(n, 4);
        assert_eq!(q.num_free(), 4);
        assert!(
            q.push(&[Buffer::writable(&mut data), Buffer::writable(&mut data)])
                .is_some()
        );
    }
}
