//! Helpers for the `main` unikc generates (feature `rt`): the platform-free
//! ones from `unik_freestanding::boot`, plus boot arguments from the
//! tender's command line and the reporter on the Solo5 wall clock.

use unik_rt::keys::Keys;
use unik_rt::{Console, ExitStatus};

pub use unik_freestanding::boot::{declare, device, exit};

/// Parses the tender's arguments after the image into `keys` and installs
/// them; `--help` prints the listing and stops with 0.
pub fn parse_keys(keys: Keys) -> Result<(), ExitStatus> {
    unik_freestanding::boot::parse_keys(keys, crate::cmdline())
}

/// Installs the reporter on `console` at the levels of the `logs` key.
pub fn reporter(console: &'static (dyn Console + Sync)) -> Result<(), ExitStatus> {
    static CLOCK: crate::rt::pclock::Pclock = crate::rt::pclock::Pclock;
    unik_freestanding::boot::reporter(console, &CLOCK)
}
