//! COM1 (0x3f8), 115200 8N1, polled; no interrupts.

use crate::cpu::{inb, outb};

const COM1: u16 = 0x3f8;
const LSR_THR_EMPTY: u8 = 0x20;

pub fn init() {
    // SAFETY: COM1 belongs to the platform.
    unsafe {
        outb(COM1 + 1, 0x00); // no interrupts
        outb(COM1 + 3, 0x80); // DLAB
        outb(COM1, 0x01); // divisor 1 = 115200
        outb(COM1 + 1, 0x00);
        outb(COM1 + 3, 0x03); // 8N1
        outb(COM1 + 2, 0xc7); // FIFO on, cleared
        outb(COM1 + 4, 0x03); // DTR | RTS, OUT2 off: no IRQ
    }
}

/// Write bytes to COM1, waiting for the transmitter as needed.
pub fn write(bytes: &[u8]) {
    for &b in bytes {
        // SAFETY: COM1 belongs to the platform.
        unsafe {
            // Bounded wait: a missing UART reads 0xff, a present one drains quickly.
            let mut spins = 0u32;
            while inb(COM1 + 5) & LSR_THR_EMPTY == 0 && spins < 100_000 {
                spins += 1;
                core::hint::spin_loop();
            }
            outb(COM1, b);
        }
    }
}
