//! `unik-net`: a sans-IO IPv4 network stack for unikc unikernels.
#![no_std]
extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod wire;

pub mod arp;
pub mod device;
pub mod ethernet;
pub mod ipv4;
pub mod rng;
pub mod time;
