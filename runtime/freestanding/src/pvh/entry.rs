//! PVH entry: the `.note.Xen` PHYS32_ENTRY note, the 32-bit start code that
//! builds identity page tables and enters long mode, then calls the
//! platform's `unik_pvh_main(start_info)` (virtio and xen each define one;
//! it never returns).
//!
//! QEMU (`-kernel`) and Xen enter at `unik_pvh_start32` in 32-bit protected
//! mode, paging off, interrupts off, `ebx` = physical address of
//! `hvm_start_info`. SSE is enabled before any Rust runs, because `core` is
//! compiled for the SSE2 baseline.
//!
//! Page tables map the first 4 GiB 1:1 with 2 MiB pages, except the first
//! 2 MiB which use 4 KiB pages so that page 0 can be unmapped once boot data
//! is copied (null dereferences then fault instead of reading the IVT).

core::arch::global_asm!(
    r#"
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long unik_pvh_start32
    .balign 4
    .popsection

    .pushsection .bss.unik_boot, "aw", @nobits
    .balign 4096
unik_boot_pml4:
    .skip 4096
unik_boot_pdpt:
    .skip 4096
unik_boot_pd:
    .skip 4096 * 4
    .global unik_boot_pt
unik_boot_pt:
    .skip 4096
    .balign 16
unik_boot_stack:
    .skip 65536
unik_boot_stack_top:
    .popsection

    .pushsection .rodata.unik_boot, "a", @progbits
    .balign 16
unik_boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
unik_boot_gdt_end:
    .balign 4
unik_boot_gdt_ptr:
    .word unik_boot_gdt_end - unik_boot_gdt - 1
    .long unik_boot_gdt
    .popsection

    .pushsection .text.boot, "ax", @progbits
    .code32
    .global unik_pvh_start32
unik_pvh_start32:
    cli
    cld
    mov %ebx, %esi

    /* Zero .bss first: the page tables and the boot stack live there. */
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    xor %eax, %eax
    rep stosb

    /* 2048 PD entries of 2 MiB = 4 GiB, present|rw|ps. */
    mov $unik_boot_pd, %edi
    xor %ecx, %ecx
1:
    mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, (%edi,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jb 1b

    /* First 2 MiB in 4 KiB pages. Page 0 is unmapped later, once the
       start info (which firmware may place there) has been copied. */
    mov $unik_boot_pt, %edi
    xor %ecx, %ecx
2:
    mov %ecx, %eax
    shl $12, %eax
    or $0x3, %eax
    mov %eax, (%edi,%ecx,8)
    inc %ecx
    cmp $512, %ecx
    jb 2b
    mov $unik_boot_pt, %eax
    or $0x3, %eax
    mov %eax, unik_boot_pd

    mov $unik_boot_pdpt, %edi
    mov $unik_boot_pd, %eax
    or $0x3, %eax
    mov %eax, 0(%edi)
    add $0x1000, %eax
    mov %eax, 8(%edi)
    add $0x1000, %eax
    mov %eax, 16(%edi)
    add $0x1000, %eax
    mov %eax, 24(%edi)

    mov $unik_boot_pdpt, %eax
    or $0x3, %eax
    mov %eax, unik_boot_pml4

    /* CR4: PAE | OSFXSR | OSXMMEXCPT. */
    mov %cr4, %eax
    or $0x620, %eax
    mov %eax, %cr4
    mov $unik_boot_pml4, %eax
    mov %eax, %cr3

    /* EFER.LME */
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr

    /* CR0: clear EM and TS; set PE, MP, NE, WP, PG. */
    mov %cr0, %eax
    and $0xfffffff3, %eax
    or $0x80010023, %eax
    mov %eax, %cr0

    lgdt unik_boot_gdt_ptr
    ljmp $0x08, $unik_boot_start64

    .code64
unik_boot_start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov $unik_boot_stack_top, %rsp
    xor %ebp, %ebp

    fninit
    push $0x1f80
    ldmxcsr (%rsp)
    add $8, %rsp

    mov %esi, %edi
    call unik_pvh_main
3:
    cli
    hlt
    jmp 3b

    /* unik_call_on_stack(top, fn, arg): run fn(arg) on another stack. */
    .global unik_call_on_stack
unik_call_on_stack:
    push %rbp
    mov %rsp, %rbp
    mov %rdi, %rsp
    mov %rdx, %rdi
    call *%rsi
    mov %rbp, %rsp
    pop %rbp
    ret
    .popsection
"#,
    options(att_syntax)
);

unsafe extern "C" {
    fn unik_call_on_stack(top: *mut u8, f: extern "C" fn(usize) -> i32, arg: usize) -> i32;
    static _end: u8;
    static mut unik_boot_pt: [u64; 512];
    static mut unik_boot_pd: [u64; 2048];
}

const PAGE_PRESENT_RW: u64 = 0x3;
const PAGE_HUGE: u64 = 0x80;

/// Unmap the 4 KiB page at `addr` (below 4 GiB), splitting its 2 MiB
/// mapping into a page table taken from the heap. Returns false if `addr`
/// is outside the identity map or no memory is left for the table.
pub fn unmap_page(addr: u64) -> bool {
    if addr >= 1 << 32 {
        return false;
    }
    let index = (addr >> 21) as usize;
    // SAFETY: single CPU, boot or main context; the PD covers 4 GiB so
    // `index` < 2048. A split table maps exactly what the 2 MiB entry did.
    unsafe {
        let pd = (&raw mut unik_boot_pd).cast::<u64>();
        let entry = pd.add(index).read_volatile();
        if entry & PAGE_HUGE != 0 {
            let layout = core::alloc::Layout::from_size_align(4096, 4096).expect("page layout");
            let table = alloc::alloc::alloc_zeroed(layout).cast::<u64>();
            if table.is_null() {
                return false;
            }
            let base = entry & !0x1f_ffff & 0x000f_ffff_ffff_f000;
            for i in 0..512u64 {
                table
                    .add(i as usize)
                    .write((base + i * 4096) | PAGE_PRESENT_RW);
            }
            pd.add(index).write_volatile(table as u64 | PAGE_PRESENT_RW);
            // Drop the 2 MiB TLB entry.
            core::arch::asm!("mov {0}, cr3", "mov cr3, {0}", out(reg) _, options(nostack, preserves_flags));
        }
        let table = (pd.add(index).read_volatile() & 0x000f_ffff_ffff_f000) as *mut u64;
        table.add(((addr >> 12) & 511) as usize).write_volatile(0);
        core::arch::asm!("invlpg [{}]", in(reg) addr, options(nostack, preserves_flags));
    }
    true
}

/// Unmap the page at address 0 so null dereferences fault.
pub fn unmap_null_page() {
    // SAFETY: entry 0 of the boot page table maps page 0, which nothing uses
    // after the start info has been copied; invlpg drops the stale TLB entry.
    unsafe {
        (&raw mut unik_boot_pt).cast::<u64>().write_volatile(0);
        core::arch::asm!("invlpg [{}]", in(reg) 0usize, options(nostack, preserves_flags));
    }
}

/// Run `f(arg)` with the stack pointer at `top` (16-byte aligned).
///
/// # Safety
/// `top` must be the end of a writable region large enough for `f`.
pub unsafe fn call_on_stack(top: *mut u8, f: extern "C" fn(usize) -> i32, arg: usize) -> i32 {
    unsafe { unik_call_on_stack(top, f, arg) }
}

/// First byte after the loaded image (including .bss).
pub fn image_end() -> u64 {
    // SAFETY: only the address of the linker symbol is taken.
    (&raw const _end) as u64
}
