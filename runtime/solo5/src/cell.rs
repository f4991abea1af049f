//! Shared mutable statics for a single-threaded image.

use core::cell::UnsafeCell;

/// A static written at boot and read afterwards. Sound because Solo5 images
/// run one thread and take no interrupts.
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
