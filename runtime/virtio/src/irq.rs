//! IRQ bookkeeping: counters, and the legacy virtio ISR ports that must be read
//! to lower a level-triggered line before the end-of-interrupt.

use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::cpu::inb;
use crate::pic;

pub const TIMER_IRQ: u8 = 0;
const MAX_ISR_PORTS: usize = 16;

static COUNTS: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];
static UNEXPECTED: AtomicU64 = AtomicU64::new(0);
/// `(irq << 16) | port`, or 0 for a free slot.
static ISR_PORTS: [AtomicU32; MAX_ISR_PORTS] = [const { AtomicU32::new(0) }; MAX_ISR_PORTS];

/// Read (and so clear) `port` whenever `irq` fires, then unmask `irq`.
/// Returns false if the table is full.
pub fn register_isr_port(irq: u8, port: u16) -> bool {
    let value = (u32::from(irq) << 16) | u32::from(port);
    for slot in &ISR_PORTS {
        if slot
            .compare_exchange(0, value, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            pic::unmask(irq);
            return true;
        }
    }
    false
}

/// Stop reading `port` (device reset or dropped). The line stays unmasked:
/// it may be shared, and an unclaimed edge is harmless.
pub fn unregister_isr_port(irq: u8, port: u16) {
    let value = (u32::from(irq) << 16) | u32::from(port);
    for slot in &ISR_PORTS {
        let _ = slot.compare_exchange(value, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Every vector from 32 on (set with `trap::set_irq_handler` at boot): the
/// PIC's 16 lines are remapped to vectors 32..48; nothing else is
/// programmed to fire, so any other vector is counted and ignored.
#[cfg(unik_kernel)]
pub(crate) fn on_vector(frame: &mut crate::trap::TrapFrame) {
    match frame.vector.checked_sub(crate::trap::FIRST_IRQ_VECTOR) {
        Some(line @ 0..16) => handle(line as u8),
        _ => count_unexpected(),
    }
}

#[cfg_attr(not(unik_kernel), allow(dead_code))]
pub(crate) fn handle(irq: u8) {
    if pic::is_spurious(irq) {
        if irq == 15 {
            pic::eoi_master_only();
        }
        UNEXPECTED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    COUNTS[usize::from(irq)].fetch_add(1, Ordering::Relaxed);
    for slot in &ISR_PORTS {
        let value = slot.load(Ordering::SeqCst);
        if value != 0 && (value >> 16) as u8 == irq {
            // SAFETY: a registered legacy virtio ISR register; reading acknowledges it.
            unsafe { inb(value as u16) };
        }
    }
    pic::eoi(irq);
}

#[cfg_attr(not(unik_kernel), allow(dead_code))]
pub(crate) fn count_unexpected() {
    UNEXPECTED.fetch_add(1, Ordering::Relaxed);
}

/// Interrupts taken on `irq` since boot.
pub fn count(irq: u8) -> u64 {
    COUNTS
        .get(usize::from(irq))
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// Spurious or unexpected interrupts since boot.
pub fn unexpected() -> u64 {
    UNEXPECTED.load(Ordering::Relaxed)
}
