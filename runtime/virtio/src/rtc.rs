//! Wall-clock time from the MC146818 CMOS RTC, read once at boot.

use crate::cpu::{inb, outb};

const INDEX: u16 = 0x70;
const DATA: u16 = 0x71;
const NMI_DISABLE: u8 = 0x80;

/// A broken-down RTC reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtcTime {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl RtcTime {
    /// Seconds since 1970-01-01 00:00:00 UTC.
    pub fn unix_seconds(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn bcd_to_binary(v: u8) -> u8 {
    (v >> 4) * 10 + (v & 0x0f)
}

/// Raw CMOS registers: seconds, minutes, hours, day, month, year, century, B.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Raw([u8; 8]);

/// Decode raw registers honouring status register B (binary/BCD, 12/24 h).
fn decode(raw: [u8; 8]) -> RtcTime {
    let [sec, min, hour, day, month, year, century, status_b] = raw;
    let binary = status_b & 0x04 != 0;
    let h24 = status_b & 0x02 != 0;
    let conv = |v: u8| if binary { v } else { bcd_to_binary(v) };
    let pm = hour & 0x80 != 0;
    let mut h = u32::from(conv(hour & 0x7f));
    if !h24 {
        h %= 12;
        if pm {
            h += 12;
        }
    }
    let yy = i64::from(conv(year));
    let cc = i64::from(conv(century));
    let full_year = if (19..=21).contains(&cc) {
        cc * 100 + yy
    } else {
        2000 + yy
    };
    RtcTime {
        year: full_year,
        month: u32::from(conv(month)),
        day: u32::from(conv(day)),
        hour: h,
        minute: u32::from(conv(min)),
        second: u32::from(conv(sec)),
    }
}

fn read_register(reg: u8) -> u8 {
    // SAFETY: the CMOS ports belong to the platform.
    unsafe {
        outb(INDEX, NMI_DISABLE | reg);
        inb(DATA)
    }
}

fn update_in_progress() -> bool {
    read_register(0x0a) & 0x80 != 0
}

fn read_raw() -> Raw {
    let mut spins = 0u32;
    while update_in_progress() && spins < 1_000_000 {
        spins += 1;
    }
    Raw([
        read_register(0x00),
        read_register(0x02),
        read_register(0x04),
        read_register(0x07),
        read_register(0x08),
        read_register(0x09),
        read_register(0x32),
        read_register(0x0b),
    ])
}

/// Read the RTC, repeating until two reads agree (no update tore the read).
/// Returns None if no RTC answers (all registers 0xff).
pub fn read() -> Option<RtcTime> {
    let mut last = read_raw();
    for _ in 0..8 {
        let next = read_raw();
        if next == last {
            break;
        }
        last = next;
    }
    if last.0.iter().all(|&b| b == 0xff) {
        return None;
    }
    Some(decode(last.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }

    #[test]
    fn decodes_bcd_12_hour() {
        // 2026-11-21 09:05:07 PM in BCD, 12-hour mode.
        let t = decode([0x07, 0x05, 0x89, 0x21, 0x11, 0x26, 0x20, 0x00]);
        assert_eq!(
            t,
            RtcTime {
                year: 2026,
                month: 11,
                day: 21,
                hour: 21,
                minute: 5,
                second: 7
            }
        );
        // 12 AM is hour 0.
        assert_eq!(decode([0, 0, 0x12, 1, 1, 0x70, 0x19, 0x00]).hour, 0);
        assert_eq!(
            decode([0, 0, 0x12, 1, 1, 0x70, 0x19, 0x00]).unix_seconds(),
            0
        );
    }

    #[test]
    fn decodes_binary_24_hour_without_century() {
        let t = decode([59, 59, 23, 31, 12, 99, 0, 0x06]);
        assert_eq!(
            t,
            RtcTime {
                year: 2099,
                month: 12,
                day: 31,
                hour: 23,
                minute: 59,
                second: 59
            }
        );
        assert_eq!(t.unix_seconds(), 4_102_444_799);
    }
}
