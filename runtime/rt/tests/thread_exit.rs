//! A thread that leaves tasks pending on a timer and on a device (as a network driver's are
//! forever) must exit cleanly: dropping them must not touch the executor state being torn down.

use std::cell::Cell;

use unik_rt::exec::readable;
use unik_rt::time::sleep_until;
use unik_rt::{Interest, Platform, ReadySet, block_on, spawn};

/// Time advances to each deadline; no handle is ever ready.
struct Virtual(Cell<u64>);

impl Platform for Virtual {
    fn now_ns(&self) -> u64 {
        self.0.get()
    }

    fn wait(&self, deadline: Option<u64>, _interest: &[Interest]) -> ReadySet {
        self.0.set(deadline.unwrap_or(self.0.get()));
        ReadySet::new()
    }
}

#[test]
fn pending_tasks_are_dropped_quietly_at_thread_exit() {
    let finished = std::thread::spawn(|| {
        drop(spawn(async { sleep_until(u64::MAX).await }));
        drop(spawn(async { readable(3).await }));
        block_on(&Virtual(Cell::new(0)), async { sleep_until(10).await }).unwrap();
    })
    .join();
    assert!(finished.is_ok());
}
