//! Network device on a Linux tap interface (`/dev/net/tun`, `IFF_TAP |
//! IFF_NO_PI`), non-blocking, waiting for readiness through the executor.
//! The unikernel's own MAC is random and locally administered, as in
//! MirageOS `mirage-net-unix`; the host side of the tap has its own.

use std::cell::RefCell;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use unik_rt::exec::{readable, writable};
use unik_rt::{ETHERNET_HEADER, Mac, NetError};

use crate::sys;

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
const DEFAULT_MTU: usize = 1500;

/// `struct ifreq`: the interface name, then a 24-byte union of which
/// only the leading `short` flags or `int` MTU are used here.
#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> Result<Self, NetError> {
        let bytes = name.as_bytes();
        if bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
            return Err(NetError::Io(libc::EINVAL));
        }
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        for (dst, src) in req.name.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        Ok(req)
    }

    fn name(&self) -> String {
        let bytes: Vec<u8> = self
            .name
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A tap interface.
#[derive(Debug)]
pub struct Tap {
    fd: RefCell<Option<OwnedFd>>,
    name: String,
    mac: Mac,
    mtu: usize,
    buffers: RefCell<Vec<Vec<u8>>>,
}

/// Attaches to the tap interface `tap_name` (created if absent, which needs
/// CAP_NET_ADMIN); an empty name lets the kernel choose one.
pub fn connect(tap_name: &str) -> Result<Tap, NetError> {
    let mut req = IfReq::new(tap_name)?;
    req.data[..2].copy_from_slice(&(IFF_TAP | IFF_NO_PI).to_ne_bytes());
    let path = CString::new("/dev/net/tun").map_err(|_| NetError::Io(libc::EINVAL))?;
    // SAFETY: `path` is a valid C string.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(NetError::Io(sys::code(&sys::last_error())));
    }
    // SAFETY: `raw` was just opened and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `req` is.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut req) } < 0 {
        return Err(NetError::Io(sys::code(&sys::last_error())));
    }
    let name = req.name();
    let mut mac = [0u8; 6];
    getrandom::fill(&mut mac).map_err(|e| NetError::Io(e.raw_os_error().unwrap_or(libc::EIO)))?;
    mac[0] = (mac[0] & 0xfe) | 0x02;
    Ok(Tap {
        mtu: interface_mtu(&name).unwrap_or(DEFAULT_MTU),
        fd: RefCell::new(Some(fd)),
        name,
        mac: Mac(mac),
        buffers: RefCell::new(Vec::new()),
    })
}

/// The MTU the host configured on the interface (SIOCGIFMTU).
fn interface_mtu(name: &str) -> Option<usize> {
    let mut req = IfReq::new(name).ok()?;
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor owned by nothing else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: SIOCGIFMTU fills the `int` at the start of the union.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU as _, &mut req) } < 0 {
        return None;
    }
    let mtu = i32::from_ne_bytes([req.data[0], req.data[1], req.data[2], req.data[3]]);
    usize::try_from(mtu).ok().filter(|m| *m > 0)
}

impl Tap {
    /// The interface name (useful when the kernel chose it).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn raw_fd(&self) -> Result<RawFd, NetError> {
        self.fd
            .borrow()
            .as_ref()
            .map(AsRawFd::as_raw_fd)
            .ok_or(NetError::Disconnected)
    }

    async fn send(&self, frame: &[u8]) -> Result<(), NetError> {
        loop {
            let fd = self.raw_fd()?;
            // SAFETY: `frame` is a live slice of `frame.len()` bytes.
            let n = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
            if n >= 0 {
                return Ok(());
            }
            let err = sys::last_error();
            if sys::is_would_block(&err) {
                writable(fd as u64).await;
            } else if !sys::is_interrupted(&err) {
                return Err(NetError::Io(sys::code(&err)));
            }
        }
    }
}

impl unik_rt::Network for Tap {
    fn mac(&self) -> Mac {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    async fn write<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        fill: F,
    ) -> Result<(), NetError> {
        self.raw_fd()?;
        let max = self.mtu + ETHERNET_HEADER;
        if size > max {
            return Err(NetError::FrameTooLarge { size, max });
        }
        let mut buf = self.buffers.borrow_mut().pop().unwrap_or_default();
        buf.clear();
        buf.resize(size, 0);
        let len = fill(&mut buf);
        let result = if len > size {
            Err(NetError::BadFillLength {
                returned: len,
                size,
            })
        } else {
            self.send(&buf[..len]).await
        };
        self.buffers.borrow_mut().push(buf);
        result
    }

    async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        let needed = self.mtu + ETHERNET_HEADER;
        if buf.len() < needed {
            return Err(NetError::BufferTooSmall {
                len: buf.len(),
                needed,
            });
        }
        loop {
            let fd = self.raw_fd()?;
            // SAFETY: `buf` is a live, writable slice of `buf.len()` bytes.
            let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = sys::last_error();
            if sys::is_would_block(&err) {
                readable(fd as u64).await;
            } else if !sys::is_interrupted(&err) {
                return Err(NetError::Io(sys::code(&err)));
            }
        }
    }

    fn disconnect(&self) {
        self.fd.borrow_mut().take();
    }
}
