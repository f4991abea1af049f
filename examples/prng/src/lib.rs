//! mirage-skeleton (mirage-3) prng: print four random numbers from the
//! platform's generator, one per line, as 16 hex digits.

#![no_std]

extern crate alloc;

use alloc::format;
use unik_rt::{Console, JobError, Random};

pub struct Prng;

impl Prng {
    pub async fn start(
        console: &'static impl Console,
        random: &'static impl Random,
    ) -> Result<(), JobError> {
        for _ in 0..4 {
            let mut bytes = [0u8; 8];
            random.fill(&mut bytes)?;
            console.log(&format!("{:016x}", u64::from_le_bytes(bytes)))?;
        }
        Ok(())
    }
}
