//! unikc's `xen` target platform: a PVH x86_64 image that Xen boots with
//! `xl create` (`type = "pvh"`), with the PV console ring, pvclock time,
//! event channels with a blocking `SCHEDOP_poll` wait, and shutdown through
//! `SCHEDOP_shutdown`.
//!
//! The boot code, trap stubs and `main` hand-off are compiled only with
//! `--cfg unik_kernel` (set by the freestanding RUSTFLAGS); without it the
//! crate builds for the host so its logic can be unit-tested (hypercalls
//! then return `-ENOSYS`).
#![no_std]

extern crate alloc;

pub mod blkfront;
pub mod clock;
pub mod debugcon;
pub mod devices;
pub mod exit;
pub mod gnttab;
pub mod hypercall;
pub mod netfront;
pub mod ops;
pub mod platform;
pub mod pvconsole;
pub mod shared;
mod watch;
pub mod xenstore;

#[cfg(feature = "rt")]
pub mod boot;
#[cfg(feature = "rt")]
pub mod rt;
/// Device modules at the crate root, as the device catalogue names them
/// (`unik_xen::console::connect()`, like `unik_virtio::console`).
#[cfg(feature = "rt")]
pub use rt::{XenPlatform, argv, block, console, kv_mem, mclock, net, pclock, random, sleep};

#[cfg(unik_kernel)]
mod hypercall_page;
#[cfg(unik_kernel)]
mod start;

// Shared with the virtio platform.
use unik_freestanding::pvh::cell;
pub use unik_freestanding::pvh::{cpu, start_info};
#[cfg(unik_kernel)]
use unik_freestanding::pvh::{desc, entry, trap};

pub use clock::{now_ns, wall_ns};
pub use devices::DeviceKind;
pub use exit::exit;
pub use platform::{halt_until, ready_set, wait};
#[cfg(unik_kernel)]
pub use start::cmdline;

/// The kernel command line; host builds (unit tests) have none.
#[cfg(not(unik_kernel))]
pub fn cmdline() -> &'static str {
    ""
}
pub use unik_freestanding::{EXIT_ABORT, EXIT_PANIC, console_write, kprint, kprintln};

/// What the application's `main` receives.
#[derive(Debug)]
pub struct BootInfo {
    /// Kernel command line (`cmdline` in the `.xl` file).
    pub cmdline: &'static str,
    /// Bytes given to the heap.
    pub heap_bytes: u64,
    /// Monotonic time (ns since entry) when `main` was called.
    pub boot_ns: u64,
}

/// Define the image's entry point: `entry!(main)` with
/// `fn main(boot: &unik_xen::BootInfo) -> i32`. Returning exits with
/// that status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub fn unik_xen_main(boot: &$crate::BootInfo) -> i32 {
            let main: fn(&$crate::BootInfo) -> i32 = $main;
            main(boot)
        }
    };
}
