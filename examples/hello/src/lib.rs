//! mirage-skeleton tutorial/hello: print a greeting four times, sleeping
//! between them.

#![no_std]

use unik_rt::{Console, JobError, Sleep};

pub struct Hello;

impl Hello {
    pub async fn start(
        console: &'static impl Console,
        time: &'static impl Sleep,
    ) -> Result<(), JobError> {
        for _ in 0..4 {
            console.log("hello")?;
            time.sleep_ns(100_000_000).await;
        }
        Ok(())
    }
}
