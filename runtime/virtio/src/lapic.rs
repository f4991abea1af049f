//! Local APIC set-up so that 8259 interrupts reach the CPU: LINT0 in ExtINT
//! mode. SeaBIOS does this on `pc`; QEMU's microvm firmware leaves the LAPIC
//! software-disabled with LINT0 masked, which blocks every PIC interrupt.

use crate::cpu::{cpuid, rdmsr, wrmsr};

const IA32_APIC_BASE: u32 = 0x1b;
const APIC_GLOBAL_ENABLE: u64 = 1 << 11;
const CPUID_APIC: u32 = 1 << 9;
const TPR: usize = 0x80;
const SPURIOUS: usize = 0xf0;
const LVT_LINT0: usize = 0x350;
const LVT_LINT1: usize = 0x360;
/// Enabled, spurious vector 0xff (ignored by the trap handler).
const SPURIOUS_ENABLE: u32 = 0x100 | 0xff;
const DELIVERY_EXTINT: u32 = 0x700;
const DELIVERY_NMI: u32 = 0x400;

pub fn init() {
    if cpuid(1, 0)[3] & CPUID_APIC == 0 {
        // No LAPIC: the PIC drives the CPU's INTR pin directly.
        return;
    }
    // SAFETY: the APIC base MSR exists when CPUID reports an APIC; the
    // register page is identity-mapped below 4 GiB.
    unsafe {
        let base = rdmsr(IA32_APIC_BASE);
        if base & APIC_GLOBAL_ENABLE == 0 {
            wrmsr(IA32_APIC_BASE, base | APIC_GLOBAL_ENABLE);
        }
        let mmio = (base & 0xffff_f000) as usize;
        let reg = |offset: usize, value: u32| ((mmio + offset) as *mut u32).write_volatile(value);
        reg(TPR, 0);
        reg(SPURIOUS, SPURIOUS_ENABLE);
        reg(LVT_LINT0, DELIVERY_EXTINT);
        reg(LVT_LINT1, DELIVERY_NMI);
    }
}
