//! Raw Linux system calls (x86_64): the only way an spt guest talks to its
//! tender, restricted by the tender's seccomp filter to exactly these.

use core::arch::asm;

pub const SYS_READ: u64 = 0;
pub const SYS_WRITE: u64 = 1;
pub const SYS_READV: u64 = 19;
pub const SYS_PREAD64: u64 = 17;
pub const SYS_PWRITE64: u64 = 18;
pub const SYS_ARCH_PRCTL: u64 = 158;
pub const SYS_CLOCK_GETTIME: u64 = 228;
pub const SYS_EXIT_GROUP: u64 = 231;
pub const SYS_EPOLL_PWAIT: u64 = 281;
pub const SYS_TIMERFD_SETTIME: u64 = 286;

pub const CLOCK_REALTIME: u64 = 0;
pub const CLOCK_MONOTONIC: u64 = 1;
pub const TFD_TIMER_ABSTIME: u64 = 1;
pub const ARCH_SET_FS: u64 = 0x1002;
pub const EINTR: i64 = 4;
pub const EAGAIN: i64 = 11;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: i64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Itimerspec {
    pub interval: Timespec,
    pub value: Timespec,
}

/// `struct epoll_event` is packed on x86_64 (12 bytes).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

/// A system call with up to six arguments; returns the raw result
/// (negative errno on failure).
///
/// # Safety
/// The arguments must be valid for the call.
#[inline]
pub unsafe fn syscall6(nr: u64, a: [u64; 6]) -> i64 {
    let ret: i64;
    // SAFETY: forwarded from the caller; the kernel clobbers rcx and r11.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") nr as i64 => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack)
        );
    }
    ret
}

pub fn write(fd: i32, buf: &[u8]) -> i64 {
    // SAFETY: the buffer is valid for reads of its length.
    unsafe {
        syscall6(
            SYS_WRITE,
            [fd as u64, buf.as_ptr() as u64, buf.len() as u64, 0, 0, 0],
        )
    }
}

pub fn read(fd: i32, buf: &mut [u8]) -> i64 {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe {
        syscall6(
            SYS_READ,
            [
                fd as u64,
                buf.as_mut_ptr() as u64,
                buf.len() as u64,
                0,
                0,
                0,
            ],
        )
    }
}

/// `readv` into `head` then `tail` (one frame behind its virtio_net_hdr).
pub fn readv2(fd: i32, head: &mut [u8], tail: &mut [u8]) -> i64 {
    let iov: [u64; 4] = [
        head.as_mut_ptr() as u64,
        head.len() as u64,
        tail.as_mut_ptr() as u64,
        tail.len() as u64,
    ];
    // SAFETY: two iovecs (base, len) over buffers valid for writes.
    unsafe { syscall6(SYS_READV, [fd as u64, iov.as_ptr() as u64, 2, 0, 0, 0]) }
}

pub fn pread(fd: i32, buf: &mut [u8], offset: u64) -> i64 {
    // SAFETY: the buffer is valid for writes of its length.
    unsafe {
        syscall6(
            SYS_PREAD64,
            [
                fd as u64,
                buf.as_mut_ptr() as u64,
                buf.len() as u64,
                offset,
                0,
                0,
            ],
        )
    }
}

pub fn pwrite(fd: i32, buf: &[u8], offset: u64) -> i64 {
    // SAFETY: the buffer is valid for reads of its length.
    unsafe {
        syscall6(
            SYS_PWRITE64,
            [
                fd as u64,
                buf.as_ptr() as u64,
                buf.len() as u64,
                offset,
                0,
                0,
            ],
        )
    }
}

pub fn clock_gettime(clock: u64) -> Timespec {
    let mut ts = Timespec::default();
    // SAFETY: `ts` is a valid out-pointer; the two clocks used never fail.
    unsafe { syscall6(SYS_CLOCK_GETTIME, [clock, (&raw mut ts) as u64, 0, 0, 0, 0]) };
    ts
}

pub fn timerfd_settime_abs(fd: i32, value: Timespec) -> i64 {
    let it = Itimerspec {
        interval: Timespec::default(),
        value,
    };
    // SAFETY: `it` is a valid in-pointer; the old value is not requested.
    unsafe {
        syscall6(
            SYS_TIMERFD_SETTIME,
            [
                fd as u64,
                TFD_TIMER_ABSTIME,
                (&raw const it) as u64,
                0,
                0,
                0,
            ],
        )
    }
}

/// `epoll_pwait(epfd, events, n, -1, NULL, 0)`: wait without a timeout (the
/// tender's timerfd in the set provides it).
pub fn epoll_wait(fd: i32, events: &mut [EpollEvent]) -> i64 {
    // SAFETY: the event array is valid for writes of its length.
    unsafe {
        syscall6(
            SYS_EPOLL_PWAIT,
            [
                fd as u64,
                events.as_mut_ptr() as u64,
                events.len() as u64,
                -1i64 as u64,
                0,
                0,
            ],
        )
    }
}

pub fn arch_prctl_set_fs(base: u64) -> i64 {
    // SAFETY: setting FS only changes where TLS accesses go.
    unsafe { syscall6(SYS_ARCH_PRCTL, [ARCH_SET_FS, base, 0, 0, 0, 0]) }
}

pub fn exit_group(status: i32) -> ! {
    // SAFETY: ends the process.
    unsafe { syscall6(SYS_EXIT_GROUP, [status as u64, 0, 0, 0, 0, 0]) };
    // exit_group never returns; if a filter made it fail, stop here.
    loop {
        core::hint::spin_loop();
    }
}
