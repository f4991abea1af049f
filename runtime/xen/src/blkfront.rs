//! blkfront (`io/blkif.h`): one vbd, one ring page of 32 slots, requests
//! of up to 11 page segments through bounce pages granted once. Requests
//! are synchronous (the image's `Block` device completes each before
//! returning), waiting on the event channel with a 30 s limit.
//!
//! Ring slot (112 bytes): request `{op u8, nr_segments u8, handle u16,
//! pad u32, id u64, sector u64, seg[11] {gref u32, first u8, last u8,
//! pad u16}}`; response `{id u64, op u8, pad u8, status i16}`.
//! Set-up: wait for the backend's `InitWait`, write `ring-ref`,
//! `event-channel`, `protocol`, go `Initialised` (3); the backend goes
//! `Connected` and publishes `sectors`, `sector-size` and `info`; then the
//! frontend goes `Connected` (4).

use alloc::alloc::{Layout, alloc_zeroed};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering, fence};

use crate::gnttab::{self, GrantRef};
use crate::xenstore::{self, XsError};
use crate::{clock, ops, platform, shared};

const SLOTS: u32 = 32;
const HEADER: usize = 64;
const SLOT: usize = 112;
pub const SEGMENTS: usize = 11;
pub const SECTOR: usize = 512;
const OP_READ: u8 = 0;
const OP_WRITE: u8 = 1;
const VDISK_READONLY: u64 = 4;
const TIMEOUT_NS: u64 = 30_000_000_000;
const BACKEND_TIMEOUT_NS: u64 = 10_000_000_000;

const REQ_PROD: usize = 0;
const REQ_EVENT: usize = 4;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlkfrontError {
    /// Fewer vbds than block devices.
    NoDevice {
        index: usize,
    },
    Store {
        what: String,
        cause: XsError,
    },
    Backend {
        path: String,
        wanted: &'static str,
        state: String,
    },
    BadNode(String),
    Grant(gnttab::GrantError),
    Evtchn(ops::XenError),
    NoMemory,
}

impl fmt::Display for BlkfrontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDevice { index } => write!(
                f,
                "no Xen block device number {index} under device/vbd: the .xl file needs one disk per block device of the image"
            ),
            Self::Store { what, cause } => write!(f, "xenstore {what}: {cause}"),
            Self::Backend {
                path,
                wanted,
                state,
            } => write!(
                f,
                "the block backend {path} never reached {wanted} (state {state:?} after 10 s): is blkback (xen-blkback) loaded in the backend domain and its hotplug script working?"
            ),
            Self::BadNode(what) => write!(f, "bad xenstore node {what}"),
            Self::Grant(e) => write!(f, "{e}"),
            Self::Evtchn(e) => write!(f, "cannot allocate an event channel: {e}"),
            Self::NoMemory => f.write_str("no memory for the ring and buffers"),
        }
    }
}

/// Why a request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IoError {
    /// The backend answered with this status (-1 error, -2 unsupported).
    Status(i16),
    /// No answer within 30 s.
    Timeout,
}

fn page() -> Result<*mut u8, BlkfrontError> {
    let layout = Layout::from_size_align(4096, 4096).expect("page layout");
    // SAFETY: non-zero size.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        Err(BlkfrontError::NoMemory)
    } else {
        Ok(p)
    }
}

fn u32_at(p: *mut u8, off: usize) -> &'static AtomicU32 {
    // SAFETY: a live page of ours, 4-aligned offset.
    unsafe { &*p.add(off).cast::<AtomicU32>() }
}

fn store(what: String) -> impl FnOnce(XsError) -> BlkfrontError {
    move |cause| BlkfrontError::Store { what, cause }
}

/// A connected vbd.
pub struct Blkfront {
    ring: *mut u8,
    port: u32,
    handle: u16,
    pages: Vec<*mut u8>,
    grefs: Vec<GrantRef>,
    prod: u32,
    cons: u32,
    next_id: u64,
    pub sectors: u64,
    pub sector_size: usize,
    pub read_only: bool,
}

impl Blkfront {
    /// Connect the `index`-th vbd (in device-number order, which is the
    /// `.xl` file's `xvda`, `xvdb`, … order).
    pub fn connect(index: usize) -> Result<Blkfront, BlkfrontError> {
        let mut ids: Vec<u32> = match xenstore::directory("device/vbd") {
            Ok(v) => v.iter().filter_map(|s| s.parse().ok()).collect(),
            Err(e) if e.is_missing() => Vec::new(),
            Err(cause) => {
                return Err(BlkfrontError::Store {
                    what: "list device/vbd".into(),
                    cause,
                });
            }
        };
        ids.sort_unstable();
        let id = *ids.get(index).ok_or(BlkfrontError::NoDevice { index })?;
        let front = format!("device/vbd/{id}");
        let backend = xenstore::read(&format!("{front}/backend"))
            .map_err(store(format!("read {front}/backend")))?;
        let backend_id: u16 = xenstore::read(&format!("{front}/backend-id"))
            .map_err(store(format!("read {front}/backend-id")))?
            .trim()
            .parse()
            .map_err(|_| BlkfrontError::BadNode(format!("{front}/backend-id")))?;
        wait_backend(&backend, "InitWait", |s| s == "2" || s == "4")?;

        let ring = page()?;
        u32_at(ring, REQ_EVENT).store(1, Ordering::Relaxed);
        u32_at(ring, RSP_EVENT).store(1, Ordering::Relaxed);
        let ring_ref =
            gnttab::grant(backend_id, ring as u64, false).map_err(BlkfrontError::Grant)?;
        let mut pages = Vec::with_capacity(SEGMENTS);
        let mut grefs = Vec::with_capacity(SEGMENTS);
        for _ in 0..SEGMENTS {
            let p = page()?;
            grefs.push(gnttab::grant(backend_id, p as u64, false).map_err(BlkfrontError::Grant)?);
            pages.push(p);
        }
        let port = ops::alloc_unbound(backend_id).map_err(BlkfrontError::Evtchn)?;
        platform::listen(port);
        for (key, value) in [
            ("ring-ref", format!("{ring_ref}")),
            ("event-channel", format!("{port}")),
            ("protocol", "x86_64-abi".into()),
            ("state", "3".into()),
        ] {
            let path = format!("{front}/{key}");
            xenstore::write(&path, &value).map_err(store(format!("write {path}")))?;
        }
        wait_backend(&backend, "Connected", |s| s == "4")?;
        let num = |key: &str| -> Result<u64, BlkfrontError> {
            let path = format!("{backend}/{key}");
            xenstore::read(&path)
                .map_err(store(format!("read {path}")))?
                .trim()
                .parse()
                .map_err(|_| BlkfrontError::BadNode(path))
        };
        let sectors = num("sectors")?;
        let sector_size = num("sector-size")? as usize;
        let info = num("info").unwrap_or(0);
        if sector_size != SECTOR {
            return Err(BlkfrontError::BadNode(format!(
                "{backend}/sector-size = {sector_size} (only 512 is supported)"
            )));
        }
        let path = format!("{front}/state");
        xenstore::write(&path, "4").map_err(store(format!("write {path}")))?;
        Ok(Blkfront {
            ring,
            port,
            handle: id as u16,
            pages,
            grefs,
            prod: 0,
            cons: 0,
            next_id: 1,
            sectors,
            sector_size,
            read_only: info & VDISK_READONLY != 0,
        })
    }

    /// One request of `buf.len()` bytes (a multiple of 512, at most
    /// 11 pages) at `sector`.
    fn request(&mut self, write: bool, sector: u64, len: usize) -> Result<(), IoError> {
        let pages = len.div_ceil(4096);
        let slot = HEADER + (self.prod % SLOTS) as usize * SLOT;
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        // SAFETY: all writes are inside our ring page (slot < 64 + 32*112).
        unsafe {
            let p = self.ring.add(slot);
            p.write_volatile(if write { OP_WRITE } else { OP_READ });
            p.add(1).write_volatile(pages as u8);
            p.add(2).cast::<u16>().write_volatile(self.handle);
            p.add(4).cast::<u32>().write_volatile(0);
            p.add(8).cast::<u64>().write_volatile(id);
            p.add(16).cast::<u64>().write_volatile(sector);
            for i in 0..pages {
                let bytes = (len - i * 4096).min(4096);
                let s = p.add(24 + i * 8);
                s.cast::<u32>().write_volatile(self.grefs[i]);
                s.add(4).write_volatile(0);
                s.add(5).write_volatile((bytes / SECTOR - 1) as u8);
                s.add(6).cast::<u16>().write_volatile(0);
            }
        }
        let old = self.prod;
        self.prod = self.prod.wrapping_add(1);
        fence(Ordering::Release);
        u32_at(self.ring, REQ_PROD).store(self.prod, Ordering::Release);
        fence(Ordering::SeqCst);
        let event = u32_at(self.ring, REQ_EVENT).load(Ordering::Acquire);
        if self.prod.wrapping_sub(event) < self.prod.wrapping_sub(old) {
            let _ = ops::send(self.port);
        }
        let deadline = clock::now_ns().saturating_add(TIMEOUT_NS);
        loop {
            shared::clear_events();
            u32_at(self.ring, RSP_EVENT).store(self.cons.wrapping_add(1), Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let prod = u32_at(self.ring, RSP_PROD).load(Ordering::Acquire);
            while self.cons != prod {
                let r = HEADER + (self.cons % SLOTS) as usize * SLOT;
                // SAFETY: inside the ring page.
                let (rid, status) = unsafe {
                    let p = self.ring.add(r);
                    (
                        p.cast::<u64>().read_volatile(),
                        p.add(10).cast::<i16>().read_volatile(),
                    )
                };
                self.cons = self.cons.wrapping_add(1);
                if rid == id {
                    return if status == 0 {
                        Ok(())
                    } else {
                        Err(IoError::Status(status))
                    };
                }
            }
            let now = clock::now_ns();
            if now >= deadline {
                return Err(IoError::Timeout);
            }
            platform::halt_until(deadline.min(now + 10_000_000));
        }
    }

    /// Read `buf.len()` bytes (a multiple of 512) from `sector`.
    pub fn read(&mut self, mut sector: u64, buf: &mut [u8]) -> Result<(), IoError> {
        for chunk in buf.chunks_mut(SEGMENTS * 4096) {
            self.request(false, sector, chunk.len())?;
            for (i, part) in chunk.chunks_mut(4096).enumerate() {
                // SAFETY: our bounce page holds what the backend wrote.
                let src = unsafe { core::slice::from_raw_parts(self.pages[i], part.len()) };
                part.copy_from_slice(src);
            }
            sector += (chunk.len() / SECTOR) as u64;
        }
        Ok(())
    }

    /// Write `buf` (a multiple of 512 bytes) at `sector`.
    pub fn write(&mut self, mut sector: u64, buf: &[u8]) -> Result<(), IoError> {
        for chunk in buf.chunks(SEGMENTS * 4096) {
            for (i, part) in chunk.chunks(4096).enumerate() {
                // SAFETY: our bounce page; the backend only reads it now.
                let dst = unsafe { core::slice::from_raw_parts_mut(self.pages[i], part.len()) };
                dst.copy_from_slice(part);
            }
            self.request(true, sector, chunk.len())?;
            sector += (chunk.len() / SECTOR) as u64;
        }
        Ok(())
    }
}

fn wait_backend(
    backend: &str,
    wanted: &'static str,
    done: impl Fn(&str) -> bool,
) -> Result<(), BlkfrontError> {
    let path = format!("{backend}/state");
    match xenstore::wait_for(&path, BACKEND_TIMEOUT_NS, done) {
        Ok(_) => Ok(()),
        Err(XsError::Timeout) => Err(BlkfrontError::Backend {
            path: backend.into(),
            wanted,
            state: xenstore::read(&path).unwrap_or_default(),
        }),
        Err(cause) => Err(BlkfrontError::Store {
            what: format!("read {path}"),
            cause,
        }),
    }
}
