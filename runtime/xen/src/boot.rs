//! Helpers for the `main` unikc generates (feature `rt`):
//! `unik_freestanding::boot`'s, whose boot arguments come from the PVH
//! command line and whose log timestamps come from Xen's wall clock (both
//! registered at boot).

pub use crate::devices::declare as devices;
pub use unik_freestanding::boot::{declare, device, exit, parse_keys, reporter};
