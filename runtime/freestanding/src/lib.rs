//! Freestanding runtime pieces shared by every bootable unikc target.
//!
//! Everything that defines a global symbol or a lang item (the `mem*`
//! functions, unwind stubs, `#[panic_handler]`, `#[global_allocator]`) is
//! only compiled with `--cfg unik_kernel`, which the freestanding RUSTFLAGS
//! set. Without it this is an ordinary `no_std` library that host tests and
//! clippy can build.
#![no_std]
// The mem* implementations must not be turned back into calls to themselves.
#![no_builtins]

#[cfg(feature = "rt")]
extern crate alloc;

#[cfg(feature = "rt")]
pub mod boot;
pub mod console;
#[cfg(feature = "rt")]
pub mod devices;
pub mod exit;
pub mod heap;
pub mod mem;
#[cfg(feature = "pvh")]
pub mod pvh;
pub mod sources;

#[cfg(unik_kernel)]
mod lang;

pub use console::{Console, console_write, set_console};
pub use exit::{EXIT_ABORT, EXIT_PANIC, exit, set_exit};
pub use sources::{Sources, set_sources};
