//! The PV console: the `xencons_interface` ring page (`io/console.h`) named
//! by `HVM_PARAM_CONSOLE_PFN`, with `HVM_PARAM_CONSOLE_EVTCHN` to notify
//! the backend (xenconsoled in dom0). Before the ring is set up, and if the
//! backend stops reading, bytes go to Xen's debug port 0xe9 instead (shown
//! by `xl dmesg` as `(dN) …`), so nothing is silently lost.
//!
//! Layout: `in[1024]` at 0, `out[2048]` at 1024, then `u32` indexes
//! `in_cons`, `in_prod`, `out_cons`, `out_prod` at 3072..3088. Indexes are
//! free-running; the slot is `index % size`.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering, fence};

use crate::debugcon::debug_write;
use crate::{clock, ops, platform, shared};

pub const OUT_SIZE: u32 = 2048;
const OUT: usize = 1024;
const OUT_CONS: usize = 3080;
const OUT_PROD: usize = 3084;
/// How long a full ring may stay full before the backend is declared gone.
const STALL_NS: u64 = 5_000_000_000;
/// How long [`drain`] waits for the backend at exit.
pub const DRAIN_NS: u64 = 2_000_000_000;

static PAGE: AtomicU64 = AtomicU64::new(0);
static PORT: AtomicU32 = AtomicU32::new(0);
static STALLED: AtomicBool = AtomicBool::new(false);

/// Find the ring; from then on [`write`] uses it.
pub fn init() -> Result<(), &'static str> {
    let pfn = ops::hvm_get_param(ops::HVM_PARAM_CONSOLE_PFN)
        .map_err(|_| "HVM_PARAM_CONSOLE_PFN is not readable")?;
    let port = ops::hvm_get_param(ops::HVM_PARAM_CONSOLE_EVTCHN)
        .map_err(|_| "HVM_PARAM_CONSOLE_EVTCHN is not readable")?;
    if pfn == 0 || pfn >= 1 << 20 {
        return Err("Xen gave no console ring below 4 GiB (HVM_PARAM_CONSOLE_PFN)");
    }
    let port = u32::try_from(port).map_err(|_| "bad console event channel")?;
    platform::listen(port);
    PORT.store(port, Ordering::SeqCst);
    PAGE.store(pfn << 12, Ordering::SeqCst);
    Ok(())
}

fn index(page: u64, offset: usize) -> &'static AtomicU32 {
    // SAFETY: the ring page is identity-mapped and stays mapped; the
    // indexes are 4-byte aligned u32 the backend updates concurrently.
    unsafe { &*((page as usize + offset) as *const AtomicU32) }
}

/// Copy as much of `data` as fits into a ring of `size` bytes whose
/// indexes are `cons`/`prod`, through `put(slot, byte)`; returns the count
/// (`None` if the indexes are inconsistent).
pub fn fill(
    cons: u32,
    prod: u32,
    size: u32,
    data: &[u8],
    mut put: impl FnMut(usize, u8),
) -> Option<usize> {
    let used = prod.wrapping_sub(cons);
    if used > size {
        return None;
    }
    let n = ((size - used) as usize).min(data.len());
    for (i, &b) in data[..n].iter().enumerate() {
        put((prod.wrapping_add(i as u32) % size) as usize, b);
    }
    Some(n)
}

fn notify() {
    let _ = ops::send(PORT.load(Ordering::Relaxed));
}

/// Wait (halting between events and 10 ms ticks) until `done()` or
/// `timeout_ns`; true if `done()`.
fn wait_for(timeout_ns: u64, done: impl Fn() -> bool) -> bool {
    let deadline = clock::now_ns().saturating_add(timeout_ns);
    loop {
        shared::clear_events();
        if done() {
            return true;
        }
        let now = clock::now_ns();
        if now >= deadline {
            return false;
        }
        platform::halt_until(deadline.min(now + 10_000_000));
    }
}

fn stall(rest: &[u8]) {
    STALLED.store(true, Ordering::SeqCst);
    debug_write(
        b"\nunik-xen: console ring full for 5 s: the console backend (xenconsoled) is not reading; output continues on Xen's debug port (xl dmesg)\n",
    );
    debug_write(rest);
}

/// Put `bytes` on the console (the registered `unik_freestanding` sink).
pub fn write(bytes: &[u8]) {
    let page = PAGE.load(Ordering::Acquire);
    if page == 0 || STALLED.load(Ordering::Relaxed) {
        debug_write(bytes);
        return;
    }
    let (cons, prod) = (index(page, OUT_CONS), index(page, OUT_PROD));
    let mut rest = bytes;
    while !rest.is_empty() {
        let p = prod.load(Ordering::Relaxed);
        let c = cons.load(Ordering::Acquire);
        let out = (page as usize + OUT) as *mut u8;
        // SAFETY: `slot < OUT_SIZE`, inside the ring's `out` array.
        let put = |slot: usize, b: u8| unsafe { out.add(slot).write_volatile(b) };
        match fill(c, p, OUT_SIZE, rest, put) {
            None => return stall(rest),
            Some(0) => {
                notify();
                if !wait_for(STALL_NS, || {
                    prod.load(Ordering::Relaxed)
                        != cons.load(Ordering::Acquire).wrapping_add(OUT_SIZE)
                }) {
                    return stall(rest);
                }
            }
            Some(n) => {
                fence(Ordering::Release);
                prod.store(p.wrapping_add(n as u32), Ordering::Release);
                rest = &rest[n..];
            }
        }
    }
    notify();
}

/// Wait until the backend has read everything (at most `timeout_ns`);
/// false if it has not.
pub fn drain(timeout_ns: u64) -> bool {
    let page = PAGE.load(Ordering::Acquire);
    if page == 0 || STALLED.load(Ordering::Relaxed) {
        return true;
    }
    let (cons, prod) = (index(page, OUT_CONS), index(page, OUT_PROD));
    notify();
    wait_for(timeout_ns, || {
        cons.load(Ordering::Acquire) == prod.load(Ordering::Relaxed)
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    #[test]
    fn fill_wraps_and_stops_when_full() {
        let mut ring = vec![0u8; 8];
        let n = fill(5, 6, 8, b"abcdefghij", |s, b| ring[s] = b).unwrap();
        assert_eq!(n, 7);
        assert_eq!(&ring, b"cdefg\0ab");
        assert_eq!(fill(0, 8, 8, b"x", |_, _| panic!("full")), Some(0));
        // Free-running indexes wrap around u32.
        let c = u32::MAX - 1;
        assert_eq!(fill(c, c.wrapping_add(3), 8, b"xyz", |_, _| {}), Some(3));
        // A producer more than a ring ahead is corruption, not space.
        assert_eq!(fill(0, 9, 8, b"x", |_, _| {}), None);
    }
}
