//! The platform's clocks and command line, registered at boot (like the
//! console and exit hooks) for the devices every freestanding target shares.

use core::sync::atomic::{AtomicPtr, Ordering};

/// What the shared devices read from the platform.
#[derive(Debug, Clone, Copy)]
pub struct Sources {
    /// Monotonic ns, the clock the executor's `Platform::now_ns` reads.
    pub monotonic_ns: fn() -> u64,
    /// Wall-clock ns since the Unix epoch.
    pub wall_ns: fn() -> u64,
    /// The boot command line (valid once the application runs).
    pub cmdline: fn() -> &'static str,
}

static SOURCES: AtomicPtr<Sources> = AtomicPtr::new(core::ptr::null_mut());

/// Register the platform's sources; platforms do it at boot, before `main`.
pub fn set_sources(sources: &'static Sources) {
    // Only ever read through, never written: the `*mut` is AtomicPtr's type.
    SOURCES.store(core::ptr::from_ref(sources).cast_mut(), Ordering::Release);
}

fn get() -> Option<&'static Sources> {
    // SAFETY: only `set_sources` stores into SOURCES, always a `&'static`.
    unsafe { SOURCES.load(Ordering::Acquire).as_ref() }
}

/// The platform's monotonic clock; 0 before registration.
pub fn monotonic_ns() -> u64 {
    get().map_or(0, |s| (s.monotonic_ns)())
}

/// The platform's wall clock; 0 (the epoch) before registration.
pub fn wall_ns() -> u64 {
    get().map_or(0, |s| (s.wall_ns)())
}

/// The boot command line; empty before registration.
pub fn cmdline() -> &'static str {
    get().map_or("", |s| (s.cmdline)())
}
