//! Helpers for the `main` unikc generates (feature `rt`):
//! `unik_freestanding::boot`'s, whose boot arguments come from the kernel
//! command line and whose log timestamps come from the CMOS-based wall clock
//! (both registered at boot), plus the host device declaration.

pub use crate::rt::declare_devices as devices;
pub use unik_freestanding::boot::{declare, device, exit, parse_keys, reporter};
