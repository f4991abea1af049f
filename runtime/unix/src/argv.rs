//! Boot arguments: the process's arguments, program name excluded.

use std::convert::Infallible;

/// The process arguments after the program name. Arguments that are not
/// UTF-8 are converted lossily (boot arguments are text on every target).
pub fn boot_args() -> Vec<String> {
    std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

#[derive(Debug, Default)]
pub struct Argv;

pub fn connect() -> Result<Argv, Infallible> {
    Ok(Argv)
}

impl unik_rt::Argv for Argv {
    fn args(&self) -> Vec<String> {
        boot_args()
    }
}
