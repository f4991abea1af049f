//! The legacy virtio-pci register block in I/O space.

use super::{Queue, SetupError};
use crate::cpu::{inb, inl, inw, outb, outl, outw};

const HOST_FEATURES: u16 = 0x00;
const GUEST_FEATURES: u16 = 0x04;
const QUEUE_PFN: u16 = 0x08;
const QUEUE_SIZE: u16 = 0x0c;
const QUEUE_SELECT: u16 = 0x0e;
const QUEUE_NOTIFY: u16 = 0x10;
const STATUS: u16 = 0x12;
pub const ISR: u16 = 0x13;
/// Device-specific configuration while MSI-X is off.
const CONFIG: u16 = 0x14;

pub const STATUS_ACKNOWLEDGE: u8 = 1;
pub const STATUS_DRIVER: u8 = 2;
pub const STATUS_DRIVER_OK: u8 = 4;
pub const STATUS_FAILED: u8 = 0x80;

/// One device's I/O BAR.
#[derive(Clone, Copy, Debug)]
pub struct LegacyPci {
    base: u16,
}

impl LegacyPci {
    /// # Safety
    /// `base` must be the I/O BAR 0 of a legacy virtio device the caller owns.
    pub unsafe fn new(base: u16) -> Self {
        Self { base }
    }

    pub fn isr_port(&self) -> u16 {
        self.base + ISR
    }

    fn out8(&self, reg: u16, v: u8) {
        // SAFETY: owned BAR (see `new`).
        unsafe { outb(self.base + reg, v) }
    }

    fn in8(&self, reg: u16) -> u8 {
        // SAFETY: owned BAR (see `new`).
        unsafe { inb(self.base + reg) }
    }

    /// Reset, acknowledge, and return the offered features.
    pub fn begin(&self) -> u32 {
        self.out8(STATUS, 0);
        self.out8(STATUS, STATUS_ACKNOWLEDGE);
        self.out8(STATUS, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
        // SAFETY: owned BAR.
        unsafe { inl(self.base + HOST_FEATURES) }
    }

    pub fn set_features(&self, features: u32) {
        // SAFETY: owned BAR.
        unsafe { outl(self.base + GUEST_FEATURES, features) }
    }

    /// Allocate queue `index` at the device's fixed size and hand it over.
    pub fn setup_queue(&self, index: u16) -> Result<Queue, SetupError> {
        // SAFETY: owned BAR.
        let size = unsafe {
            outw(self.base + QUEUE_SELECT, index);
            inw(self.base + QUEUE_SIZE)
        };
        if size == 0 {
            return Err(SetupError::NoQueue(index));
        }
        let queue = Queue::new(size, index)?;
        let pfn = queue.phys_addr() >> 12;
        let pfn = u32::try_from(pfn).map_err(|_| SetupError::RingTooHigh)?;
        // SAFETY: owned BAR; the ring lives until the device is reset.
        unsafe { outl(self.base + QUEUE_PFN, pfn) };
        Ok(queue)
    }

    pub fn driver_ok(&self) {
        self.out8(
            STATUS,
            STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK,
        );
    }

    pub fn fail(&self) {
        self.out8(STATUS, self.in8(STATUS) | STATUS_FAILED);
    }

    /// Stop the device: it forgets its queues and stops DMA.
    pub fn reset(&self) {
        self.out8(STATUS, 0);
    }

    pub fn notify(&self, queue: u16) {
        // SAFETY: owned BAR.
        unsafe { outw(self.base + QUEUE_NOTIFY, queue) }
    }

    pub fn config8(&self, offset: u16) -> u8 {
        self.in8(CONFIG + offset)
    }

    pub fn config16(&self, offset: u16) -> u16 {
        // SAFETY: owned BAR.
        unsafe { inw(self.base + CONFIG + offset) }
    }

    pub fn config32(&self, offset: u16) -> u32 {
        // SAFETY: owned BAR.
        unsafe { inl(self.base + CONFIG + offset) }
    }

    /// A 64-bit field, re-read until both halves come from the same value.
    pub fn config64(&self, offset: u16) -> u64 {
        loop {
            let hi = self.config32(offset + 4);
            let lo = self.config32(offset);
            if self.config32(offset + 4) == hi {
                return (u64::from(hi) << 32) | u64::from(lo);
            }
        }
    }
}
