use std::cell::{Cell, RefCell};
use std::rc::Rc;

use unik_rt::exec::{readable, yield_now};
use unik_rt::time::sleep_until;
use unik_rt::{ExecError, Interest, Platform, Readiness, ReadySet, block_on, spawn};

/// Virtual time: waiting jumps straight to the deadline. Handle 7 becomes
/// readable once time reaches `ready_at`.
struct Virtual {
    now: Cell<u64>,
    ready_at: u64,
    waits: RefCell<Vec<(Option<u64>, Vec<Interest>)>>,
}

impl Virtual {
    fn new(ready_at: u64) -> Self {
        Self {
            now: Cell::new(0),
            ready_at,
            waits: RefCell::new(Vec::new()),
        }
    }
}

impl Platform for Virtual {
    fn now_ns(&self) -> u64 {
        self.now.get()
    }

    fn wait(&self, deadline: Option<u64>, interest: &[Interest]) -> ReadySet {
        self.waits.borrow_mut().push((deadline, interest.to_vec()));
        let wants_seven = interest.iter().any(|i| i.handle == 7 && i.read);
        let target = match deadline {
            Some(d) if wants_seven => d.min(self.ready_at),
            Some(d) => d,
            None => self.ready_at,
        };
        self.now.set(self.now.get().max(target));
        let mut set = ReadySet::new();
        if wants_seven && self.now.get() >= self.ready_at {
            set.push(
                7,
                Readiness {
                    read: true,
                    ..Readiness::default()
                },
            );
        }
        set
    }
}

#[test]
fn timers_fire_in_deadline_order() {
    let platform = Virtual::new(u64::MAX);
    let order = Rc::new(RefCell::new(Vec::new()));
    let mut handles = Vec::new();
    for deadline in [30u64, 10, 20, 10] {
        let order = order.clone();
        handles.push(spawn(async move {
            sleep_until(deadline).await;
            order.borrow_mut().push(deadline);
            deadline * 2
        }));
    }
    let results = block_on(&platform, async move {
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await);
        }
        out
    })
    .unwrap();
    assert_eq!(*order.borrow(), vec![10, 10, 20, 30]);
    assert_eq!(results, vec![60, 20, 40, 20]);
    assert_eq!(platform.now.get(), 30);
    let deadlines: Vec<Option<u64>> = platform.waits.borrow().iter().map(|w| w.0).collect();
    assert_eq!(deadlines, vec![Some(10), Some(20), Some(30)]);
}

#[test]
fn spawned_tasks_can_spawn_and_interleave() {
    let platform = Virtual::new(u64::MAX);
    let log = Rc::new(RefCell::new(Vec::new()));
    let l1 = log.clone();
    let result = block_on(&platform, async move {
        let l2 = l1.clone();
        let inner = spawn(async move {
            let l3 = l2.clone();
            let nested = spawn(async move {
                l3.borrow_mut().push("nested");
                5
            });
            l2.borrow_mut().push("a1");
            yield_now().await;
            l2.borrow_mut().push("a2");
            nested.await + 1
        });
        l1.borrow_mut().push("main1");
        yield_now().await;
        l1.borrow_mut().push("main2");
        inner.await
    })
    .unwrap();
    assert_eq!(result, 6);
    let log = log.borrow();
    assert_eq!(log[0], "main1");
    assert!(log.contains(&"nested") && log.contains(&"a2"));
    let pos = |s| log.iter().position(|x| *x == s).unwrap();
    assert!(pos("a1") < pos("a2"));
    assert!(platform.waits.borrow().is_empty(), "nothing should block");
}

#[test]
fn readiness_wakes_the_waiting_task() {
    let platform = Virtual::new(50);
    let woke_at = block_on(&platform, async {
        readable(7).await;
        unik_rt::exec::now_ns()
    });
    assert_eq!(woke_at, Ok(50));
    let waits = platform.waits.borrow();
    assert_eq!(waits.len(), 1);
    assert_eq!(
        waits[0].1,
        vec![Interest {
            handle: 7,
            read: true,
            write: false
        }]
    );
}

#[test]
fn timer_wins_over_slow_device() {
    let platform = Virtual::new(1_000);
    let order = Rc::new(RefCell::new(Vec::new()));
    let (o1, o2) = (order.clone(), order.clone());
    block_on(&platform, async move {
        let io = spawn(async move {
            readable(7).await;
            o1.borrow_mut().push("io");
        });
        sleep_until(100).await;
        o2.borrow_mut().push("timer");
        io.await;
    })
    .unwrap();
    assert_eq!(*order.borrow(), vec!["timer", "io"]);
}

#[test]
fn nothing_to_wait_for_is_a_stall_not_a_hang() {
    let platform = Virtual::new(u64::MAX);
    let r = block_on(&platform, std::future::pending::<()>());
    assert_eq!(r, Err(ExecError::Stalled));
}

#[test]
fn dropped_waits_deregister() {
    let platform = Virtual::new(u64::MAX);
    let r = block_on(&platform, async {
        {
            let mut sleep = std::pin::pin!(sleep_until(500));
            let mut io = std::pin::pin!(readable(9));
            std::future::poll_fn(|cx| {
                assert!(sleep.as_mut().poll(cx).is_pending());
                assert!(io.as_mut().poll(cx).is_pending());
                std::task::Poll::Ready(())
            })
            .await;
        }
        std::future::pending::<()>().await
    });
    assert_eq!(r, Err(ExecError::Stalled));
    assert!(
        platform.waits.borrow().is_empty(),
        "a dropped timer or wait was still registered"
    );
}

#[test]
fn nested_block_on_is_refused() {
    let platform = Virtual::new(u64::MAX);
    let inner = block_on(&platform, async { block_on(&Virtual::new(0), async { 1 }) });
    assert_eq!(inner, Ok(Err(ExecError::Nested)));
    assert_eq!(block_on(&platform, async { 2 }), Ok(2));
}

#[test]
fn solo5_ready_mask_maps_to_handles() {
    let set = ReadySet::from_mask(
        0b1001_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0000_0001,
    );
    let handles: Vec<u64> = set
        .iter()
        .map(|(h, r)| {
            assert!(r.read && !r.write);
            *h
        })
        .collect();
    assert_eq!(handles, vec![0, 60, 63]);
}

#[test]
fn timeout_at_cancels_or_passes_through() {
    let platform = Virtual::new(u64::MAX);
    let r = block_on(&platform, async {
        let slow = unik_rt::time::timeout_at(100, async {
            sleep_until(500).await;
            1
        })
        .await;
        let fast = unik_rt::time::timeout_at(1_000, async {
            sleep_until(200).await;
            2
        })
        .await;
        (slow, fast, unik_rt::exec::now_ns())
    });
    assert_eq!(r, Ok((None, Some(2), 200)));
}
