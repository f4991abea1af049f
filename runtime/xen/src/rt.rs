//! `unik_rt` over the xen platform (feature `rt`): the executor's platform
//! and the devices generated code connects, with the constructors the
//! device catalogue names (`unik_xen::sleep::connect()`), as on virtio and
//! Solo5. Console, clocks, sleep, boot arguments, RDRAND and the in-memory
//! store are `unik_freestanding`'s, over the PV console, pvclock and the
//! PVH command line that boot registers (`start.rs`).

pub use unik_freestanding::devices::{argv, console, kv_mem, mclock, pclock, random, sleep};

use unik_rt::{Interest, Platform, Readiness, ReadySet};

/// The executor's platform: [`crate::wait`] (`hlt` until Xen's one-shot
/// timer or an event-channel upcall) is the only way to block.
#[derive(Debug, Default)]
pub struct XenPlatform;

impl XenPlatform {
    pub const fn new() -> Self {
        Self
    }
}

impl Platform for XenPlatform {
    fn now_ns(&self) -> u64 {
        crate::now_ns()
    }

    fn wait(&self, deadline_ns: Option<u64>, interest: &[Interest]) -> ReadySet {
        let mut mask = 0u64;
        let mut ready = ReadySet::new();
        for i in interest {
            if i.read && i.handle < crate::platform::MAX_HANDLES as u64 {
                mask |= 1 << i.handle;
            }
            // Transmit slots free up within a backend round trip; writers
            // retry (and sleep briefly if the ring is still full).
            if i.write {
                let r = Readiness {
                    write: true,
                    ..Readiness::default()
                };
                ready.push(i.handle, r);
            }
        }
        if !ready.is_empty() {
            let now = crate::ready_set(mask);
            for bit in (0..64).filter(|b| now & (1 << b) != 0) {
                let r = Readiness {
                    read: true,
                    ..Readiness::default()
                };
                ready.push(bit, r);
            }
            return ready;
        }
        ReadySet::from_mask(crate::wait(deadline_ns.unwrap_or(u64::MAX), mask))
    }
}
