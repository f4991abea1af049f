//! Time from Xen's pvclock: the monotonic clock is Xen system time since
//! boot (read through the TSC scaled by `vcpu_time_info`), the wall clock
//! is `shared_info`'s wall-clock base plus system time.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::shared;

static BOOT_SYSTEM_NS: AtomicU64 = AtomicU64::new(0);
static LAST_NS: AtomicU64 = AtomicU64::new(0);

/// Xen system time now (ns since the host booted).
pub fn system_ns() -> u64 {
    shared::time_info().system_time_at(crate::cpu::rdtsc())
}

/// Start the monotonic clock at 0 (once the shared info page is mapped).
pub fn init() {
    BOOT_SYSTEM_NS.store(system_ns(), Ordering::SeqCst);
}

/// Monotonic ns since boot; never decreases.
pub fn now_ns() -> u64 {
    let now = system_ns().saturating_sub(BOOT_SYSTEM_NS.load(Ordering::Relaxed));
    let last = LAST_NS.fetch_max(now, Ordering::Relaxed);
    now.max(last)
}

/// Xen system time of a monotonic deadline.
pub fn to_system_ns(deadline_ns: u64) -> u64 {
    deadline_ns.saturating_add(BOOT_SYSTEM_NS.load(Ordering::Relaxed))
}

/// Unix time in ns.
pub fn wall_ns() -> u64 {
    shared::wall_base_ns().saturating_add(system_ns())
}
