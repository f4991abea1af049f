//! mirage-skeleton tutorial/hello-key: the greeting is the runtime key
//! `hello`, given at boot (`--hello="Bonjour !"`).

#![no_std]

use unik_rt::{Console, JobError, Sleep};

pub struct Hello;

impl Hello {
    pub async fn start(
        console: &'static impl Console,
        time: &'static impl Sleep,
    ) -> Result<(), JobError> {
        let greeting = unik_rt::keys::string("hello")?;
        for _ in 0..4 {
            console.log(&greeting)?;
            time.sleep_ns(100_000_000).await;
        }
        Ok(())
    }
}
