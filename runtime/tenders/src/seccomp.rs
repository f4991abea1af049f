//! Seccomp allowlists (built with seccompiler) and the report of a
//! forbidden system call.
//!
//! Forbidden calls raise SIGSYS (`SECCOMP_RET_TRAP`). The handler, on its
//! own signal stack, records the call number in a page shared with the
//! parent (spt) or prints it (hvt), then makes another forbidden call while
//! SIGSYS is blocked, which the kernel turns into death by SIGSYS: whatever
//! the guest did to the process, it cannot survive a forbidden call.

use std::collections::BTreeMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen as Len, SeccompCmpOp as Op, SeccompCondition,
    SeccompFilter, SeccompRule, TargetArch,
};

use crate::error::Error;

const ARCH_SET_FS: u64 = 0x1002;

fn cond(arg: u8, len: Len, op: Op, value: u64) -> Result<SeccompCondition, Error> {
    SeccompCondition::new(arg, len, op, value)
        .map_err(|e| Error::Host(format!("seccomp rule: {e}")))
}

fn rule(conds: Vec<SeccompCondition>) -> Result<SeccompRule, Error> {
    SeccompRule::new(conds).map_err(|e| Error::Host(format!("seccomp rule: {e}")))
}

fn fd_is(fd: RawFd) -> Result<SeccompRule, Error> {
    rule(vec![cond(0, Len::Dword, Op::Eq, fd as u64)?])
}

fn compile(rules: BTreeMap<i64, Vec<SeccompRule>>) -> Result<BpfProgram, Error> {
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Trap,
        SeccompAction::Allow,
        TargetArch::x86_64,
    )
    .map_err(|e| Error::Host(format!("seccomp filter: {e}")))?;
    filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| Error::Host(format!("seccomp filter: {e}")))
}

/// A block device as the spt filter sees it.
#[derive(Clone, Copy, Debug)]
pub struct BlockRule {
    pub fd: RawFd,
    pub block_size: u64,
    pub capacity: u64,
}

/// The spt guest's allowlist (Solo5 0.12): console writes, exit, the yield
/// pair on the tender's epoll set and timerfd, the two clocks, the FS base,
/// frame I/O on each tap and whole-block I/O inside each block device;
/// `readv` (header and frame) on the taps in `virtio_net_hdr` mode.
pub fn spt_filter(
    epollfd: RawFd,
    timerfd: RawFd,
    nets: &[RawFd],
    vnets: &[RawFd],
    blocks: &[BlockRule],
) -> Result<BpfProgram, Error> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut write = vec![fd_is(1)?];
    let mut read = Vec::new();
    for &fd in nets {
        write.push(fd_is(fd)?);
        read.push(fd_is(fd)?);
    }
    rules.insert(libc::SYS_write, write);
    if !read.is_empty() {
        rules.insert(libc::SYS_read, read);
    }
    if !vnets.is_empty() {
        let readv = vnets
            .iter()
            .map(|&fd| fd_is(fd))
            .collect::<Result<_, _>>()?;
        rules.insert(libc::SYS_readv, readv);
    }
    let mut pread = Vec::new();
    let mut pwrite = Vec::new();
    for b in blocks {
        // len == block_size, offset <= capacity - block_size, offset aligned.
        let conds = || -> Result<Vec<SeccompCondition>, Error> {
            Ok(vec![
                cond(0, Len::Dword, Op::Eq, b.fd as u64)?,
                cond(2, Len::Qword, Op::Eq, b.block_size)?,
                cond(3, Len::Qword, Op::Le, b.capacity - b.block_size)?,
                cond(3, Len::Qword, Op::MaskedEq(b.block_size - 1), 0)?,
            ])
        };
        pread.push(rule(conds()?)?);
        pwrite.push(rule(conds()?)?);
    }
    if !pread.is_empty() {
        rules.insert(libc::SYS_pread64, pread);
        rules.insert(libc::SYS_pwrite64, pwrite);
    }
    rules.insert(libc::SYS_exit_group, vec![]);
    rules.insert(libc::SYS_epoll_pwait, vec![fd_is(epollfd)?]);
    rules.insert(libc::SYS_timerfd_settime, vec![fd_is(timerfd)?]);
    rules.insert(
        libc::SYS_clock_gettime,
        vec![
            rule(vec![cond(
                0,
                Len::Dword,
                Op::Eq,
                libc::CLOCK_MONOTONIC as u64,
            )?])?,
            rule(vec![cond(
                0,
                Len::Dword,
                Op::Eq,
                libc::CLOCK_REALTIME as u64,
            )?])?,
        ],
    );
    rules.insert(
        libc::SYS_arch_prctl,
        vec![rule(vec![cond(0, Len::Dword, Op::Eq, ARCH_SET_FS)?])?],
    );
    compile(rules)
}

/// The hvt tender's own allowlist once the vCPU runs (Solo5 0.12's, plus
/// what Rust's runtime may need on its error and exit paths).
/// With `dumpcore`, also the one `linkat` that names the core file
/// ([`crate::hvt::dump`]).
pub fn hvt_filter(dumpcore: bool) -> Result<BpfProgram, Error> {
    let calls = [
        libc::SYS_read,
        libc::SYS_write,
        libc::SYS_writev,
        libc::SYS_pread64,
        libc::SYS_pwrite64,
        libc::SYS_close,
        libc::SYS_fcntl,
        libc::SYS_ioctl,
        libc::SYS_epoll_pwait,
        libc::SYS_epoll_wait,
        libc::SYS_timerfd_settime,
        libc::SYS_clock_gettime,
        libc::SYS_futex,
        libc::SYS_mmap,
        libc::SYS_munmap,
        libc::SYS_mprotect,
        libc::SYS_madvise,
        libc::SYS_brk,
        libc::SYS_rt_sigaction,
        libc::SYS_rt_sigprocmask,
        libc::SYS_rt_sigreturn,
        libc::SYS_sigaltstack,
        libc::SYS_sched_yield,
        libc::SYS_exit,
        libc::SYS_exit_group,
    ];
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        calls.into_iter().map(|c| (c, vec![])).collect();
    if dumpcore {
        let cwd = u64::from(libc::AT_FDCWD as u32);
        rules.insert(
            libc::SYS_linkat,
            vec![rule(vec![
                cond(0, Len::Dword, Op::Eq, cwd)?,
                cond(2, Len::Dword, Op::Eq, cwd)?,
                cond(4, Len::Dword, Op::Eq, libc::AT_SYMLINK_FOLLOW as u64)?,
            ])?],
        );
    }
    compile(rules)
}

/// Install `prog` on the calling thread (and set no_new_privs).
pub fn apply(prog: &BpfProgram) -> Result<(), Error> {
    seccompiler::apply_filter(prog)
        .map_err(|e| Error::Host(format!("installing the seccomp filter: {e}")))
}

/// What the SIGSYS handler saw, in memory the parent can read.
#[repr(C)]
pub struct Report {
    /// `REPORTED` once filled in.
    pub state: AtomicU32,
    pub syscall: AtomicU32,
    pub address: AtomicU64,
}

pub const REPORTED: u32 = 0x5359_5321;

static REPORT: AtomicPtr<Report> = AtomicPtr::new(std::ptr::null_mut());
/// Prefix printed by the handler on stderr (hvt); empty = do not print.
static PRINT: AtomicPtr<u8> = AtomicPtr::new(std::ptr::null_mut());
static PRINT_LEN: AtomicU64 = AtomicU64::new(0);

/// A page shared across `fork` for the report.
pub fn shared_report() -> Result<&'static Report, Error> {
    // SAFETY: anonymous shared mapping, zeroed, never unmapped.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(crate::error::os("mmap"));
    }
    // SAFETY: zeroed memory is a valid Report (atomics of zero).
    Ok(unsafe { &*p.cast::<Report>() })
}

/// Raw system call without libc (FS may belong to the guest by now).
unsafe fn raw_syscall3(nr: i64, a: u64, b: u64, c: u64) -> i64 {
    let ret: i64;
    // SAFETY: forwarded from the caller.
    unsafe {
        std::arch::asm!("syscall", inlateout("rax") nr => ret, in("rdi") a, in("rsi") b, in("rdx") c,
            lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // siginfo for SIGSYS: _call_addr at 16, _syscall at 24 (x86_64).
    let base = info.cast::<u8>();
    // SAFETY: the kernel passes a valid siginfo_t.
    let (addr, nr) = unsafe {
        (
            base.add(16).cast::<u64>().read(),
            base.add(24).cast::<i32>().read(),
        )
    };
    let report = REPORT.load(Ordering::Relaxed);
    if !report.is_null() {
        // SAFETY: set by `install_reporter` to a live shared page.
        let r = unsafe { &*report };
        r.syscall.store(nr as u32, Ordering::Relaxed);
        r.address.store(addr, Ordering::Relaxed);
        r.state.store(REPORTED, Ordering::Release);
    }
    let prefix = PRINT.load(Ordering::Relaxed);
    if !prefix.is_null() {
        let mut line = [0u8; 160];
        let mut n = 0;
        let mut put = |bytes: &[u8]| {
            for &b in bytes {
                if n < line.len() {
                    line[n] = b;
                    n += 1;
                }
            }
        };
        // SAFETY: PRINT/PRINT_LEN name a 'static string.
        put(unsafe {
            std::slice::from_raw_parts(prefix, PRINT_LEN.load(Ordering::Relaxed) as usize)
        });
        let mut digits = [0u8; 12];
        let mut i = digits.len();
        let mut v = nr.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        put(&digits[i..]);
        put(b"\n");
        // SAFETY: write(2) of a stack buffer.
        unsafe { raw_syscall3(libc::SYS_write, 2, line.as_ptr() as u64, n as u64) };
    }
    // SIGSYS is blocked while this handler runs: a forbidden call now makes
    // the kernel kill the process with SIGSYS. getpid is never allowed.
    loop {
        // SAFETY: a harmless call, forbidden by every filter here.
        unsafe { raw_syscall3(libc::SYS_getpid, 0, 0, 0) };
    }
}

/// A stack for the SIGSYS handler (allocated before `fork`: the child may
/// only make async-signal-safe calls).
pub fn signal_stack() -> &'static mut [u8] {
    Box::leak(vec![0u8; 64 * 1024].into_boxed_slice())
}

/// Route SIGSYS to the reporter on `stack`. `report` receives the call
/// (spt); `print` is written to stderr followed by the call number (hvt).
/// Async-signal-safe.
pub fn install_reporter(
    report: Option<&'static Report>,
    print: Option<&'static str>,
    stack: &'static mut [u8],
) -> Result<(), Error> {
    REPORT.store(
        report.map_or(std::ptr::null_mut(), |r| (r as *const Report).cast_mut()),
        Ordering::Relaxed,
    );
    if let Some(p) = print {
        PRINT_LEN.store(p.len() as u64, Ordering::Relaxed);
        PRINT.store(p.as_ptr().cast_mut(), Ordering::Relaxed);
    }
    let ss = libc::stack_t {
        ss_sp: stack.as_mut_ptr().cast(),
        ss_flags: 0,
        ss_size: stack.len(),
    };
    // SAFETY: a leaked, writable stack.
    if unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) } != 0 {
        return Err(Error::Host("sigaltstack failed".into()));
    }
    // SAFETY: zeroed sigaction, then the fields we need.
    let mut sa: libc::sigaction = unsafe { std::mem::zeroed() };
    sa.sa_sigaction = on_sigsys as *const () as usize;
    sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // SAFETY: installs a handler for SIGSYS only.
    if unsafe { libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut()) } != 0 {
        return Err(Error::Host("sigaction(SIGSYS) failed".into()));
    }
    Ok(())
}

/// A name for common x86_64 system calls, for reports.
pub fn syscall_name(nr: u32) -> Option<&'static str> {
    let names: &[(i64, &str)] = &[
        (libc::SYS_read, "read"),
        (libc::SYS_write, "write"),
        (libc::SYS_open, "open"),
        (libc::SYS_close, "close"),
        (libc::SYS_stat, "stat"),
        (libc::SYS_fstat, "fstat"),
        (libc::SYS_mmap, "mmap"),
        (libc::SYS_mprotect, "mprotect"),
        (libc::SYS_munmap, "munmap"),
        (libc::SYS_brk, "brk"),
        (libc::SYS_rt_sigaction, "rt_sigaction"),
        (libc::SYS_rt_sigreturn, "rt_sigreturn"),
        (libc::SYS_ioctl, "ioctl"),
        (libc::SYS_pread64, "pread64"),
        (libc::SYS_pwrite64, "pwrite64"),
        (libc::SYS_getpid, "getpid"),
        (libc::SYS_socket, "socket"),
        (libc::SYS_connect, "connect"),
        (libc::SYS_clone, "clone"),
        (libc::SYS_fork, "fork"),
        (libc::SYS_execve, "execve"),
        (libc::SYS_exit, "exit"),
        (libc::SYS_kill, "kill"),
        (libc::SYS_uname, "uname"),
        (libc::SYS_getuid, "getuid"),
        (libc::SYS_arch_prctl, "arch_prctl"),
        (libc::SYS_gettid, "gettid"),
        (libc::SYS_clock_gettime, "clock_gettime"),
        (libc::SYS_epoll_pwait, "epoll_pwait"),
        (libc::SYS_timerfd_settime, "timerfd_settime"),
        (libc::SYS_openat, "openat"),
        (libc::SYS_getrandom, "getrandom"),
    ];
    names
        .iter()
        .find(|(n, _)| *n == i64::from(nr))
        .map(|(_, s)| *s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_compile() {
        let blocks = [BlockRule {
            fd: 9,
            block_size: 512,
            capacity: 1 << 20,
        }];
        assert!(!spt_filter(5, 6, &[7, 8], &[8], &blocks).unwrap().is_empty());
        assert!(!spt_filter(5, 6, &[], &[], &[]).unwrap().is_empty());
        assert!(!hvt_filter(false).unwrap().is_empty());
        assert!(!hvt_filter(true).unwrap().is_empty());
    }

    #[test]
    fn names() {
        assert_eq!(syscall_name(39), Some("getpid"));
        assert_eq!(syscall_name(59), Some("execve"));
        assert_eq!(syscall_name(100_000), None);
    }
}
