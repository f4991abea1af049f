//! A minimal hvt guest in assembly that never touches SSE, so that it runs
//! even under a KVM that emulates ring-0 code instruction by instruction
//! and cannot emulate SSE. It exercises PUTS, WALLTIME, POLL,
//! BLOCK_READ/WRITE, NET_WRITE/READ and HALT, printing `key=0x...` lines.
//!
//! The first character of the command line picks a mode:
//! - anything else: the normal run (exits with 7);
//! - `p`: PUTS with a pointer outside guest memory;
//! - `x`: a write to port 0x509 (not a hypercall);
//! - `h`: a bare `hlt`;
//! - `w`: a write to the read-only boot info page;
//! - `s`: one SSE instruction, then HALT 0 (probes whether KVM runs SSE in ring 0);
//! - `t` / `r`: a write to its own text / rodata;
//! - `e`: a call into its data (a `ret` written there);
//! - `z`: a read of guest-physical 0x8 (page zero);
//! - `T` / `R`: clear CR0.WP (so the guest's page tables no longer stop
//!   ring-0 writes), then write to text / rodata: only the host side stops it.
//!
//! After each of those it prints `FAILURE` and HALTs with 3: the tender must
//! have stopped it before.
//!
//! Network: the guest is 10.55.0.2 and sends an ARP request for 10.55.0.1;
//! it prints the sender of the first ARP reply.
#![no_std]
#![no_main]

// Handles: 1 = service (net), 2 = storage (block).
unik_solo5::manifest! { net "service", block "storage" }
unik_solo5::abi1_note!(hvt);

core::arch::global_asm!(
    r#"
    .section .text.boot, "ax", @progbits
    .global _start
_start:
    mov r15, rdi                        # boot info
    lea rdi, [rip + s_hello]
    mov esi, 15
    call puts

    lea rdi, [rip + k_mem]
    mov esi, 4
    mov rdx, [r15]
    call put_kv
    lea rdi, [rip + k_freq]
    mov esi, 5
    mov rdx, [r15 + 16]
    call put_kv
    lea rdi, [rip + k_end]
    mov esi, 11
    mov rdx, [r15 + 8]
    call put_kv

    # cmdline: print it, then dispatch on its first byte.
    mov r14, [r15 + 24]
    xor ecx, ecx
.Lstrlen:
    cmp byte ptr [r14 + rcx], 0
    je .Lstrlen_done
    inc rcx
    jmp .Lstrlen
.Lstrlen_done:
    mov r13, rcx
    lea rdi, [rip + s_cmdline]
    mov esi, 8
    call puts
    mov rdi, r14
    mov rsi, r13
    call puts
    lea rdi, [rip + s_nl]
    mov esi, 1
    call puts

    movzx eax, byte ptr [r14]
    cmp al, 'p'
    je mode_badptr
    cmp al, 'x'
    je mode_badport
    cmp al, 'h'
    je mode_hlt
    cmp al, 'w'
    je mode_write_ro
    cmp al, 's'
    je mode_sse
    cmp al, 't'
    je mode_write_text
    cmp al, 'r'
    je mode_write_rodata
    cmp al, 'e'
    je mode_exec_data
    cmp al, 'z'
    je mode_read_zero
    cmp al, 'T'
    je mode_nowp_text
    cmp al, 'R'
    je mode_nowp_rodata

    # WALLTIME, POLL(50 ms), WALLTIME.
    call walltime
    mov rdx, rax
    lea rdi, [rip + k_wall]
    mov esi, 5
    call put_kv
    mov rdi, 50000000
    call poll
    lea rdi, [rip + k_poll_ret]
    mov esi, 9
    mov edx, dword ptr [rip + hc_poll + 16]
    call put_kv
    lea rdi, [rip + k_poll_ready]
    mov esi, 11
    mov rdx, [rip + hc_poll + 8]
    call put_kv
    call walltime
    mov rdx, rax
    lea rdi, [rip + k_wall2]
    mov esi, 6
    call put_kv

    # BLOCK_READ sector 0, print its first 16 bytes.
    mov edi, 5                          # BLOCK_READ
    xor esi, esi
    call block
    lea rdi, [rip + k_blk_read]
    mov esi, 9
    mov edx, eax
    call put_kv
    lea rdi, [rip + s_sector0]
    mov esi, 8
    call puts
    lea rdi, [rip + blkbuf]
    mov esi, 16
    call puts
    lea rdi, [rip + s_nl]
    mov esi, 1
    call puts

    # BLOCK_WRITE sector 1 with a marker.
    lea rsi, [rip + s_marker]
    lea rdi, [rip + blkbuf]
    mov ecx, 20
    call copy
    mov edi, 4                          # BLOCK_WRITE
    mov esi, 512
    call block
    lea rdi, [rip + k_blk_write]
    mov esi, 10
    mov edx, eax
    call put_kv

    # BLOCK_READ far outside the device: EINVAL (2).
    mov edi, 5
    mov rsi, 0x7ffffffffe00
    call block
    lea rdi, [rip + k_blk_bad]
    mov esi, 8
    mov edx, eax
    call put_kv

    # NET_READ before anything was sent: AGAIN (1).
    call net_read
    lea rdi, [rip + k_net_empty]
    mov esi, 10
    mov edx, eax
    call put_kv

    # ARP request: our MAC from the manifest copy (entry 1, mac at 72).
    mov rsi, [r15 + 32]
    add rsi, 8 + 104 + 72
    lea rdi, [rip + arp + 6]
    mov ecx, 6
    call copy
    mov rsi, [r15 + 32]
    add rsi, 8 + 104 + 72
    lea rdi, [rip + arp + 22]
    mov ecx, 6
    call copy
    call send_arp
    lea rdi, [rip + k_net_write]
    mov esi, 10
    mov edx, dword ptr [rip + hc_net + 24]
    call put_kv

    # Wait for the ARP reply: POLL up to 50 x 100 ms, read every frame,
    # and send the request again every 400 ms (the first may be lost while
    # the host brings the tap's carrier up).
    mov r12d, 50
.Lwait:
    test r12d, 3
    jnz .Lpoll
    call send_arp
.Lpoll:
    mov rdi, 100000000
    call poll
.Ldrain:
    call net_read
    test eax, eax
    jnz .Lnext
    cmp word ptr [rip + rxbuf + 12], 0x0608        # ethertype 0x0806
    jne .Ldrain
    cmp word ptr [rip + rxbuf + 20], 0x0200        # opcode 2 (reply)
    jne .Ldrain
    mov rdx, [rip + rxbuf + 22]                    # sender MAC (+2 bytes)
    bswap rdx
    shr rdx, 16
    lea rdi, [rip + k_arp]
    mov esi, 10
    call put_kv
    jmp .Lhalt
.Lnext:
    dec r12d
    jnz .Lwait
    lea rdi, [rip + s_noreply]
    mov esi, 14
    call puts

.Lhalt:
    lea rax, [rip + hc_halt]
    mov qword ptr [rax], 0
    mov dword ptr [rax + 8], 7
    mov dx, 0x508
    out dx, eax
    jmp .Lhalt

mode_badptr:
    lea rax, [rip + hc_puts]
    mov rcx, 0xfffff000
    mov [rax], rcx
    mov qword ptr [rax + 8], 0x100
    mov dx, 0x502
    out dx, eax
    jmp mode_badptr

mode_badport:
    lea rax, [rip + hc_puts]
    mov dx, 0x509
    out dx, eax
    jmp mode_badport

mode_hlt:
    hlt
    jmp mode_hlt

mode_write_ro:
    mov qword ptr [r15], 1
    jmp mode_write_ro

mode_sse:
    xorps xmm0, xmm0
    lea rax, [rip + hc_halt]
    mov qword ptr [rax], 0
    mov dword ptr [rax + 8], 0
    mov dx, 0x508
    out dx, eax
    jmp mode_sse

mode_write_text:
    lea rax, [rip + _start]
    mov byte ptr [rax], 0x90
    jmp wx_failure

mode_write_rodata:
    lea rax, [rip + s_hello]
    mov byte ptr [rax], 0
    jmp wx_failure

mode_exec_data:
    lea rax, [rip + line]
    mov byte ptr [rax], 0xc3            # ret
    call rax
    jmp wx_failure

mode_read_zero:
    xor eax, eax
    mov rax, [rax + 8]
    jmp wx_failure

mode_nowp_text:
    call clear_wp
    lea rax, [rip + _start]
    mov byte ptr [rax], 0x90
    jmp wx_failure

mode_nowp_rodata:
    call clear_wp
    lea rax, [rip + s_hello]
    mov byte ptr [rax], 0
    jmp wx_failure

clear_wp:
    mov rax, cr0
    and rax, ~0x10000
    mov cr0, rax
    ret

# Reached only if the tender let a W^X violation through.
wx_failure:
    lea rdi, [rip + s_failure]
    mov esi, 35
    call puts
    lea rax, [rip + hc_halt]
    mov qword ptr [rax], 0
    mov dword ptr [rax + 8], 3
    mov dx, 0x508
    out dx, eax
    jmp wx_failure

# puts(rdi = data, rsi = len)
puts:
    lea rax, [rip + hc_puts]
    mov [rax], rdi
    mov [rax + 8], rsi
    mov dx, 0x502
    out dx, eax
    ret

# walltime() -> rax
walltime:
    lea rax, [rip + hc_wall]
    mov dx, 0x501
    out dx, eax
    mov rax, [rip + hc_wall]
    ret

# poll(rdi = timeout ns); results stay in hc_poll
poll:
    lea rax, [rip + hc_poll]
    mov [rax], rdi
    mov dx, 0x503
    out dx, eax
    ret

# block(edi = hypercall nr, rsi = offset) -> eax = ret; one 512-byte block at blkbuf
block:
    lea rax, [rip + hc_blk]
    mov qword ptr [rax], 2
    mov [rax + 8], rsi
    lea rcx, [rip + blkbuf]
    mov [rax + 16], rcx
    mov qword ptr [rax + 24], 512
    mov edx, edi
    add edx, 0x500
    out dx, eax
    mov eax, dword ptr [rip + hc_blk + 32]
    ret

# send_arp(): NET_WRITE of the ARP request; ret stays in hc_net
send_arp:
    lea rax, [rip + hc_net]
    mov qword ptr [rax], 1
    lea rcx, [rip + arp]
    mov [rax + 8], rcx
    mov qword ptr [rax + 16], 42
    mov dx, 0x506
    out dx, eax
    ret

# net_read() -> eax = ret; the frame lands in rxbuf
net_read:
    lea rax, [rip + hc_net]
    mov qword ptr [rax], 1
    lea rcx, [rip + rxbuf]
    mov [rax + 8], rcx
    mov qword ptr [rax + 16], 2048
    mov dx, 0x507
    out dx, eax
    mov eax, dword ptr [rip + hc_net + 24]
    ret

# copy(rdi = dst, rsi = src, rcx = len)
copy:
    test rcx, rcx
    jz .Lcopy_done
    mov al, [rsi]
    mov [rdi], al
    inc rsi
    inc rdi
    dec rcx
    jmp copy
.Lcopy_done:
    ret

# put_kv(rdi = key, rsi = key length, rdx = value): "key0x<16 hex digits>\n"
put_kv:
    lea r8, [rip + line]
    mov rcx, rsi
    mov rsi, rdi
    mov rdi, r8
    mov r9, rcx
    call copy
    lea r10, [rip + hexdigits]
    mov byte ptr [r8 + r9], '0'
    mov byte ptr [r8 + r9 + 1], 'x'
    add r9, 2
    mov ecx, 16
.Lhex:
    rol rdx, 4
    mov eax, edx
    and eax, 15
    mov al, [r10 + rax]
    mov [r8 + r9], al
    inc r9
    dec ecx
    jnz .Lhex
    mov byte ptr [r8 + r9], 10
    inc r9
    mov rdi, r8
    mov rsi, r9
    jmp puts

    .section .rodata.hvt_asm, "a", @progbits
s_hello:      .ascii "hvt-asm: hello\n"
s_cmdline:    .ascii "cmdline="
s_nl:         .ascii "\n"
s_sector0:    .ascii "sector0="
s_marker:     .ascii "written by hvt-asm!\n"
s_noreply:    .ascii "no arp reply\n\n"
s_failure:    .ascii "FAILURE: the W^X violation went on\n"
k_mem:        .ascii "mem="
k_freq:       .ascii "freq="
k_end:        .ascii "kernel_end="
k_wall:       .ascii "wall="
k_wall2:      .ascii "wall2="
k_poll_ret:   .ascii "poll_ret="
k_poll_ready: .ascii "poll_ready="
k_blk_read:   .ascii "blk_read="
k_blk_write:  .ascii "blk_write="
k_blk_bad:    .ascii "blk_bad="
k_net_empty:  .ascii "net_empty="
k_net_write:  .ascii "net_write="
k_arp:        .ascii "arp_reply="
hexdigits:    .ascii "0123456789abcdef"

    .section .data.hvt_asm, "aw", @progbits
    .balign 8
hc_puts: .quad 0, 0
hc_wall: .quad 0
hc_poll: .quad 0, 0, 0
hc_blk:  .quad 0, 0, 0, 0, 0
hc_net:  .quad 0, 0, 0, 0
hc_halt: .quad 0, 0
# ARP request who-has 10.55.0.1 tell 10.55.0.2; MACs filled in at run time.
arp:
    .byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0x08, 0x06
    .byte 0, 1, 0x08, 0, 6, 4, 0, 1
    .byte 0, 0, 0, 0, 0, 0, 10, 55, 0, 2
    .byte 0, 0, 0, 0, 0, 0, 10, 55, 0, 1
line:    .skip 160
    .balign 16
blkbuf:  .skip 512
rxbuf:   .skip 2048
"#
);

// The panic handler, allocator and mem* symbols the Rust side needs (none
// of them ever runs).
use unik_freestanding as _;
