//! Timers on the executor's monotonic clock.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use crate::exec;

/// Completes once the platform's monotonic clock reaches `deadline_ns`.
pub fn sleep_until(deadline_ns: u64) -> SleepUntil {
    SleepUntil {
        deadline: deadline_ns,
        key: None,
    }
}

/// Future returned by [`sleep_until`].
pub struct SleepUntil {
    deadline: u64,
    key: Option<(u64, u64)>,
}

impl Future for SleepUntil {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.deadline <= exec::now_ns() {
            if let Some(key) = self.key.take() {
                exec::remove_timer(key);
            }
            return Poll::Ready(());
        }
        match self.key {
            Some(key) if exec::update_timer(key, cx.waker()) => {}
            _ => self.key = Some(exec::add_timer(self.deadline, cx.waker().clone())),
        }
        Poll::Pending
    }
}

impl Drop for SleepUntil {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            exec::remove_timer(key);
        }
    }
}
