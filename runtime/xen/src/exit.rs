//! Leaving the domain: the exit status goes on the console as the last line
//! (`unik-xen: exit status N`, which `unikc run -t xen` reads back, since a
//! Xen domain has no exit code), the console ring is drained so no output
//! is lost, then `SCHEDOP_shutdown`: `poweroff` for a normal exit, `crash`
//! for a panic (101) or a fault (255), so `on_crash` applies.

use unik_freestanding::{EXIT_ABORT, EXIT_PANIC, kprintln};

use crate::{ops, pvconsole};

/// The console line carrying the exit status, before the number.
pub const STATUS_PREFIX: &str = "unik-xen: exit status ";

/// The shutdown reason for an exit status.
pub const fn reason(code: i32) -> u32 {
    if code == EXIT_PANIC || code == EXIT_ABORT {
        ops::SHUTDOWN_CRASH
    } else {
        ops::SHUTDOWN_POWEROFF
    }
}

/// The exit status in a console text, if its last status line is there
/// (what `unikc run` does with the console output).
pub fn parse_status(console: &str) -> Option<i32> {
    console
        .lines()
        .rev()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix(STATUS_PREFIX))
        .and_then(|n| n.trim().parse().ok())
}

pub fn exit(code: i32) -> ! {
    kprintln!("{STATUS_PREFIX}{code}");
    if !pvconsole::drain(pvconsole::DRAIN_NS) {
        crate::debugcon::debug_write(
            b"unik-xen: the console backend did not read the last output within 2 s\n",
        );
    }
    let err = ops::shutdown(reason(code));
    crate::debugcon::debug_write(b"unik-xen: SCHEDOP_shutdown refused; halting\n");
    let _ = err;
    loop {
        // With interrupts off, a halted vCPU is down: Xen ends the domain.
        #[cfg(unik_kernel)]
        // SAFETY: stopping for good.
        unsafe {
            core::arch::asm!("cli", "hlt", options(nomem, nostack))
        };
        core::hint::spin_loop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_round_trips() {
        assert_eq!(parse_status("hello\nunik-xen: exit status 0\n"), Some(0));
        assert_eq!(
            parse_status("unik-xen: exit status 3\r\nx\nunik-xen: exit status 101\r\n"),
            Some(101)
        );
        assert_eq!(parse_status("hello\n"), None);
        assert_eq!(reason(0), ops::SHUTDOWN_POWEROFF);
        assert_eq!(reason(2), ops::SHUTDOWN_POWEROFF);
        assert_eq!(reason(101), ops::SHUTDOWN_CRASH);
        assert_eq!(reason(255), ops::SHUTDOWN_CRASH);
    }
}
