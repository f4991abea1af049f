//! Devices found on the PCI bus at boot, handed out once each, in PCI order.

use alloc::vec::Vec;
use core::fmt;

use crate::blk::Blk;
use crate::cell::Global;
use crate::nic::Net;
use crate::pci::{self, PciAddress, PciFunction};
use crate::virtio::{self, SetupError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    Net,
    Block,
}

#[derive(Clone, Copy, Debug)]
pub struct DeviceInfo {
    pub kind: DeviceKind,
    pub pci: PciAddress,
    pub io_base: u16,
    /// PIC line assigned by the firmware (0 or 255: none).
    pub irq: u8,
}

struct Entry {
    info: DeviceInfo,
    function: PciFunction,
    taken: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// There are fewer devices of that kind.
    NotFound,
    /// Already handed out.
    AlreadyOpen,
    Setup(SetupError),
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound => f.write_str("no such device"),
            Self::AlreadyOpen => f.write_str("device already open"),
            Self::Setup(e) => write!(f, "device set-up failed: {e}"),
        }
    }
}

static DEVICES: Global<Vec<Entry>> = Global::new(Vec::new());
static INFOS: Global<Vec<DeviceInfo>> = Global::new(Vec::new());

/// Classify a PCI function as a legacy virtio net or block device.
pub fn classify(f: &PciFunction) -> Option<(DeviceKind, u16)> {
    if f.vendor != virtio::VENDOR
        || !virtio::LEGACY_DEVICE_IDS.contains(&f.device)
        || f.revision != 0
    {
        return None;
    }
    let kind = match f.subsystem {
        virtio::TYPE_NET => DeviceKind::Net,
        virtio::TYPE_BLOCK => DeviceKind::Block,
        _ => return None,
    };
    Some((kind, f.io_bar(0)?))
}

/// Scan the PCI bus. Called once at boot, after the heap exists.
#[cfg_attr(not(unik_kernel), allow(dead_code))]
pub(crate) fn probe() {
    // SAFETY: boot is single-threaded and nothing else holds these.
    let (devices, infos) = unsafe { (&mut *DEVICES.get(), &mut *INFOS.get()) };
    pci::enumerate(|f| {
        if let Some((kind, io_base)) = classify(f) {
            let info = DeviceInfo {
                kind,
                pci: f.address,
                io_base,
                irq: f.interrupt_line,
            };
            devices.push(Entry {
                info,
                function: *f,
                taken: false,
            });
            infos.push(info);
        }
    });
}

/// Every virtio net and block device found, in PCI order.
pub fn devices() -> &'static [DeviceInfo] {
    // SAFETY: only `probe` writes, before the application starts.
    unsafe { &*INFOS.get() }
}

fn take(kind: DeviceKind, n: usize) -> Result<(PciFunction, u16), OpenError> {
    // SAFETY: single-threaded; no reference into DEVICES outlives this call.
    let devices = unsafe { &mut *DEVICES.get() };
    let entry = devices
        .iter_mut()
        .filter(|e| e.info.kind == kind)
        .nth(n)
        .ok_or(OpenError::NotFound)?;
    if entry.taken {
        return Err(OpenError::AlreadyOpen);
    }
    entry.taken = true;
    Ok((entry.function, entry.info.io_base))
}

/// Open the `n`-th network device (PCI order). Each device opens once.
pub fn open_net(n: usize) -> Result<Net, OpenError> {
    let (f, io) = take(DeviceKind::Net, n)?;
    Net::open(&f, io).map_err(OpenError::Setup)
}

/// Open the `n`-th block device (PCI order). Each device opens once.
pub fn open_blk(n: usize) -> Result<Blk, OpenError> {
    let (f, io) = take(DeviceKind::Block, n)?;
    Blk::open(&f, io).map_err(OpenError::Setup)
}
