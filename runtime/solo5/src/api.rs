//! The Solo5 public API (`solo5.h`) over the selected binding. Argument
//! rules are checked here, once, for both bindings.

use crate::abi::{MFT_BLOCK_BASIC, MFT_NET_BASIC};
use crate::devices::{self, BlockInfo, Error, Handle, NetInfo};

#[cfg(feature = "spt")]
use crate::spt as binding;

#[cfg(all(feature = "hvt", not(feature = "spt")))]
use crate::hvt as binding;

#[cfg(all(feature = "muen", not(any(feature = "spt", feature = "hvt"))))]
use crate::muen as binding;

/// Ethernet header bytes on top of the payload MTU.
pub const ETHERNET_HEADER: usize = 14;

/// `solo5_console_write`.
pub fn console_write(bytes: &[u8]) {
    binding::console_write(bytes);
}

/// `solo5_clock_monotonic`: nanoseconds, never decreasing. Deadlines of
/// [`yield_until`] are on this clock.
pub fn clock_monotonic() -> u64 {
    binding::monotonic_ns()
}

/// `solo5_clock_wall`: nanoseconds since the Unix epoch.
pub fn clock_wall() -> u64 {
    binding::wall_ns()
}

/// `solo5_yield`: block until `deadline_ns` (monotonic) passes or a network
/// device has a frame; returns the ready set (bit `h` = handle `h`
/// readable; 0 on timeout).
pub fn yield_until(deadline_ns: u64) -> u64 {
    binding::wait(deadline_ns)
}

/// `solo5_net_acquire`: succeeds once per device name.
pub fn net_acquire(name: &str) -> Result<(Handle, NetInfo), Error> {
    devices::net_acquire(name)
}

/// `solo5_net_write`: one frame of at most `mtu + 14` bytes.
pub fn net_write(handle: Handle, frame: &[u8]) -> Result<(), Error> {
    let e = devices::acquired(handle, MFT_NET_BASIC)?;
    if frame.len() > usize::from(e.mtu()) + ETHERNET_HEADER {
        return Err(Error::Invalid);
    }
    binding::net_write(e, handle, frame)
}

/// `solo5_net_read`: one frame into `buf` (at least `mtu + 14` bytes);
/// `Err(Again)` when none is waiting.
pub fn net_read(handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    let e = devices::acquired(handle, MFT_NET_BASIC)?;
    if buf.len() < usize::from(e.mtu()) + ETHERNET_HEADER {
        return Err(Error::Invalid);
    }
    binding::net_read(e, handle, buf)
}

/// `solo5_block_acquire`: succeeds once per device name.
pub fn block_acquire(name: &str) -> Result<(Handle, BlockInfo), Error> {
    devices::block_acquire(name)
}

/// `solo5_block_write`: exactly one block at a block-aligned byte offset.
pub fn block_write(handle: Handle, offset: u64, block: &[u8]) -> Result<(), Error> {
    let e = devices::acquired(handle, MFT_BLOCK_BASIC)?;
    devices::check_block(e, offset, block.len())?;
    binding::block_write(e, handle, offset, block)
}

/// `solo5_block_read`: exactly one block at a block-aligned byte offset.
pub fn block_read(handle: Handle, offset: u64, block: &mut [u8]) -> Result<(), Error> {
    let e = devices::acquired(handle, MFT_BLOCK_BASIC)?;
    devices::check_block(e, offset, block.len())?;
    binding::block_read(e, handle, offset, block)
}

/// `solo5_set_tls_base`: the FS base (local-exec TLS only).
pub fn set_tls_base(base: u64) -> Result<(), Error> {
    binding::set_tls_base(base)
}

/// `solo5_exit`: statuses 0..=254 are the application's; 255 is abort.
pub fn exit(status: i32) -> ! {
    binding::exit(status)
}

/// `solo5_abort`: exit with 255.
pub fn abort() -> ! {
    binding::exit(unik_freestanding::EXIT_ABORT)
}
