//! The platform's blocking primitive: sleep with `hlt` until a deadline or a
//! device interrupt, and report which network devices have frames waiting.

use core::sync::atomic::{AtomicPtr, AtomicU16, Ordering};

use crate::{clock, pit};

/// Network devices that can take part in [`wait`] (bits of the ready set).
pub const MAX_NET_DEVICES: usize = 16;

struct Probe {
    used_idx: AtomicPtr<u16>,
    last_used: AtomicU16,
}

static PROBES: [Probe; MAX_NET_DEVICES] = [const {
    Probe {
        used_idx: AtomicPtr::new(core::ptr::null_mut()),
        last_used: AtomicU16::new(0),
    }
}; MAX_NET_DEVICES];

/// Register a receive queue's `used.idx`; returns the device's handle.
pub(crate) fn register_probe(used_idx: *const u16) -> Option<usize> {
    for (i, p) in PROBES.iter().enumerate() {
        let free = core::ptr::null_mut();
        if p.used_idx
            .compare_exchange(
                free,
                used_idx.cast_mut(),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        {
            p.last_used.store(0, Ordering::SeqCst);
            return Some(i);
        }
    }
    None
}

pub(crate) fn update_probe(handle: usize, last_used: u16) {
    if let Some(p) = PROBES.get(handle) {
        p.last_used.store(last_used, Ordering::SeqCst);
    }
}

pub(crate) fn unregister_probe(handle: usize) {
    if let Some(p) = PROBES.get(handle) {
        p.used_idx.store(core::ptr::null_mut(), Ordering::SeqCst);
    }
}

/// Handles in `interest` whose receive queue has a frame waiting.
pub fn ready_set(interest: u64) -> u64 {
    let mut ready = 0;
    for (i, p) in PROBES.iter().enumerate() {
        if interest & (1 << i) == 0 {
            continue;
        }
        let ptr = p.used_idx.load(Ordering::SeqCst);
        if ptr.is_null() {
            continue;
        }
        // SAFETY: registered by a live `Net`, unregistered before its ring is freed.
        let used = unsafe { ptr.read_volatile() };
        if used != p.last_used.load(Ordering::SeqCst) {
            ready |= 1 << i;
        }
    }
    ready
}

/// Halt until an interrupt: the timer at `deadline_ns` (monotonic) at the
/// latest, or any device. Returns at once if the deadline has passed. One
/// PIT shot lasts at most ~55 ms, so callers loop (as [`wait`] does).
pub fn halt_until(deadline_ns: u64) {
    let now = clock::now_ns();
    if now >= deadline_ns {
        return;
    }
    pit::arm_oneshot(deadline_ns - now);
    // SAFETY: `sti; hlt` is atomic with respect to interrupt delivery (sti
    // takes effect after hlt starts), so a pending interrupt wakes the hlt.
    // Every vector runs on an IST stack, so this stack's red zone is safe.
    unsafe { core::arch::asm!("sti", "hlt", "cli", options(nostack)) };
}

/// Block until `deadline_ns` (monotonic) or until a network device in
/// `interest` (bit i = handle i) has a frame; returns the ready handles
/// (0 on timeout).
pub fn wait(deadline_ns: u64, interest: u64) -> u64 {
    loop {
        let ready = ready_set(interest);
        if ready != 0 || clock::now_ns() >= deadline_ns {
            return ready;
        }
        halt_until(deadline_ns);
    }
}
