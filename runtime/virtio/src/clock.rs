//! Monotonic and wall-clock time.
//!
//! Monotonic time comes from kvmclock when the hypervisor advertises it
//! (CPUID 0x4000_0001), else from the TSC calibrated against the PIT. Wall
//! time is the boot-time wall clock (kvmclock's wall clock, else the CMOS RTC)
//! plus monotonic time.

use core::sync::atomic::{AtomicU64, Ordering, fence};

use crate::cell::Global;
use crate::cpu::{cpuid, rdtsc, wrmsr};
use crate::{pit, rtc};

const KVM_SIGNATURE: [u32; 3] = [0x4b4d_564b, 0x564b_4d56, 0x0000_004d]; // "KVMKVMKVM\0\0\0"
const KVM_FEATURE_CLOCKSOURCE: u32 = 1 << 0;
const KVM_FEATURE_CLOCKSOURCE2: u32 = 1 << 3;
const MSR_KVM_WALL_CLOCK: u32 = 0x11;
const MSR_KVM_SYSTEM_TIME: u32 = 0x12;
const MSR_KVM_WALL_CLOCK_NEW: u32 = 0x4b56_4d00;
const MSR_KVM_SYSTEM_TIME_NEW: u32 = 0x4b56_4d01;

/// PIT ticks used to calibrate the TSC: 10 ms.
const CALIBRATION_TICKS: u16 = 11_932;

/// `pvclock_vcpu_time_info`, written by the hypervisor.
#[repr(C, align(64))]
struct PvclockTime {
    version: u32,
    _pad0: u32,
    tsc_timestamp: u64,
    system_time: u64,
    tsc_to_system_mul: u32,
    tsc_shift: i8,
    flags: u8,
    _pad1: [u8; 2],
}

/// `pvclock_wall_clock`, written by the hypervisor on request.
#[repr(C, align(16))]
struct PvclockWall {
    version: u32,
    sec: u32,
    nsec: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    KvmClock,
    Tsc,
}

struct State {
    source: Source,
    /// TSC: cycles at boot and ns-per-cycle as a 32.32 fixed-point factor.
    tsc_base: u64,
    tsc_mult: u64,
    tsc_hz: u64,
    /// kvmclock: system time at boot.
    kvm_base: u64,
    /// Wall clock (Unix ns) at monotonic 0.
    wall_at_boot: u64,
}

static STATE: Global<State> = Global::new(State {
    source: Source::Tsc,
    tsc_base: 0,
    tsc_mult: 0,
    tsc_hz: 0,
    kvm_base: 0,
    wall_at_boot: 0,
});
static PVTIME: Global<PvclockTime> = Global::new(PvclockTime {
    version: 0,
    _pad0: 0,
    tsc_timestamp: 0,
    system_time: 0,
    tsc_to_system_mul: 0,
    tsc_shift: 0,
    flags: 0,
    _pad1: [0; 2],
});
static PVWALL: Global<PvclockWall> = Global::new(PvclockWall {
    version: 0,
    sec: 0,
    nsec: 0,
});
/// Last value returned, so time never goes backwards.
static LAST: AtomicU64 = AtomicU64::new(0);

/// 32.32 fixed-point nanoseconds per cycle for a counter at `hz`.
pub fn mult_for_hz(hz: u64) -> u64 {
    ((1_000_000_000u128 << 32) / u128::from(hz.max(1))) as u64
}

/// Nanoseconds for `cycles` at a 32.32 factor `mult`.
pub fn scale(cycles: u64, mult: u64) -> u64 {
    ((u128::from(cycles) * u128::from(mult)) >> 32) as u64
}

/// pvclock: system time for `tsc` given one consistent snapshot of the record.
pub fn pvclock_ns(tsc: u64, tsc_timestamp: u64, system_time: u64, mul: u32, shift: i8) -> u64 {
    let mut delta = tsc.wrapping_sub(tsc_timestamp);
    if shift < 0 {
        delta >>= -i32::from(shift);
    } else {
        delta <<= shift;
    }
    system_time.wrapping_add(scale(delta, u64::from(mul)))
}

fn kvm_clock_msrs() -> Option<(u32, u32)> {
    let base = cpuid(0x4000_0000, 0);
    if base[1..] != KVM_SIGNATURE || base[0] < 0x4000_0001 {
        return None;
    }
    let features = cpuid(0x4000_0001, 0)[0];
    if features & KVM_FEATURE_CLOCKSOURCE2 != 0 {
        Some((MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW))
    } else if features & KVM_FEATURE_CLOCKSOURCE != 0 {
        Some((MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK))
    } else {
        None
    }
}

fn read_kvm_time() -> u64 {
    let p = PVTIME.get();
    loop {
        // SAFETY: the record is written by the hypervisor; volatile reads and the
        // version protocol give a consistent snapshot.
        unsafe {
            let v1 = (&raw const (*p).version).read_volatile();
            fence(Ordering::Acquire);
            let ts = (&raw const (*p).tsc_timestamp).read_volatile();
            let sys = (&raw const (*p).system_time).read_volatile();
            let mul = (&raw const (*p).tsc_to_system_mul).read_volatile();
            let shift = (&raw const (*p).tsc_shift).read_volatile();
            let tsc = rdtsc();
            fence(Ordering::Acquire);
            let v2 = (&raw const (*p).version).read_volatile();
            if v1 & 1 == 0 && v1 == v2 {
                return pvclock_ns(tsc, ts, sys, mul, shift);
            }
        }
    }
}

fn read_kvm_wall(msr: u32) -> u64 {
    let w = PVWALL.get();
    // SAFETY: asks the hypervisor to fill PVWALL (identity-mapped, so its
    // address is physical), then reads it with the version protocol.
    unsafe {
        wrmsr(msr, w as u64);
        loop {
            let v1 = (&raw const (*w).version).read_volatile();
            fence(Ordering::Acquire);
            let sec = (&raw const (*w).sec).read_volatile();
            let nsec = (&raw const (*w).nsec).read_volatile();
            fence(Ordering::Acquire);
            let v2 = (&raw const (*w).version).read_volatile();
            if v1 & 1 == 0 && v1 == v2 {
                return u64::from(sec) * 1_000_000_000 + u64::from(nsec);
            }
        }
    }
}

/// Errors from [`init`].
#[derive(Debug)]
pub enum ClockError {
    /// No kvmclock, and the PIT does not count, so the TSC rate is unknown.
    NoCalibration,
}

/// Pick and initialise the clock source. `boot_tsc` is the TSC read at entry,
/// so time spent calibrating counts as uptime.
pub fn init(boot_tsc: u64) -> Result<(), ClockError> {
    // SAFETY: called once at boot before anything reads the clock.
    let st = unsafe { &mut *STATE.get() };
    if let Some((time_msr, wall_msr)) = kvm_clock_msrs() {
        // SAFETY: PVTIME is identity-mapped RAM; bit 0 enables updates.
        unsafe { wrmsr(time_msr, PVTIME.get() as u64 | 1) };
        st.source = Source::KvmClock;
        st.kvm_base = read_kvm_time();
        // kvmclock's wall clock is the wall time at system time 0.
        st.wall_at_boot = read_kvm_wall(wall_msr).wrapping_add(st.kvm_base);
        return Ok(());
    }
    let hz = pit::calibrate_tsc(CALIBRATION_TICKS).ok_or(ClockError::NoCalibration)?;
    st.source = Source::Tsc;
    st.tsc_base = boot_tsc;
    st.tsc_hz = hz;
    st.tsc_mult = mult_for_hz(hz);
    let uptime = scale(rdtsc() - boot_tsc, st.tsc_mult);
    st.wall_at_boot = rtc::read()
        .map(|t| (t.unix_seconds().max(0) as u64) * 1_000_000_000)
        .unwrap_or(0)
        .saturating_sub(uptime);
    Ok(())
}

/// Nanoseconds since boot; never decreases.
pub fn now_ns() -> u64 {
    // SAFETY: STATE is only written by `init`.
    let st = unsafe { &*STATE.get() };
    let t = match st.source {
        Source::KvmClock => read_kvm_time().saturating_sub(st.kvm_base),
        Source::Tsc => scale(rdtsc().wrapping_sub(st.tsc_base), st.tsc_mult),
    };
    LAST.fetch_max(t, Ordering::Relaxed).max(t)
}

/// Unix time in nanoseconds.
pub fn wall_ns() -> u64 {
    // SAFETY: STATE is only written by `init`.
    let base = unsafe { (*STATE.get()).wall_at_boot };
    base.wrapping_add(now_ns())
}

/// Which source backs [`now_ns`].
pub fn source() -> Source {
    // SAFETY: STATE is only written by `init`.
    unsafe { (*STATE.get()).source }
}

/// Calibrated TSC rate (0 with kvmclock).
pub fn tsc_hz() -> u64 {
    // SAFETY: STATE is only written by `init`.
    unsafe { (*STATE.get()).tsc_hz }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsc_scaling() {
        let mult = mult_for_hz(2_000_000_000);
        assert_eq!(scale(2_000_000_000, mult), 1_000_000_000);
        let mult = mult_for_hz(2_596_118_000);
        let one_hour = 2_596_118_000u64 * 3600;
        let ns = scale(one_hour, mult);
        // A 32-bit fraction is good to about 1 ns per second.
        assert!(ns.abs_diff(3_600_000_000_000) < 3_600, "{ns}");
    }

    #[test]
    fn pvclock_formula() {
        // mul = 2^31 halves the delta: a 2 GHz-style clock after shift 0.
        assert_eq!(pvclock_ns(1_000, 0, 5, 1 << 31, 0), 505);
        assert_eq!(pvclock_ns(1_000, 0, 0, 1 << 31, 1), 1_000);
        assert_eq!(pvclock_ns(1_000, 0, 0, 1 << 31, -1), 250);
        assert_eq!(pvclock_ns(1_500, 500, 7, 1 << 31, 0), 507);
    }
}
