//! TLS for unikc images (mirage's `conduit_direct ~tls:true`): rustls
//! without `std`, over any `unik_rt` TCP stack, with a pure-Rust crypto
//! provider whose randomness is the platform's and whose clock is the
//! platform's wall clock.

#![no_std]

extern crate alloc;

pub mod provider;

mod conduit;
mod flow;
mod lock;

pub use conduit::{Flow, Listener, TlsConduit, connect};
pub use flow::TlsFlow;
