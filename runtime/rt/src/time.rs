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

/// Runs `future` until `deadline_ns`: `None` if the deadline came first
/// (the future is then dropped, cancelling it).
pub async fn timeout_at<F: Future>(deadline_ns: u64, future: F) -> Option<F::Output> {
    let mut future = core::pin::pin!(future);
    let mut sleep = core::pin::pin!(sleep_until(deadline_ns));
    core::future::poll_fn(|cx| {
        if let Poll::Ready(value) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        sleep.as_mut().poll(cx).map(|()| None)
    })
    .await
}
