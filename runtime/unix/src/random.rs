//! OS entropy (`getrandom(2)`).

use std::convert::Infallible;

use unik_rt::RandomError;

#[derive(Debug, Default)]
pub struct Random;

pub fn connect() -> Result<Random, Infallible> {
    Ok(Random)
}

impl unik_rt::Random for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf)
            .map_err(|e| RandomError::Unavailable(e.raw_os_error().unwrap_or(libc::EIO)))
    }
}
