//! unikc's `virtio` target platform: a PVH-booted x86_64 image for QEMU
//! (`-kernel`, `-M microvm` or `-M pc`) with a COM1 console, kvmclock or
//! TSC time, PIT-driven `hlt` waits, `isa-debug-exit`, PCI enumeration over
//! port I/O, and legacy virtio-pci network and block drivers.
//!
//! The boot code, trap stubs and `main` hand-off are compiled only with
//! `--cfg unik_kernel` (set by the freestanding RUSTFLAGS); without it the
//! crate builds for the host so its logic can be unit-tested.
#![no_std]

extern crate alloc;

pub mod blk;
pub mod clock;
pub mod devices;
pub mod exit;
pub mod irq;
// Used by the kernel-only boot path.
#[cfg_attr(not(unik_kernel), allow(dead_code))]
mod lapic;
pub mod nic;
pub mod pci;
#[cfg_attr(not(unik_kernel), allow(dead_code))]
mod pic;
pub mod pit;
pub mod platform;
pub mod rtc;
pub mod serial;
pub mod virtio;

#[cfg(feature = "rt")]
pub mod boot;
#[cfg(feature = "rt")]
pub mod rt;
/// Device modules at the crate root, as the device catalogue names them
/// (`unik_virtio::net::connect("service")`, like `unik_unix::net`).
#[cfg(feature = "rt")]
pub use rt::{VirtioPlatform, argv, block, console, kv_mem, mclock, net, pclock, random, sleep};

#[cfg(unik_kernel)]
mod start;

// Shared with the xen platform.
use unik_freestanding::pvh::cell;
pub use unik_freestanding::pvh::{cpu, start_info};
#[cfg(unik_kernel)]
use unik_freestanding::pvh::{desc, entry, trap};

pub use blk::{Blk, BlkError, SECTOR_SIZE};
pub use clock::{now_ns, wall_ns};
pub use devices::{DeviceInfo, DeviceKind, OpenError, devices, open_blk, open_net};
pub use exit::exit;
pub use nic::{Net, NetError};
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
    /// Kernel command line (`-append`).
    pub cmdline: &'static str,
    /// Bytes given to the heap.
    pub heap_bytes: u64,
    /// Monotonic time (ns since entry) when `main` was called.
    pub boot_ns: u64,
}

/// Define the image's entry point: `entry!(main)` with
/// `fn main(boot: &unik_virtio::BootInfo) -> i32`. Returning exits with
/// that status.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[unsafe(no_mangle)]
        pub fn unik_virtio_main(boot: &$crate::BootInfo) -> i32 {
            let main: fn(&$crate::BootInfo) -> i32 = $main;
            main(boot)
        }
    };
}
