//! The hvt binding: the image runs in a KVM guest in long mode (ring 0,
//! interrupts off, identity-mapped memory) and calls the tender with
//! hypercalls: `outl` of the argument struct's 32-bit guest-physical address
//! to port `0x500 + nr`.

use core::arch::asm;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::{
    HYPERCALL_PIO_BASE, HcBlock, HcHalt, HcNet, HcPoll, HcPuts, HcWalltime, Hypercall, MftEntry,
    R_AGAIN, R_EINVAL, R_OK,
};
use crate::devices::{Error, Handle};

/// Issue hypercall `nr` with `arg`. The tender reads and writes `*arg`
/// before the `out` completes; the asm's implicit memory clobber orders the
/// accesses around it.
fn hypercall<T>(nr: Hypercall, arg: &mut T) {
    let addr = (arg as *mut T).expose_provenance();
    // Guest memory is at most 4 GiB, so every address fits the 32-bit port write.
    debug_assert!(addr <= u32::MAX as usize);
    // SAFETY: a port write the tender traps; it only touches `*arg` and the
    // buffers `*arg` names, all owned by the caller for the duration.
    unsafe {
        asm!(
            "out dx, eax",
            in("dx") HYPERCALL_PIO_BASE + nr as u16,
            in("eax") addr as u32,
            options(nostack, preserves_flags)
        );
    }
}

fn result(ret: i32) -> Result<(), Error> {
    match ret {
        R_OK => Ok(()),
        R_AGAIN => Err(Error::Again),
        R_EINVAL => Err(Error::Invalid),
        _ => Err(Error::Unspecified),
    }
}

/// TSC to nanoseconds: `ns = ticks * MULT >> 32`, fixed at boot from the
/// frequency the tender measured (`cpu_cycle_freq`).
static TSC_BOOT: AtomicU64 = AtomicU64::new(0);
static TSC_MULT: AtomicU64 = AtomicU64::new(0);

/// Scale factor for `freq_hz`, or None if the frequency is unusable.
pub fn tsc_mult(freq_hz: u64) -> Option<u64> {
    if freq_hz < 1_000_000 {
        return None;
    }
    u64::try_from((1_000_000_000u128 << 32) / u128::from(freq_hz)).ok()
}

pub fn ticks_to_ns(ticks: u64, mult: u64) -> u64 {
    ((u128::from(ticks) * u128::from(mult)) >> 32) as u64
}

pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: reads the time-stamp counter, no side effects.
    unsafe {
        asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags))
    };
    u64::from(hi) << 32 | u64::from(lo)
}

/// Start the monotonic clock. Returns false if `freq_hz` is unusable.
pub fn init_clock(freq_hz: u64) -> bool {
    let Some(mult) = tsc_mult(freq_hz) else {
        return false;
    };
    TSC_MULT.store(mult, Ordering::Relaxed);
    TSC_BOOT.store(rdtsc(), Ordering::Relaxed);
    true
}

/// Nanoseconds since boot, from the TSC.
pub fn monotonic_ns() -> u64 {
    let ticks = rdtsc().wrapping_sub(TSC_BOOT.load(Ordering::Relaxed));
    ticks_to_ns(ticks, TSC_MULT.load(Ordering::Relaxed))
}

pub fn wall_ns() -> u64 {
    let mut arg = HcWalltime::default();
    hypercall(Hypercall::Walltime, &mut arg);
    arg.nsecs
}

pub fn console_write(bytes: &[u8]) {
    let mut arg = HcPuts {
        data: bytes.as_ptr().expose_provenance() as u64,
        len: bytes.len() as u64,
    };
    hypercall(Hypercall::Puts, &mut arg);
}

/// `solo5_yield`: POLL with the time left until `deadline_ns`.
pub fn wait(deadline_ns: u64) -> u64 {
    let mut arg = HcPoll {
        timeout_nsecs: deadline_ns.saturating_sub(monotonic_ns()),
        ..HcPoll::default()
    };
    hypercall(Hypercall::Poll, &mut arg);
    arg.ready_set
}

fn net(nr: Hypercall, handle: Handle, data: u64, len: usize) -> Result<usize, Error> {
    let mut arg = HcNet {
        handle,
        data,
        len: len as u64,
        ..HcNet::default()
    };
    hypercall(nr, &mut arg);
    result(arg.ret)?;
    usize::try_from(arg.len).map_err(|_| Error::Unspecified)
}

pub fn net_write(_: &MftEntry, handle: Handle, frame: &[u8]) -> Result<(), Error> {
    let data = frame.as_ptr().expose_provenance() as u64;
    net(Hypercall::NetWrite, handle, data, frame.len()).map(|_| ())
}

pub fn net_read(_: &MftEntry, handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    let data = buf.as_mut_ptr().expose_provenance() as u64;
    let n = net(Hypercall::NetRead, handle, data, buf.len())?;
    // The tender never reports more than it was given room for.
    if n > buf.len() {
        return Err(Error::Unspecified);
    }
    Ok(n)
}

fn block(nr: Hypercall, handle: Handle, offset: u64, data: u64, len: usize) -> Result<(), Error> {
    let mut arg = HcBlock {
        handle,
        offset,
        data,
        len: len as u64,
        ..HcBlock::default()
    };
    hypercall(nr, &mut arg);
    result(arg.ret)
}

pub fn block_write(_: &MftEntry, handle: Handle, offset: u64, data: &[u8]) -> Result<(), Error> {
    let ptr = data.as_ptr().expose_provenance() as u64;
    block(Hypercall::BlockWrite, handle, offset, ptr, data.len())
}

pub fn block_read(_: &MftEntry, handle: Handle, offset: u64, data: &mut [u8]) -> Result<(), Error> {
    let ptr = data.as_mut_ptr().expose_provenance() as u64;
    block(Hypercall::BlockRead, handle, offset, ptr, data.len())
}

/// FS base through `IA32_FS_BASE` (ring 0 may write it directly).
pub fn set_tls_base(base: u64) -> Result<(), Error> {
    // SAFETY: only changes where FS-relative accesses go.
    unsafe {
        asm!(
            "wrmsr",
            in("ecx") 0xC000_0100u32,
            in("eax") base as u32,
            in("edx") (base >> 32) as u32,
            options(nostack, preserves_flags)
        );
    }
    Ok(())
}

pub fn exit(status: i32) -> ! {
    let mut arg = HcHalt {
        cookie: 0,
        exit_status: status,
        pad: 0,
    };
    loop {
        // HALT never returns under a working tender.
        hypercall(Hypercall::Halt, &mut arg);
    }
}

#[cfg(unik_kernel)]
mod entry {
    use unik_freestanding::{EXIT_ABORT, console_write, exit};

    use crate::abi::HvtBootInfo;

    crate::abi1_note!(hvt);

    /// The tender starts the vCPU here in long mode with `rdi` = the boot
    /// info at 0x10000 and `rsp` = top of memory - 8.
    ///
    /// # Safety
    /// Only the tender enters here, once, with a valid boot info.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn _start(bi: *const HvtBootInfo) -> ! {
        // SAFETY: the tender wrote the (read-only) boot info before entry.
        let bi = unsafe { bi.read() };
        unik_freestanding::set_console(super::console_write);
        unik_freestanding::set_exit(super::exit);
        if !super::init_clock(bi.cpu_cycle_freq) {
            console_write(b"hvt: unusable cpu_cycle_freq from the tender\n");
            exit(EXIT_ABORT);
        }
        crate::start::boot(crate::start::Boot {
            mem_size: bi.mem_size,
            cmdline: bi.cmdline,
            mft: bi.mft,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsc_scaling() {
        let mult = tsc_mult(2_596_118_000).unwrap();
        assert_eq!(ticks_to_ns(2_596_118_000, mult), 999_999_999);
        assert_eq!(ticks_to_ns(0, mult), 0);
        let one_ghz = tsc_mult(1_000_000_000).unwrap();
        assert_eq!(ticks_to_ns(123_456_789_012, one_ghz), 123_456_789_012);
        // An hour at 3 GHz neither overflows nor drifts by more than a microsecond.
        let three = tsc_mult(3_000_000_000).unwrap();
        let ns = ticks_to_ns(3_600 * 3_000_000_000, three);
        assert!(ns.abs_diff(3_600_000_000_000) < 1_000, "{ns}");
        assert_eq!(tsc_mult(0), None);
        assert_eq!(tsc_mult(999_999), None);
    }

    #[test]
    fn hypercall_results() {
        assert_eq!(result(0), Ok(()));
        assert_eq!(result(1), Err(Error::Again));
        assert_eq!(result(2), Err(Error::Invalid));
        assert_eq!(result(3), Err(Error::Unspecified));
        assert_eq!(result(-7), Err(Error::Unspecified));
    }
}
