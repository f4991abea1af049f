//! GDT, TSS and IDT. Every vector runs on an IST stack: `core` uses the red
//! zone, so an interrupt must never push onto the interrupted stack.

use core::arch::asm;
use core::mem::size_of;

use super::cell::Global;

const IST_SIZE: usize = 16 * 1024;

/// IST slots (1-based, as in the IDT entry).
const IST_IRQ: u8 = 1;
const IST_TRAP: u8 = 2;
const IST_CRITICAL: u8 = 3;

pub const KERNEL_CS: u16 = 0x08;
const KERNEL_DS: u16 = 0x10;
const TSS_SEL: u16 = 0x18;

#[repr(C, align(16))]
struct Stack([u8; IST_SIZE]);

#[repr(C, packed(4))]
struct Tss {
    _reserved0: u32,
    rsp: [u64; 3],
    _reserved1: u64,
    ist: [u64; 7],
    _reserved2: u64,
    _reserved3: u16,
    iomap_base: u16,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct IdtEntry {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    _reserved: u32,
}

const EMPTY_ENTRY: IdtEntry = IdtEntry {
    offset_low: 0,
    selector: 0,
    ist: 0,
    attributes: 0,
    offset_mid: 0,
    offset_high: 0,
    _reserved: 0,
};

#[repr(C, packed(2))]
struct DescriptorPointer {
    limit: u16,
    base: u64,
}

static IST_STACKS: Global<[Stack; 3]> = Global::new([const { Stack([0; IST_SIZE]) }; 3]);
static TSS: Global<Tss> = Global::new(Tss {
    _reserved0: 0,
    rsp: [0; 3],
    _reserved1: 0,
    ist: [0; 7],
    _reserved2: 0,
    _reserved3: 0,
    iomap_base: 0,
});
static GDT: Global<[u64; 5]> = Global::new([0, 0x00af_9a00_0000_ffff, 0x00cf_9200_0000_ffff, 0, 0]);
static IDT: Global<[IdtEntry; 256]> = Global::new([EMPTY_ENTRY; 256]);

unsafe extern "C" {
    /// 256 trap stubs, 16 bytes apart (see trap.rs).
    static unik_pvh_trap_stubs: u8;
}

fn ist_for(vector: usize) -> u8 {
    match vector {
        2 | 8 | 18 => IST_CRITICAL,
        0..32 => IST_TRAP,
        _ => IST_IRQ,
    }
}

/// Load the kernel's GDT, TSS and IDT. Called once, with interrupts off.
pub fn init() {
    // SAFETY: single CPU, called once before interrupts are enabled; the
    // statics are only referenced by the CPU after this.
    unsafe {
        let stacks = &mut *IST_STACKS.get();
        let tss = &mut *TSS.get();
        for (slot, stack) in stacks.iter_mut().enumerate() {
            let top = stack.0.as_mut_ptr().add(IST_SIZE) as u64;
            tss.ist[slot] = top;
        }
        tss.iomap_base = size_of::<Tss>() as u16;

        let gdt = &mut *GDT.get();
        let base = TSS.get() as u64;
        let limit = (size_of::<Tss>() - 1) as u64;
        gdt[3] = (limit & 0xffff)
            | ((base & 0xff_ffff) << 16)
            | (0x89 << 40)
            | (((limit >> 16) & 0xf) << 48)
            | (((base >> 24) & 0xff) << 56);
        gdt[4] = base >> 32;

        let gdt_ptr = DescriptorPointer {
            limit: (size_of::<[u64; 5]>() - 1) as u16,
            base: GDT.get() as u64,
        };
        asm!(
            "lgdt [{ptr}]",
            "push {cs}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "retfq",
            "2:",
            "mov ds, {ds:e}",
            "mov es, {ds:e}",
            "mov ss, {ds:e}",
            "ltr {tss:x}",
            ptr = in(reg) &gdt_ptr,
            cs = const KERNEL_CS as u64,
            tmp = out(reg) _,
            ds = in(reg) u32::from(KERNEL_DS),
            tss = in(reg) TSS_SEL,
        );

        let idt = &mut *IDT.get();
        let stubs = &raw const unik_pvh_trap_stubs as u64;
        for (vector, entry) in idt.iter_mut().enumerate() {
            let handler = stubs + 16 * vector as u64;
            *entry = IdtEntry {
                offset_low: handler as u16,
                selector: KERNEL_CS,
                ist: ist_for(vector),
                attributes: 0x8e,
                offset_mid: (handler >> 16) as u16,
                offset_high: (handler >> 32) as u32,
                _reserved: 0,
            };
        }
        let idt_ptr = DescriptorPointer {
            limit: (size_of::<[IdtEntry; 256]>() - 1) as u16,
            base: IDT.get() as u64,
        };
        asm!("lidt [{}]", in(reg) &idt_ptr, options(readonly, nostack, preserves_flags));
    }
}
