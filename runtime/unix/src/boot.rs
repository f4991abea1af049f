//! Helpers for the generated `main`: each returns `Err(status)` when the
//! program must stop now with that exit status, so `main` can use `?`.
//! Errors before the reporter exists go to standard error.

use std::fmt::Display;
use std::process::ExitCode;

use unik_rt::keys::{KeyError, Keys, Parsed};
use unik_rt::{Console, ExitStatus};

/// Stops with [`ExitStatus::Usage`] if a key declaration failed (a
/// duplicate or a default of the wrong type).
pub fn declare(result: Result<(), KeyError>) -> Result<(), ExitStatus> {
    result.map_err(|e| {
        eprintln!("error: {e}");
        ExitStatus::Usage
    })
}

/// Parses the process's boot arguments into `keys` and installs them.
/// `--help` prints the key listing and stops successfully.
pub fn parse_keys(mut keys: Keys) -> Result<(), ExitStatus> {
    match keys.parse(&crate::argv::boot_args()) {
        Ok(Parsed::Run) => {
            keys.install();
            Ok(())
        }
        Ok(Parsed::Help) => {
            print!("{}", keys.help());
            Err(ExitStatus::Success)
        }
        Err(e) => {
            eprintln!("error: {e}");
            Err(ExitStatus::Usage)
        }
    }
}

/// Leaks a connected device, or stops with [`ExitStatus::Device`].
pub fn device<T, E: Display>(name: &str, result: Result<T, E>) -> Result<&'static T, ExitStatus> {
    match result {
        Ok(dev) => Ok(unik_rt::leak(dev)),
        Err(e) => {
            eprintln!("error: device {name}: {e}");
            unik_rt::log::error!(target: "unik", "device {name}: {e}");
            Err(ExitStatus::Device)
        }
    }
}

/// Installs the reporter on `console` at the levels of the `logs` key,
/// timestamped with the wall clock.
pub fn reporter(console: &'static (dyn Console + Sync)) -> Result<(), ExitStatus> {
    let spec = unik_rt::keys::string("logs").map_err(|e| {
        eprintln!("error: {e}");
        ExitStatus::Usage
    })?;
    let clock: &'static crate::pclock::Pclock = &crate::pclock::Pclock;
    unik_rt::reporter::init(console, Some(clock), &spec).map_err(|e| {
        eprintln!("error: {e}");
        ExitStatus::Usage
    })
}

/// The process exit code for `boot`'s outcome.
pub fn exit(outcome: Result<ExitStatus, ExitStatus>) -> ExitCode {
    let status = outcome.unwrap_or_else(|s| s);
    ExitCode::from(status.code())
}
