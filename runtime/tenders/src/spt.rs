//! The spt tender: the image runs inside a child of this process, in
//! memory mapped at the guest's own addresses, behind a seccomp filter that
//! allows only the calls the Solo5 spt ABI needs on the descriptors handed
//! over. The parent waits and reports how the guest ended.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::attach::{self, Backing};
use crate::elf::{PF_R, PF_W, PF_X};
use crate::error::{Error, os};
use crate::image::{self, Image, Target};
use crate::manifest;
use crate::options::{self, Options};
use crate::seccomp::{self, BlockRule, REPORTED};

/// Guest memory starts here (the lowest address Linux lets us map).
pub const HOST_MEM_BASE: u64 = 0x10000;
pub const BOOT_INFO_BASE: u64 = 0x11000;
pub const CMDLINE_BASE: u64 = 0x12000;
pub const CMDLINE_SIZE: usize = 8192;
pub const MFT_BASE: u64 = 0x14000;
/// `epoll_event.data` of the internal timerfd (`~1U`).
pub const INTERNAL_TIMERFD: u64 = 0xffff_fffe;

/// How the guest ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `solo5_exit(status)` (or returning from main).
    Exited(i32),
    /// Killed by a signal; for SIGSYS, the forbidden call and where it was made.
    Killed {
        signal: i32,
        syscall: Option<(u32, u64)>,
    },
}

impl Outcome {
    /// The process status a shell would show: the exit status, or 128 + signal.
    pub fn status(self) -> i32 {
        match self {
            Self::Exited(s) => s & 0xff,
            Self::Killed { signal, .. } => 128 + signal,
        }
    }

    /// A line for stderr when the guest did not exit by itself.
    pub fn report(self) -> Option<String> {
        match self {
            Self::Exited(_) => None,
            Self::Killed {
                syscall: Some((nr, addr)),
                ..
            } => {
                let name = seccomp::syscall_name(nr).map_or(String::new(), |n| format!(" ({n})"));
                Some(format!(
                    "guest killed: forbidden system call {nr}{name} at {addr:#x} (not in the spt seccomp allowlist)"
                ))
            }
            Self::Killed { signal, .. } => Some(format!(
                "guest killed by signal {signal} ({})",
                signal_name(signal)
            )),
        }
    }
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGSYS => "SIGSYS: forbidden system call",
        libc::SIGSEGV => "SIGSEGV: invalid memory access",
        libc::SIGBUS => "SIGBUS",
        libc::SIGILL => "SIGILL: illegal instruction",
        libc::SIGFPE => "SIGFPE: arithmetic fault",
        libc::SIGKILL => "SIGKILL",
        libc::SIGTERM => "SIGTERM",
        libc::SIGINT => "SIGINT",
        libc::SIGABRT => "SIGABRT",
        libc::SIGTRAP => "SIGTRAP",
        _ => "signal",
    }
}

fn prot(flags: u32) -> libc::c_int {
    let mut p = libc::PROT_NONE;
    if flags & PF_R != 0 {
        p |= libc::PROT_READ;
    }
    if flags & PF_W != 0 {
        p |= libc::PROT_WRITE;
    }
    if flags & PF_X != 0 {
        p |= libc::PROT_EXEC;
    }
    p
}

unsafe extern "C" {
    /// Start of this executable's text (GNU ld and lld define it).
    static __executable_start: u8;
}

/// Guest memory must stay below this tender's own code.
fn check_address_space(mem_size: u64) -> Result<(), Error> {
    let me = (&raw const __executable_start) as u64;
    if me < 1 << 32 || mem_size >= me {
        return Err(Error::Host(format!(
            "the tender is loaded at {me:#x}, which leaves no room for {mem_size:#x} bytes of guest memory below it (build it as a PIE)"
        )));
    }
    Ok(())
}

struct GuestMemory {
    size: u64,
}

impl GuestMemory {
    /// Map [HOST_MEM_BASE, size) at its own address, zeroed, read-write.
    fn map(size: u64) -> Result<Self, Error> {
        // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping.
        let p = unsafe {
            libc::mmap(
                HOST_MEM_BASE as *mut libc::c_void,
                (size - HOST_MEM_BASE) as usize,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE
                    | libc::MAP_ANONYMOUS
                    | libc::MAP_FIXED_NOREPLACE
                    | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED || p as u64 != HOST_MEM_BASE {
            return Err(os(&format!(
                "mapping guest memory at {HOST_MEM_BASE:#x}..{size:#x}"
            )));
        }
        Ok(Self { size })
    }

    /// Copy `data` to guest address `addr`, bounds checked.
    fn write(&self, addr: u64, data: &[u8]) -> Result<(), Error> {
        let end = addr.checked_add(data.len() as u64);
        if addr < HOST_MEM_BASE || end.is_none_or(|e| e > self.size) {
            return Err(Error::Image(format!(
                "write of {} bytes at {addr:#x} outside guest memory",
                data.len()
            )));
        }
        // SAFETY: inside our mapping (checked above), which nothing else uses.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), addr as *mut u8, data.len()) };
        Ok(())
    }

    fn protect(&self, start: u64, end: u64, prot: libc::c_int) -> Result<(), Error> {
        // SAFETY: a page-aligned range inside our mapping.
        if unsafe { libc::mprotect(start as *mut libc::c_void, (end - start) as usize, prot) } != 0
        {
            return Err(os(&format!("mprotect {start:#x}..{end:#x}")));
        }
        Ok(())
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: our own mapping.
        unsafe {
            libc::munmap(
                HOST_MEM_BASE as *mut libc::c_void,
                (self.size - HOST_MEM_BASE) as usize,
            )
        };
    }
}

fn fd(raw: libc::c_int, what: &str) -> Result<OwnedFd, Error> {
    if raw < 0 {
        return Err(os(what));
    }
    // SAFETY: a fresh descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

fn epoll_add(epoll: &OwnedFd, target: libc::c_int, data: u64) -> Result<(), Error> {
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: data,
    };
    // SAFETY: valid descriptors and event.
    if unsafe { libc::epoll_ctl(epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, target, &mut ev) } != 0 {
        return Err(os("epoll_ctl"));
    }
    Ok(())
}

/// Everything the child needs, prepared by the parent so that errors are
/// reported before anything runs.
pub struct Prepared {
    memory: GuestMemory,
    entry: u64,
    filter: seccompiler::BpfProgram,
    _devices: Vec<Backing>,
    _epoll: OwnedFd,
    _timer: OwnedFd,
}

/// Load `o.image` and attach its devices.
pub fn prepare(o: &Options) -> Result<Prepared, Error> {
    let image = Image::load(&o.image, Target::Spt)?;
    let mem_size = o.mem_bytes()?;
    check_address_space(mem_size)?;
    let (segments, kernel_end) = image.plan(mem_size)?;
    let cmdline = options::cmdline(&o.args, CMDLINE_SIZE)?;
    let devices = attach::attach_all_vnet(&image.manifest, o, image.vnet)?;

    // SAFETY: plain descriptor creation.
    let epoll = fd(
        unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) },
        "epoll_create1",
    )?;
    // SAFETY: plain descriptor creation.
    let timer = fd(
        unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        },
        "timerfd_create",
    )?;
    epoll_add(&epoll, timer.as_raw_fd(), INTERNAL_TIMERFD)?;
    let mut nets = Vec::new();
    let mut vnets = Vec::new();
    let mut blocks = Vec::new();
    for (i, d) in devices.iter().enumerate() {
        match d {
            Backing::Net { fd, vnet, .. } => {
                epoll_add(&epoll, fd.as_raw_fd(), (i + 1) as u64)?;
                nets.push(fd.as_raw_fd());
                if *vnet {
                    vnets.push(fd.as_raw_fd());
                }
            }
            Backing::Block {
                file,
                capacity,
                block_size,
            } => blocks.push(BlockRule {
                fd: file.as_raw_fd(),
                block_size: u64::from(*block_size),
                capacity: *capacity,
            }),
        }
    }
    let filter = seccomp::spt_filter(epoll.as_raw_fd(), timer.as_raw_fd(), &nets, &vnets, &blocks)?;

    let memory = GuestMemory::map(mem_size)?;
    for s in &segments {
        memory.write(s.vaddr, image.data(s))?;
    }
    let attached: Vec<_> = devices.iter().map(Backing::attached).collect();
    let mut mft = image.manifest.attached_bytes(&attached);
    for (i, d) in devices.iter().enumerate() {
        if let Backing::Net { vnet: true, .. } = d {
            let entry = manifest::HEADER_SIZE + (i + 1) * manifest::ENTRY_SIZE;
            mft[entry + image::MFT_NET_VNET_HDR] = 1;
        }
    }
    let mut bi = Vec::with_capacity(40);
    for v in [mem_size, kernel_end, CMDLINE_BASE, MFT_BASE] {
        bi.extend_from_slice(&v.to_le_bytes());
    }
    bi.extend_from_slice(&epoll.as_raw_fd().to_le_bytes());
    bi.extend_from_slice(&timer.as_raw_fd().to_le_bytes());
    memory.write(BOOT_INFO_BASE, &bi)?;
    memory.write(CMDLINE_BASE, &cmdline)?;
    memory.write(MFT_BASE, &mft)?;
    // W^X for the image, and the boot area read-only.
    for s in &segments {
        memory.protect(s.start, s.end, prot(s.flags))?;
    }
    memory.protect(HOST_MEM_BASE, image::MIN_LOAD_ADDR, libc::PROT_READ)?;
    Ok(Prepared {
        memory,
        entry: image.elf.entry,
        filter,
        _devices: devices,
        _epoll: epoll,
        _timer: timer,
    })
}

/// Jump to the guest: `rsp` at the top of its memory, `rdi` = boot info.
///
/// # Safety
/// The guest image must be loaded and the boot info written.
unsafe fn launch(entry: u64, sp: u64, arg: u64) -> ! {
    // SAFETY: forwarded; the guest never returns (it exits with exit_group).
    unsafe {
        std::arch::asm!(
            "mov rsp, {sp}",
            "xor ebp, ebp",
            "jmp {entry}",
            sp = in(reg) sp,
            entry = in(reg) entry,
            in("rdi") arg,
            options(noreturn)
        )
    }
}

fn child_fail(msg: &'static str) -> ! {
    // SAFETY: write(2) then _exit: async-signal-safe, as required after fork.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::_exit(1);
    }
}

/// In the child: sandbox and enter the guest. Only async-signal-safe calls.
fn enter(
    p: &Prepared,
    report: &'static seccomp::Report,
    stack: &'static mut [u8],
    parent: libc::pid_t,
) -> ! {
    // SAFETY: each call only changes this process's attributes.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
        if libc::getppid() != parent {
            libc::_exit(1);
        }
        libc::prctl(libc::PR_SET_DUMPABLE, 0);
        let none = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        // Faults kill the guest; handlers inherited from the Rust runtime
        // would need system calls the filter forbids.
        for sig in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGPIPE,
        ] {
            libc::signal(sig, libc::SIG_DFL);
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
    if seccomp::install_reporter(Some(report), None, stack).is_err() {
        child_fail("unikc-spt: cannot install the SIGSYS reporter\n");
    }
    if seccomp::apply(&p.filter).is_err() {
        child_fail("unikc-spt: cannot install the seccomp filter\n");
    }
    // SAFETY: prepared by `prepare`; this process now belongs to the guest.
    unsafe { launch(p.entry, p.memory.size - 8, BOOT_INFO_BASE) }
}

/// Run a prepared guest in a child process and wait for it.
pub fn run(p: Prepared) -> Result<Outcome, Error> {
    let report = seccomp::shared_report()?;
    let stack = seccomp::signal_stack();
    // SAFETY: plain getpid/fork.
    let parent = unsafe { libc::getpid() };
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(os("fork"));
    }
    if pid == 0 {
        enter(&p, report, stack, parent);
    }
    drop(p);
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
            return Err(os("waitpid"));
        }
    }
    if libc::WIFEXITED(status) {
        return Ok(Outcome::Exited(libc::WEXITSTATUS(status)));
    }
    let signal = libc::WTERMSIG(status);
    let syscall = (signal == libc::SIGSYS
        && report.state.load(std::sync::atomic::Ordering::Acquire) == REPORTED)
        .then(|| {
            (
                report.syscall.load(std::sync::atomic::Ordering::Relaxed),
                report.address.load(std::sync::atomic::Ordering::Relaxed),
            )
        });
    Ok(Outcome::Killed { signal, syscall })
}
