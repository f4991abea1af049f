//! Wall clock (`CLOCK_REALTIME`).

use std::convert::Infallible;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Default)]
pub struct Pclock;

pub fn connect() -> Result<Pclock, Infallible> {
    Ok(Pclock)
}

/// Wall-clock nanoseconds since the Unix epoch (0 before 1970).
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

impl unik_rt::Pclock for Pclock {
    fn now_ns(&self) -> u64 {
        now_ns()
    }
}
