//! virtio-blk (legacy): synchronous requests at 512-byte sector granularity,
//! using the caller's buffer for DMA (memory is mapped 1:1).

use alloc::boxed::Box;
use core::fmt;

use crate::pci::PciFunction;
use crate::virtio::{Buffer, LegacyPci, Queue, SetupError};
use crate::{clock, irq};

pub const SECTOR_SIZE: usize = 512;
const F_RO: u32 = 1 << 5;
const F_BLK_SIZE: u32 = 1 << 6;
const F_FLUSH: u32 = 1 << 9;
const T_IN: u32 = 0;
const T_OUT: u32 = 1;
const T_FLUSH: u32 = 4;
/// Bytes per request; larger transfers are split.
const MAX_TRANSFER: usize = 256 * 1024;
const TIMEOUT_NS: u64 = 30_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlkError {
    /// Length not a multiple of the sector size.
    Unaligned,
    /// The transfer runs past the end of the device.
    OutOfRange,
    ReadOnly,
    /// The device reported an I/O error.
    Io,
    /// The device does not support the request (e.g. flush).
    Unsupported,
    /// No completion within 30 s; the device was reset and is unusable.
    Timeout,
}

impl fmt::Display for BlkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Self::Unaligned => "length is not a multiple of 512",
            Self::OutOfRange => "beyond the end of the device",
            Self::ReadOnly => "device is read-only",
            Self::Io => "device I/O error",
            Self::Unsupported => "request not supported",
            Self::Timeout => "device did not complete the request",
        };
        f.write_str(s)
    }
}

/// Check a transfer of `len` bytes at `sector` on a device of `capacity` sectors.
pub fn check_range(capacity: u64, sector: u64, len: usize) -> Result<(), BlkError> {
    if !len.is_multiple_of(SECTOR_SIZE) {
        return Err(BlkError::Unaligned);
    }
    let sectors = (len / SECTOR_SIZE) as u64;
    match sector.checked_add(sectors) {
        Some(end) if end <= capacity => Ok(()),
        _ => Err(BlkError::OutOfRange),
    }
}

#[repr(C, align(16))]
struct Request {
    header: [u8; 16],
    status: u8,
}

pub struct Blk {
    dev: LegacyPci,
    irq: u8,
    queue: Queue,
    capacity: u64,
    block_size: u32,
    read_only: bool,
    can_flush: bool,
    broken: bool,
    request: Box<Request>,
}

impl Blk {
    pub(crate) fn open(func: &PciFunction, io: u16) -> Result<Self, SetupError> {
        func.enable_io_and_dma();
        // SAFETY: the device registry hands each function out once.
        let dev = unsafe { LegacyPci::new(io) };
        let offered = dev.begin();
        let features = offered & (F_RO | F_BLK_SIZE | F_FLUSH);
        dev.set_features(features);
        let capacity = dev.config64(0);
        let block_size = if features & F_BLK_SIZE != 0 {
            dev.config32(20)
        } else {
            SECTOR_SIZE as u32
        };
        let mut queue = dev.setup_queue(0).inspect_err(|_| dev.fail())?;
        // Requests are completed by polling.
        queue.set_interrupts(false);
        // The line may be shared with a NIC, and config-change interrupts
        // still come: reading our ISR keeps a level-triggered line from
        // staying asserted.
        let irq = func.interrupt_line;
        if irq != 0 && irq < 16 {
            irq::register_isr_port(irq, dev.isr_port());
        }
        dev.driver_ok();
        Ok(Self {
            dev,
            irq,
            queue,
            capacity,
            block_size,
            read_only: features & F_RO != 0,
            can_flush: features & F_FLUSH != 0,
            broken: false,
            request: Box::new(Request {
                header: [0; 16],
                status: 0,
            }),
        })
    }

    /// Size in 512-byte sectors.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Transfer unit of `read`/`write`: always 512 for virtio-blk.
    pub fn sector_size(&self) -> usize {
        SECTOR_SIZE
    }

    /// The device's preferred block size (a hint; I/O still uses 512-byte sectors).
    pub fn block_size(&self) -> u32 {
        self.block_size
    }

    pub fn read_only(&self) -> bool {
        self.read_only
    }

    /// Read `buf.len()` bytes (a multiple of 512) starting at `sector`.
    pub fn read(&mut self, sector: u64, buf: &mut [u8]) -> Result<(), BlkError> {
        check_range(self.capacity, sector, buf.len())?;
        for (i, chunk) in buf.chunks_mut(MAX_TRANSFER).enumerate() {
            let at = sector + (i * MAX_TRANSFER / SECTOR_SIZE) as u64;
            self.request(T_IN, at, Some(Buffer::writable(chunk)))?;
        }
        Ok(())
    }

    /// Write `buf` (a multiple of 512 bytes) starting at `sector`.
    pub fn write(&mut self, sector: u64, buf: &[u8]) -> Result<(), BlkError> {
        if self.read_only {
            return Err(BlkError::ReadOnly);
        }
        check_range(self.capacity, sector, buf.len())?;
        for (i, chunk) in buf.chunks(MAX_TRANSFER).enumerate() {
            let at = sector + (i * MAX_TRANSFER / SECTOR_SIZE) as u64;
            self.request(T_OUT, at, Some(Buffer::readable(chunk)))?;
        }
        Ok(())
    }

    /// Ask the device to make completed writes durable.
    pub fn flush(&mut self) -> Result<(), BlkError> {
        if !self.can_flush {
            return Err(BlkError::Unsupported);
        }
        self.request(T_FLUSH, 0, None)
    }

    fn request(&mut self, kind: u32, sector: u64, data: Option<Buffer>) -> Result<(), BlkError> {
        if self.broken {
            return Err(BlkError::Timeout);
        }
        let req = &mut *self.request;
        req.header[..4].copy_from_slice(&kind.to_le_bytes());
        req.header[4..8].fill(0);
        req.header[8..].copy_from_slice(&sector.to_le_bytes());
        req.status = 0xff;
        let header = Buffer::readable(&req.header);
        let status = Buffer::writable(core::slice::from_mut(&mut req.status));
        let pushed = match data {
            Some(d) => self.queue.push(&[header, d, status]),
            None => self.queue.push(&[header, status]),
        };
        // One request at a time, so the queue always has room.
        pushed.ok_or(BlkError::Io)?;
        if self.queue.should_notify() {
            self.dev.notify(0);
        }
        let deadline = clock::now_ns().saturating_add(TIMEOUT_NS);
        while !self.queue.has_used() {
            if clock::now_ns() > deadline {
                // The device may still DMA into the buffers: stop it for good.
                self.dev.reset();
                self.broken = true;
                return Err(BlkError::Timeout);
            }
            core::hint::spin_loop();
        }
        self.queue.pop_used();
        // SAFETY: the device has completed; read what it wrote.
        match unsafe { (&raw const self.request.status).read_volatile() } {
            0 => Ok(()),
            2 => Err(BlkError::Unsupported),
            _ => Err(BlkError::Io),
        }
    }
}

impl Drop for Blk {
    fn drop(&mut self) {
        self.dev.reset();
        irq::unregister_isr_port(self.irq, self.dev.isr_port());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_checks() {
        assert_eq!(check_range(8, 0, 4096), Ok(()));
        assert_eq!(check_range(8, 1, 4096), Err(BlkError::OutOfRange));
        assert_eq!(check_range(8, 0, 100), Err(BlkError::Unaligned));
        assert_eq!(check_range(8, u64::MAX, 512), Err(BlkError::OutOfRange));
        assert_eq!(check_range(8, 8, 0), Ok(()));
    }
}
