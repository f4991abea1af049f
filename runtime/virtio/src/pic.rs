//! The 8259 PIC pair, remapped to vectors 32..48, all lines masked until used.

use core::sync::atomic::{AtomicU16, Ordering};

use crate::cpu::{inb, outb};

const MASTER_CMD: u16 = 0x20;
const MASTER_DATA: u16 = 0x21;
const SLAVE_CMD: u16 = 0xa0;
const SLAVE_DATA: u16 = 0xa1;
const EOI: u8 = 0x20;
const CASCADE: u8 = 2;

static MASK: AtomicU16 = AtomicU16::new(0xffff);

pub fn init() {
    // SAFETY: the PIC ports belong to the platform.
    unsafe {
        outb(MASTER_CMD, 0x11); // ICW1: edge/level per ELCR, cascade, ICW4 follows
        outb(SLAVE_CMD, 0x11);
        outb(MASTER_DATA, 32); // ICW2: vector base
        outb(SLAVE_DATA, 40);
        outb(MASTER_DATA, 1 << CASCADE); // ICW3: slave on IRQ2
        outb(SLAVE_DATA, CASCADE);
        outb(MASTER_DATA, 0x01); // ICW4: 8086 mode
        outb(SLAVE_DATA, 0x01);
    }
    MASK.store(0xffff, Ordering::SeqCst);
    write_mask(0xffff);
    crate::lapic::init();
}

fn write_mask(mask: u16) {
    // SAFETY: the PIC ports belong to the platform.
    unsafe {
        outb(MASTER_DATA, mask as u8);
        outb(SLAVE_DATA, (mask >> 8) as u8);
    }
}

pub fn unmask(irq: u8) {
    let mut bits = 1u16 << irq;
    if irq >= 8 {
        bits |= 1 << CASCADE;
    }
    let mask = MASK.fetch_and(!bits, Ordering::SeqCst) & !bits;
    write_mask(mask);
}

/// A spurious IRQ 7/15 is raised without its in-service bit set and must not
/// be acknowledged on that PIC.
pub fn is_spurious(irq: u8) -> bool {
    let (cmd, bit) = match irq {
        7 => (MASTER_CMD, 7),
        15 => (SLAVE_CMD, 7),
        _ => return false,
    };
    // SAFETY: OCW3 "read ISR" followed by a read of the command port.
    let isr = unsafe {
        outb(cmd, 0x0b);
        inb(cmd)
    };
    isr & (1 << bit) == 0
}

pub fn eoi(irq: u8) {
    // SAFETY: the PIC ports belong to the platform.
    unsafe {
        if irq >= 8 {
            outb(SLAVE_CMD, EOI);
        }
        outb(MASTER_CMD, EOI);
    }
}

/// Acknowledge a spurious IRQ 15: the slave raised it, so the master did see IRQ 2.
pub fn eoi_master_only() {
    // SAFETY: the PIC ports belong to the platform.
    unsafe { outb(MASTER_CMD, EOI) };
}
