//! `unik_rt` over the virtio platform (feature `rt`): the executor's
//! platform and the devices generated code connects, with the constructors
//! the device catalogue names (`unik_virtio::net::connect("service")`), as
//! on unix and Solo5.
//!
//! Host devices are named in the configuration (`netif "service"`,
//! `block_of_file "disk.img"`) but virtio-pci devices carry no names: the
//! generated `main` declares the names in order ([`declare_devices`]) and
//! `unikc run` attaches the devices to QEMU in that same order, so the
//! `n`-th declared network device is the `n`-th virtio-net function in PCI
//! order (likewise for block devices).
//!
//! Console, clocks, sleep, boot arguments, RDRAND and the in-memory store
//! are `unik_freestanding`'s, over COM1, the clocks and the command line
//! that boot registers (`start.rs`); only the network and block devices are
//! virtio's own.

pub use unik_freestanding::devices::{argv, console, kv_mem, mclock, pclock, random, sleep};

use unik_rt::{Interest, Platform, Readiness, ReadySet};

use crate::cell::Global;
use crate::devices::DeviceKind;

/// The executor's platform: [`crate::wait`] (`hlt` until the deadline or a
/// received frame) is the only way to block.
#[derive(Debug, Default)]
pub struct VirtioPlatform;

impl VirtioPlatform {
    pub const fn new() -> Self {
        Self
    }
}

impl Platform for VirtioPlatform {
    fn now_ns(&self) -> u64 {
        crate::now_ns()
    }

    fn wait(&self, deadline_ns: Option<u64>, interest: &[Interest]) -> ReadySet {
        let mut mask = 0u64;
        let mut ready = ReadySet::new();
        for i in interest {
            if i.read && i.handle < crate::platform::MAX_NET_DEVICES as u64 {
                mask |= 1 << i.handle;
            }
            // Transmit slots free up within a device round trip; writers
            // retry (and sleep briefly if the ring is still full).
            if i.write {
                let r = Readiness {
                    write: true,
                    ..Readiness::default()
                };
                ready.push(i.handle, r);
            }
        }
        if !ready.is_empty() {
            let now = crate::ready_set(mask);
            for bit in (0..64).filter(|b| now & (1 << b) != 0) {
                let r = Readiness {
                    read: true,
                    ..Readiness::default()
                };
                ready.push(bit, r);
            }
            return ready;
        }
        ReadySet::from_mask(crate::wait(deadline_ns.unwrap_or(u64::MAX), mask))
    }
}

static DECLARED: Global<&'static [(&'static str, DeviceKind)]> = Global::new(&[]);

/// Declares the image's host devices, in the order `unikc run` attaches
/// them (generated `main` calls this first).
pub fn declare_devices(devices: &'static [(&'static str, DeviceKind)]) {
    // SAFETY: single CPU; called once at boot before any device connects.
    unsafe { *DECLARED.get() = devices };
}

/// The index among devices of `kind` of the one declared as `name`.
fn index_of(name: &str, kind: DeviceKind) -> Option<usize> {
    // SAFETY: only `declare_devices` writes, before devices connect.
    let declared = unsafe { *DECLARED.get() };
    declared
        .iter()
        .filter(|(_, k)| *k == kind)
        .position(|(n, _)| *n == name)
}

pub mod net {
    use core::cell::RefCell;
    use unik_freestanding::devices::netdev::{Link, check_buffer, check_frame};
    use unik_rt::exec::readable;
    use unik_rt::{Mac, NetError};

    use crate::DeviceKind;

    /// A virtio-net device, as a `unik_rt::Network`.
    pub struct Net {
        dev: RefCell<crate::Net>,
        handle: u64,
        mac: [u8; 6],
        mtu: u16,
        link: Link,
    }

    /// Opens the network device declared as `name` (once).
    pub fn connect(name: &str) -> Result<Net, NetError> {
        let n = super::index_of(name, DeviceKind::Net).ok_or(NetError::Disconnected)?;
        let dev = crate::open_net(n).map_err(|e| match e {
            crate::OpenError::NotFound | crate::OpenError::AlreadyOpen => NetError::Disconnected,
            crate::OpenError::Setup(_) => NetError::Io(5),
        })?;
        Ok(Net {
            handle: dev.handle() as u64,
            mac: dev.mac(),
            mtu: dev.mtu(),
            dev: RefCell::new(dev),
            link: Link::new(),
        })
    }

    impl Net {
        /// The handle the executor waits on (bit of [`crate::wait`]'s set).
        pub fn handle(&self) -> u64 {
            self.handle
        }
    }

    impl unik_rt::Network for Net {
        fn mac(&self) -> Mac {
            Mac(self.mac)
        }

        fn mtu(&self) -> usize {
            usize::from(self.mtu)
        }

        async fn write<F: FnOnce(&mut [u8]) -> usize>(
            &self,
            size: usize,
            fill: F,
        ) -> Result<(), NetError> {
            check_frame(size, self.mtu())?;
            loop {
                self.link.check()?;
                if self.dev.borrow_mut().tx_ready() {
                    break;
                }
                // Every transmit buffer is with the device: give it a moment
                // (one timer tick at most).
                unik_rt::time::sleep_until(crate::now_ns().saturating_add(100_000)).await;
            }
            match self.dev.borrow_mut().write(size, fill) {
                Ok(_) => Ok(()),
                Err(crate::NetError::BadLength { filled, size }) => Err(NetError::BadFillLength {
                    returned: filled,
                    size,
                }),
                Err(crate::NetError::TooLarge { size, max }) => {
                    Err(NetError::FrameTooLarge { size, max })
                }
                Err(_) => Err(NetError::Io(11)),
            }
        }

        async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
            check_buffer(buf.len(), self.mtu())?;
            loop {
                self.link.check()?;
                let got = self.dev.borrow_mut().poll_receive(buf);
                match got {
                    Ok(Some(n)) => return Ok(n),
                    Ok(None) => readable(self.handle).await,
                    // Longer than MTU + header (a VLAN tag): dropped, as a
                    // NIC would.
                    Err(_) => continue,
                }
            }
        }

        async fn listen<H: FnMut(&[u8])>(&self, mut handler: H) -> Result<(), NetError> {
            loop {
                self.link.check()?;
                // Zero-copy: the handler reads the device's buffer.
                let got = self.dev.borrow_mut().receive(&mut handler);
                if got.is_none() {
                    readable(self.handle).await;
                }
            }
        }

        fn disconnect(&self) {
            self.link.disconnect();
        }
    }
}

pub mod block {
    use core::cell::{Cell, RefCell};
    use unik_rt::{BlockError, BlockInfo};

    use crate::{BlkError, DeviceKind};

    /// A virtio-blk device in 512-byte sectors, as a `unik_rt::Block`.
    /// Requests complete synchronously (the device is polled).
    pub struct Block {
        dev: RefCell<crate::Blk>,
        info: BlockInfo,
        disconnected: Cell<bool>,
    }

    /// Opens the block device declared as `name` (once).
    pub fn connect(name: &str) -> Result<Block, BlockError> {
        let n = super::index_of(name, DeviceKind::Block).ok_or(BlockError::NotFound)?;
        let dev = crate::open_blk(n).map_err(|e| match e {
            crate::OpenError::NotFound | crate::OpenError::AlreadyOpen => BlockError::NotFound,
            crate::OpenError::Setup(_) => BlockError::Io(5),
        })?;
        let info = BlockInfo {
            read_write: !dev.read_only(),
            sector_size: dev.sector_size(),
            sectors: dev.capacity(),
        };
        Ok(Block {
            dev: RefCell::new(dev),
            info,
            disconnected: Cell::new(false),
        })
    }

    fn io(e: BlkError) -> BlockError {
        match e {
            BlkError::ReadOnly => BlockError::ReadOnly,
            BlkError::Timeout => BlockError::Io(110),
            BlkError::Unsupported => BlockError::Io(95),
            _ => BlockError::Io(5),
        }
    }

    impl Block {
        fn check(&self, sector: u64, len: usize) -> Result<(), BlockError> {
            if self.disconnected.get() {
                return Err(BlockError::Disconnected);
            }
            self.info.check(sector, len)
        }
    }

    impl unik_rt::Block for Block {
        fn info(&self) -> BlockInfo {
            self.info
        }

        async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
            self.check(sector, buf.len())?;
            self.dev.borrow_mut().read(sector, buf).map_err(io)
        }

        async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
            self.check(sector, buf.len())?;
            if !self.info.read_write {
                return Err(BlockError::ReadOnly);
            }
            self.dev.borrow_mut().write(sector, buf).map_err(io)
        }

        fn disconnect(&self) {
            self.disconnected.set(true);
        }
    }
}
