//! The executor over real `ppoll(2)`: timers and fd readiness.

mod common;

use std::cell::RefCell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::rc::Rc;

use unik_rt::exec::readable;
use unik_rt::{Sleep, spawn};
use unik_unix::monotonic_ns;

fn pipe() -> (OwnedFd, OwnedFd) {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_NONBLOCK | libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2 failed");
    // SAFETY: both descriptors were just created and are owned here only.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

#[test]
fn real_timers_fire_in_order() {
    let sleep: &'static _ = unik_rt::leak(unik_unix::sleep::connect().unwrap());
    let order = Rc::new(RefCell::new(Vec::new()));
    let start = monotonic_ns();
    let o = order.clone();
    common::run(async move {
        let mut handles = Vec::new();
        for ms in [30u64, 10, 20] {
            let o = o.clone();
            handles.push(spawn(async move {
                sleep.sleep_ns(ms * 1_000_000).await;
                o.borrow_mut().push(ms);
            }));
        }
        for h in handles {
            h.await;
        }
    });
    assert_eq!(*order.borrow(), vec![10, 20, 30]);
    assert!(
        monotonic_ns() - start >= 30_000_000,
        "returned before the last deadline"
    );
}

#[test]
fn pipe_readiness_wakes_reader() {
    let (rx, tx) = pipe();
    let sleep: &'static _ = unik_rt::leak(unik_unix::sleep::connect().unwrap());
    let events = Rc::new(RefCell::new(Vec::new()));
    let (e1, e2) = (events.clone(), events.clone());
    let rfd = rx.as_raw_fd();
    let wfd = tx.as_raw_fd();
    let got = common::run(async move {
        let reader = spawn(async move {
            let mut buf = [0u8; 16];
            loop {
                // SAFETY: `buf` is writable for its length; `rfd` stays open.
                let n = unsafe { libc::read(rfd, buf.as_mut_ptr().cast(), buf.len()) };
                if n > 0 {
                    e1.borrow_mut().push("read");
                    return buf[..n as usize].to_vec();
                }
                e1.borrow_mut().push("wait");
                readable(rfd as u64).await;
            }
        });
        sleep.sleep_ns(20_000_000).await;
        e2.borrow_mut().push("write");
        // SAFETY: writes 5 bytes from a static slice.
        let n = unsafe { libc::write(wfd, b"hello".as_ptr().cast(), 5) };
        assert_eq!(n, 5);
        reader.await
    });
    assert_eq!(got, b"hello");
    assert_eq!(*events.borrow(), vec!["wait", "write", "read"]);
}
