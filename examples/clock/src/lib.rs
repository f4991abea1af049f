//! mirage-skeleton device-usage/clock: log the wall clock and the monotonic
//! clock a few times, sleeping in between.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use unik_rt::{JobError, Mclock, Pclock, Sleep};

pub struct Clock;

impl Clock {
    pub async fn start(
        time: &'static impl Sleep,
        pclock: &'static impl Pclock,
        mclock: &'static impl Mclock,
    ) -> Result<(), JobError> {
        for _ in 0..3 {
            let now = pclock.now_ns();
            unik_rt::log::info!(
                target: "clock",
                "wall clock {now} ns ({}), monotonic clock {} ns",
                iso8601(now),
                mclock.elapsed_ns()
            );
            time.sleep_ns(100_000_000).await;
        }
        Ok(())
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` of nanoseconds since 1970 (proleptic Gregorian).
pub fn iso8601(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Year, month and day of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::iso8601;

    #[test]
    fn formats_dates() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(951_782_400_000_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601(1_700_000_000_000_000_000), "2023-11-14T22:13:20Z");
    }
}
