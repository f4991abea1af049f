/*
 * TEST HARNESS playing Muen's side for one muen image under QEMU TCG (no
 * VMX there, so no real Muen). A PVH kernel that:
 *   - maps the first GiB identically and BLOB_PAGES 2 MiB pages from
 *     BLOB_PHYS at VA 0xE_0000_0000: sinfo, the scheduling page, time_info
 *     and the debuglog (a blob QEMU loads at BLOB_PHYS), then the network
 *     channels, which the test's peer subject reaches through the VM's
 *     RAM file (tests/muen/peer.rs);
 *   - enters long mode with SSE on and calls the image's entry (the image
 *     itself is loaded by QEMU's generic loader) with rdi = 0x1000, where
 *     the test put the boot information and command line;
 *   - catches the image's exit: its `vmcall` raising the solo5_exit event
 *     is an invalid opcode here. The handler drains the debuglog channel
 *     to COM1 and leaves QEMU through isa-debug-exit: 0x10 for the exit
 *     event (with its number in eax as expected), 0x20 for any other fault.
 * The test passes MUEN_ENTRY, BLOB_PHYS, BLOB_PAGES, STACK_TOP, DEBUGLOG_VA
 * and EXIT_EVENT with --defsym.
 */
    .section .note.pvh, "a"
    .align 4
    .long 4, 4, 18
    .asciz "Xen"
    .long pvh_start

    .section .text
    .code32
    .globl pvh_start
pvh_start:
    cli
    movl $pdpt + 3, %eax
    movl %eax, pml4
    movl $pd0 + 3, %eax
    movl %eax, pdpt
    movl $pd1 + 3, %eax
    movl %eax, pdpt + 56 * 8
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, pd0(, %ecx, 8)
    incl %ecx
    cmpl $512, %ecx
    jne 1b
    movl $BLOB_PHYS + 0x83, %eax
    xorl %ecx, %ecx
10: movl %eax, pd1(, %ecx, 8)
    addl $0x200000, %eax
    incl %ecx
    cmpl $BLOB_PAGES, %ecx
    jne 10b
    movl %cr4, %eax
    orl $0x620, %eax            /* PAE, OSFXSR, OSXMMEXCPT */
    movl %eax, %cr4
    movl $pml4, %eax
    movl %eax, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax            /* EFER.LME */
    wrmsr
    movl %cr0, %eax
    andl $~0x4, %eax            /* no EM */
    orl $0x80000003, %eax       /* PG, MP, PE */
    movl %eax, %cr0
    lgdt gdtr
    ljmp $0x08, $long64

    .code64
long64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    /* IDT: vector 6 (invalid opcode) to on_ud, the other 31 to on_fault. */
    xorl %ecx, %ecx
2:  leaq on_fault(%rip), %rax
    cmpl $6, %ecx
    jne 3f
    leaq on_ud(%rip), %rax
3:  movq %rcx, %rdx
    shlq $4, %rdx
    leaq idt(%rip), %rsi
    addq %rdx, %rsi
    movw %ax, (%rsi)
    movw $0x08, 2(%rsi)
    movw $0x8e00, 4(%rsi)
    shrq $16, %rax
    movw %ax, 6(%rsi)
    shrq $16, %rax
    movl %eax, 8(%rsi)
    movl $0, 12(%rsi)
    incl %ecx
    cmpl $32, %ecx
    jne 2b
    lidt idtr(%rip)
    movq $STACK_TOP, %rsp
    movq $0x1000, %rdi
    movq $MUEN_ENTRY, %rax
    call *%rax
    movl $0x30, %ebx            /* returned: never happens with Solo5 */
    jmp finish

on_ud:
    movq (%rsp), %rsi           /* the faulting rip */
    movl $0x20, %ebx
    cmpb $0x0f, (%rsi)
    jne finish
    cmpb $0x01, 1(%rsi)
    jne finish
    cmpb $0xc1, 2(%rsi)
    jne finish
    cmpl $EXIT_EVENT, %eax
    jne finish
    movl $0x10, %ebx
    jmp finish
on_fault:
    movl $0x20, %ebx

/* Print every element of the debuglog (up to its write count, at most the
 * ring) as a line on COM1, then exit QEMU with bl. */
finish:
    movabsq $DEBUGLOG_VA, %r8
    movq 56(%r8), %r9           /* wc */
    movq 32(%r8), %r10          /* elements */
    cmpq %r10, %r9
    jbe 4f
    movq %r10, %r9
4:  xorq %r11, %r11             /* element index */
5:  cmpq %r9, %r11
    jae 8f
    movq %r11, %rsi
    shlq $6, %rsi
    leaq 64 + 8(%r8, %rsi), %rsi
    movl $56, %ecx
6:  movb (%rsi), %al
    testb %al, %al
    jz 7f
    call putc
    incq %rsi
    decl %ecx
    jnz 6b
7:  movb $'\n', %al
    call putc
    incq %r11
    jmp 5b
8:  movb %bl, %al
    movw $0xf4, %dx
    outb %al, %dx
9:  cli
    hlt
    jmp 9b

putc:
    movw $0x3f8, %dx
    outb %al, %dx
    ret

    .section .data
    .align 16
gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
gdt_end:
gdtr:
    .word gdt_end - gdt - 1
    .long gdt
    .align 16
idtr:
    .word 32 * 16 - 1
    .quad idt

    .section .bss
    .align 4096
pml4: .skip 4096
pdpt: .skip 4096
pd0: .skip 4096
pd1: .skip 4096
idt: .skip 32 * 16
