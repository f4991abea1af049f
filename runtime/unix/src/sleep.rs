//! Timers on the executor.

use std::convert::Infallible;

#[derive(Debug, Default)]
pub struct Sleep;

pub fn connect() -> Result<Sleep, Infallible> {
    Ok(Sleep)
}

impl unik_rt::Sleep for Sleep {
    async fn sleep_ns(&self, ns: u64) {
        unik_rt::time::sleep_until(crate::monotonic_ns().saturating_add(ns)).await
    }
}
