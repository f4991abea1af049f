//! The Solo5 API over the host's `solo5.lib.so`: the same functions as
//! `api.rs` gives the other bindings, each a call to the imported C symbol.
//! Argument rules the host would enforce are checked here too, so a
//! caller sees the same errors on every binding.

use super::{BlockInfo as CBlockInfo, NetInfo as CNetInfo, c_name, result};
use crate::devices::{BlockInfo, Error, Handle, NetInfo};

/// Ethernet header bytes on top of the payload MTU.
pub const ETHERNET_HEADER: usize = 14;

unsafe extern "C" {
    fn solo5_console_write(buf: *const u8, size: usize);
    fn solo5_clock_monotonic() -> u64;
    fn solo5_clock_wall() -> u64;
    fn solo5_yield(deadline: u64, ready_set: *mut u64);
    fn solo5_exit(status: i32) -> !;
    fn solo5_abort() -> !;
    fn solo5_set_tls_base(base: usize) -> i32;
    fn solo5_net_acquire(name: *const u8, handle: *mut u64, info: *mut CNetInfo) -> i32;
    fn solo5_net_write(handle: u64, buf: *const u8, size: usize) -> i32;
    fn solo5_net_read(handle: u64, buf: *mut u8, size: usize, read: *mut usize) -> i32;
    fn solo5_block_acquire(name: *const u8, handle: *mut u64, info: *mut CBlockInfo) -> i32;
    fn solo5_block_write(handle: u64, offset: u64, buf: *const u8, size: usize) -> i32;
    fn solo5_block_read(handle: u64, offset: u64, buf: *mut u8, size: usize) -> i32;
}

pub fn console_write(bytes: &[u8]) {
    // SAFETY: the host reads `bytes` during the call only.
    unsafe { solo5_console_write(bytes.as_ptr(), bytes.len()) }
}

pub fn clock_monotonic() -> u64 {
    // SAFETY: no arguments.
    unsafe { solo5_clock_monotonic() }
}

pub fn clock_wall() -> u64 {
    // SAFETY: no arguments.
    unsafe { solo5_clock_wall() }
}

pub fn yield_until(deadline_ns: u64) -> u64 {
    let mut ready = 0u64;
    // SAFETY: the host writes the ready set during the call only.
    unsafe { solo5_yield(deadline_ns, &mut ready) };
    ready
}

pub fn net_acquire(name: &str) -> Result<(Handle, NetInfo), Error> {
    let mut buf = [0u8; 72];
    let name = c_name(name, &mut buf).ok_or(Error::Invalid)?;
    let mut handle = 0u64;
    let mut info = CNetInfo::default();
    // SAFETY: a NUL-terminated name and two out-parameters, all live.
    result(unsafe { solo5_net_acquire(name.as_ptr(), &mut handle, &mut info) })?;
    let mtu = u16::try_from(info.mtu).map_err(|_| Error::Unspecified)?;
    Ok((
        handle,
        NetInfo {
            mac: info.mac_address,
            mtu,
        },
    ))
}

pub fn net_write(handle: Handle, frame: &[u8]) -> Result<(), Error> {
    // SAFETY: the host reads `frame` during the call only.
    result(unsafe { solo5_net_write(handle, frame.as_ptr(), frame.len()) })
}

pub fn net_read(handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    let mut n = 0usize;
    // SAFETY: the host writes at most `buf.len()` bytes during the call.
    result(unsafe { solo5_net_read(handle, buf.as_mut_ptr(), buf.len(), &mut n) })?;
    if n > buf.len() {
        return Err(Error::Unspecified);
    }
    Ok(n)
}

pub fn block_acquire(name: &str) -> Result<(Handle, BlockInfo), Error> {
    let mut buf = [0u8; 72];
    let name = c_name(name, &mut buf).ok_or(Error::Invalid)?;
    let mut handle = 0u64;
    let mut info = CBlockInfo::default();
    // SAFETY: as in `net_acquire`.
    result(unsafe { solo5_block_acquire(name.as_ptr(), &mut handle, &mut info) })?;
    Ok((
        handle,
        BlockInfo {
            capacity: info.capacity,
            block_size: info.block_size,
        },
    ))
}

pub fn block_write(handle: Handle, offset: u64, block: &[u8]) -> Result<(), Error> {
    // SAFETY: the host reads `block` during the call only.
    result(unsafe { solo5_block_write(handle, offset, block.as_ptr(), block.len()) })
}

pub fn block_read(handle: Handle, offset: u64, block: &mut [u8]) -> Result<(), Error> {
    // SAFETY: the host writes `block` during the call only.
    result(unsafe { solo5_block_read(handle, offset, block.as_mut_ptr(), block.len()) })
}

pub fn set_tls_base(base: u64) -> Result<(), Error> {
    // SAFETY: the host changes the thread pointer only.
    result(unsafe { solo5_set_tls_base(base as usize) })
}

pub fn exit(status: i32) -> ! {
    // SAFETY: the host ends the component.
    unsafe { solo5_exit(status) }
}

pub fn abort() -> ! {
    // SAFETY: as `exit`.
    unsafe { solo5_abort() }
}

#[cfg(unik_kernel)]
mod entry {
    use core::sync::atomic::Ordering;

    use unik_freestanding::{Sources, heap};

    use super::super::StartInfo;
    use crate::abi::CMDLINE_SIZE;
    use crate::start::{BootInfo, CMDLINE, HEAP_BYTES, c_str, cmdline};

    unsafe extern "Rust" {
        safe fn unik_solo5_main(boot: &BootInfo) -> i32;
    }

    /// Genode's dynamic linker runs the image as a program.
    #[used]
    #[unsafe(link_section = ".interp")]
    static INTERP: [u8; 10] = *b"ld.lib.so\0";

    static SOURCES: Sources = Sources {
        monotonic_ns: super::clock_monotonic,
        wall_ns: super::clock_wall,
        cmdline,
    };

    /// Called by the host's `solo5.lib.so` once its sessions are open; the
    /// return value is the exit status it passes to `solo5_exit`.
    ///
    /// # Safety
    /// `si` points at the host's start information; its command line is
    /// NUL-terminated and the heap range is the image's alone.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn solo5_app_main(si: *const StartInfo) -> i32 {
        unik_freestanding::set_console(super::console_write);
        unik_freestanding::set_exit(super::exit);
        unik_freestanding::set_sources(&SOURCES);
        // SAFETY: the host's start information, valid for the call.
        let si = unsafe { si.read() };
        if !si.cmdline.is_null() {
            // The image imports nothing but the Solo5 API, so no `strlen`.
            let mut len = 0;
            // SAFETY: NUL-terminated and never freed by the host; read up
            // to the terminator (at most the Solo5 command line size).
            let line = unsafe {
                while len < CMDLINE_SIZE && si.cmdline.add(len).read() != 0 {
                    len += 1;
                }
                core::slice::from_raw_parts(si.cmdline, len)
            };
            // SAFETY: once, before the application runs.
            unsafe { *CMDLINE.get() = c_str(line) };
        }
        let base = core::ptr::with_exposed_provenance_mut::<u8>(si.heap_start);
        // SAFETY: the host gives this range to the image alone.
        if si.heap_size > 0 && unsafe { heap::add_region(base, si.heap_size) } {
            HEAP_BYTES.store(si.heap_size as u64, Ordering::Relaxed);
        }
        let info = BootInfo {
            cmdline: cmdline(),
            heap_bytes: HEAP_BYTES.load(Ordering::Relaxed),
            boot_ns: super::clock_monotonic(),
        };
        unik_solo5_main(&info)
    }
}
