//! `unik_rt` over the xen platform (feature `rt`): the executor's platform
//! and the devices generated code connects, with the constructors the
//! device catalogue names (`unik_xen::sleep::connect()`), as on virtio and
//! Solo5. Console, clocks, sleep, boot arguments, RDRAND and the in-memory
//! store are `unik_freestanding`'s, over the PV console, pvclock and the
//! PVH command line that boot registers (`start.rs`).

pub use unik_freestanding::devices::{argv, console, kv_mem, mclock, pclock, random, sleep};

use unik_rt::{Interest, Platform, Readiness, ReadySet};

/// The executor's platform: [`crate::wait`] (`SCHEDOP_poll` on the
/// devices' event channels until the deadline) is the only way to block.
#[derive(Debug, Default)]
pub struct XenPlatform;

impl XenPlatform {
    pub const fn new() -> Self {
        Self
    }
}

impl Platform for XenPlatform {
    fn now_ns(&self) -> u64 {
        crate::now_ns()
    }

    fn wait(&self, deadline_ns: Option<u64>, interest: &[Interest]) -> ReadySet {
        let mut mask = 0u64;
        let mut ready = ReadySet::new();
        for i in interest {
            if i.read && i.handle < crate::platform::MAX_HANDLES as u64 {
                mask |= 1 << i.handle;
            }
            // Transmit slots free up within a backend round trip; writers
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

/// netfront devices, as `unik_rt::Network`.
pub mod net {
    use core::cell::RefCell;
    use unik_freestanding::devices::netdev::{Link, check_buffer, check_frame};
    use unik_freestanding::kprintln;
    use unik_rt::exec::readable;
    use unik_rt::{Mac, NetError};

    use crate::devices::{DeviceKind, index_of};
    use crate::netfront::{Netfront, NetfrontError};

    /// How long a full transmit ring may stay full before the backend is
    /// declared gone.
    const TX_STALL_NS: u64 = 10_000_000_000;

    pub struct Net {
        dev: RefCell<Netfront>,
        handle: u64,
        mac: [u8; 6],
        mtu: u16,
        link: Link,
    }

    /// Connects the network device declared as `name` (the n-th declared
    /// network device is the domain's n-th vif). Why it failed is printed
    /// on the console: `NetError` has no room for Xen's reasons.
    pub fn connect(name: &str) -> Result<Net, NetError> {
        let Some(n) = index_of(name, DeviceKind::Net) else {
            kprintln!("unik-xen: net {name}: not a declared network device");
            return Err(NetError::Disconnected);
        };
        let dev = Netfront::connect(n).map_err(|e| {
            kprintln!("unik-xen: net {name}: {e}");
            match e {
                NetfrontError::NoDevice { .. } | NetfrontError::Backend { .. } => {
                    NetError::Disconnected
                }
                _ => NetError::Io(5),
            }
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
        /// The handle the executor waits on.
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
            let since = crate::now_ns();
            loop {
                self.link.check()?;
                if self.dev.borrow_mut().tx_ready() {
                    break;
                }
                if crate::now_ns().saturating_sub(since) > TX_STALL_NS {
                    kprintln!(
                        "unik-xen: netfront: transmit ring full for 10 s: the backend stopped taking frames"
                    );
                    self.link.disconnect();
                    return Err(NetError::Disconnected);
                }
                unik_rt::time::sleep_until(crate::now_ns().saturating_add(100_000)).await;
            }
            match self.dev.borrow_mut().write(size, fill) {
                Ok(_) => Ok(()),
                Err((returned, size)) if returned > size => {
                    Err(NetError::BadFillLength { returned, size })
                }
                Err((size, max)) => Err(NetError::FrameTooLarge { size, max }),
            }
        }

        async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
            check_buffer(buf.len(), self.mtu())?;
            loop {
                self.link.check()?;
                let got = self.dev.borrow_mut().receive(|f| {
                    let n = f.len().min(buf.len());
                    buf[..n].copy_from_slice(&f[..n]);
                    n
                });
                match got {
                    Some(n) => return Ok(n),
                    None => readable(self.handle).await,
                }
            }
        }

        async fn listen<H: FnMut(&[u8])>(&self, mut handler: H) -> Result<(), NetError> {
            loop {
                self.link.check()?;
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

/// blkfront devices, as `unik_rt::Block` (512-byte sectors, synchronous).
pub mod block {
    use core::cell::{Cell, RefCell};
    use unik_freestanding::kprintln;
    use unik_rt::{BlockError, BlockInfo};

    use crate::blkfront::{Blkfront, IoError};
    use crate::devices::{DeviceKind, index_of};

    pub struct Block {
        dev: RefCell<Blkfront>,
        info: BlockInfo,
        disconnected: Cell<bool>,
    }

    /// Connects the block device declared as `name` (the n-th declared
    /// block device is the domain's n-th disk). Why it failed is printed
    /// on the console.
    pub fn connect(name: &str) -> Result<Block, BlockError> {
        let Some(n) = index_of(name, DeviceKind::Block) else {
            kprintln!("unik-xen: block {name}: not a declared block device");
            return Err(BlockError::NotFound);
        };
        let dev = Blkfront::connect(n).map_err(|e| {
            kprintln!("unik-xen: block {name}: {e}");
            BlockError::NotFound
        })?;
        let info = BlockInfo {
            read_write: !dev.read_only,
            sector_size: dev.sector_size,
            sectors: dev.sectors,
        };
        Ok(Block {
            dev: RefCell::new(dev),
            info,
            disconnected: Cell::new(false),
        })
    }

    fn io(e: IoError) -> BlockError {
        match e {
            IoError::Timeout => BlockError::Io(110),
            IoError::Status(-2) => BlockError::Io(95),
            IoError::Status(_) => BlockError::Io(5),
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
