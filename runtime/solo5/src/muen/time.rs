//! Time on Muen: the subject may not trust its own TSC reading against
//! wall time, so the monotonic clock follows the scheduler's minor-frame
//! starts (the scheduling page), stepping forward at least one tick per
//! reading inside a frame; wall time adds the `time_info` epoch base.

use core::fmt;

use crate::cell::Global;

use super::sinfo::{SCHED_INFO_ADDR, Sinfo};

/// `time_info`: microseconds since the epoch at TSC 0, the TSC rate and
/// the time zone offset (unused).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TimeInfo {
    pub tsc_time_base: u64,
    pub tsc_tick_rate_hz: u64,
    pub timezone_us: i64,
}

/// The scheduling page: TSC values bounding the current minor frame.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SchedInfo {
    pub tsc_schedule_start: u64,
    pub tsc_schedule_end: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum TimeError {
    NoTimeInfo,
    Rate(u64),
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTimeInfo => f.write_str("the policy grants no `time_info` region"),
            Self::Rate(hz) => write!(f, "unusable TSC rate {hz} Hz in `time_info`"),
        }
    }
}

/// The monotonic clock's state, in TSC ticks.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Ticks at the first reading (time 0).
    origin: u64,
    /// Ticks at the last reading.
    last: u64,
    /// Nanoseconds per tick, 32.32 fixed point.
    mult: u64,
    /// The smallest step: one nanosecond's worth of ticks, at least one.
    step: u64,
}

impl Clock {
    pub fn new(rate_hz: u64, sched_start: u64) -> Result<Self, TimeError> {
        if rate_hz < 1_000_000 {
            return Err(TimeError::Rate(rate_hz));
        }
        let mult = ((1_000_000_000u128 << 32) / u128::from(rate_hz)) as u64;
        Ok(Self {
            origin: sched_start,
            last: sched_start,
            mult,
            step: rate_hz.div_ceil(1_000_000_000),
        })
    }

    /// The time at a reading in the frame starting at `sched_start`.
    pub fn read(&mut self, sched_start: u64) -> u64 {
        let next = self.last.saturating_add(self.step);
        self.last = sched_start.max(next);
        let ticks = self.last - self.origin;
        ((u128::from(ticks) * u128::from(self.mult)) >> 32) as u64
    }
}

static CLOCK: Global<Option<Clock>> = Global::new(None);
static TIME_INFO: Global<*const TimeInfo> = Global::new(core::ptr::null());

pub fn rdtsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: reads the time-stamp counter, no side effects.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

fn sched_start() -> u64 {
    let p = core::ptr::with_exposed_provenance::<SchedInfo>(SCHED_INFO_ADDR as usize);
    // SAFETY: the policy maps the scheduling page read-only (only called
    // once `init` found sinfo, in an image).
    unsafe { core::ptr::read_volatile(&raw const (*p).tsc_schedule_start) }
}

/// Find `time_info`, wait until Muen has published it, start the clock.
pub fn init(s: &Sinfo) -> Result<(), TimeError> {
    let m = s.memory("time_info").ok_or(TimeError::NoTimeInfo)?;
    if (m.size as usize) < core::mem::size_of::<TimeInfo>() {
        return Err(TimeError::NoTimeInfo);
    }
    let ti = core::ptr::with_exposed_provenance::<TimeInfo>(m.address as usize);
    // SAFETY: mapped by the policy; Muen's time subject writes it.
    let read = || unsafe { core::ptr::read_volatile(ti) };
    while read().tsc_time_base == 0 {
        core::hint::spin_loop();
    }
    let clock = Clock::new(read().tsc_tick_rate_hz, sched_start())?;
    // SAFETY: boot is single-threaded; nothing reads these yet.
    unsafe {
        *TIME_INFO.get() = ti;
        *CLOCK.get() = Some(clock);
    }
    Ok(())
}

pub fn monotonic_ns() -> u64 {
    // SAFETY: single-threaded; no reference outlives the call.
    match unsafe { &mut *CLOCK.get() } {
        Some(c) => c.read(sched_start()),
        None => 0,
    }
}

/// Epoch base plus monotonic time (0 before the clock starts).
pub fn wall_ns() -> u64 {
    // SAFETY: set once at boot.
    let ti = unsafe { *TIME_INFO.get() };
    if ti.is_null() {
        return 0;
    }
    // SAFETY: mapped by the policy (checked in `init`).
    let base = unsafe { core::ptr::read_volatile(ti) }.tsc_time_base;
    base.saturating_mul(1000).saturating_add(monotonic_ns())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_frames_and_steps_inside_one() {
        let mut c = Clock::new(1_000_000_000, 5_000).unwrap();
        assert_eq!(c.read(5_000), 1, "a reading always advances");
        assert_eq!(c.read(5_000), 2);
        assert_eq!(c.read(1_005_000), 1_000_000, "the next frame's start");
        assert_eq!(c.read(1_005_000), 1_000_001);
        // A frame start behind the clock never takes it back.
        assert_eq!(c.read(4_000), 1_000_002);
    }

    #[test]
    fn scales_ticks_to_nanoseconds() {
        let mut c = Clock::new(2_500_000_000, 0).unwrap();
        let ns = c.read(2_500_000_000 * 3600);
        assert!(ns.abs_diff(3_600_000_000_000) < 1_000, "{ns}");
        assert_eq!(
            Clock::new(999_999, 0).unwrap_err(),
            TimeError::Rate(999_999)
        );
        // Slow TSCs step by a whole tick (more than a nanosecond).
        let mut slow = Clock::new(1_000_000, 0).unwrap();
        assert_eq!(slow.read(0), 1_000);
    }
}
