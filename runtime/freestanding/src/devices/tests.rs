use core::cell::Cell;

use unik_rt::{Argv, Interest, Mclock, Pclock, Platform, Random, ReadySet, Sleep};

use super::{argv, mclock, pclock, random, sleep};
use crate::sources::{Sources, set_sources};

const BOOT_NS: u64 = 7_000;
const WALL_NS: u64 = 1_700_000_000_000_000_000;

// Every test registers the same sources, so running them in parallel is fine.
static TEST: Sources = Sources {
    monotonic_ns: || BOOT_NS,
    wall_ns: || WALL_NS,
    cmdline: || "--port=8080 -v 'a b'",
};

#[test]
fn clocks_and_argv_read_the_registered_sources() {
    set_sources(&TEST);
    assert_eq!(mclock::connect().unwrap().elapsed_ns(), BOOT_NS);
    assert_eq!(pclock::connect().unwrap().now_ns(), WALL_NS);
    assert_eq!(
        argv::connect().unwrap().args(),
        unik_rt::bootargs::split("--port=8080 -v 'a b'")
    );
}

/// Time that jumps to each deadline the executor waits for.
struct Jumping {
    now: Cell<u64>,
}

impl Platform for Jumping {
    fn now_ns(&self) -> u64 {
        self.now.get()
    }

    fn wait(&self, deadline_ns: Option<u64>, _: &[Interest]) -> ReadySet {
        if let Some(d) = deadline_ns {
            self.now.set(self.now.get().max(d));
        }
        ReadySet::new()
    }
}

#[test]
fn sleep_counts_from_the_registered_monotonic_clock() {
    set_sources(&TEST);
    let platform = Jumping {
        now: Cell::new(BOOT_NS),
    };
    let s = sleep::connect().unwrap();
    unik_rt::block_on(&platform, s.sleep_ns(500)).unwrap();
    assert_eq!(platform.now.get(), BOOT_NS + 500);
}

#[test]
fn random_follows_cpuid() {
    let leaf = core::arch::x86_64::__cpuid(1);
    match random::connect() {
        Ok(r) => {
            assert_ne!(leaf.ecx & (1 << 30), 0);
            let mut a = [0u8; 61];
            let mut b = [0u8; 61];
            r.fill(&mut a).unwrap();
            r.fill(&mut b).unwrap();
            assert_ne!(a, b, "two 61-byte draws were equal");
        }
        Err(_) => assert_eq!(leaf.ecx & (1 << 30), 0),
    }
}
