//! `unik_rt` over the Solo5 API (feature `rt`): the executor's platform and
//! the devices generated code connects. Constructors return
//! `Result<Device, E: Display>`, as on unix.
//!
//! Console, clocks, sleep, boot arguments, RDRAND and the in-memory store
//! are `unik_freestanding`'s, over the Solo5 console, clocks and command
//! line that boot registers (`start.rs`); only the network and block
//! devices are Solo5's own.

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};

pub use unik_freestanding::devices::{argv, console, kv_mem, mclock, pclock, random, sleep};

use unik_rt::{Interest, Platform, Readiness, ReadySet};

use crate::devices::Error;

/// The executor's platform: `solo5_yield` is the only way to block.
#[derive(Debug, Default)]
pub struct Solo5Platform;

impl Solo5Platform {
    pub const fn new() -> Self {
        Self
    }
}

impl Platform for Solo5Platform {
    fn now_ns(&self) -> u64 {
        crate::clock_monotonic()
    }

    fn wait(&self, deadline_ns: Option<u64>, interest: &[Interest]) -> ReadySet {
        // Solo5 writes never block, so a writer never has to wait.
        if interest.iter().any(|i| i.write) {
            let mut ready = ReadySet::new();
            for i in interest.iter().filter(|i| i.write) {
                let r = Readiness {
                    write: true,
                    ..Readiness::default()
                };
                ready.push(i.handle, r);
            }
            return ready;
        }
        ReadySet::from_mask(crate::yield_until(deadline_ns.unwrap_or(u64::MAX)))
    }
}

pub mod net {
    use super::*;
    use unik_freestanding::devices::netdev::{Link, check_buffer, check_frame};
    use unik_rt::exec::readable;
    use unik_rt::{ETHERNET_HEADER, Mac, NetError, Offload, Received};

    /// A Solo5 network device (`NET_BASIC` manifest entry).
    #[derive(Debug)]
    pub struct Net {
        handle: crate::Handle,
        info: crate::NetInfo,
        tx: RefCell<Vec<u8>>,
        link: Link,
        /// spt under unikc-spt: the tap descriptor, whose frames travel
        /// behind a `virtio_net_hdr` with the offloads on
        /// (`crate::spt::vnet`). Otherwise Solo5's plain frames.
        vnet: Option<i32>,
    }

    fn io(e: Error) -> NetError {
        match e {
            Error::Invalid => NetError::Io(22),
            Error::Again => NetError::Io(11),
            Error::Unspecified => NetError::Io(5),
        }
    }

    /// Acquire the device the manifest calls `name` (once).
    pub fn connect(name: &str) -> Result<Net, NetError> {
        let (handle, info) = crate::net_acquire(name).map_err(|_| NetError::Disconnected)?;
        Ok(Net {
            handle,
            info,
            tx: RefCell::new(Vec::new()),
            link: Link::new(),
            vnet: vnet_fd(handle),
        })
    }

    #[cfg(feature = "spt")]
    fn vnet_fd(handle: crate::Handle) -> Option<i32> {
        crate::devices::acquired(handle, crate::abi::MFT_NET_BASIC)
            .ok()
            .filter(|e| e.net_vnet_hdr())
            .map(|e| e.hostfd())
    }

    #[cfg(not(feature = "spt"))]
    fn vnet_fd(_: crate::Handle) -> Option<i32> {
        None
    }

    impl Net {
        pub fn handle(&self) -> crate::Handle {
            self.handle
        }

        /// Whether frames go behind a `virtio_net_hdr` (unikc-spt's offloads).
        pub fn offloaded(&self) -> bool {
            self.vnet.is_some()
        }

        /// Lend `fill` a zeroed frame buffer of `size` bytes (behind room
        /// for the header in vnet mode) and send what it returns.
        fn transmit<F: FnOnce(&mut [u8]) -> usize>(
            &self,
            size: usize,
            mss: Option<usize>,
            fill: F,
        ) -> Result<(), NetError> {
            let head = if self.vnet.is_some() { HDR } else { 0 };
            let mut buf = self.tx.take();
            buf.clear();
            buf.resize(head + size, 0);
            let len = fill(&mut buf[head..]);
            let result = if len > size {
                Err(NetError::BadFillLength {
                    returned: len,
                    size,
                })
            } else {
                self.send(&mut buf[..head + len], mss)
            };
            self.tx.replace(buf);
            result
        }

        #[cfg(feature = "spt")]
        fn send(&self, buf: &mut [u8], mss: Option<usize>) -> Result<(), NetError> {
            use crate::spt::vnet;
            match self.vnet {
                Some(fd) => {
                    if let Some(mss) = mss {
                        let h = vnet::tso_header(&buf[HDR..], mss).ok_or(NetError::Io(22))?;
                        buf[..HDR].copy_from_slice(&h);
                    }
                    vnet::write(fd, buf).map_err(io)
                }
                None => crate::net_write(self.handle, buf).map_err(io),
            }
        }

        #[cfg(not(feature = "spt"))]
        fn send(&self, buf: &mut [u8], _: Option<usize>) -> Result<(), NetError> {
            crate::net_write(self.handle, buf).map_err(io)
        }

        /// vnet mode: one frame and its header.
        #[cfg(feature = "spt")]
        async fn read_vnet(&self, fd: i32, buf: &mut [u8]) -> Result<(usize, [u8; HDR]), NetError> {
            loop {
                self.link.check()?;
                let mut hdr = [0u8; HDR];
                match crate::spt::vnet::read(fd, &mut hdr, buf) {
                    Ok(n) if n <= buf.len() => return Ok((n, hdr)),
                    Ok(_) => continue, // truncated: dropped
                    Err(Error::Again) => readable(self.handle).await,
                    Err(e) => return Err(io(e)),
                }
            }
        }

        #[cfg(not(feature = "spt"))]
        async fn read_vnet(&self, _: i32, _: &mut [u8]) -> Result<(usize, [u8; HDR]), NetError> {
            Err(NetError::Disconnected)
        }
    }

    /// `virtio_net_hdr` size (vnet mode only).
    const HDR: usize = 10;
    /// Largest IPv4 packet: the TSO limit in vnet mode (for IPv6 too, header included).
    const MAX_PACKET: usize = 65_535;
    /// Largest IPv6 packet (fixed header and a 16-bit payload length): the
    /// receive-offload limit in vnet mode, IPv4's packets being smaller.
    const MAX_RX_PACKET: usize = 40 + 65_535;

    impl unik_rt::Network for Net {
        fn mac(&self) -> Mac {
            Mac(self.info.mac)
        }

        fn mtu(&self) -> usize {
            usize::from(self.info.mtu)
        }

        fn offload(&self) -> Offload {
            match self.vnet {
                Some(_) => Offload {
                    tso_max: MAX_PACKET,
                    rx_max: MAX_RX_PACKET,
                },
                None => Offload::default(),
            }
        }

        async fn write<F: FnOnce(&mut [u8]) -> usize>(
            &self,
            size: usize,
            fill: F,
        ) -> Result<(), NetError> {
            self.link.check()?;
            check_frame(size, self.mtu())?;
            self.transmit(size, None, fill)
        }

        async fn write_tso<F: FnOnce(&mut [u8]) -> usize>(
            &self,
            size: usize,
            mss: usize,
            fill: F,
        ) -> Result<(), NetError> {
            self.link.check()?;
            let max = self.offload().tso_max + ETHERNET_HEADER;
            if self.vnet.is_none() || size > max {
                return Err(NetError::FrameTooLarge { size, max });
            }
            self.transmit(size, Some(mss), fill)
        }

        async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
            check_buffer(buf.len(), self.mtu())?;
            if let Some(fd) = self.vnet {
                loop {
                    let (n, hdr) = self.read_vnet(fd, buf).await?;
                    // A plain consumer gets complete checksums; coalesced
                    // segments cannot be plain frames and are dropped.
                    #[cfg(feature = "spt")]
                    if crate::spt::vnet::complete_checksum(&hdr, &mut buf[..n]) {
                        return Ok(n);
                    }
                    #[cfg(not(feature = "spt"))]
                    let _ = (n, hdr);
                }
            }
            loop {
                self.link.check()?;
                match crate::net_read(self.handle, buf) {
                    Ok(n) => return Ok(n),
                    Err(Error::Again) => readable(self.handle).await,
                    Err(e) => return Err(io(e)),
                }
            }
        }

        async fn recv_offload(&self, buf: &mut [u8]) -> Result<Received, NetError> {
            let Some(fd) = self.vnet else {
                let len = self.recv(buf).await?;
                return Ok(Received {
                    len,
                    checksum_trusted: false,
                });
            };
            let needed = self.mtu().max(MAX_RX_PACKET) + ETHERNET_HEADER;
            if buf.len() < needed {
                return Err(NetError::BufferTooSmall {
                    len: buf.len(),
                    needed,
                });
            }
            let (len, hdr) = self.read_vnet(fd, buf).await?;
            Ok(Received {
                len,
                // NEEDS_CSUM (1) or DATA_VALID (2).
                checksum_trusted: hdr[0] & 3 != 0,
            })
        }

        fn disconnect(&self) {
            self.link.disconnect();
        }
    }
}

pub mod block {
    use super::*;
    use unik_rt::{BlockError, BlockInfo};

    /// A Solo5 block device (`BLOCK_BASIC` manifest entry); sectors are
    /// Solo5 blocks.
    #[derive(Debug)]
    pub struct Block {
        handle: crate::Handle,
        info: crate::BlockInfo,
        disconnected: Cell<bool>,
    }

    fn io(e: Error) -> BlockError {
        match e {
            Error::Invalid => BlockError::Io(22),
            Error::Again => BlockError::Io(11),
            Error::Unspecified => BlockError::Io(5),
        }
    }

    /// Acquire the device the manifest calls `name` (once).
    pub fn connect(name: &str) -> Result<Block, BlockError> {
        let (handle, info) = crate::block_acquire(name).map_err(|_| BlockError::NotFound)?;
        Ok(Block::from_acquired(handle, info))
    }

    impl Block {
        /// Wrap a device already acquired with [`crate::block_acquire`].
        pub fn from_acquired(handle: crate::Handle, info: crate::BlockInfo) -> Self {
            Self {
                handle,
                info,
                disconnected: Cell::new(false),
            }
        }

        fn transfer(
            &self,
            sector: u64,
            len: usize,
            mut each: impl FnMut(u64, core::ops::Range<usize>) -> Result<(), Error>,
        ) -> Result<(), BlockError> {
            if self.disconnected.get() {
                return Err(BlockError::Disconnected);
            }
            unik_rt::Block::info(self).check(sector, len)?;
            let bs = self.info.block_size as usize;
            for (i, start) in (0..len).step_by(bs).enumerate() {
                let offset = (sector + i as u64) * self.info.block_size;
                each(offset, start..start + bs).map_err(io)?;
            }
            Ok(())
        }
    }

    impl unik_rt::Block for Block {
        fn info(&self) -> BlockInfo {
            BlockInfo {
                read_write: true,
                sector_size: self.info.block_size as usize,
                sectors: self.info.capacity / self.info.block_size.max(1),
            }
        }

        async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            let h = self.handle;
            self.transfer(sector, buf.len(), |off, r| {
                crate::block_read(h, off, &mut buf[r])
            })
        }

        async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
            let h = self.handle;
            self.transfer(sector, buf.len(), |off, r| {
                crate::block_write(h, off, &buf[r])
            })
        }

        fn disconnect(&self) {
            self.disconnected.set(true);
        }
    }
}
