//! Monotonic clock (`CLOCK_MONOTONIC`, the executor's clock).

use std::convert::Infallible;

#[derive(Debug, Default)]
pub struct Mclock;

pub fn connect() -> Result<Mclock, Infallible> {
    Ok(Mclock)
}

impl unik_rt::Mclock for Mclock {
    fn elapsed_ns(&self) -> u64 {
        crate::monotonic_ns()
    }
}
