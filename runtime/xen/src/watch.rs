//! Stall reports on Xen's debug console. Under nested Xen a guest was seen
//! (rarely) to stop making progress with its vCPU always found in the
//! upcall handler. Two counters tell the possible causes apart, and each
//! writes what it saw to the debug console (`xl dmesg`) when it passes a
//! power of two from a threshold on, so a dump of a stuck guest carries
//! the guest's own view:
//! - upcalls taken back to back with no halt in between (the vector
//!   delivered again and again: nothing in the guest can cause that);
//! - rounds of one `wait` whose halts keep ending before the deadline
//!   (a clock that does not reach the deadline Xen's timer already saw).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU64, Ordering};

use crate::{clock, cpu, pvconsole, shared};

/// Upcalls back to back before the first report.
#[cfg_attr(not(unik_kernel), allow(dead_code))]
pub const UPCALL_THRESHOLD: u64 = 1 << 12;
/// Rounds of one wait before the first report.
pub const ROUND_THRESHOLD: u64 = 1 << 14;

static HALTS: AtomicU64 = AtomicU64::new(0);
#[cfg_attr(not(unik_kernel), allow(dead_code))]
static HALTS_AT_LAST_UPCALL: AtomicU64 = AtomicU64::new(0);
#[cfg_attr(not(unik_kernel), allow(dead_code))]
static BACK_TO_BACK: AtomicU64 = AtomicU64::new(0);
static EMPTY_UPCALLS: AtomicU64 = AtomicU64::new(0);

/// Whether `n` is a count to report at: the threshold and each doubling.
pub fn reports_at(n: u64, threshold: u64) -> bool {
    n >= threshold && n.is_power_of_two()
}

/// The main loop is about to halt.
pub fn halting() {
    HALTS.fetch_add(1, Ordering::Relaxed);
}

/// An upcall (kernel only) arrived at `rip`; `pending` is the upcall flag
/// before the ack.
#[cfg_attr(not(unik_kernel), allow(dead_code))]
pub fn upcall(rip: u64, pending: bool) {
    if !pending {
        EMPTY_UPCALLS.fetch_add(1, Ordering::Relaxed);
    }
    let halts = HALTS.load(Ordering::Relaxed);
    let n = if HALTS_AT_LAST_UPCALL.swap(halts, Ordering::Relaxed) == halts {
        BACK_TO_BACK.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        BACK_TO_BACK.store(0, Ordering::Relaxed);
        0
    };
    if reports_at(n, UPCALL_THRESHOLD) {
        report(format_args!(
            "{n} upcalls back to back at rip={rip:#x} (upcall flag was {})",
            u8::from(pending)
        ));
    }
}

/// Round `round` of a wait for `deadline_ns` is about to halt.
pub fn round(round: u64, deadline_ns: u64) {
    if reports_at(round, ROUND_THRESHOLD) {
        report(format_args!(
            "{round} halts in one wait for {deadline_ns} ns"
        ));
    }
}

/// Upcalls that found the upcall flag already clear.
pub fn empty_upcalls() -> u64 {
    EMPTY_UPCALLS.load(Ordering::Relaxed)
}

fn report(what: fmt::Arguments<'_>) {
    let tsc = cpu::rdtsc();
    let t = shared::time_info();
    let mut out = DebugPort;
    let _ = writeln!(
        out,
        "unik-xen stall: {what}; now={} ns, xen time={} ns, tsc={tsc}, \
         record tsc={} time={} mul={} shift={}, halts={}, empty upcalls={}",
        clock::now_ns(),
        t.system_time_at(tsc),
        t.tsc_timestamp,
        t.system_time,
        t.mul,
        t.shift,
        HALTS.load(Ordering::Relaxed),
        empty_upcalls(),
    );
}

struct DebugPort;

impl Write for DebugPort {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        pvconsole::debug_write(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_at_the_threshold_and_each_doubling() {
        let at: alloc::vec::Vec<u64> = (0..70_000)
            .filter(|&n| reports_at(n, ROUND_THRESHOLD))
            .collect();
        assert_eq!(at, [1 << 14, 1 << 15, 1 << 16]);
        assert!(!reports_at(0, UPCALL_THRESHOLD));
    }

    #[test]
    fn back_to_back_counts_reset_when_the_main_loop_halts() {
        upcall(0x1000, true);
        upcall(0x1000, true);
        assert!(BACK_TO_BACK.load(Ordering::Relaxed) >= 1);
        halting();
        upcall(0x1000, false);
        assert_eq!(BACK_TO_BACK.load(Ordering::Relaxed), 0);
        assert!(empty_upcalls() >= 1);
    }
}
