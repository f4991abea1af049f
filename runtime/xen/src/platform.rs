//! The platform's blocking primitive: `sti; hlt` until an event-channel
//! upcall, with Xen's one-shot timer (`set_timer_op`, delivered as
//! `VIRQ_TIMER` on a bound port) for the deadline. Devices register a
//! readiness probe per handle; [`wait`] reports which handles are ready.

use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use crate::{clock, ops, shared, watch};

/// Handles that can take part in [`wait`] (bits of the ready set).
pub const MAX_HANDLES: usize = 16;

struct Probe {
    check: AtomicPtr<()>,
    arg: AtomicUsize,
}

static PROBES: [Probe; MAX_HANDLES] = [const {
    Probe {
        check: AtomicPtr::new(core::ptr::null_mut()),
        arg: AtomicUsize::new(0),
    }
}; MAX_HANDLES];

const NO_PORT: u32 = u32::MAX;
static TIMER_PORT: AtomicU32 = AtomicU32::new(NO_PORT);

/// Bind `VIRQ_TIMER` (the one-shot timer's event).
pub fn init() -> Result<(), ops::XenError> {
    let port = ops::bind_virq(ops::VIRQ_TIMER)?;
    shared::unmask(port);
    TIMER_PORT.store(port, Ordering::SeqCst);
    Ok(())
}

/// Register `check(arg)` (true = the device has input); returns its handle.
pub fn register_probe(check: fn(usize) -> bool, arg: usize) -> Option<usize> {
    for (i, p) in PROBES.iter().enumerate() {
        if p.check
            .compare_exchange(
                core::ptr::null_mut(),
                check as *mut (),
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        {
            // Claimed; the executor only reads it after this returns.
            p.arg.store(arg, Ordering::SeqCst);
            return Some(i);
        }
    }
    None
}

pub fn unregister_probe(handle: usize) {
    if let Some(p) = PROBES.get(handle) {
        p.check.store(core::ptr::null_mut(), Ordering::SeqCst);
    }
}

/// Handles in `interest` whose device has input waiting.
pub fn ready_set(interest: u64) -> u64 {
    let mut ready = 0;
    for (i, p) in PROBES.iter().enumerate() {
        if interest & (1 << i) == 0 {
            continue;
        }
        let raw = p.check.load(Ordering::SeqCst);
        if raw.is_null() {
            continue;
        }
        // SAFETY: only `register_probe` stores here, always a `fn(usize) -> bool`.
        let check: fn(usize) -> bool =
            unsafe { core::mem::transmute::<*mut (), fn(usize) -> bool>(raw) };
        if check(p.arg.load(Ordering::SeqCst)) {
            ready |= 1 << i;
        }
    }
    ready
}

/// Halt until an event arrives or `deadline_ns` (monotonic) passes; returns
/// at once if it has. Spurious returns are possible: callers loop, calling
/// [`shared::ack_upcall`] *before* checking their condition, so an event
/// arriving after the check wakes the halt.
pub fn halt_until(deadline_ns: u64) {
    if clock::now_ns() >= deadline_ns {
        return;
    }
    let timer = TIMER_PORT.load(Ordering::SeqCst);
    if timer != NO_PORT {
        shared::take_pending(timer);
        let at = if deadline_ns == u64::MAX {
            0
        } else {
            clock::to_system_ns(deadline_ns)
        };
        // A refused timer still leaves events to wake us; a deadline in the
        // past fires at once.
        let _ = ops::set_timer(at);
    }
    halt();
}

/// `sti; hlt`: an upcall raised before the `sti` is delivered right after
/// it and wakes the `hlt`.
pub fn halt() {
    watch::halting();
    #[cfg(unik_kernel)]
    // SAFETY: the upcall vector and every other one run on IST stacks, so
    // this stack's red zone is safe; `sti; hlt` is atomic for delivery.
    unsafe {
        core::arch::asm!("sti", "hlt", "cli", options(nostack))
    };
}

/// Block until `deadline_ns` or until a handle in `interest` is ready;
/// returns the ready handles (0 on timeout).
pub fn wait(deadline_ns: u64, interest: u64) -> u64 {
    let mut round = 0u64;
    loop {
        // Re-arm first: what arrives after this check wakes the halt.
        shared::ack_upcall();
        let ready = ready_set(interest);
        if ready != 0 || clock::now_ns() >= deadline_ns {
            return ready;
        }
        watch::round(round, deadline_ns);
        round += 1;
        halt_until(deadline_ns);
    }
}
