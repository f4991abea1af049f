//! unikc's Solo5-ABI platform: the Solo5 API (`solo5.h`) in Rust with two
//! bindings, chosen by feature:
//!
//! - `spt`: the image runs in the tender's seccomp-sandboxed process and
//!   uses raw Linux system calls on the descriptors the tender hands over;
//! - `hvt`: the image runs in a KVM guest and uses `outl` hypercalls;
//! - `muen`: the image is a Muen subject and uses shared-memory channels;
//! - `genode`: the image is a shared object that imports the API from the
//!   host's `solo5.lib.so` (Solo5 0.6's genode form).
//!
//! Images carry an `ABI1` note (emitted by the binding) and an `MFT1`
//! manifest note ([`manifest!`]), each in its own PT_NOTE, and define their
//! entry with [`entry!`]. Boot code, notes and the `_start` symbol exist only
//! with `--cfg unik_kernel`; without it the crate builds for the host so its
//! logic can be unit-tested.
#![no_std]

extern crate alloc;

#[cfg(all(
    unik_kernel,
    any(
        all(feature = "spt", feature = "hvt"),
        all(
            feature = "muen",
            any(feature = "spt", feature = "hvt", feature = "genode")
        ),
        all(feature = "genode", any(feature = "spt", feature = "hvt")),
    )
))]
compile_error!(
    "unik-solo5: enable exactly one binding feature (spt, hvt, muen, genode) in an image"
);

pub mod abi;
mod cell;
pub mod devices;
pub mod link;
pub mod manifest;
pub mod start;

#[cfg(feature = "hvt")]
pub mod hvt;
#[cfg(feature = "spt")]
pub mod spt;
// Built on the host too: its channel, sinfo and clock code is unit-tested.
pub mod genode;
pub mod muen;

#[cfg(all(
    any(feature = "spt", feature = "hvt", feature = "muen"),
    not(feature = "genode")
))]
mod api;
#[cfg(all(
    any(feature = "spt", feature = "hvt", feature = "muen"),
    not(feature = "genode")
))]
pub use api::*;
#[cfg(feature = "genode")]
pub use genode::api::*;

#[cfg(all(
    feature = "rt",
    any(feature = "spt", feature = "hvt", feature = "muen", feature = "genode")
))]
pub mod boot;
#[cfg(all(
    feature = "rt",
    any(feature = "spt", feature = "hvt", feature = "muen", feature = "genode")
))]
pub mod rt;
/// Device modules at the crate root, as the device catalogue names them
/// (`unik_solo5::net::connect("service")`, like `unik_unix::net`).
#[cfg(all(
    feature = "rt",
    any(feature = "spt", feature = "hvt", feature = "muen", feature = "genode")
))]
pub use rt::{Solo5Platform, argv, block, console, kv_mem, mclock, net, pclock, random, sleep};

pub use devices::{BlockInfo, Error, Handle, NetInfo};
pub use manifest::Kind;
pub use start::{BootInfo, cmdline, heap_bytes};
pub use unik_freestanding::{EXIT_ABORT, EXIT_PANIC, kprint, kprintln};

/// Define the image's entry point: `entry!(main)` with
/// `fn main(boot: &unik_solo5::BootInfo) -> i32`. Returning exits with
/// that status (as `solo5_app_main` does).
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub fn unik_solo5_main(boot: &$crate::BootInfo) -> i32 {
            let main: fn(&$crate::BootInfo) -> i32 = $main;
            main(boot)
        }
    };
}
