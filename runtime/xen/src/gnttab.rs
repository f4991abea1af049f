//! Grant tables (v1, `grant_table.h`): the table's frames are mapped over
//! pages of the image (`XENMAPSPACE_grant_table`) on first use; a grant
//! lets one other domain (the backend) map or copy one of our pages. An
//! entry is `{ u16 flags, u16 domid, u32 frame }`; the flags are written
//! last, because they make the entry live. References below 8 are the
//! toolstack's (console, xenstore).

use core::sync::atomic::{AtomicBool, AtomicU16, AtomicU32, Ordering};

use crate::cell::Global;
use crate::ops::{self, XENMAPSPACE_GRANT_TABLE, XenError};

const FRAMES: usize = 4;
const PER_FRAME: u32 = 4096 / 8;
pub const CAPACITY: u32 = FRAMES as u32 * PER_FRAME;
const RESERVED: u32 = 8;
const GTF_PERMIT_ACCESS: u16 = 1;
const GTF_READONLY: u16 = 1 << 2;

#[repr(C, align(4096))]
struct Table([u8; FRAMES * 4096]);

static mut TABLE: Table = Table([0; FRAMES * 4096]);
static MAPPED: AtomicBool = AtomicBool::new(false);
static NEXT: AtomicU32 = AtomicU32::new(RESERVED);
static FREE: Global<alloc::vec::Vec<u32>> = Global::new(alloc::vec::Vec::new());

pub type GrantRef = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantError {
    /// Xen refused to map the table.
    Map(XenError),
    /// Every reference is in use.
    Full,
}

impl core::fmt::Display for GrantError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Map(e) => write!(f, "cannot map the grant table: {e}"),
            Self::Full => write!(f, "all {CAPACITY} grant references are in use"),
        }
    }
}

fn base() -> *mut u8 {
    (&raw mut TABLE).cast::<u8>()
}

fn map() -> Result<(), GrantError> {
    if MAPPED.load(Ordering::Acquire) {
        return Ok(());
    }
    for i in 0..FRAMES {
        let gpfn = (base() as u64 >> 12) + i as u64;
        ops::add_to_physmap(XENMAPSPACE_GRANT_TABLE, i as u64, gpfn).map_err(GrantError::Map)?;
    }
    MAPPED.store(true, Ordering::Release);
    Ok(())
}

/// Let domain `domid` access the page at physical address `page`
/// (read-only if `readonly`); returns the reference to give it.
pub fn grant(domid: u16, page: u64, readonly: bool) -> Result<GrantRef, GrantError> {
    map()?;
    // SAFETY: single CPU; FREE is only touched here and in `end`.
    let reused = unsafe { (*FREE.get()).pop() };
    let r = match reused {
        Some(r) => r,
        None => {
            let r = NEXT.fetch_add(1, Ordering::Relaxed);
            if r >= CAPACITY {
                NEXT.store(CAPACITY, Ordering::Relaxed);
                return Err(GrantError::Full);
            }
            r
        }
    };
    let e = entry(r);
    e.1.store(domid, Ordering::Relaxed);
    e.2.store((page >> 12) as u32, Ordering::Relaxed);
    let flags = GTF_PERMIT_ACCESS | if readonly { GTF_READONLY } else { 0 };
    e.0.store(flags, Ordering::Release);
    Ok(r)
}

/// Revoke a grant the other side no longer uses.
pub fn end(r: GrantRef) {
    if !(RESERVED..CAPACITY).contains(&r) {
        return;
    }
    entry(r).0.store(0, Ordering::Release);
    // SAFETY: single CPU; see `grant`.
    unsafe { (*FREE.get()).push(r) };
}

fn entry(r: GrantRef) -> (&'static AtomicU16, &'static AtomicU16, &'static AtomicU32) {
    let off = r as usize * 8;
    // SAFETY: `r < CAPACITY`, so the entry is inside the mapped table;
    // fields are naturally aligned.
    unsafe {
        let p = base().add(off);
        (
            &*p.cast::<AtomicU16>(),
            &*p.add(2).cast::<AtomicU16>(),
            &*p.add(4).cast::<AtomicU32>(),
        )
    }
}
