//! Leaving the VM through QEMU's `isa-debug-exit` device.
//!
//! The image expects `-device isa-debug-exit,iobase=0xf4,iosize=0x04`. A guest
//! `exit(code)` writes `code` there and QEMU exits with status
//! `(code << 1) | 1` (truncated to 8 bits by the host), so guest 0 is QEMU 1,
//! a panic (101) is 203 and an abort (255) is 255. QEMU status 0 never comes
//! from the guest's `exit`; it means the machine stopped another way (e.g. a
//! triple fault under `-no-reboot`, used when the exit device is missing).

use core::arch::asm;

use crate::cpu::outl;

pub const DEBUG_EXIT_PORT: u16 = 0xf4;

/// QEMU's process status for a guest exit `code` (see the module docs).
pub const fn qemu_status(code: i32) -> i32 {
    ((code << 1) | 1) & 0xff
}

/// The guest exit code back from a QEMU process status, if it came from `exit`.
pub const fn guest_code(qemu_status: i32) -> Option<i32> {
    if qemu_status & 1 == 1 {
        Some(qemu_status >> 1)
    } else {
        None
    }
}

pub fn exit(code: i32) -> ! {
    // SAFETY: the debug-exit port stops QEMU; without the device the write is ignored.
    unsafe { outl(DEBUG_EXIT_PORT, code as u32) };
    triple_fault()
}

/// Make the next exception unrecoverable: with an empty IDT any vector
/// escalates to a triple fault, which QEMU `-no-reboot` turns into an exit.
pub fn triple_fault() -> ! {
    let idt_ptr = [0u64; 2]; // limit 0: every vector is out of bounds
    // SAFETY: deliberately stops the machine.
    unsafe {
        asm!("lidt [{}]", "int3", in(reg) idt_ptr.as_ptr(), options(nostack));
    }
    loop {
        // SAFETY: halting with interrupts off only happens if the fault did not stop the machine.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_mapping_round_trips_for_small_codes() {
        assert_eq!(qemu_status(0), 1);
        assert_eq!(qemu_status(101), 203);
        assert_eq!(qemu_status(255), 255);
        for code in 0..128 {
            assert_eq!(guest_code(qemu_status(code)), Some(code));
        }
        assert_eq!(guest_code(0), None);
    }
}
