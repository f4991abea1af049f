//! Xen's debug console: port 0xe9 of an HVM guest, shown by `xl dmesg`.
//! Output goes here before the PV console ring exists, when the ring's
//! backend stops reading, and for the platform's own reports.

/// Bytes on Xen's debug port (HVM guests; `xl dmesg`).
pub fn debug_write(bytes: &[u8]) {
    for &b in bytes {
        #[cfg(unik_kernel)]
        // SAFETY: port 0xe9 is Xen's HVM debug console; writes have no other effect.
        unsafe {
            crate::cpu::outb(0xe9, b)
        };
        #[cfg(not(unik_kernel))]
        let _ = b;
    }
}
