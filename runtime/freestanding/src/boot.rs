//! Helpers for the `main` unikc generates on freestanding targets (feature
//! `rt`). Each returns `Err(status)` when the unikernel must stop now with
//! that status, so the generated `boot()` can use `?`; messages go to the
//! registered console. Boot arguments come from the registered command line
//! and log timestamps from the registered wall clock ([`crate::sources`]).
//! The platform crates re-export them as their `boot` module.

use core::fmt::Display;

use unik_rt::keys::{KeyError, Keys, Parsed};
use unik_rt::{Console, ExitStatus};

use crate::devices::pclock::Pclock;
use crate::kprintln;

/// Stops with [`ExitStatus::Usage`] if a key declaration failed (a
/// duplicate or a default of the wrong type).
pub fn declare(result: Result<(), KeyError>) -> Result<(), ExitStatus> {
    result.map_err(|e| {
        kprintln!("error: {e}");
        ExitStatus::Usage
    })
}

/// Parses the boot arguments (the command line split as
/// [`unik_rt::bootargs::split`] does) into `keys` and installs them.
/// `--help` prints the key listing and stops successfully.
pub fn parse_keys(mut keys: Keys) -> Result<(), ExitStatus> {
    let args = unik_rt::bootargs::split(crate::sources::cmdline());
    match keys.parse(&args) {
        Ok(Parsed::Run) => {
            keys.install();
            Ok(())
        }
        Ok(Parsed::Help) => {
            crate::console_write(keys.help().as_bytes());
            Err(ExitStatus::Success)
        }
        Err(e) => {
            kprintln!("error: {e}");
            Err(ExitStatus::Usage)
        }
    }
}

/// Leaks a connected device, or stops with [`ExitStatus::Device`].
pub fn device<T, E: Display>(name: &str, result: Result<T, E>) -> Result<&'static T, ExitStatus> {
    match result {
        Ok(dev) => Ok(unik_rt::leak(dev)),
        Err(e) => {
            // The reporter may not exist yet (or may be quiet): say it once,
            // on the console, whatever the log levels.
            kprintln!("error: device {name}: {e}");
            Err(ExitStatus::Device)
        }
    }
}

/// Installs the reporter on `console` at the levels of the `logs` key,
/// timestamped with the wall clock.
pub fn reporter(console: &'static (dyn Console + Sync)) -> Result<(), ExitStatus> {
    static CLOCK: Pclock = Pclock;
    let spec = unik_rt::keys::string("logs").map_err(|e| {
        kprintln!("error: {e}");
        ExitStatus::Usage
    })?;
    unik_rt::reporter::init(console, Some(&CLOCK), &spec).map_err(|e| {
        kprintln!("error: {e}");
        ExitStatus::Usage
    })
}

/// The exit status for `boot`'s outcome (the entry point returns it).
pub fn exit(outcome: Result<ExitStatus, ExitStatus>) -> i32 {
    i32::from(outcome.unwrap_or_else(|s| s).code())
}
