//! Leaving the VM: QEMU's `isa-debug-exit` device, else ACPI soft-off.
//!
//! `unikc run` passes `-device isa-debug-exit,iobase=0xf4,iosize=0x04`. A guest
//! `exit(code)` writes `code` there and QEMU exits with status
//! `(code << 1) | 1` (truncated to 8 bits by the host), so guest 0 is QEMU 1,
//! a panic (101) is 203 and an abort (255) is 255. QEMU status 0 never comes
//! from the guest's `exit`; it means the machine stopped another way (e.g. a
//! triple fault under `-no-reboot`, used when the exit device is missing).
//!
//! Without the device (urunc's QEMU line has neither it nor `-no-reboot`,
//! so a triple fault would reboot the image forever) the guest powers the
//! machine off through the chipset's ACPI PM1 control register (S5, the
//! sleep type QEMU's tables give soft-off), found over PCI: PIIX4 power
//! management on `pc`, the ICH9 LPC bridge on `q35`. QEMU then exits 0.

use core::arch::asm;

use crate::cpu::{outl, outw};
use crate::pci::{self, PciAddress};

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
    acpi_poweroff();
    triple_fault()
}

/// A chipset function holding the ACPI PM I/O block: where its base
/// register is and how it is switched on.
struct PmBlock {
    address: PciAddress,
    id: u32,
    /// Dword with the I/O base (bits 15..6 on PIIX4, 15..7 on ICH9).
    base_reg: u8,
    /// Byte register and bit that enable the block's I/O decoding.
    enable_reg: u8,
    enable_bit: u8,
}

const PM_BLOCKS: [PmBlock; 2] = [
    // PIIX4 power management (QEMU `pc`), 00:01.3.
    PmBlock {
        address: PciAddress {
            bus: 0,
            device: 1,
            function: 3,
        },
        id: 0x7113_8086,
        base_reg: 0x40,
        enable_reg: 0x80,
        enable_bit: 0x01,
    },
    // ICH9 LPC bridge (QEMU `q35`), 00:1f.0.
    PmBlock {
        address: PciAddress {
            bus: 0,
            device: 0x1f,
            function: 0,
        },
        id: 0x2918_8086,
        base_reg: 0x40,
        enable_reg: 0x44,
        enable_bit: 0x80,
    },
];

/// Where firmware puts the block when it sets it up (SeaBIOS), used when
/// nothing did.
const DEFAULT_PM_BASE: u16 = 0x600;
/// PM1a_CNT: SLP_EN with SLP_TYP 0 (S5 in QEMU's `_S5`).
const PM1_CNT: u16 = 4;
const SLP_EN_S5: u16 = 1 << 13;

/// Powers the machine off through ACPI, if it has a chipset we know;
/// returns if it has none (microvm) or the write did not stop it.
pub fn acpi_poweroff() {
    for b in &PM_BLOCKS {
        if pci::read32(b.address, 0) != b.id {
            continue;
        }
        let mut base = (pci::read32(b.address, b.base_reg) & 0xff80) as u16;
        let enable = pci::read32(b.address, b.enable_reg & 0xfc);
        let shift = u32::from(b.enable_reg & 3) * 8;
        if base == 0 || (enable >> shift) as u8 & b.enable_bit == 0 {
            if base == 0 {
                base = DEFAULT_PM_BASE;
                pci::write32(b.address, b.base_reg, u32::from(base) | 1);
            }
            pci::write32(
                b.address,
                b.enable_reg & 0xfc,
                enable | (u32::from(b.enable_bit) << shift),
            );
        }
        // SAFETY: the PM block of the chipset just found; S5 stops the machine.
        unsafe { outw(base + PM1_CNT, SLP_EN_S5) };
    }
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
