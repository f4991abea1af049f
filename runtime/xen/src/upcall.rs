//! The xen platform's interrupt handler: the event-channel upcall vector
//! (the shared trap stubs report CPU exceptions themselves).

use core::sync::atomic::{AtomicU64, Ordering};

use crate::trap::TrapFrame;
use crate::{shared, watch};

/// The vector Xen raises for event-channel upcalls
/// (`HVM_PARAM_CALLBACK_IRQ` of type vector; no LAPIC EOI needed).
pub const UPCALL_VECTOR: u8 = 0xf3;

static UPCALLS: AtomicU64 = AtomicU64::new(0);
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);

/// Upcalls taken so far (diagnostics).
pub fn upcalls() -> u64 {
    UPCALLS.load(Ordering::Relaxed)
}

/// Other vectors taken so far (nothing else is programmed to fire).
pub fn unexpected_vectors() -> u64 {
    UNEXPECTED.load(Ordering::Relaxed)
}

/// Every vector from 32 on (set with `trap::set_irq_handler` at boot).
pub fn on_vector(frame: &mut TrapFrame) {
    if frame.vector == u64::from(UPCALL_VECTOR) {
        // Clear the flag Xen injects this vector for, or it would be
        // injected again as soon as this handler returns.
        let pending = shared::ack_upcall();
        UPCALLS.fetch_add(1, Ordering::Relaxed);
        watch::upcall(frame.rip, pending);
    } else {
        UNEXPECTED.fetch_add(1, Ordering::Relaxed);
    }
}
