//! netfront (`io/netif.h`): one vif, single queue, receive by copy
//! (`request-rx-copy`), no scatter-gather, no offloads. The frontend's
//! xenstore directory is `device/vif/N`; the backend (netback in dom0)
//! is found there, the rings and event channel are written there, then
//! both sides go to `Connected` (4).
//!
//! Each ring is one shared page: `req_prod`, `req_event`, `rsp_prod`,
//! `rsp_event` (u32), padding to 64 bytes, then 256 slots (tx: 12-byte
//! request `{gref u32, offset u16, flags u16, id u16, size u16}` /
//! response `{id u16, status i16}`; rx: 8-byte request `{id u16, pad,
//! gref u32}` / response `{id u16, offset u16, flags u16, status i16}`).
//! Every slot has its own page, granted once for the device's lifetime.

use alloc::alloc::{Layout, alloc_zeroed};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicU32, Ordering, fence};

use crate::gnttab::{self, GrantRef};
use crate::xenstore::{self, XsError};
use crate::{ops, platform};

pub const SLOTS: u32 = 256;
const HEADER: usize = 64;
const TX_SLOT: usize = 12;
const RX_SLOT: usize = 8;
const NETRXF_MORE_DATA: u16 = 1 << 2;
const NETRXF_EXTRA_INFO: u16 = 1 << 3;
/// The Ethernet MTU netback gives a vif without `feature-sg`.
pub const MTU: u16 = 1500;
/// How long the backend may take to reach each state.
const BACKEND_TIMEOUT_NS: u64 = 10_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetfrontError {
    /// No `device/vif/N`: the domain has fewer vifs.
    NoDevice {
        index: usize,
        cause: XsError,
    },
    /// A xenstore operation failed.
    Store {
        what: String,
        cause: XsError,
    },
    /// The backend never reached a state.
    Backend {
        path: String,
        wanted: &'static str,
        state: String,
    },
    /// Bad `mac` or `backend-id` node.
    BadNode(String),
    Grant(gnttab::GrantError),
    Evtchn(ops::XenError),
    NoMemory,
    /// The platform's wait has no room for another device.
    TooManyDevices,
}

impl fmt::Display for NetfrontError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoDevice { index, cause } => write!(
                f,
                "no Xen network device device/vif/{index} ({cause}): the .xl file needs one vif per network device of the image"
            ),
            Self::Store { what, cause } => write!(f, "xenstore {what}: {cause}"),
            Self::Backend {
                path,
                wanted,
                state,
            } => write!(
                f,
                "the network backend {path} never reached {wanted} (state {state:?} after 10 s): is netback (xen-netback) loaded in the backend domain and its hotplug script working?"
            ),
            Self::BadNode(what) => write!(f, "bad xenstore node {what}"),
            Self::Grant(e) => write!(f, "{e}"),
            Self::Evtchn(e) => write!(f, "cannot allocate an event channel: {e}"),
            Self::NoMemory => f.write_str("no memory for the rings and buffers"),
            Self::TooManyDevices => f.write_str("too many devices for the platform's wait"),
        }
    }
}

/// Parse `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.trim().split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Whether the other side asked to be notified of a move from `old` to
/// `new` (`RING_PUSH_*_AND_CHECK_NOTIFY`).
pub fn needs_notify(old: u32, new: u32, event: u32) -> bool {
    new.wrapping_sub(event) < new.wrapping_sub(old)
}

fn page() -> Result<*mut u8, NetfrontError> {
    let layout = Layout::from_size_align(4096, 4096).expect("page layout");
    // SAFETY: non-zero size.
    let p = unsafe { alloc_zeroed(layout) };
    if p.is_null() {
        Err(NetfrontError::NoMemory)
    } else {
        Ok(p)
    }
}

fn u32_at(p: *mut u8, off: usize) -> &'static AtomicU32 {
    // SAFETY: `p` is a live page of ours; `off` is 4-aligned and in it.
    unsafe { &*p.add(off).cast::<AtomicU32>() }
}

fn w16(p: *mut u8, off: usize, v: u16) {
    // SAFETY: inside a ring page of ours.
    unsafe { p.add(off).cast::<u16>().write_volatile(v) }
}

fn w32(p: *mut u8, off: usize, v: u32) {
    // SAFETY: inside a ring page of ours.
    unsafe { p.add(off).cast::<u32>().write_volatile(v) }
}

fn r16(p: *mut u8, off: usize) -> u16 {
    // SAFETY: inside a ring page of ours.
    unsafe { p.add(off).cast::<u16>().read_volatile() }
}

const REQ_PROD: usize = 0;
const REQ_EVENT: usize = 4;
const RSP_PROD: usize = 8;
const RSP_EVENT: usize = 12;

/// What the platform's readiness probe reads (boxed: stable address).
struct RxProbe {
    ring: *mut u8,
    cons: AtomicU32,
}

fn rx_ready(arg: usize) -> bool {
    // SAFETY: `arg` is a live `RxProbe` (unregistered before it is freed).
    let p = unsafe { &*(arg as *const RxProbe) };
    u32_at(p.ring, RSP_PROD).load(Ordering::Acquire) != p.cons.load(Ordering::Relaxed)
}

/// A connected vif.
pub struct Netfront {
    mac: [u8; 6],
    port: u32,
    handle: usize,
    tx: *mut u8,
    rx: *mut u8,
    tx_bufs: Vec<*mut u8>,
    tx_grefs: Vec<GrantRef>,
    tx_free: Vec<u16>,
    tx_prod: u32,
    tx_cons: u32,
    rx_bufs: Vec<*mut u8>,
    rx_grefs: Vec<GrantRef>,
    rx_prod: u32,
    probe: Box<RxProbe>,
}

fn store(what: String) -> impl FnOnce(XsError) -> NetfrontError {
    move |cause| NetfrontError::Store { what, cause }
}

impl Netfront {
    /// Connect the `index`-th vif of the domain.
    pub fn connect(index: usize) -> Result<Netfront, NetfrontError> {
        let front = format!("device/vif/{index}");
        // Only a missing node means the .xl file lacks the vif; any other
        // answer (EACCES, a timeout, ...) is the store's error, named as such.
        let backend = xenstore::read(&format!("{front}/backend")).map_err(|cause| match cause {
            cause if cause.is_missing() => NetfrontError::NoDevice { index, cause },
            cause => NetfrontError::Store {
                what: format!("read {front}/backend"),
                cause,
            },
        })?;
        let backend_id: u16 = xenstore::read(&format!("{front}/backend-id"))
            .map_err(store(format!("read {front}/backend-id")))?
            .trim()
            .parse()
            .map_err(|_| NetfrontError::BadNode(format!("{front}/backend-id")))?;
        let mac =
            xenstore::read(&format!("{front}/mac")).map_err(store(format!("read {front}/mac")))?;
        let mac = parse_mac(&mac)
            .ok_or_else(|| NetfrontError::BadNode(format!("{front}/mac = {mac:?}")))?;
        wait_backend(&backend, "InitWait", |s| s == "2" || s == "4")?;

        let tx = page()?;
        let rx = page()?;
        for r in [tx, rx] {
            u32_at(r, REQ_EVENT).store(1, Ordering::Relaxed);
            u32_at(r, RSP_EVENT).store(1, Ordering::Relaxed);
        }
        let tx_ref = gnttab::grant(backend_id, tx as u64, false).map_err(NetfrontError::Grant)?;
        let rx_ref = gnttab::grant(backend_id, rx as u64, false).map_err(NetfrontError::Grant)?;
        let mut tx_bufs = Vec::with_capacity(SLOTS as usize);
        let mut tx_grefs = Vec::with_capacity(SLOTS as usize);
        let mut rx_bufs = Vec::with_capacity(SLOTS as usize);
        let mut rx_grefs = Vec::with_capacity(SLOTS as usize);
        for _ in 0..SLOTS {
            let t = page()?;
            tx_grefs.push(gnttab::grant(backend_id, t as u64, true).map_err(NetfrontError::Grant)?);
            tx_bufs.push(t);
            let r = page()?;
            rx_grefs
                .push(gnttab::grant(backend_id, r as u64, false).map_err(NetfrontError::Grant)?);
            rx_bufs.push(r);
        }
        let port = ops::alloc_unbound(backend_id).map_err(NetfrontError::Evtchn)?;
        platform::listen(port);
        let probe = Box::new(RxProbe {
            ring: rx,
            cons: AtomicU32::new(0),
        });
        let handle = platform::register_probe(rx_ready, &*probe as *const RxProbe as usize)
            .ok_or(NetfrontError::TooManyDevices)?;
        let mut nf = Netfront {
            mac,
            port,
            handle,
            tx,
            rx,
            tx_bufs,
            tx_grefs,
            tx_free: (0..SLOTS as u16).rev().collect(),
            tx_prod: 0,
            tx_cons: 0,
            rx_bufs,
            rx_grefs,
            rx_prod: 0,
            probe,
        };
        for id in 0..SLOTS as u16 {
            nf.post_rx(id);
        }
        u32_at(rx, REQ_PROD).store(nf.rx_prod, Ordering::Release);

        for (key, value) in [
            ("tx-ring-ref", format!("{tx_ref}")),
            ("rx-ring-ref", format!("{rx_ref}")),
            ("event-channel", format!("{port}")),
            ("request-rx-copy", "1".into()),
            ("feature-rx-notify", "1".into()),
            // Checksums are computed by whoever sends (our stack does;
            // this makes dom0 fill in its own before they reach us).
            ("feature-no-csum-offload", "1".into()),
            ("feature-sg", "0".into()),
            ("feature-gso-tcpv4", "0".into()),
            ("state", "4".into()),
        ] {
            let path = format!("{front}/{key}");
            xenstore::write(&path, &value).map_err(store(format!("write {path}")))?;
        }
        wait_backend(&backend, "Connected", |s| s == "4")?;
        Ok(nf)
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    pub fn mtu(&self) -> u16 {
        MTU
    }

    /// The handle [`crate::wait`] reports when a frame is waiting.
    pub fn handle(&self) -> usize {
        self.handle
    }

    fn notify(&self, ring: *mut u8, old: u32, new: u32) {
        fence(Ordering::SeqCst);
        if needs_notify(old, new, u32_at(ring, REQ_EVENT).load(Ordering::Acquire)) {
            let _ = ops::send(self.port);
        }
    }

    fn post_rx(&mut self, id: u16) {
        let slot = HEADER + (self.rx_prod % SLOTS) as usize * RX_SLOT;
        w16(self.rx, slot, id);
        w16(self.rx, slot + 2, 0);
        w32(self.rx, slot + 4, self.rx_grefs[id as usize]);
        self.rx_prod = self.rx_prod.wrapping_add(1);
    }

    /// Take back transmit slots the backend is done with.
    fn reclaim_tx(&mut self) {
        let prod = u32_at(self.tx, RSP_PROD).load(Ordering::Acquire);
        while self.tx_cons != prod {
            let slot = HEADER + (self.tx_cons % SLOTS) as usize * TX_SLOT;
            let id = r16(self.tx, slot);
            if (id as u32) < SLOTS && !self.tx_free.contains(&id) {
                self.tx_free.push(id);
            }
            self.tx_cons = self.tx_cons.wrapping_add(1);
        }
    }

    /// Whether a transmit slot is free (after taking back finished ones).
    pub fn tx_ready(&mut self) -> bool {
        self.reclaim_tx();
        !self.tx_free.is_empty()
    }

    /// Frames the backend has not finished sending.
    pub fn tx_in_flight(&mut self) -> usize {
        self.reclaim_tx();
        SLOTS as usize - self.tx_free.len()
    }

    /// Send one frame: `fill` writes it into a `size`-byte buffer and
    /// returns its length (0 sends nothing). `Ok(false)` if every slot is
    /// in flight.
    pub fn write(
        &mut self,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<bool, (usize, usize)> {
        let max = usize::from(MTU) + 14;
        if size > max {
            return Err((size, max));
        }
        self.reclaim_tx();
        let Some(id) = self.tx_free.pop() else {
            return Ok(false);
        };
        // SAFETY: our page, `size <= 4096`, not granted for writing.
        let buf = unsafe { core::slice::from_raw_parts_mut(self.tx_bufs[id as usize], size) };
        let n = fill(buf);
        if n == 0 || n > size {
            self.tx_free.push(id);
            return if n == 0 { Ok(true) } else { Err((n, size)) };
        }
        let slot = HEADER + (self.tx_prod % SLOTS) as usize * TX_SLOT;
        w32(self.tx, slot, self.tx_grefs[id as usize]);
        w16(self.tx, slot + 4, 0);
        w16(self.tx, slot + 6, 0);
        w16(self.tx, slot + 8, id);
        w16(self.tx, slot + 10, n as u16);
        let old = self.tx_prod;
        self.tx_prod = self.tx_prod.wrapping_add(1);
        fence(Ordering::Release);
        u32_at(self.tx, REQ_PROD).store(self.tx_prod, Ordering::Release);
        self.notify(self.tx, old, self.tx_prod);
        Ok(true)
    }

    /// Whether a received frame is waiting.
    pub fn rx_ready(&self) -> bool {
        rx_ready(&*self.probe as *const RxProbe as usize)
    }

    /// Hand the next received frame to `f` (zero-copy); `None` if there
    /// is none. Errors and multi-slot frames are dropped.
    pub fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let mut f = Some(f);
        loop {
            let cons = self.probe.cons.load(Ordering::Relaxed);
            let prod = u32_at(self.rx, RSP_PROD).load(Ordering::Acquire);
            if cons == prod {
                // Ask to be notified of the next response, then look again
                // (one may have arrived before the request took effect).
                u32_at(self.rx, RSP_EVENT).store(cons.wrapping_add(1), Ordering::SeqCst);
                fence(Ordering::SeqCst);
                if u32_at(self.rx, RSP_PROD).load(Ordering::Acquire) == cons {
                    return None;
                }
                continue;
            }
            let slot = HEADER + (cons % SLOTS) as usize * RX_SLOT;
            let id = r16(self.rx, slot);
            let offset = r16(self.rx, slot + 2) as usize;
            let flags = r16(self.rx, slot + 4);
            let status = r16(self.rx, slot + 6) as i16;
            let mut next = cons.wrapping_add(1);
            if flags & NETRXF_EXTRA_INFO != 0 {
                // The extra-info slot that follows carries no data.
                next = next.wrapping_add(1);
            }
            self.probe.cons.store(next, Ordering::Relaxed);
            let id = id % SLOTS as u16;
            let mut out = None;
            let len = status as usize;
            if status > 0 && flags & NETRXF_MORE_DATA == 0 && offset + len <= 4096 {
                // SAFETY: the backend copied `len` bytes at `offset` into
                // our page; bounds checked above.
                let data = unsafe {
                    core::slice::from_raw_parts(self.rx_bufs[id as usize].add(offset), len)
                };
                out = f.take().map(|f| f(data));
            }
            let old = self.rx_prod;
            self.post_rx(id);
            fence(Ordering::Release);
            u32_at(self.rx, REQ_PROD).store(self.rx_prod, Ordering::Release);
            self.notify(self.rx, old, self.rx_prod);
            if out.is_some() {
                return out;
            }
        }
    }
}

impl Drop for Netfront {
    fn drop(&mut self) {
        platform::unregister_probe(self.handle);
    }
}

/// Poll the backend's `state` until `done`; the error names the state seen.
fn wait_backend(
    backend: &str,
    wanted: &'static str,
    done: impl Fn(&str) -> bool,
) -> Result<(), NetfrontError> {
    let path = format!("{backend}/state");
    match xenstore::wait_for(&path, BACKEND_TIMEOUT_NS, done) {
        Ok(_) => Ok(()),
        Err(XsError::Timeout) => Err(NetfrontError::Backend {
            path: backend.into(),
            wanted,
            state: xenstore::read(&path).unwrap_or_default(),
        }),
        Err(cause) => Err(NetfrontError::Store {
            what: format!("read {path}"),
            cause,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macs_parse() {
        assert_eq!(
            parse_mac("00:16:3e:0a:Bb:ff"),
            Some([0, 0x16, 0x3e, 0x0a, 0xbb, 0xff])
        );
        assert_eq!(parse_mac("00:16:3e:0a:bb"), None);
        assert_eq!(parse_mac("00:16:3e:0a:bb:ff:00"), None);
        assert_eq!(parse_mac("0:16:3e:0a:bb:ff"), None);
    }

    #[test]
    fn notify_only_when_the_event_index_is_crossed() {
        assert!(needs_notify(0, 1, 1));
        assert!(!needs_notify(1, 2, 1));
        assert!(needs_notify(5, 9, 7));
        assert!(needs_notify(u32::MAX, 1, 0));
        assert!(!needs_notify(10, 12, 20));
    }
}
