//! Exit hook registered by the platform (isa-debug-exit, hvt HALT, ...).

use core::sync::atomic::{AtomicPtr, Ordering};

/// Status used by the panic handler, as for a panicking Rust process.
pub const EXIT_PANIC: i32 = 101;
/// Status for unrecoverable faults (CPU exceptions), as Solo5's `solo5_abort`.
pub const EXIT_ABORT: i32 = 255;

static EXIT: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Register the platform's exit function.
pub fn set_exit(exit: fn(i32) -> !) {
    EXIT.store(exit as *mut (), Ordering::Release);
}

/// Leave the unikernel with `status`.
///
/// Before a platform registered its exit function there is nothing better to
/// do than spin; platforms register it before running any other code.
pub fn exit(status: i32) -> ! {
    let raw = EXIT.load(Ordering::Acquire);
    if !raw.is_null() {
        // SAFETY: only `set_exit` stores into EXIT, always a `fn(i32) -> !`.
        let exit: fn(i32) -> ! = unsafe { core::mem::transmute::<*mut (), fn(i32) -> !>(raw) };
        exit(status);
    }
    loop {
        core::hint::spin_loop();
    }
}
