//! A job that says something, then panics (test fixture for bootable targets).

#![no_std]

use unik_rt::{Console, JobError};

pub struct Panics;

impl Panics {
    pub async fn start(console: &'static impl Console) -> Result<(), JobError> {
        console.log("about to panic")?;
        let reason = core::hint::black_box("on purpose");
        panic!("the guest panics {reason}");
    }
}
