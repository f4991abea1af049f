//! The executor's blocking primitive on unix: `ppoll(2)`.

use unik_rt::{Interest, Platform, Readiness, ReadySet};

/// `CLOCK_MONOTONIC` in nanoseconds; the clock of every executor deadline.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// The unix platform: handles are file descriptors.
#[derive(Clone, Copy, Debug, Default)]
pub struct UnixPlatform;

impl UnixPlatform {
    pub fn new() -> Self {
        UnixPlatform
    }
}

impl Platform for UnixPlatform {
    fn now_ns(&self) -> u64 {
        monotonic_ns()
    }

    fn wait(&self, deadline_ns: Option<u64>, interest: &[Interest]) -> ReadySet {
        let mut fds: Vec<libc::pollfd> = interest
            .iter()
            .map(|i| libc::pollfd {
                fd: i.handle as libc::c_int,
                events: (if i.read { libc::POLLIN } else { 0 })
                    | (if i.write { libc::POLLOUT } else { 0 }),
                revents: 0,
            })
            .collect();
        let timeout = deadline_ns.map(|d| {
            let left = d.saturating_sub(monotonic_ns());
            libc::timespec {
                tv_sec: (left / 1_000_000_000) as libc::time_t,
                tv_nsec: (left % 1_000_000_000) as libc::c_long,
            }
        });
        let ts_ptr = timeout
            .as_ref()
            .map_or(std::ptr::null(), |t| t as *const libc::timespec);
        // SAFETY: `fds` is a live array of `fds.len()` pollfds; `ts_ptr` is
        // null or points at `timeout`, which outlives the call.
        let n = unsafe {
            libc::ppoll(
                fds.as_mut_ptr(),
                fds.len() as libc::nfds_t,
                ts_ptr,
                std::ptr::null(),
            )
        };
        let mut ready = ReadySet::new();
        // n < 0 is EINTR (or a bad fd list): the executor simply loops.
        if n > 0 {
            for fd in fds.iter().filter(|f| f.revents != 0) {
                let r = fd.revents;
                ready.push(
                    fd.fd as u64,
                    Readiness {
                        read: r & libc::POLLIN != 0,
                        write: r & libc::POLLOUT != 0,
                        error: r & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0,
                    },
                );
            }
        }
        ready
    }
}
