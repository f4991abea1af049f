//! The platform's blocking primitive: `SCHEDOP_poll` on the event
//! channels the devices listen on, with the deadline as the poll's
//! timeout. The vCPU never takes an interrupt: an earlier design halted
//! with interrupts on until Xen's event upcall, and under nested Xen a
//! duplicated upcall delivery (the vector injected again at the first
//! instruction of its own handler, on the same IST stack) overwrote the
//! interrupted frame and left the guest returning into its handler for
//! ever. Devices register a readiness probe per handle; [`wait`] reports
//! which handles are ready.

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
/// Event channels a wait returns for: console, xenstore and one per vif
/// or vbd, which are fewer than [`MAX_HANDLES`] (each has a probe).
pub const MAX_PORTS: usize = MAX_HANDLES + 2;
static PORTS: [AtomicU32; MAX_PORTS] = [const { AtomicU32::new(NO_PORT) }; MAX_PORTS];

/// Make events on `port` end a [`halt_until`]. A full table (more devices
/// than probes, which device set-up refuses first) is said on the debug
/// console; waits on that port then end only at their deadline.
pub fn listen(port: u32) {
    if !add_port(port) {
        crate::debugcon::debug_write(b"unik-xen: too many event channels to poll\n");
    }
}

fn add_port(port: u32) -> bool {
    // Unmasked, an event also sets the upcall flag (no upcall follows: none
    // is registered and the vCPU keeps interrupts off); the poll wakes
    // either way.
    shared::unmask(port);
    if PORTS.iter().any(|slot| slot.load(Ordering::SeqCst) == port) {
        return true;
    }
    PORTS.iter().any(|slot| {
        slot.compare_exchange(NO_PORT, port, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    })
}

fn listened(out: &mut [u32; MAX_PORTS]) -> usize {
    let mut n = 0;
    for slot in &PORTS {
        let p = slot.load(Ordering::SeqCst);
        if p != NO_PORT {
            out[n] = p;
            n += 1;
        }
    }
    n
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

/// Block until an event arrives on a port [`listen`]ed to or `deadline_ns`
/// (monotonic) passes; returns at once if it has. Spurious returns are
/// possible: callers loop, calling [`shared::clear_events`] *before*
/// checking their condition, so an event arriving after the check is
/// still pending when the poll starts and ends it at once.
pub fn halt_until(deadline_ns: u64) {
    if clock::now_ns() >= deadline_ns {
        return;
    }
    let timeout = if deadline_ns == u64::MAX {
        0
    } else {
        clock::to_system_ns(deadline_ns)
    };
    let mut ports = [0u32; MAX_PORTS];
    let n = listened(&mut ports);
    watch::halting();
    if let Err(e) = ops::poll(&ports[..n], timeout) {
        // Not expected from any Xen with PVH; the callers' loops then
        // spin rather than sleep, so say it once.
        watch::poll_failed(e);
    }
}

/// Block until `deadline_ns` or until a handle in `interest` is ready;
/// returns the ready handles (0 on timeout).
pub fn wait(deadline_ns: u64, interest: u64) -> u64 {
    let mut round = 0u64;
    loop {
        // Re-arm first: what arrives after this check wakes the halt.
        shared::clear_events();
        let ready = ready_set(interest);
        if ready != 0 || clock::now_ns() >= deadline_ns {
            return ready;
        }
        watch::round(round, deadline_ns);
        round += 1;
        halt_until(deadline_ns);
    }
}
