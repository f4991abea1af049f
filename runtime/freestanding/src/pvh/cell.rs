//! Shared mutable statics for a single-CPU kernel.

use core::cell::UnsafeCell;

/// A static the kernel mutates in place. Sound because there is one CPU and
/// interrupt handlers never touch a `Global` (they use atomics).
pub struct Global<T>(UnsafeCell<T>);

// SAFETY: see the type's documentation.
unsafe impl<T> Sync for Global<T> {}

impl<T> Global<T> {
    pub const fn new(value: T) -> Self {
        Self(UnsafeCell::new(value))
    }

    pub const fn get(&self) -> *mut T {
        self.0.get()
    }
}
