//! A synchronous xenstore client over the domain's ring page
//! (`io/xs_wire.h`): `HVM_PARAM_STORE_PFN` names the page (`req[1024]`,
//! `rsp[1024]`, then `u32` `req_cons`, `req_prod`, `rsp_cons`, `rsp_prod`),
//! `HVM_PARAM_STORE_EVTCHN` the event channel. Each request is a 16-byte
//! `xsd_sockmsg` header (type, req_id, tx_id, len) and its payload; the
//! reply carries the same `req_id`, or type `XS_ERROR` with the errno name.
//! Requests wait for their reply (halting between events) for at most
//! [`TIMEOUT_NS`]; device set-up at boot is the only user, so nothing else
//! needs to run meanwhile. Relative paths are under `/local/domain/<id>/`.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

use crate::{clock, ops, platform, shared};

pub const XS_DIRECTORY: u32 = 1;
pub const XS_READ: u32 = 2;
pub const XS_WRITE: u32 = 11;
pub const XS_RM: u32 = 13;
pub const XS_WATCH_EVENT: u32 = 15;
pub const XS_ERROR: u32 = 16;

const RING: u32 = 1024;
const REQ: usize = 0;
const RSP: usize = 1024;
const REQ_CONS: usize = 2048;
const REQ_PROD: usize = 2052;
const RSP_CONS: usize = 2056;
const RSP_PROD: usize = 2060;
/// Largest payload xenstored accepts (`XENSTORE_PAYLOAD_MAX`).
pub const PAYLOAD_MAX: usize = 4096;
/// How long one request may wait for xenstored.
pub const TIMEOUT_NS: u64 = 5_000_000_000;

static PAGE: AtomicU64 = AtomicU64::new(0);
static PORT: AtomicU32 = AtomicU32::new(0);
static REQ_ID: AtomicU32 = AtomicU32::new(1);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XsError {
    /// No xenstore ring (the HVM params are missing).
    NoStore,
    /// xenstored answered with an error (`ENOENT`, `EACCES`, …).
    Store(String),
    /// No reply within [`TIMEOUT_NS`].
    Timeout,
    /// A reply that breaks the protocol.
    Protocol(&'static str),
    /// The request does not fit in one message.
    TooLarge,
}

impl XsError {
    /// xenstored's ENOENT: the node does not exist.
    pub fn is_missing(&self) -> bool {
        matches!(self, XsError::Store(e) if e == "ENOENT")
    }
}

impl fmt::Display for XsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoStore => f.write_str("no xenstore ring (HVM_PARAM_STORE_PFN is unset)"),
            Self::Store(e) => write!(f, "xenstored answered {e}"),
            Self::Timeout => f.write_str("xenstored did not answer within 5 s"),
            Self::Protocol(what) => write!(f, "bad xenstore reply: {what}"),
            Self::TooLarge => f.write_str("xenstore request larger than 4096 bytes"),
        }
    }
}

/// Find the ring (at boot; without it, every request fails with `NoStore`).
pub fn init() -> Result<(), XsError> {
    let pfn = ops::hvm_get_param(ops::HVM_PARAM_STORE_PFN).map_err(|_| XsError::NoStore)?;
    let port = ops::hvm_get_param(ops::HVM_PARAM_STORE_EVTCHN).map_err(|_| XsError::NoStore)?;
    if pfn == 0 || pfn >= 1 << 20 {
        return Err(XsError::NoStore);
    }
    let port = u32::try_from(port).map_err(|_| XsError::NoStore)?;
    platform::listen(port);
    PORT.store(port, Ordering::SeqCst);
    PAGE.store(pfn << 12, Ordering::SeqCst);
    Ok(())
}

fn idx(page: u64, off: usize) -> &'static AtomicU32 {
    // SAFETY: the identity-mapped ring page; aligned u32 indexes.
    unsafe { &*((page as usize + off) as *const AtomicU32) }
}

fn byte(page: u64, off: usize) -> *mut u8 {
    (page as usize + off) as *mut u8
}

/// Wait until `ready()` (halting between events) or the deadline.
fn wait_until(deadline: u64, ready: impl Fn() -> bool) -> Result<(), XsError> {
    loop {
        shared::clear_events();
        if ready() {
            return Ok(());
        }
        let now = clock::now_ns();
        if now >= deadline {
            return Err(XsError::Timeout);
        }
        platform::halt_until(deadline.min(now + 10_000_000));
    }
}

fn put(page: u64, data: &[u8], deadline: u64) -> Result<(), XsError> {
    let (cons, prod) = (idx(page, REQ_CONS), idx(page, REQ_PROD));
    let mut rest = data;
    while !rest.is_empty() {
        wait_until(deadline, || {
            prod.load(Ordering::Relaxed)
                .wrapping_sub(cons.load(Ordering::Acquire))
                < RING
        })?;
        let p = prod.load(Ordering::Relaxed);
        let used = p.wrapping_sub(cons.load(Ordering::Acquire));
        if used > RING {
            return Err(XsError::Protocol("request ring indexes"));
        }
        let n = ((RING - used) as usize).min(rest.len());
        for (i, &b) in rest[..n].iter().enumerate() {
            let slot = (p.wrapping_add(i as u32) % RING) as usize;
            // SAFETY: inside the request ring.
            unsafe { byte(page, REQ + slot).write_volatile(b) };
        }
        fence(Ordering::Release);
        prod.store(p.wrapping_add(n as u32), Ordering::Release);
        let _ = ops::send(PORT.load(Ordering::Relaxed));
        rest = &rest[n..];
    }
    Ok(())
}

fn get(page: u64, out: &mut [u8], deadline: u64) -> Result<(), XsError> {
    let (cons, prod) = (idx(page, RSP_CONS), idx(page, RSP_PROD));
    let mut done = 0;
    while done < out.len() {
        wait_until(deadline, || {
            prod.load(Ordering::Acquire) != cons.load(Ordering::Relaxed)
        })?;
        let c = cons.load(Ordering::Relaxed);
        let avail = prod.load(Ordering::Acquire).wrapping_sub(c);
        if avail > RING {
            return Err(XsError::Protocol("reply ring indexes"));
        }
        let n = (avail as usize).min(out.len() - done);
        for (i, o) in out[done..done + n].iter_mut().enumerate() {
            let slot = (c.wrapping_add(i as u32) % RING) as usize;
            // SAFETY: inside the reply ring.
            *o = unsafe { byte(page, RSP + slot).read_volatile() };
        }
        fence(Ordering::Release);
        cons.store(c.wrapping_add(n as u32), Ordering::Release);
        let _ = ops::send(PORT.load(Ordering::Relaxed));
        done += n;
    }
    Ok(())
}

/// The message bytes of a request.
pub fn encode(ty: u32, req_id: u32, parts: &[&[u8]]) -> Result<Vec<u8>, XsError> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    if len > PAYLOAD_MAX {
        return Err(XsError::TooLarge);
    }
    let mut msg = Vec::with_capacity(16 + len);
    for w in [ty, req_id, 0, len as u32] {
        msg.extend_from_slice(&w.to_le_bytes());
    }
    for p in parts {
        msg.extend_from_slice(p);
    }
    Ok(msg)
}

/// One request and its reply's payload.
pub fn request(ty: u32, parts: &[&[u8]]) -> Result<Vec<u8>, XsError> {
    let page = PAGE.load(Ordering::Acquire);
    if page == 0 {
        return Err(XsError::NoStore);
    }
    let id = REQ_ID.fetch_add(1, Ordering::Relaxed);
    let msg = encode(ty, id, parts)?;
    let deadline = clock::now_ns().saturating_add(TIMEOUT_NS);
    put(page, &msg, deadline)?;
    loop {
        let mut head = [0u8; 16];
        get(page, &mut head, deadline)?;
        let word = |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let (rty, rid, len) = (word(0), word(4), word(12) as usize);
        if len > PAYLOAD_MAX {
            return Err(XsError::Protocol("reply longer than 4096 bytes"));
        }
        let mut body = alloc::vec![0u8; len];
        get(page, &mut body, deadline)?;
        if rty == XS_WATCH_EVENT || rid != id {
            // Not ours (no watches are set; a stale reply): skip it.
            continue;
        }
        if rty == XS_ERROR {
            let text = body.split(|&b| b == 0).next().unwrap_or(&[]);
            return Err(XsError::Store(String::from_utf8_lossy(text).into_owned()));
        }
        if rty != ty {
            return Err(XsError::Protocol("reply of another type"));
        }
        return Ok(body);
    }
}

fn nul(path: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(path.len() + 1);
    v.extend_from_slice(path.as_bytes());
    v.push(0);
    v
}

/// The value at `path`.
pub fn read(path: &str) -> Result<String, XsError> {
    let v = request(XS_READ, &[&nul(path)])?;
    let v = v.strip_suffix(&[0]).unwrap_or(&v);
    String::from_utf8(v.to_vec()).map_err(|_| XsError::Protocol("value is not UTF-8"))
}

/// Set `path` to `value`.
pub fn write(path: &str, value: &str) -> Result<(), XsError> {
    request(XS_WRITE, &[&nul(path), value.as_bytes()]).map(|_| ())
}

/// The children of `path`.
pub fn directory(path: &str) -> Result<Vec<String>, XsError> {
    let v = request(XS_DIRECTORY, &[&nul(path)])?;
    Ok(v.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect())
}

/// Poll `path` until `done(value)` holds (a missing node counts as ""),
/// for at most `timeout_ns`; returns the last value read.
pub fn wait_for(
    path: &str,
    timeout_ns: u64,
    done: impl Fn(&str) -> bool,
) -> Result<String, XsError> {
    let deadline = clock::now_ns().saturating_add(timeout_ns);
    loop {
        let v = match read(path) {
            Ok(v) => v,
            Err(e) if e.is_missing() => String::new(),
            Err(e) => return Err(e),
        };
        if done(&v) {
            return Ok(v);
        }
        let now = clock::now_ns();
        if now >= deadline {
            return Err(XsError::Timeout);
        }
        platform::halt_until(deadline.min(now + 20_000_000));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_header_then_payload() {
        let m = encode(XS_WRITE, 7, &[b"a/b\0", b"v"]).unwrap();
        assert_eq!(&m[..16], &[11, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0]);
        assert_eq!(&m[16..], b"a/b\0v");
        let big = alloc::vec![0u8; PAYLOAD_MAX + 1];
        assert_eq!(encode(XS_WRITE, 1, &[&big]), Err(XsError::TooLarge));
    }

    #[test]
    fn without_a_ring_requests_fail_cleanly() {
        assert_eq!(read("device/vif/0/backend"), Err(XsError::NoStore));
    }
}
