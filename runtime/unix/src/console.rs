//! Console on standard output.

use std::io::Write;

use unik_rt::ConsoleError;

/// Writes to the process's standard output.
#[derive(Debug, Default)]
pub struct Console;

pub fn connect() -> Result<Console, ConsoleError> {
    Ok(Console)
}

impl unik_rt::Console for Console {
    fn write(&self, bytes: &[u8]) -> Result<(), ConsoleError> {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)
            .and_then(|()| out.flush())
            .map_err(|e| ConsoleError::Io(crate::sys::code(&e)))
    }
}
