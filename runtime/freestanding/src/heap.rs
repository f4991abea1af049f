//! The global heap: `talc` over memory regions the platform hands over at boot.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use spinning_top::RawSpinlock;
use talc::DefaultBinning;
use talc::source::Manual;
use talc::sync::TalcLock;

/// A heap that starts empty and grows by [`Heap::add_region`].
pub struct Heap {
    talc: TalcLock<RawSpinlock, Manual, DefaultBinning>,
    claimed: AtomicUsize,
}

impl Heap {
    pub const fn new() -> Self {
        Self {
            talc: TalcLock::new(Manual),
            claimed: AtomicUsize::new(0),
        }
    }

    /// Give `size` bytes at `base` to the heap. Returns false if the region is
    /// too small to be used.
    ///
    /// # Safety
    /// The region must be RAM that nothing else uses for the rest of the run.
    pub unsafe fn add_region(&self, base: *mut u8, size: usize) -> bool {
        // SAFETY: forwarded from the caller; `Manual` allows manual claims.
        let claimed = unsafe { self.talc.lock().claim(base, size) };
        if claimed.is_some() {
            self.claimed.fetch_add(size, Ordering::Relaxed);
        }
        claimed.is_some()
    }

    /// Bytes handed to the heap so far (including allocator metadata).
    pub fn claimed_bytes(&self) -> usize {
        self.claimed.load(Ordering::Relaxed)
    }
}

impl Default for Heap {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: delegates to talc's locked allocator.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { self.talc.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.talc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { self.talc.realloc(ptr, layout, new_size) }
    }
}

/// The image's global allocator.
#[cfg(unik_kernel)]
#[global_allocator]
pub static HEAP: Heap = Heap::new();

/// Add a region to the global heap (see [`Heap::add_region`]).
///
/// # Safety
/// As [`Heap::add_region`].
#[cfg(unik_kernel)]
pub unsafe fn add_region(base: *mut u8, size: usize) -> bool {
    unsafe { HEAP.add_region(base, size) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(align(64))]
    struct Arena([u8; 64 * 1024]);

    #[test]
    fn allocates_from_added_regions_only() {
        let heap = Heap::new();
        let layout = Layout::from_size_align(1024, 16).unwrap();
        assert!(
            unsafe { heap.alloc(layout) }.is_null(),
            "an empty heap has nothing to give"
        );

        let arena = Box::leak(Box::new(Arena([0; 64 * 1024])));
        let base = arena.0.as_mut_ptr();
        assert!(unsafe { heap.add_region(base, arena.0.len()) });
        assert_eq!(heap.claimed_bytes(), 64 * 1024);

        let p = unsafe { heap.alloc(layout) };
        assert!(!p.is_null());
        let range = base as usize..base as usize + 64 * 1024;
        assert!(range.contains(&(p as usize)));
        assert_eq!(p as usize % 16, 0);

        let big = Layout::from_size_align(40 * 1024, 8).unwrap();
        let q = unsafe { heap.alloc(big) };
        assert!(!q.is_null());
        assert!(
            unsafe { heap.alloc(big) }.is_null(),
            "two 40 KiB blocks cannot fit in 64 KiB"
        );
        unsafe { heap.dealloc(q, big) };
        let q = unsafe { heap.alloc(big) };
        assert!(!q.is_null());
        unsafe { heap.dealloc(p, layout) };
        unsafe { heap.dealloc(q, big) };
    }

    extern crate std;
    use std::boxed::Box;
}
