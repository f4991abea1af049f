//! The single-threaded executor: local tasks, timers and readiness waits.
//!
//! All state lives in one per-thread cell. Futures reach it through
//! [`spawn`], [`crate::time::sleep_until`] and [`crate::exec::readable`];
//! [`block_on`] drives it and blocks only in [`Platform::wait`].

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};
use alloc::rc::Rc;
use alloc::sync::Arc;
use alloc::task::Wake;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicBool, Ordering};
use core::task::{Context, Poll, Waker};

use crate::local::local_state;
use crate::platform::{Handle, Interest, Platform};

/// Errors of [`block_on`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecError {
    /// Nothing can ever wake the main future: no runnable task, no timer and
    /// no device being waited on.
    Stalled,
    /// `block_on` was called from inside a future it is running.
    Nested,
}

impl fmt::Display for ExecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecError::Stalled => {
                f.write_str("executor stalled: no task, timer or device can make progress")
            }
            ExecError::Nested => f.write_str("block_on called from inside the executor"),
        }
    }
}

type LocalFuture = Pin<Box<dyn Future<Output = ()>>>;

const MAIN: usize = usize::MAX;

/// Task ids woken since the executor last looked; shared with wakers, which
/// may in principle be sent anywhere, hence `Arc` + lock.
#[derive(Default)]
struct ReadyQueue(spin::Mutex<VecDeque<usize>>);

struct TaskWaker {
    id: usize,
    queued: AtomicBool,
    queue: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.queue.0.lock().push_back(self.id);
        }
    }
}

struct Task {
    /// `None` while the executor is polling it (so it may spawn).
    future: Option<LocalFuture>,
    waker: Arc<TaskWaker>,
}

struct IoReg {
    handle: Handle,
    write: bool,
    waker: Waker,
}

struct State {
    tasks: BTreeMap<usize, Task>,
    next_task: usize,
    queue: Option<Arc<ReadyQueue>>,
    timers: BTreeMap<(u64, u64), Waker>,
    io: BTreeMap<u64, IoReg>,
    next_reg: u64,
    now: u64,
    running: bool,
}

impl State {
    const fn new() -> Self {
        Self {
            tasks: BTreeMap::new(),
            next_task: 0,
            queue: None,
            timers: BTreeMap::new(),
            io: BTreeMap::new(),
            next_reg: 0,
            now: 0,
            running: false,
        }
    }

    fn queue(&mut self) -> Arc<ReadyQueue> {
        self.queue.get_or_insert_with(Arc::default).clone()
    }

    fn reg_id(&mut self) -> u64 {
        self.next_reg += 1;
        self.next_reg
    }
}

local_state!(STATE: RefCell<State> = RefCell::new(State::new()));

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    STATE.with(|cell| f(&mut cell.borrow_mut()))
}

/// For destructors of timers and I/O waits: when a thread exits, its state drops the tasks
/// still pending (e.g. a network driver's), and their futures find the state gone or
/// borrowed; there is then nothing left to unregister.
fn with_state_if_alive(f: impl FnOnce(&mut State)) {
    let _ = STATE.try_with(|cell| {
        if let Ok(mut s) = cell.try_borrow_mut() {
            f(&mut s);
        }
    });
}

fn make_waker(id: usize, queue: Arc<ReadyQueue>, queued: bool) -> Arc<TaskWaker> {
    Arc::new(TaskWaker {
        id,
        queued: AtomicBool::new(queued),
        queue,
    })
}

/// Monotonic time (ns) as of the executor's last loop iteration.
pub fn now_ns() -> u64 {
    with_state(|s| s.now)
}

/// The result of a task started with [`spawn`]; awaiting it yields the
/// task's output. Dropping it detaches the task.
pub struct JoinHandle<T> {
    slot: Rc<RefCell<JoinSlot<T>>>,
}

struct JoinSlot<T> {
    result: Option<T>,
    waiter: Option<Waker>,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut slot = self.slot.borrow_mut();
        match slot.result.take() {
            Some(value) => Poll::Ready(value),
            None => {
                slot.waiter = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Starts a local task. It runs whenever [`block_on`] runs on this thread,
/// even if spawned before `block_on` was entered.
pub fn spawn<T: 'static>(future: impl Future<Output = T> + 'static) -> JoinHandle<T> {
    let slot = Rc::new(RefCell::new(JoinSlot {
        result: None,
        waiter: None,
    }));
    let task_slot = slot.clone();
    let wrapped: LocalFuture = Box::pin(async move {
        let value = future.await;
        let waiter = {
            let mut slot = task_slot.borrow_mut();
            slot.result = Some(value);
            slot.waiter.take()
        };
        if let Some(waker) = waiter {
            waker.wake();
        }
    });
    with_state(|s| {
        let id = s.next_task;
        s.next_task += 1;
        let queue = s.queue();
        queue.0.lock().push_back(id);
        let waker = make_waker(id, queue, true);
        s.tasks.insert(
            id,
            Task {
                future: Some(wrapped),
                waker,
            },
        );
    });
    JoinHandle { slot }
}

/// Runs `main` and every spawned task until `main` completes.
pub fn block_on<P: Platform + ?Sized, F: Future>(
    platform: &P,
    main: F,
) -> Result<F::Output, ExecError> {
    let entered = with_state(|s| !core::mem::replace(&mut s.running, true));
    if !entered {
        return Err(ExecError::Nested);
    }
    let _guard = RunningGuard;
    let queue = with_state(|s| s.queue());
    let main_waker_arc = make_waker(MAIN, queue.clone(), false);
    let main_waker = Waker::from(main_waker_arc.clone());
    let mut main = core::pin::pin!(main);
    let mut main_due = true;
    loop {
        let now = platform.now_ns();
        let fired = with_state(|s| {
            s.now = now;
            let later = s.timers.split_off(&(now.saturating_add(1), 0));
            core::mem::replace(&mut s.timers, later)
        });
        for (_, waker) in fired {
            waker.wake();
        }

        let woken: Vec<usize> = queue.0.lock().drain(..).collect();
        for id in woken {
            if id == MAIN {
                main_due = true;
                continue;
            }
            run_task(id);
        }
        if main_due {
            main_due = false;
            main_waker_arc.queued.store(false, Ordering::Release);
            if let Poll::Ready(value) = main.as_mut().poll(&mut Context::from_waker(&main_waker)) {
                return Ok(value);
            }
        }
        if !queue.0.lock().is_empty() {
            continue;
        }

        let (deadline, interest) =
            with_state(|s| (s.timers.keys().next().map(|k| k.0), interest_of(&s.io)));
        if deadline.is_none() && interest.is_empty() {
            return Err(ExecError::Stalled);
        }
        let ready = platform.wait(deadline, &interest);
        let wakers = with_state(|s| {
            let mut wakers = Vec::new();
            for &(handle, readiness) in ready.iter() {
                let hit: Vec<u64> =
                    s.io.iter()
                        .filter(|(_, r)| {
                            r.handle == handle
                                && (readiness.error
                                    || if r.write {
                                        readiness.write
                                    } else {
                                        readiness.read
                                    })
                        })
                        .map(|(id, _)| *id)
                        .collect();
                for id in hit {
                    if let Some(reg) = s.io.remove(&id) {
                        wakers.push(reg.waker);
                    }
                }
            }
            wakers
        });
        for waker in wakers {
            waker.wake();
        }
    }
}

struct RunningGuard;

impl Drop for RunningGuard {
    fn drop(&mut self) {
        with_state(|s| s.running = false);
    }
}

fn run_task(id: usize) {
    let taken = with_state(|s| {
        s.tasks.get_mut(&id).and_then(|task| {
            task.waker.queued.store(false, Ordering::Release);
            task.future.take().map(|f| (f, task.waker.clone()))
        })
    });
    let Some((mut future, waker_arc)) = taken else {
        return;
    };
    let waker = Waker::from(waker_arc);
    let done = future
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_ready();
    with_state(|s| {
        if done {
            s.tasks.remove(&id);
        } else if let Some(task) = s.tasks.get_mut(&id) {
            task.future = Some(future);
        }
    });
}

fn interest_of(io: &BTreeMap<u64, IoReg>) -> Vec<Interest> {
    let mut out: Vec<Interest> = Vec::new();
    for reg in io.values() {
        let entry = match out.iter_mut().find(|i| i.handle == reg.handle) {
            Some(entry) => entry,
            None => {
                out.push(Interest {
                    handle: reg.handle,
                    read: false,
                    write: false,
                });
                out.last_mut().expect("just pushed")
            }
        };
        if reg.write {
            entry.write = true;
        } else {
            entry.read = true;
        }
    }
    out
}

pub(crate) fn add_timer(deadline: u64, waker: Waker) -> (u64, u64) {
    with_state(|s| {
        let key = (deadline, s.reg_id());
        s.timers.insert(key, waker);
        key
    })
}

/// Replaces the waker of a pending timer; false if it already fired.
pub(crate) fn update_timer(key: (u64, u64), waker: &Waker) -> bool {
    with_state(|s| match s.timers.get_mut(&key) {
        Some(w) => {
            w.clone_from(waker);
            true
        }
        None => false,
    })
}

pub(crate) fn remove_timer(key: (u64, u64)) {
    with_state_if_alive(|s| {
        s.timers.remove(&key);
    });
}

/// Waits until `handle` is readable (or in error). Use after an operation
/// returned "would block", then retry it.
pub fn readable(handle: Handle) -> IoWait {
    IoWait {
        handle,
        write: false,
        reg: None,
    }
}

/// Waits until `handle` is writable (or in error).
pub fn writable(handle: Handle) -> IoWait {
    IoWait {
        handle,
        write: true,
        reg: None,
    }
}

/// Future returned by [`readable`] and [`writable`].
pub struct IoWait {
    handle: Handle,
    write: bool,
    reg: Option<u64>,
}

impl Future for IoWait {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.reg {
            Some(id) => {
                let pending = with_state(|s| match s.io.get_mut(&id) {
                    Some(reg) => {
                        reg.waker.clone_from(cx.waker());
                        true
                    }
                    None => false,
                });
                if pending {
                    Poll::Pending
                } else {
                    self.reg = None;
                    Poll::Ready(())
                }
            }
            None => {
                let (handle, write) = (self.handle, self.write);
                let id = with_state(|s| {
                    let id = s.reg_id();
                    s.io.insert(
                        id,
                        IoReg {
                            handle,
                            write,
                            waker: cx.waker().clone(),
                        },
                    );
                    id
                });
                self.reg = Some(id);
                Poll::Pending
            }
        }
    }
}

impl Drop for IoWait {
    fn drop(&mut self) {
        if let Some(id) = self.reg {
            with_state_if_alive(|s| {
                s.io.remove(&id);
            });
        }
    }
}

/// Lets other ready tasks run before continuing.
pub async fn yield_now() {
    let mut yielded = false;
    core::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}
