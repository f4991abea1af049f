//! Stall reports on Xen's debug console (`xl dmesg`): a wait whose polls
//! keep ending before its deadline (a clock behind Xen's, or a port that
//! stays pending) says so when its round count passes a power of two from
//! a threshold on, with the clocks and the pvclock record, so a dump of a
//! stuck guest carries the guest's own view.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::ops::XenError;
use crate::{clock, cpu, shared};

/// Rounds of one wait before the first report.
pub const ROUND_THRESHOLD: u64 = 1 << 14;

static HALTS: AtomicU64 = AtomicU64::new(0);
static POLL_FAILED: AtomicBool = AtomicBool::new(false);

/// Whether `n` is a count to report at: the threshold and each doubling.
pub fn reports_at(n: u64, threshold: u64) -> bool {
    n >= threshold && n.is_power_of_two()
}

/// The main loop is about to block.
pub fn halting() {
    HALTS.fetch_add(1, Ordering::Relaxed);
}

/// Round `round` of a wait for `deadline_ns` is about to block.
pub fn round(round: u64, deadline_ns: u64) {
    if reports_at(round, ROUND_THRESHOLD) {
        report(format_args!(
            "{round} polls in one wait for {deadline_ns} ns"
        ));
    }
}

/// `SCHEDOP_poll` was refused: waits spin from now on (said once).
pub fn poll_failed(e: XenError) {
    if !POLL_FAILED.swap(true, Ordering::Relaxed) {
        report(format_args!("SCHEDOP_poll refused ({e}); waits spin"));
    }
}

fn report(what: fmt::Arguments<'_>) {
    let tsc = cpu::rdtsc();
    let t = shared::time_info();
    let _ = writeln!(
        DebugPort,
        "unik-xen stall: {what}; now={} ns, xen time={} ns, tsc={tsc}, \
         record tsc={} time={} mul={} shift={}, polls={}",
        clock::now_ns(),
        t.system_time_at(tsc),
        t.tsc_timestamp,
        t.system_time,
        t.mul,
        t.shift,
        HALTS.load(Ordering::Relaxed),
    );
}

struct DebugPort;

impl Write for DebugPort {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        crate::debugcon::debug_write(s.as_bytes());
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
        assert!(!reports_at(0, ROUND_THRESHOLD));
    }
}
