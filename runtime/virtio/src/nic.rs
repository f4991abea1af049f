//! virtio-net (legacy): one receive and one transmit queue, frames copied
//! through driver-owned buffers. The MTU excludes the 14-byte Ethernet header,
//! as in Solo5.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use crate::irq;
use crate::pci::PciFunction;
use crate::platform;
use crate::virtio::{Buffer, LegacyPci, Queue, SetupError};

/// `struct virtio_net_hdr` without mergeable buffers.
pub const NET_HDR_LEN: usize = 10;
pub const ETHERNET_HEADER: usize = 14;
const DEFAULT_MTU: u16 = 1500;
const F_MTU: u32 = 1 << 3;
const F_MAC: u32 = 1 << 5;
const F_ANY_LAYOUT: u32 = 1 << 27;
const RX_QUEUE: u16 = 0;
const TX_QUEUE: u16 = 1;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// Every transmit buffer is in flight; try again after the device drains.
    Again,
    /// `write` was asked for more than MTU + Ethernet header bytes.
    TooLarge { size: usize, max: usize },
    /// The fill function returned more bytes than it was lent.
    BadLength { filled: usize, size: usize },
    /// The received frame did not fit in the caller's buffer (it is dropped).
    BufferTooSmall { frame: usize, buffer: usize },
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Again => write!(f, "transmit queue full"),
            Self::TooLarge { size, max } => write!(f, "frame of {size} bytes exceeds {max}"),
            Self::BadLength { filled, size } => {
                write!(f, "fill returned {filled} for a {size}-byte buffer")
            }
            Self::BufferTooSmall { frame, buffer } => {
                write!(f, "received frame of {frame} bytes, buffer holds {buffer}")
            }
        }
    }
}

/// Per-slot buffer size: header + largest frame (+ a VLAN tag), in 2 KiB steps.
fn slot_size(mtu: u16) -> usize {
    (NET_HDR_LEN + ETHERNET_HEADER + 4 + usize::from(mtu)).next_multiple_of(2048)
}

pub struct Net {
    dev: LegacyPci,
    irq: u8,
    mac: [u8; 6],
    mtu: u16,
    slot: usize,
    rx: Queue,
    rx_mem: Box<[u8]>,
    /// Descriptor head -> buffer slot.
    rx_slot_of: Vec<u16>,
    tx: Queue,
    tx_mem: Box<[u8]>,
    tx_slot_of: Vec<u16>,
    tx_free: Vec<u16>,
    handle: usize,
}

impl Net {
    /// Bring up the legacy virtio-net function `func` (I/O BAR 0).
    pub(crate) fn open(func: &PciFunction, io: u16) -> Result<Self, SetupError> {
        func.enable_io_and_dma();
        // SAFETY: the device registry hands each function out once.
        let dev = unsafe { LegacyPci::new(io) };
        let offered = dev.begin();
        if offered & F_MAC == 0 {
            dev.fail();
            return Err(SetupError::MissingFeature(5));
        }
        let features = offered & (F_MAC | F_MTU | F_ANY_LAYOUT);
        dev.set_features(features);
        let mac = core::array::from_fn(|i| dev.config8(i as u16));
        let mtu = if features & F_MTU != 0 {
            dev.config16(10)
        } else {
            DEFAULT_MTU
        };
        let setup = || -> Result<(Queue, Queue), SetupError> {
            Ok((dev.setup_queue(RX_QUEUE)?, dev.setup_queue(TX_QUEUE)?))
        };
        let (rx, mut tx) = setup().inspect_err(|_| dev.fail())?;
        let slot = slot_size(mtu);
        let rx_n = usize::from(rx.size());
        let tx_n = usize::from(tx.size());
        let handle = platform::register_probe(rx.used_idx_ptr()).ok_or_else(|| {
            dev.fail();
            SetupError::OutOfMemory
        })?;
        let mut net = Self {
            dev,
            irq: func.interrupt_line,
            mac,
            mtu,
            slot,
            rx,
            rx_mem: vec![0u8; rx_n * slot].into_boxed_slice(),
            rx_slot_of: vec![0; rx_n],
            tx_mem: vec![0u8; tx_n * slot].into_boxed_slice(),
            tx_slot_of: vec![0; tx_n],
            tx_free: (0..tx.size()).rev().collect(),
            tx: {
                // Transmit completions are reaped lazily; no interrupts needed.
                tx.set_interrupts(false);
                tx
            },
            handle,
        };
        for s in 0..net.rx.size() {
            net.post_rx(s);
        }
        if net.irq != 0 && net.irq < 16 {
            irq::register_isr_port(net.irq, net.dev.isr_port());
        }
        net.dev.driver_ok();
        net.dev.notify(RX_QUEUE);
        Ok(net)
    }

    fn post_rx(&mut self, slot: u16) {
        let start = usize::from(slot) * self.slot;
        let buf = &mut self.rx_mem[start..start + self.slot];
        // A free descriptor always exists: one per slot, and this slot's was just returned.
        if let Some(head) = self.rx.push(&[Buffer::writable(buf)]) {
            self.rx_slot_of[usize::from(head)] = slot;
        }
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Largest payload after the Ethernet header.
    pub fn mtu(&self) -> u16 {
        self.mtu
    }

    /// Largest frame `write` accepts and `poll_receive` may return.
    pub fn max_frame(&self) -> usize {
        usize::from(self.mtu) + ETHERNET_HEADER
    }

    /// This device's bit in [`crate::wait`]'s interest and ready sets.
    pub fn handle(&self) -> usize {
        self.handle
    }

    /// Whether a received frame is waiting.
    pub fn rx_ready(&self) -> bool {
        self.rx.has_used()
    }

    /// Send one frame: `fill` gets a `size`-byte buffer and returns the frame
    /// length it wrote (0 sends nothing). Returns that length.
    pub fn write(
        &mut self,
        size: usize,
        fill: impl FnOnce(&mut [u8]) -> usize,
    ) -> Result<usize, NetError> {
        let max = self.max_frame();
        if size > max {
            return Err(NetError::TooLarge { size, max });
        }
        self.reclaim_tx();
        let slot = self.tx_free.pop().ok_or(NetError::Again)?;
        let start = usize::from(slot) * self.slot;
        let buf = &mut self.tx_mem[start..start + NET_HDR_LEN + size];
        buf[..NET_HDR_LEN].fill(0);
        let filled = fill(&mut buf[NET_HDR_LEN..]);
        if filled == 0 || filled > size {
            self.tx_free.push(slot);
            return if filled == 0 {
                Ok(0)
            } else {
                Err(NetError::BadLength { filled, size })
            };
        }
        let frame = &self.tx_mem[start..start + NET_HDR_LEN + filled];
        let Some(head) = self.tx.push(&[Buffer::readable(frame)]) else {
            self.tx_free.push(slot);
            return Err(NetError::Again);
        };
        self.tx_slot_of[usize::from(head)] = slot;
        if self.tx.should_notify() {
            self.dev.notify(TX_QUEUE);
        }
        Ok(filled)
    }

    /// Frames handed to the device that it has not finished sending. A
    /// program that exits right after `write` should wait for 0 first, or
    /// the last frames may never leave the host side.
    pub fn tx_in_flight(&mut self) -> usize {
        self.reclaim_tx();
        usize::from(self.tx.size()) - self.tx_free.len()
    }

    /// Whether `write` has a transmit buffer (after reclaiming finished ones).
    pub fn tx_ready(&mut self) -> bool {
        self.reclaim_tx();
        !self.tx_free.is_empty()
    }

    fn reclaim_tx(&mut self) {
        while let Some((head, _)) = self.tx.pop_used() {
            self.tx_free.push(self.tx_slot_of[usize::from(head)]);
        }
    }

    /// Hand the next received frame (without the virtio header) to `f`.
    pub fn receive<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let (head, len) = self.rx.pop_used()?;
        let slot = self.rx_slot_of[usize::from(head)];
        let start = usize::from(slot) * self.slot;
        let len = (len as usize).min(self.slot);
        let frame = self
            .rx_mem
            .get(start + NET_HDR_LEN..start + len)
            .unwrap_or(&[]);
        let result = f(frame);
        self.post_rx(slot);
        if self.rx.should_notify() {
            self.dev.notify(RX_QUEUE);
        }
        platform::update_probe(self.handle, self.rx.last_used());
        Some(result)
    }

    /// Copy the next received frame into `buf`: `Ok(Some(len))`, or `Ok(None)`
    /// when nothing is waiting. A frame larger than `buf` is dropped.
    pub fn poll_receive(&mut self, buf: &mut [u8]) -> Result<Option<usize>, NetError> {
        let capacity = buf.len();
        match self.receive(|frame| {
            let dst = buf.get_mut(..frame.len()).ok_or(frame.len())?;
            dst.copy_from_slice(frame);
            Ok(frame.len())
        }) {
            None => Ok(None),
            Some(Ok(n)) => Ok(Some(n)),
            Some(Err(frame)) => Err(NetError::BufferTooSmall {
                frame,
                buffer: capacity,
            }),
        }
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        // Stop DMA before the rings and buffers are freed.
        self.dev.reset();
        irq::unregister_isr_port(self.irq, self.dev.isr_port());
        platform::unregister_probe(self.handle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_hold_header_and_largest_frame() {
        assert_eq!(slot_size(1500), 2048);
        assert_eq!(slot_size(2000), 2048);
        assert_eq!(slot_size(2100), 4096);
        assert!(slot_size(9000) >= NET_HDR_LEN + 9000 + ETHERNET_HEADER);
    }
}
