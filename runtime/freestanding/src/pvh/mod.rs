//! What the x86_64 PVH platforms (virtio under QEMU, xen) share: the PVH
//! entry (note, 32-bit start, identity page tables), port I/O, MSRs and
//! the TSC, the `hvm_start_info` reader, the GDT/TSS/IDT with every vector
//! on an IST stack, and the trap stubs that report CPU exceptions and hand
//! every other vector to the platform.

pub mod cell;
pub mod cpu;
pub mod start_info;

#[cfg(unik_kernel)]
pub mod desc;
#[cfg(unik_kernel)]
pub mod entry;
#[cfg(unik_kernel)]
pub mod trap;
