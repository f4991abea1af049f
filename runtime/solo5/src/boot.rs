//! Helpers for the `main` unikc generates (feature `rt`):
//! `unik_freestanding::boot`'s, whose boot arguments come from the tender's
//! command line and whose log timestamps come from the Solo5 wall clock
//! (both registered at boot).

pub use unik_freestanding::boot::{declare, device, exit, parse_keys, reporter};
