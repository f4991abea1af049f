//! Legacy (0.9.5) virtio over PCI I/O port BAR 0, as QEMU's transitional
//! virtio-pci devices offer it, with split virtqueues.

pub mod legacy;
pub mod queue;

pub use legacy::LegacyPci;
pub use queue::{Buffer, Queue};

pub const VENDOR: u16 = 0x1af4;
/// Transitional device ids; the subsystem id names the device type.
pub const LEGACY_DEVICE_IDS: core::ops::RangeInclusive<u16> = 0x1000..=0x103f;
pub const TYPE_NET: u16 = 1;
pub const TYPE_BLOCK: u16 = 2;

/// Errors while bringing up a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetupError {
    /// The device reports a queue of size 0 (queue absent).
    NoQueue(u16),
    /// A feature the driver needs is not offered.
    MissingFeature(u32),
    /// Ring or buffer memory could not be allocated.
    OutOfMemory,
    /// The ring sits above what the 32-bit PFN register can address.
    RingTooHigh,
}

impl core::fmt::Display for SetupError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NoQueue(q) => write!(f, "virtqueue {q} is absent"),
            Self::MissingFeature(bit) => write!(f, "device lacks feature bit {bit}"),
            Self::OutOfMemory => write!(f, "out of memory for virtqueue"),
            Self::RingTooHigh => write!(f, "virtqueue above the 16 TiB legacy limit"),
        }
    }
}
