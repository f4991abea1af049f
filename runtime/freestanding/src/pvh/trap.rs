//! Trap entry: 256 assembly stubs (16 bytes apart) that push a uniform frame,
//! save the SSE state and call [`unik_pvh_trap`]. Exceptions are reported
//! and end the run; every other vector goes to the platform's handler
//! ([`set_irq_handler`]), which acknowledges it and returns.

use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering};

use super::cpu;
use crate::{EXIT_ABORT, kprintln};

core::arch::global_asm!(
    r#"
    .pushsection .text.unik_pvh_trap, "ax", @progbits
    .balign 16
    .global unik_pvh_trap_stubs
unik_pvh_trap_stubs:
    .set unik_vecno, 0
    .rept 256
    .balign 16
    .if (unik_vecno == 8) || (unik_vecno == 10) || (unik_vecno == 11) || (unik_vecno == 12) || (unik_vecno == 13) || (unik_vecno == 14) || (unik_vecno == 17) || (unik_vecno == 21) || (unik_vecno == 29) || (unik_vecno == 30)
    .else
    push $0
    .endif
    push $unik_vecno
    jmp unik_pvh_trap_common
    .set unik_vecno, unik_vecno + 1
    .endr

unik_pvh_trap_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rbx
    sub $512, %rsp
    and $-16, %rsp
    fxsave64 (%rsp)
    mov %rbx, %rdi
    cld
    call unik_pvh_trap
    fxrstor64 (%rsp)
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    .popsection
"#,
    options(att_syntax)
);

/// The stack layout built by the stubs, lowest address first.
#[repr(C)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    pub vector: u64,
    pub error: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// Vectors below this are CPU exceptions.
pub const FIRST_IRQ_VECTOR: u64 = 32;

static IN_EXCEPTION: AtomicBool = AtomicBool::new(false);
static STACK_GUARD: AtomicU64 = AtomicU64::new(0);
static IRQ_HANDLER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
static UNHANDLED: AtomicU64 = AtomicU64::new(0);

/// Address of the unmapped page below the main stack, for fault reports.
pub fn set_stack_guard(page: u64) {
    STACK_GUARD.store(page, Ordering::Relaxed);
}

/// The platform's handler for every vector from [`FIRST_IRQ_VECTOR`] on.
/// It runs with interrupts off on an IST stack and must not touch a
/// `Global`.
pub fn set_irq_handler(handler: fn(&mut TrapFrame)) {
    IRQ_HANDLER.store(handler as *mut (), Ordering::Release);
}

/// Interrupts that arrived before a handler was set.
pub fn unhandled() -> u64 {
    UNHANDLED.load(Ordering::Relaxed)
}

#[unsafe(no_mangle)]
extern "C" fn unik_pvh_trap(frame: &mut TrapFrame) {
    if frame.vector < FIRST_IRQ_VECTOR {
        report_exception(frame);
    }
    let raw = IRQ_HANDLER.load(Ordering::Acquire);
    if raw.is_null() {
        UNHANDLED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    // SAFETY: only `set_irq_handler` stores here, always a `fn(&mut TrapFrame)`.
    let handler = unsafe { core::mem::transmute::<*mut (), fn(&mut TrapFrame)>(raw) };
    handler(frame);
}

fn exception_name(vector: u64) -> &'static str {
    match vector {
        0 => "#DE divide error",
        1 => "#DB debug",
        2 => "NMI",
        3 => "#BP breakpoint",
        4 => "#OF overflow",
        5 => "#BR bound range exceeded",
        6 => "#UD invalid opcode",
        7 => "#NM device not available",
        8 => "#DF double fault",
        10 => "#TS invalid TSS",
        11 => "#NP segment not present",
        12 => "#SS stack-segment fault",
        13 => "#GP general protection",
        14 => "#PF page fault",
        16 => "#MF x87 floating-point",
        17 => "#AC alignment check",
        18 => "#MC machine check",
        19 => "#XM SIMD floating-point",
        20 => "#VE virtualization",
        21 => "#CP control protection",
        _ => "reserved exception",
    }
}

fn report_exception(f: &TrapFrame) -> ! {
    if IN_EXCEPTION.swap(true, Ordering::SeqCst) {
        // A fault while reporting a fault: skip formatting, just stop.
        crate::exit::exit(EXIT_ABORT);
    }
    kprintln!(
        "exception: {} (vector {}) error={:#x}",
        exception_name(f.vector),
        f.vector,
        f.error
    );
    kprintln!(
        "  rip={:#018x} cs={:#x} rflags={:#x} rsp={:#018x} ss={:#x}",
        f.rip,
        f.cs,
        f.rflags,
        f.rsp,
        f.ss
    );
    let cr2 = cpu::read_cr2();
    kprintln!("  cr2={:#018x} cr3={:#018x}", cr2, cpu::read_cr3());
    let guard = STACK_GUARD.load(Ordering::Relaxed);
    if f.vector == 14 && guard != 0 && (guard..guard + 4096).contains(&cr2) {
        kprintln!("  stack overflow: the main stack's guard page was hit");
    }
    kprintln!(
        "  rax={:#018x} rbx={:#018x} rcx={:#018x} rdx={:#018x}",
        f.rax,
        f.rbx,
        f.rcx,
        f.rdx
    );
    kprintln!(
        "  rsi={:#018x} rdi={:#018x} rbp={:#018x} r8 ={:#018x}",
        f.rsi,
        f.rdi,
        f.rbp,
        f.r8
    );
    kprintln!(
        "  r9 ={:#018x} r10={:#018x} r11={:#018x} r12={:#018x}",
        f.r9,
        f.r10,
        f.r11,
        f.r12
    );
    kprintln!(
        "  r13={:#018x} r14={:#018x} r15={:#018x}",
        f.r13,
        f.r14,
        f.r15
    );
    crate::exit::exit(EXIT_ABORT)
}
