//! The spt binding: the image runs inside the tender's process, in memory
//! the tender mapped at the addresses the image was linked for, and talks
//! to the host with raw system calls on the descriptors the tender opened
//! (tap, block file, epoll set, timerfd), all of them behind its seccomp
//! filter.

pub mod sys;
pub mod vnet;

use core::sync::atomic::{AtomicI32, Ordering};

use crate::abi::{MftEntry, SPT_INTERNAL_TIMERFD};
use crate::devices::{Error, Handle};

static EPOLLFD: AtomicI32 = AtomicI32::new(-1);
static TIMERFD: AtomicI32 = AtomicI32::new(-1);

/// Record the descriptors from the boot info.
pub fn init(epollfd: i32, timerfd: i32) {
    EPOLLFD.store(epollfd, Ordering::Relaxed);
    TIMERFD.store(timerfd, Ordering::Relaxed);
}

/// Console: stdout of the tender.
pub fn console_write(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = sys::write(1, bytes);
        if n == -sys::EINTR {
            continue;
        }
        if n <= 0 {
            return;
        }
        bytes = &bytes[(n as usize).min(bytes.len())..];
    }
}

fn ns(ts: sys::Timespec) -> u64 {
    (ts.sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.nsec as u64)
}

/// `CLOCK_MONOTONIC`: deadlines go to the timerfd unchanged.
pub fn monotonic_ns() -> u64 {
    ns(sys::clock_gettime(sys::CLOCK_MONOTONIC))
}

pub fn wall_ns() -> u64 {
    ns(sys::clock_gettime(sys::CLOCK_REALTIME))
}

/// Ready set from epoll events: every event but the internal timer's,
/// tagged by the tender with the device's manifest index.
pub fn ready_mask(events: &[sys::EpollEvent]) -> u64 {
    events
        .iter()
        .map(|e| e.data)
        .filter(|&d| d != SPT_INTERNAL_TIMERFD && d < 64)
        .fold(0, |m, d| m | 1 << d)
}

/// `solo5_yield`: arm the timerfd at `deadline_ns` (absolute, monotonic) and
/// wait on the epoll set holding it and every network device.
pub fn wait(deadline_ns: u64) -> u64 {
    // An all-zero it_value disarms a timerfd; 1 ns is already past and fires.
    let deadline = deadline_ns.max(1);
    let value = sys::Timespec {
        sec: (deadline / 1_000_000_000).min(i64::MAX as u64) as i64,
        nsec: (deadline % 1_000_000_000) as i64,
    };
    if sys::timerfd_settime_abs(TIMERFD.load(Ordering::Relaxed), value) < 0 {
        return 0;
    }
    let mut events = [sys::EpollEvent::default(); 65];
    loop {
        let n = sys::epoll_wait(EPOLLFD.load(Ordering::Relaxed), &mut events);
        if n == -sys::EINTR {
            continue;
        }
        if n <= 0 {
            return 0;
        }
        return ready_mask(&events[..n as usize]);
    }
}

pub fn net_write(e: &MftEntry, _: Handle, frame: &[u8]) -> Result<(), Error> {
    match sys::write(e.hostfd(), frame) {
        n if n == frame.len() as i64 => Ok(()),
        _ => Err(Error::Unspecified),
    }
}

pub fn net_read(e: &MftEntry, _: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    match sys::read(e.hostfd(), buf) {
        0 => Err(Error::Again),
        n if n == -sys::EAGAIN => Err(Error::Again),
        n if n < 0 => Err(Error::Unspecified),
        n => Ok(n as usize),
    }
}

pub fn block_write(e: &MftEntry, _: Handle, offset: u64, block: &[u8]) -> Result<(), Error> {
    match sys::pwrite(e.hostfd(), block, offset) {
        n if n == block.len() as i64 => Ok(()),
        _ => Err(Error::Unspecified),
    }
}

pub fn block_read(e: &MftEntry, _: Handle, offset: u64, block: &mut [u8]) -> Result<(), Error> {
    match sys::pread(e.hostfd(), block, offset) {
        n if n == block.len() as i64 => Ok(()),
        _ => Err(Error::Unspecified),
    }
}

pub fn set_tls_base(base: u64) -> Result<(), Error> {
    match sys::arch_prctl_set_fs(base) {
        0 => Ok(()),
        _ => Err(Error::Unspecified),
    }
}

pub fn exit(status: i32) -> ! {
    sys::exit_group(status)
}

#[cfg(unik_kernel)]
mod entry {
    use crate::abi::SptBootInfo;

    crate::abi1_note!(spt);

    /// Called by the tender on the stack it set up (`mem_size - 8`), with
    /// `rdi` = the boot info at 0x11000.
    ///
    /// # Safety
    /// Only the tender calls this, once, with a valid boot info.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn _start(bi: *const SptBootInfo) -> ! {
        // SAFETY: the tender wrote the boot info before jumping here.
        let bi = unsafe { bi.read() };
        super::init(bi.epollfd, bi.timerfd);
        crate::start::boot(crate::start::Boot {
            mem_size: bi.mem_size,
            cmdline: bi.cmdline,
            mft: bi.mft,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_come_from_the_host() {
        let a = monotonic_ns();
        let b = monotonic_ns();
        assert!(b >= a);
        let wall = wall_ns();
        let host = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        assert!(host.abs_diff(wall) < 1_000_000_000);
    }

    #[test]
    fn ready_mask_ignores_the_timer() {
        let ev = |data| sys::EpollEvent { events: 1, data };
        assert_eq!(ready_mask(&[ev(SPT_INTERNAL_TIMERFD)]), 0);
        assert_eq!(
            ready_mask(&[ev(1), ev(SPT_INTERNAL_TIMERFD), ev(3)]),
            0b1010
        );
        assert_eq!(ready_mask(&[ev(64), ev(u64::MAX)]), 0, "out of range tags");
    }

    #[test]
    fn wait_uses_the_tenders_timerfd_and_epoll_set() {
        // SAFETY: plain descriptor creation and registration, as the tender does.
        let (epoll, timer, ev) = unsafe {
            let epoll = libc::epoll_create1(0);
            let timer = libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK);
            let ev = libc::eventfd(0, libc::EFD_NONBLOCK);
            for (fd, tag) in [(timer, SPT_INTERNAL_TIMERFD), (ev, 3)] {
                let mut e = libc::epoll_event {
                    events: libc::EPOLLIN as u32,
                    u64: tag,
                };
                assert_eq!(libc::epoll_ctl(epoll, libc::EPOLL_CTL_ADD, fd, &mut e), 0);
            }
            (epoll, timer, ev)
        };
        init(epoll, timer);
        let t0 = monotonic_ns();
        assert_eq!(wait(t0 + 30_000_000), 0, "timeout: empty ready set");
        assert!(monotonic_ns() - t0 >= 30_000_000);
        assert_eq!(wait(0), 0, "a past deadline returns at once");
        // SAFETY: an 8-byte eventfd write.
        unsafe { libc::write(ev, (&1u64 as *const u64).cast(), 8) };
        assert_eq!(wait(t0 + 10_000_000_000), 1 << 3, "handle 3 ready");
        assert_eq!(wait(u64::MAX), 1 << 3, "no deadline: the timer still arms");
        assert!(monotonic_ns() - t0 < 5_000_000_000);
    }

    extern crate std;
}
