//! A first-come lock for the tasks of one flow (single-threaded executor).

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::future::poll_fn;
use core::task::{Poll, Waker};

#[derive(Default)]
pub struct Lock {
    held: Cell<bool>,
    waiting: RefCell<Vec<Waker>>,
}

pub struct Guard<'a>(&'a Lock);

impl Lock {
    pub async fn lock(&self) -> Guard<'_> {
        poll_fn(|cx| {
            if self.held.get() {
                self.waiting.borrow_mut().push(cx.waker().clone());
                Poll::Pending
            } else {
                self.held.set(true);
                Poll::Ready(())
            }
        })
        .await;
        Guard(self)
    }
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        self.0.held.set(false);
        // Every waiter retries; the executor polls them in turn.
        for w in self.0.waiting.take() {
            w.wake();
        }
    }
}
