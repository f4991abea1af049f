//! The `shared_info` page: vCPU 0's `vcpu_info` (upcall flags and the
//! pvclock `vcpu_time_info`), the 2-level event-channel bitmaps and the
//! wall clock. Xen maps it over a page of the image's `.bss` at boot
//! (`XENMEM_add_to_physmap`, `XENMAPSPACE_shared_info`).
//!
//! Offsets (x86_64, `xen.h`): `vcpu_info[32]` of 64 bytes each; in a
//! `vcpu_info`, `evtchn_upcall_pending` at 0, `evtchn_upcall_mask` at 1,
//! `evtchn_pending_sel` at 8, `time` at 32. `evtchn_pending[64]` at 2048,
//! `evtchn_mask[64]` at 2560, `wc_version`, `wc_sec`, `wc_nsec`,
//! `wc_sec_hi` at 3072.

use core::sync::atomic::{AtomicU8, AtomicU32, AtomicU64, Ordering, fence};

use crate::ops::{self, XENMAPSPACE_SHARED_INFO, XenError};

#[repr(C, align(4096))]
pub struct Page(pub [u8; 4096]);

static mut SHARED: Page = Page([0; 4096]);

const UPCALL_PENDING: usize = 0;
const UPCALL_MASK: usize = 1;
const PENDING_SEL: usize = 8;
const TIME: usize = 32;
const EVTCHN_PENDING: usize = 2048;
const EVTCHN_MASK: usize = 2560;
const WC_VERSION: usize = 3072;

/// Ports of the 2-level ABI: 64 words of 64 bits.
pub const MAX_PORTS: u32 = 4096;

fn base() -> *mut u8 {
    (&raw mut SHARED).cast::<u8>()
}

fn at<T>(offset: usize) -> &'static T {
    // SAFETY: in bounds of the page and aligned for T at every offset used
    // here; the atomics make concurrent updates by Xen well-defined.
    unsafe { &*base().add(offset).cast::<T>() }
}

/// Ask Xen to put the shared info page over our page.
pub fn map() -> Result<(), XenError> {
    ops::add_to_physmap(XENMAPSPACE_SHARED_INFO, 0, base() as u64 >> 12)?;
    // No upcalls: waits poll their ports (see platform.rs).
    at::<AtomicU8>(UPCALL_MASK).store(1, Ordering::SeqCst);
    Ok(())
}

/// Clear vCPU 0's upcall flag, selector and every port's pending bit, so
/// that the next event on any port is a 0→1 transition that ends a poll.
/// Devices read their rings, not the pending bits, so nothing is lost by
/// clearing them.
pub fn clear_events() {
    at::<AtomicU8>(UPCALL_PENDING).store(0, Ordering::SeqCst);
    at::<AtomicU64>(PENDING_SEL).swap(0, Ordering::SeqCst);
    for w in 0..64 {
        at::<AtomicU64>(EVTCHN_PENDING + 8 * w).swap(0, Ordering::SeqCst);
    }
}

fn word(array: usize, port: u32) -> (&'static AtomicU64, u64) {
    let w = (port as usize / 64) % 64;
    (at::<AtomicU64>(array + 8 * w), 1u64 << (port % 64))
}

/// Whether `port` is pending, clearing it.
pub fn take_pending(port: u32) -> bool {
    let (w, bit) = word(EVTCHN_PENDING, port);
    w.fetch_and(!bit, Ordering::SeqCst) & bit != 0
}

pub fn is_pending(port: u32) -> bool {
    let (w, bit) = word(EVTCHN_PENDING, port);
    w.load(Ordering::SeqCst) & bit != 0
}

/// Let events on `port` set the selector and upcall flag (see
/// `platform::listen`).
pub fn unmask(port: u32) {
    let (w, bit) = word(EVTCHN_MASK, port);
    w.fetch_and(!bit, Ordering::SeqCst);
}

/// One consistent read of vCPU 0's `vcpu_time_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeInfo {
    pub tsc_timestamp: u64,
    pub system_time: u64,
    pub mul: u32,
    pub shift: i8,
}

impl TimeInfo {
    /// `ticks` TSC ticks in ns, at this record's rate.
    pub fn scale(&self, ticks: u64) -> u64 {
        let mut delta = ticks;
        if self.shift >= 0 {
            delta <<= self.shift;
        } else {
            delta >>= -self.shift;
        }
        ((u128::from(delta) * u128::from(self.mul)) >> 32) as u64
    }

    /// Xen system time (ns since the host booted) at `tsc`.
    pub fn system_time_at(&self, tsc: u64) -> u64 {
        // The stamp is in the guest's TSC, which starts near 0 when the
        // domain is built: an update made before that is a *negative*
        // stamp (seen on about half the boots under nested Xen). Compare
        // as signed: an unsigned `tsc < stamp` froze the clock there, and
        // a sleep armed on the frozen clock spun forever.
        let delta = tsc.wrapping_sub(self.tsc_timestamp) as i64;
        self.system_time
            .wrapping_add(self.scale(delta.max(0) as u64))
    }
}

pub fn time_info() -> TimeInfo {
    let version = at::<AtomicU32>(TIME);
    loop {
        let v1 = version.load(Ordering::Acquire);
        if v1 & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        let t = TimeInfo {
            tsc_timestamp: at::<AtomicU64>(TIME + 8).load(Ordering::Relaxed),
            system_time: at::<AtomicU64>(TIME + 16).load(Ordering::Relaxed),
            mul: at::<AtomicU32>(TIME + 24).load(Ordering::Relaxed),
            shift: at::<AtomicU8>(TIME + 28).load(Ordering::Relaxed) as i8,
        };
        fence(Ordering::Acquire);
        if version.load(Ordering::Relaxed) == v1 {
            return t;
        }
    }
}

/// Wall-clock time (ns since the epoch) at Xen system time 0.
pub fn wall_base_ns() -> u64 {
    let version = at::<AtomicU32>(WC_VERSION);
    loop {
        let v1 = version.load(Ordering::Acquire);
        if v1 & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        let sec = at::<AtomicU32>(WC_VERSION + 4).load(Ordering::Relaxed);
        let nsec = at::<AtomicU32>(WC_VERSION + 8).load(Ordering::Relaxed);
        let hi = at::<AtomicU32>(WC_VERSION + 12).load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if version.load(Ordering::Relaxed) == v1 {
            let secs = (u64::from(hi) << 32) | u64::from(sec);
            return secs
                .saturating_mul(1_000_000_000)
                .saturating_add(u64::from(nsec));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pvclock_scales_tsc_deltas() {
        // 2 GHz TSC: 0.5 ns per tick = mul 2^31 with shift 0.
        let t = TimeInfo {
            tsc_timestamp: 1000,
            system_time: 5_000,
            mul: 1 << 31,
            shift: 0,
        };
        assert_eq!(t.system_time_at(3000), 6_000);
        // A TSC read older than the update never goes back in time.
        assert_eq!(t.system_time_at(10), 5_000);
        // A stamp from before the guest's TSC started (negative): time
        // runs on from it, it does not freeze.
        let early = TimeInfo {
            tsc_timestamp: 2000u64.wrapping_neg(),
            ..t
        };
        assert_eq!(early.system_time_at(0), 6_000);
        assert_eq!(early.system_time_at(2000), 7_000);
        let t = TimeInfo { shift: -1, ..t };
        assert_eq!(t.system_time_at(3000), 5_500);
        let t = TimeInfo { shift: 1, ..t };
        assert_eq!(t.system_time_at(3000), 7_000);
    }

    #[test]
    fn event_bits_set_and_clear() {
        let (w, bit) = word(EVTCHN_PENDING, 70);
        w.fetch_or(bit, Ordering::SeqCst);
        assert!(is_pending(70));
        assert!(take_pending(70));
        assert!(!take_pending(70));
        assert!(!is_pending(70));
    }
}
