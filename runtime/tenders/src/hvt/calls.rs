//! The eight hvt hypercalls. The guest writes the 32-bit guest-physical
//! address of an argument struct to port 0x500 + nr; every struct and every
//! buffer it names goes through [`GuestMemory::guest`] before use. Bad
//! handles, sizes or offsets are answered with `EINVAL`; pointers outside
//! guest memory and anything that is not one of the eight calls stop the
//! guest.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use super::mem::{Fault, GuestMemory};
use crate::attach::Backing;
use crate::error::{Error, os};

pub const PIO_BASE: u16 = 0x500;
pub const WALLTIME: u16 = 1;
pub const PUTS: u16 = 2;
pub const POLL: u16 = 3;
pub const BLOCK_WRITE: u16 = 4;
pub const BLOCK_READ: u16 = 5;
pub const NET_WRITE: u16 = 6;
pub const NET_READ: u16 = 7;
pub const HALT: u16 = 8;

pub const R_OK: i32 = 0;
pub const R_AGAIN: i32 = 1;
pub const R_EINVAL: i32 = 2;
pub const R_EUNSPEC: i32 = 3;

/// epoll tag of the internal timerfd (manifest indices are below 64).
const TIMER_TAG: u64 = u64::MAX;

/// What the run loop does after a hypercall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Continue,
    /// HALT with this exit status.
    Halt(i32),
}

fn guest(call: &str, f: Fault) -> Error {
    Error::Guest(format!("{call}: {f}"))
}

/// An argument struct copied out of guest memory, and written back.
struct Args<const N: usize> {
    gpa: u64,
    raw: [u8; N],
    call: &'static str,
}

impl<const N: usize> Args<N> {
    fn load(mem: &GuestMemory, gpa: u64, call: &'static str) -> Result<Self, Error> {
        let mut raw = [0u8; N];
        mem.read(gpa, &mut raw).map_err(|f| guest(call, f))?;
        Ok(Self { gpa, raw, call })
    }

    fn u64(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.raw[at..at + 8].try_into().expect("8 bytes"))
    }

    fn i32(&self, at: usize) -> i32 {
        i32::from_le_bytes(self.raw[at..at + 4].try_into().expect("4 bytes"))
    }

    fn set_u64(&mut self, at: usize, v: u64) {
        self.raw[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }

    fn set_i32(&mut self, at: usize, v: i32) {
        self.raw[at..at + 4].copy_from_slice(&v.to_le_bytes());
    }

    /// A buffer the struct names, checked, that the tender reads.
    fn buffer(&self, mem: &GuestMemory, gpa: u64, len: u64) -> Result<*mut u8, Error> {
        mem.guest(gpa, len).map_err(|f| guest(self.call, f))
    }

    /// A buffer the tender writes: also outside read-only memory.
    fn buffer_mut(&self, mem: &GuestMemory, gpa: u64, len: u64) -> Result<*mut u8, Error> {
        mem.guest_mut(gpa, len).map_err(|f| guest(self.call, f))
    }

    fn store(&self, mem: &GuestMemory) -> Result<(), Error> {
        mem.write(self.gpa, &self.raw)
            .map_err(|f| guest(self.call, f))
    }
}

fn now(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// Hypercall state: the attached devices (handle h is `devices[h - 1]`),
/// the poll set and the console.
pub struct Calls<W: Write> {
    devices: Vec<Backing>,
    epoll: OwnedFd,
    timer: OwnedFd,
    console: W,
}

impl<W: Write> Calls<W> {
    pub fn new(devices: Vec<Backing>, console: W) -> Result<Self, Error> {
        // SAFETY: plain descriptor creation.
        let raw = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if raw < 0 {
            return Err(os("epoll_create1"));
        }
        // SAFETY: fresh descriptor.
        let epoll = unsafe { OwnedFd::from_raw_fd(raw) };
        // SAFETY: plain descriptor creation.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(os("timerfd_create"));
        }
        // SAFETY: fresh descriptor.
        let timer = unsafe { OwnedFd::from_raw_fd(raw) };
        let calls = Self {
            devices,
            epoll,
            timer,
            console,
        };
        calls.watch(calls.timer.as_raw_fd(), TIMER_TAG)?;
        for (i, d) in calls.devices.iter().enumerate() {
            if let Backing::Net { fd, .. } = d {
                calls.watch(fd.as_raw_fd(), (i + 1) as u64)?;
            }
        }
        Ok(calls)
    }

    fn watch(&self, fd: libc::c_int, tag: u64) -> Result<(), Error> {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: tag,
        };
        // SAFETY: valid descriptors and event.
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0
        {
            return Err(os("epoll_ctl"));
        }
        Ok(())
    }

    pub fn console(&self) -> &W {
        &self.console
    }

    fn device(&self, handle: u64) -> Option<&Backing> {
        let i = usize::try_from(handle).ok()?.checked_sub(1)?;
        self.devices.get(i)
    }

    /// Handle one port write from the guest.
    pub fn handle(&mut self, mem: &GuestMemory, port: u16, data: &[u8]) -> Result<Exit, Error> {
        let nr = port.wrapping_sub(PIO_BASE);
        if !(WALLTIME..=HALT).contains(&nr) {
            return Err(Error::Guest(format!(
                "write to I/O port {port:#x}, which is not a hypercall"
            )));
        }
        let Ok(word) = <[u8; 4]>::try_from(data) else {
            return Err(Error::Guest(format!(
                "hypercall {nr} with a {}-byte port write (hypercalls are 32-bit outl)",
                data.len()
            )));
        };
        let gpa = u64::from(u32::from_le_bytes(word));
        match nr {
            WALLTIME => self.walltime(mem, gpa),
            PUTS => self.puts(mem, gpa),
            POLL => self.poll(mem, gpa),
            BLOCK_WRITE => self.block(mem, gpa, true),
            BLOCK_READ => self.block(mem, gpa, false),
            NET_WRITE => self.net_write(mem, gpa),
            NET_READ => self.net_read(mem, gpa),
            _ => Self::halt(mem, gpa),
        }
    }

    fn walltime(&mut self, mem: &GuestMemory, gpa: u64) -> Result<Exit, Error> {
        let mut a = Args::<8>::load(mem, gpa, "WALLTIME")?;
        a.set_u64(0, now(libc::CLOCK_REALTIME));
        a.store(mem)?;
        Ok(Exit::Continue)
    }

    fn puts(&mut self, mem: &GuestMemory, gpa: u64) -> Result<Exit, Error> {
        let a = Args::<16>::load(mem, gpa, "PUTS")?;
        let (data, len) = (a.u64(0), a.u64(8));
        let p = a.buffer(mem, data, len)?;
        // SAFETY: checked range of guest memory; the vCPU is stopped.
        let text = unsafe { std::slice::from_raw_parts(p, len as usize) };
        // The console is best effort, as on Solo5.
        let _ = self
            .console
            .write_all(text)
            .and_then(|()| self.console.flush());
        Ok(Exit::Continue)
    }

    fn poll(&mut self, mem: &GuestMemory, gpa: u64) -> Result<Exit, Error> {
        let mut a = Args::<24>::load(mem, gpa, "POLL")?;
        // A zero it_value would disarm the timer: 1 ns fires at once.
        let timeout = a.u64(0).max(1);
        let it = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: libc::timespec {
                tv_sec: (timeout / 1_000_000_000).min(i64::MAX as u64) as libc::time_t,
                tv_nsec: (timeout % 1_000_000_000) as libc::c_long,
            },
        };
        // SAFETY: valid descriptor and itimerspec.
        if unsafe { libc::timerfd_settime(self.timer.as_raw_fd(), 0, &it, std::ptr::null_mut()) }
            != 0
        {
            return Err(os("timerfd_settime"));
        }
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 65];
        let n = loop {
            // SAFETY: valid descriptor and event array.
            let n = unsafe {
                libc::epoll_pwait(
                    self.epoll.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as libc::c_int,
                    -1,
                    std::ptr::null(),
                )
            };
            if n >= 0 {
                break n as usize;
            }
            if std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                return Err(os("epoll_pwait"));
            }
        };
        let (mut ready, mut count) = (0u64, 0i32);
        for e in &events[..n] {
            let tag = e.u64;
            if tag != TIMER_TAG && tag < 64 {
                ready |= 1 << tag;
                count += 1;
            }
        }
        a.set_u64(8, ready);
        a.set_i32(16, count);
        a.store(mem)?;
        Ok(Exit::Continue)
    }

    fn block(&mut self, mem: &GuestMemory, gpa: u64, write: bool) -> Result<Exit, Error> {
        let call = if write { "BLOCK_WRITE" } else { "BLOCK_READ" };
        let mut a = Args::<40>::load(mem, gpa, call)?;
        let (handle, offset, data, len) = (a.u64(0), a.u64(8), a.u64(16), a.u64(24));
        let ret = match self.device(handle) {
            Some(Backing::Block {
                file,
                capacity,
                block_size,
            }) => {
                let bs = u64::from(*block_size);
                let inside =
                    offset < *capacity && offset.checked_add(len).is_some_and(|e| e <= *capacity);
                if !inside || len == 0 || !len.is_multiple_of(bs) || !offset.is_multiple_of(bs) {
                    R_EINVAL
                } else {
                    let p = if write {
                        a.buffer(mem, data, len)?
                    } else {
                        a.buffer_mut(mem, data, len)?
                    };
                    let fd = file.as_raw_fd();
                    block_io(fd, p, len as usize, offset, write)?;
                    R_OK
                }
            }
            _ => R_EINVAL,
        };
        a.set_i32(32, ret);
        a.store(mem)?;
        Ok(Exit::Continue)
    }

    fn net_write(&mut self, mem: &GuestMemory, gpa: u64) -> Result<Exit, Error> {
        let mut a = Args::<32>::load(mem, gpa, "NET_WRITE")?;
        let (handle, data, len) = (a.u64(0), a.u64(8), a.u64(16));
        let ret = match self.device(handle) {
            Some(Backing::Net { fd, mtu, .. }) => {
                if len > u64::from(*mtu) + 14 {
                    R_EINVAL
                } else {
                    let p = a.buffer(mem, data, len)?;
                    // SAFETY: checked guest range.
                    let n = unsafe { libc::write(fd.as_raw_fd(), p.cast(), len as usize) };
                    if n == len as isize { R_OK } else { R_EUNSPEC }
                }
            }
            _ => R_EINVAL,
        };
        a.set_i32(24, ret);
        a.store(mem)?;
        Ok(Exit::Continue)
    }

    fn net_read(&mut self, mem: &GuestMemory, gpa: u64) -> Result<Exit, Error> {
        let mut a = Args::<32>::load(mem, gpa, "NET_READ")?;
        let (handle, data, len) = (a.u64(0), a.u64(8), a.u64(16));
        let ret = match self.device(handle) {
            Some(Backing::Net { fd, .. }) => {
                let p = a.buffer_mut(mem, data, len)?;
                // SAFETY: checked guest range.
                let n = unsafe { libc::read(fd.as_raw_fd(), p.cast(), len as usize) };
                match n {
                    n if n > 0 => {
                        a.set_u64(16, n as u64);
                        R_OK
                    }
                    0 => R_AGAIN,
                    _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EAGAIN) => {
                        R_AGAIN
                    }
                    _ => R_EUNSPEC,
                }
            }
            _ => R_EINVAL,
        };
        a.set_i32(24, ret);
        a.store(mem)?;
        Ok(Exit::Continue)
    }

    fn halt(mem: &GuestMemory, gpa: u64) -> Result<Exit, Error> {
        let a = Args::<16>::load(mem, gpa, "HALT")?;
        Ok(Exit::Halt(a.i32(8)))
    }
}

/// Whole-buffer pread/pwrite; a host failure or short transfer inside the
/// device's capacity is fatal, as in Solo5.
fn block_io(
    fd: libc::c_int,
    p: *mut u8,
    len: usize,
    offset: u64,
    write: bool,
) -> Result<(), Error> {
    let mut done = 0usize;
    while done < len {
        // SAFETY: `p..p+len` is a checked guest range; offsets stay inside it.
        let n = unsafe {
            let at = p.add(done);
            let off = (offset + done as u64) as libc::off_t;
            if write {
                libc::pwrite(fd, at.cast(), len - done, off)
            } else {
                libc::pread(fd, at.cast(), len - done, off)
            }
        };
        match n {
            n if n > 0 => done += n as usize,
            0 => return Err(Error::Host("block device: unexpected end of file".into())),
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => {}
            _ => return Err(os("block device I/O")),
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "calls_tests.rs"]
mod tests;
