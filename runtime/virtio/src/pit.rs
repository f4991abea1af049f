//! The 8254 PIT channel 0: one-shot timer interrupts (IRQ 0) and TSC calibration.

use crate::cpu::{inb, outb, rdtsc};

pub const PIT_HZ: u64 = 1_193_182;
const CH0: u16 = 0x40;
const CMD: u16 = 0x43;
/// Channel 0, lobyte/hibyte, mode 0 (interrupt on terminal count), binary.
const CH0_ONESHOT: u8 = 0x30;
const CH0_LATCH: u8 = 0x00;

/// PIT ticks for `ns`, clamped to what the 16-bit counter can hold.
pub fn ticks_for(ns: u64) -> u16 {
    let ticks = (u128::from(ns) * u128::from(PIT_HZ)).div_ceil(1_000_000_000);
    ticks.clamp(1, 0xffff) as u16
}

/// Longest single one-shot, in nanoseconds.
pub const MAX_ONESHOT_NS: u64 = 0xffff * 1_000_000_000 / PIT_HZ;
const _: () = assert!(MAX_ONESHOT_NS > 54_000_000 && MAX_ONESHOT_NS < 55_000_000);

/// Raise IRQ 0 once after about `ns` (at most [`MAX_ONESHOT_NS`]).
pub fn arm_oneshot(ns: u64) {
    let ticks = ticks_for(ns);
    // SAFETY: channel 0 belongs to the platform.
    unsafe {
        outb(CMD, CH0_ONESHOT);
        outb(CH0, ticks as u8);
        outb(CH0, (ticks >> 8) as u8);
    }
}

fn read_count() -> u16 {
    // SAFETY: latch then read channel 0's count.
    unsafe {
        outb(CMD, CH0_LATCH);
        let lo = inb(CH0);
        let hi = inb(CH0);
        u16::from(lo) | (u16::from(hi) << 8)
    }
}

/// Measure the TSC rate against the PIT over `ticks` PIT ticks (< 0xff00).
/// Channel 0 counts down in one-shot mode with its IRQ masked. Returns None
/// if the PIT does not count (absent device).
pub fn calibrate_tsc(ticks: u16) -> Option<u64> {
    // SAFETY: channel 0 belongs to the platform; IRQ 0 is masked during boot.
    unsafe {
        outb(CMD, CH0_ONESHOT);
        outb(CH0, 0xff);
        outb(CH0, 0xff);
    }
    // Start on a count change so both ends sit on a tick edge.
    let mut spins = 0u32;
    let first = read_count();
    let (start_count, start_tsc) = loop {
        let tsc = rdtsc();
        let c = read_count();
        if c != first {
            break (c, tsc);
        }
        spins += 1;
        if spins > 1_000_000 {
            return None;
        }
    };
    loop {
        let tsc = rdtsc();
        let c = read_count();
        let elapsed = start_count.wrapping_sub(c);
        if elapsed >= ticks && c < start_count {
            let cycles = tsc - start_tsc;
            return Some((u128::from(cycles) * u128::from(PIT_HZ) / u128::from(elapsed)) as u64);
        }
        spins += 1;
        if spins > 50_000_000 {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up_and_clamp() {
        assert_eq!(ticks_for(0), 1);
        assert_eq!(ticks_for(1), 1);
        assert_eq!(ticks_for(1_000_000), 1194); // 1 ms = 1193.182 ticks
        assert_eq!(ticks_for(10_000_000_000), 0xffff);
    }
}
