//! The network device model: the device lends a buffer, the stack fills it.

use alloc::collections::VecDeque;
use alloc::vec;
use alloc::vec::Vec;

/// Why a device did not take a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxError {
    /// No transmit buffer is free now; try again later.
    Busy,
}

/// A network device as the stack sees it when transmitting.
pub trait Device {
    /// The largest IPv4 packet the device carries (Ethernet header excluded, as Solo5's).
    fn mtu(&self) -> usize;

    /// Allocates a buffer of at least `size` bytes meeting the backend's needs and calls `fill`,
    /// which writes one Ethernet frame at its start and returns the frame's length. `fill`
    /// cannot fail and must not keep the buffer.
    fn write<F: FnOnce(&mut [u8]) -> usize>(&mut self, size: usize, fill: F)
    -> Result<(), TxError>;

    /// Largest IPv4 or IPv6 packet carrying one TCP segment that the device cuts into
    /// MSS-sized segments itself (TCP segmentation offload); 0: none.
    fn tso_max(&self) -> usize {
        0
    }

    /// As `write`, for one Ethernet/IPv4/TCP or Ethernet/IPv6/TCP frame (no IPv6 extension
    /// headers) of up to `tso_max()` plus the Ethernet
    /// header that the device segments into `mss`-byte payloads. The TCP checksum field holds
    /// the pseudo-header sum over the whole TCP length (folded, not complemented); the device
    /// completes every segment's checksum. Only called when `tso_max()` is not 0.
    fn write_tso<F: FnOnce(&mut [u8]) -> usize>(
        &mut self,
        size: usize,
        mss: usize,
        fill: F,
    ) -> Result<(), TxError>;
}

/// A device that appends each frame to a queue: for tests and for adapters whose real device
/// is asynchronous.
#[derive(Debug, Clone)]
pub struct FrameQueue {
    pub frames: VecDeque<Vec<u8>>,
    /// Refuse frames once this many are queued (`None`: unbounded).
    pub limit: Option<usize>,
    pub mtu: usize,
    /// Offered TCP segmentation offload (`Device::tso_max`); TSO frames are queued whole.
    pub tso_max: usize,
}

impl Default for FrameQueue {
    fn default() -> FrameQueue {
        FrameQueue {
            frames: VecDeque::new(),
            limit: None,
            mtu: 1500,
            tso_max: 0,
        }
    }
}

impl FrameQueue {
    pub fn new() -> FrameQueue {
        FrameQueue::default()
    }
}

impl Device for FrameQueue {
    fn mtu(&self) -> usize {
        self.mtu
    }

    fn write<F: FnOnce(&mut [u8]) -> usize>(
        &mut self,
        size: usize,
        fill: F,
    ) -> Result<(), TxError> {
        if self.limit.is_some_and(|l| self.frames.len() >= l) {
            return Err(TxError::Busy);
        }
        let mut buf = vec![0u8; size];
        let n = fill(&mut buf).min(size);
        buf.truncate(n);
        self.frames.push_back(buf);
        Ok(())
    }

    fn tso_max(&self) -> usize {
        self.tso_max
    }

    fn write_tso<F: FnOnce(&mut [u8]) -> usize>(
        &mut self,
        size: usize,
        mss: usize,
        fill: F,
    ) -> Result<(), TxError> {
        let _ = mss;
        self.write(size, fill)
    }
}
