//! Hypercalls through the hypercall page. Xen is found by its CPUID leaves
//! (`XenVMMXenVMM` at 0x40000000 or a multiple of 0x100 above, when another
//! hypervisor interface comes first); leaf base+2 names the MSR that makes
//! Xen write the page. The page holds one 32-byte stub per hypercall with
//! the right instruction for the CPU (`vmcall` or `vmmcall`), so the image
//! does not need to know whether it runs on Intel or AMD.

use core::fmt;
use core::sync::atomic::{AtomicBool, Ordering};

pub const MEMORY_OP: u32 = 12;
pub const XEN_VERSION: u32 = 17;
pub const GRANT_TABLE_OP: u32 = 20;
pub const SCHED_OP: u32 = 29;
pub const EVENT_CHANNEL_OP: u32 = 32;
pub const HVM_OP: u32 = 34;

static READY: AtomicBool = AtomicBool::new(false);

/// Why the hypercall page could not be set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitError {
    /// No `XenVMMXenVMM` CPUID signature: not running under Xen.
    NotXen,
    /// Xen offers no hypercall page (leaf base+2 says 0 pages).
    NoPage,
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotXen => f.write_str(
                "no Xen CPUID signature: this image boots only as a Xen PVH guest (xl create)",
            ),
            Self::NoPage => f.write_str("Xen offers no hypercall page"),
        }
    }
}

/// The CPUID base of Xen's leaves, if any.
pub fn cpuid_base() -> Option<u32> {
    (0x4000_0000u32..0x4001_0000)
        .step_by(0x100)
        .find(|&base| is_xen_signature(crate::cpu::cpuid(base, 0)))
}

/// `ebx, ecx, edx` of the base leaf spell `XenVMMXenVMM`; `eax` is the last
/// leaf, at least base+2.
pub fn is_xen_signature(r: [u32; 4]) -> bool {
    let mut sig = [0u8; 12];
    sig[..4].copy_from_slice(&r[1].to_le_bytes());
    sig[4..8].copy_from_slice(&r[2].to_le_bytes());
    sig[8..].copy_from_slice(&r[3].to_le_bytes());
    &sig == b"XenVMMXenVMM" && r[0] >= 2
}

/// Find Xen and have it fill the hypercall page at `page` (physical).
///
/// # Safety
/// `page` must be a page of the image reserved for hypercall stubs.
pub unsafe fn init(page: u64) -> Result<(), InitError> {
    let base = cpuid_base().ok_or(InitError::NotXen)?;
    let [pages, msr, _, _] = crate::cpu::cpuid(base + 2, 0);
    if pages == 0 {
        return Err(InitError::NoPage);
    }
    // SAFETY: the MSR index comes from Xen's own leaf.
    unsafe { crate::cpu::wrmsr(msr, page) };
    READY.store(true, Ordering::Release);
    Ok(())
}

/// `-ENOSYS`, what hypercalls return before [`init`] (and in host builds).
pub const ENOSYS: i64 = -38;

/// Hypercall `nr` with up to three arguments; returns Xen's `rax`
/// (negative errno on failure).
///
/// # Safety
/// The arguments must be what hypercall `nr` expects; pointers must point
/// to memory laid out as Xen's public headers say.
#[cfg(unik_kernel)]
pub unsafe fn call3(nr: u32, a1: u64, a2: u64, a3: u64) -> i64 {
    if !READY.load(Ordering::Acquire) {
        return ENOSYS;
    }
    let entry = crate::hypercall_page::hypercall_page() + u64::from(nr) * 32;
    let ret: i64;
    // SAFETY: the stub is Xen's; it follows the hypercall convention (args
    // in rdi, rsi, rdx; result in rax). Without `nostack` the compiler keeps
    // the red zone clear and the stack aligned for the call.
    unsafe {
        core::arch::asm!(
            "call rax",
            inlateout("rax") entry => ret,
            inlateout("rdi") a1 => _,
            inlateout("rsi") a2 => _,
            inlateout("rdx") a3 => _,
            lateout("rcx") _,
            lateout("r10") _,
            lateout("r11") _,
            lateout("r8") _,
        );
    }
    ret
}

/// Host builds (unit tests) have no hypervisor.
///
/// # Safety
/// Always safe; `unsafe` to match the kernel signature.
#[cfg(not(unik_kernel))]
pub unsafe fn call3(_nr: u32, _a1: u64, _a2: u64, _a3: u64) -> i64 {
    let _ = READY.load(Ordering::Relaxed);
    ENOSYS
}

/// Hypercall with a command and a pointer to its argument structure.
///
/// # Safety
/// See [`call3`]; `arg` must be the structure `cmd` expects.
pub unsafe fn op<T>(nr: u32, cmd: u32, arg: *mut T) -> i64 {
    unsafe { call3(nr, u64::from(cmd), arg as u64, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_recognised() {
        let r = |s: &[u8; 12], max: u32| {
            let w = |i: usize| u32::from_le_bytes([s[i], s[i + 1], s[i + 2], s[i + 3]]);
            [max, w(0), w(4), w(8)]
        };
        assert!(is_xen_signature(r(b"XenVMMXenVMM", 0x4000_0005)));
        assert!(!is_xen_signature(r(b"KVMKVMKVM\0\0\0", 0x4000_0001)));
        assert!(!is_xen_signature(r(b"XenVMMXenVMM", 1)));
    }
}
