//! Random bytes from the CPU's `RDRAND` (neither Solo5 nor the virtio
//! platform has an entropy device). QEMU's default TCG CPU lacks it:
//! `unikc run` starts QEMU with `-cpu max` (TCG) or `-cpu host` (KVM).

use core::arch::asm;
use unik_rt::RandomError;

/// Only [`connect`] makes one, after checking the CPU has RDRAND.
#[derive(Debug)]
pub struct Random {
    _checked: (),
}

fn has_rdrand() -> bool {
    let leaf = core::arch::x86_64::__cpuid(1);
    leaf.ecx & (1 << 30) != 0
}

/// Fails on CPUs without RDRAND.
pub fn connect() -> Result<Random, RandomError> {
    if has_rdrand() {
        Ok(Random { _checked: () })
    } else {
        Err(RandomError::Unavailable(0))
    }
}

fn rdrand() -> Option<u64> {
    // Intel: retry a few times on a transient underflow.
    for _ in 0..10 {
        let (value, ok): (u64, u8);
        // SAFETY: RDRAND is present (a `Random` exists only if `connect`
        // found it); no memory access.
        unsafe {
            asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok,
                 options(nomem, nostack));
        }
        if ok == 1 {
            return Some(value);
        }
    }
    None
}

impl unik_rt::Random for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        for chunk in buf.chunks_mut(8) {
            let v = rdrand().ok_or(RandomError::Unavailable(0))?;
            chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}
