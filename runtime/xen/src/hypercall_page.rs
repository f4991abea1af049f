//! The hypercall page: in `.text`, so it stays read-only and executable;
//! Xen fills it when [`crate::hypercall::init`] names its address. The
//! PVH entry itself is `unik_freestanding::pvh::entry`, shared with virtio.

core::arch::global_asm!(
    r#"
    /* Filled by Xen; int3 until then, so an early hypercall traps. */
    .pushsection .text.unik_xen_hypercall, "ax", @progbits
    .balign 4096
    .global unik_xen_hypercall_page
unik_xen_hypercall_page:
    .fill 4096, 1, 0xcc
    .popsection
"#,
    options(att_syntax)
);

unsafe extern "C" {
    static unik_xen_hypercall_page: u8;
}

/// Physical (= virtual) address of the hypercall page.
pub fn hypercall_page() -> u64 {
    // SAFETY: only the address of the linker symbol is taken.
    (&raw const unik_xen_hypercall_page) as u64
}
