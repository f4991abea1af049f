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

static LAST_TSC: AtomicU64 = AtomicU64::new(0);

/// Monotonic ns since boot; never decreases, and never stands still while
/// the TSC runs.
pub fn now_ns() -> u64 {
    let tsc = crate::cpu::rdtsc();
    let t = shared::time_info();
    let pv = t
        .system_time_at(tsc)
        .saturating_sub(BOOT_SYSTEM_NS.load(Ordering::Relaxed));
    let now = advance(
        LAST_NS.load(Ordering::Relaxed),
        LAST_TSC.load(Ordering::Relaxed),
        pv,
        tsc,
        &t,
    );
    LAST_NS.store(now, Ordering::Relaxed);
    LAST_TSC.store(tsc, Ordering::Relaxed);
    now
}

/// The clock after `last` (read at TSC `last_tsc`): pvclock's reading `pv`
/// at `tsc`, or the last reading run on by the TSC, whichever is later.
/// Under nested Xen the pvclock record was seen to stay behind the TSC for
/// minutes; a clock that stands still turns every timed wait into a spin
/// (its deadline never comes while Xen's timer keeps firing).
fn advance(last: u64, last_tsc: u64, pv: u64, tsc: u64, t: &shared::TimeInfo) -> u64 {
    let run_on = if last_tsc != 0 && tsc > last_tsc {
        last.saturating_add(t.scale(tsc - last_tsc))
    } else {
        last
    };
    pv.max(run_on)
}

/// Xen system time of a monotonic deadline.
pub fn to_system_ns(deadline_ns: u64) -> u64 {
    deadline_ns.saturating_add(BOOT_SYSTEM_NS.load(Ordering::Relaxed))
}

/// Unix time in ns.
pub fn wall_ns() -> u64 {
    shared::wall_base_ns().saturating_add(system_ns())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_pvclock_record_does_not_stop_the_clock() {
        // 2 GHz: 0.5 ns per tick.
        let t = shared::TimeInfo {
            tsc_timestamp: 0,
            system_time: 0,
            mul: 1 << 31,
            shift: 0,
        };
        // pvclock follows the TSC: it wins.
        assert_eq!(advance(100, 1000, 700, 2000, &t), 700);
        // pvclock stands still at 100: the TSC runs the clock on.
        assert_eq!(advance(100, 1000, 100, 3000, &t), 1100);
        // Never backwards, whatever pvclock says.
        assert_eq!(advance(5000, 3000, 10, 3000, &t), 5000);
        // The first reading has nothing to run on from.
        assert_eq!(advance(0, 0, 42, 9999, &t), 42);
    }
}
