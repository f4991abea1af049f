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

use core::convert::Infallible;

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

pub mod console {
    use super::Infallible;
    use unik_rt::ConsoleError;

    /// COM1 (polled, 115200 8N1).
    #[derive(Debug, Default)]
    pub struct Console;

    pub fn connect() -> Result<Console, Infallible> {
        Ok(Console)
    }

    impl unik_rt::Console for Console {
        fn write(&self, bytes: &[u8]) -> Result<(), ConsoleError> {
            crate::console_write(bytes);
            Ok(())
        }
    }
}

pub mod mclock {
    use super::Infallible;

    /// kvmclock, or the TSC calibrated against the PIT.
    #[derive(Debug, Default)]
    pub struct Mclock;

    pub fn connect() -> Result<Mclock, Infallible> {
        Ok(Mclock)
    }

    impl unik_rt::Mclock for Mclock {
        fn elapsed_ns(&self) -> u64 {
            crate::now_ns()
        }
    }
}

pub mod pclock {
    use super::Infallible;

    /// The CMOS RTC read at boot, advanced by the monotonic clock.
    #[derive(Debug, Default)]
    pub struct Pclock;

    pub fn connect() -> Result<Pclock, Infallible> {
        Ok(Pclock)
    }

    impl unik_rt::Pclock for Pclock {
        fn now_ns(&self) -> u64 {
            crate::wall_ns()
        }
    }
}

pub mod sleep {
    use super::Infallible;

    #[derive(Debug, Default)]
    pub struct Sleep;

    pub fn connect() -> Result<Sleep, Infallible> {
        Ok(Sleep)
    }

    impl unik_rt::Sleep for Sleep {
        async fn sleep_ns(&self, ns: u64) {
            unik_rt::time::sleep_until(crate::now_ns().saturating_add(ns)).await
        }
    }
}

pub mod argv {
    use super::Infallible;
    use alloc::string::String;
    use alloc::vec::Vec;

    #[derive(Debug, Default)]
    pub struct Argv;

    pub fn connect() -> Result<Argv, Infallible> {
        Ok(Argv)
    }

    impl unik_rt::Argv for Argv {
        /// The kernel command line (`-append`), split as `unikc run` joined it.
        fn args(&self) -> Vec<String> {
            unik_rt::bootargs::split(crate::cmdline())
        }
    }
}

/// Random bytes from the CPU's `RDRAND`. QEMU's default TCG CPU lacks it:
/// `unikc run` starts QEMU with `-cpu max` (TCG) or `-cpu host` (KVM).
pub mod random {
    use core::arch::asm;
    use unik_rt::RandomError;

    #[derive(Debug)]
    pub struct Random;

    fn has_rdrand() -> bool {
        let leaf = core::arch::x86_64::__cpuid(1);
        leaf.ecx & (1 << 30) != 0
    }

    /// Fails on CPUs without RDRAND.
    pub fn connect() -> Result<Random, RandomError> {
        if has_rdrand() {
            Ok(Random)
        } else {
            Err(RandomError::Unavailable(0))
        }
    }

    fn rdrand() -> Option<u64> {
        // Intel: retry a few times on a transient underflow.
        for _ in 0..10 {
            let (value, ok): (u64, u8);
            // SAFETY: RDRAND is present (checked by `connect`); no memory access.
            unsafe {
                asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok,
                     options(nomem, nostack));
            }
            if ok == 1 {
                return Some(value);
            }
        }
        None
    }

    impl unik_rt::Random for Random {
        fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
            for chunk in buf.chunks_mut(8) {
                let v = rdrand().ok_or(RandomError::Unavailable(0))?;
                chunk.copy_from_slice(&v.to_le_bytes()[..chunk.len()]);
            }
            Ok(())
        }
    }
}

/// The in-memory read-write store (`kv_rw_mem`).
pub mod kv_mem {
    use super::Infallible;

    pub use unik_rt::kv::MemKv;

    /// An empty store whose `last_modified` uses the wall clock.
    pub fn connect() -> Result<MemKv, Infallible> {
        Ok(MemKv::new(crate::wall_ns))
    }
}

pub mod net {
    use core::cell::{Cell, RefCell};
    use unik_rt::exec::readable;
    use unik_rt::{ETHERNET_HEADER, Mac, NetError};

    use crate::DeviceKind;

    /// A virtio-net device, as a `unik_rt::Network`.
    pub struct Net {
        dev: RefCell<crate::Net>,
        handle: u64,
        mac: [u8; 6],
        mtu: u16,
        disconnected: Cell<bool>,
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
            disconnected: Cell::new(false),
        })
    }

    impl Net {
        /// The handle the executor waits on (bit of [`crate::wait`]'s set).
        pub fn handle(&self) -> u64 {
            self.handle
        }

        fn live(&self) -> Result<(), NetError> {
            if self.disconnected.get() {
                Err(NetError::Disconnected)
            } else {
                Ok(())
            }
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
            let max = self.mtu() + ETHERNET_HEADER;
            if size > max {
                return Err(NetError::FrameTooLarge { size, max });
            }
            loop {
                self.live()?;
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
            let needed = self.mtu() + ETHERNET_HEADER;
            if buf.len() < needed {
                return Err(NetError::BufferTooSmall {
                    len: buf.len(),
                    needed,
                });
            }
            loop {
                self.live()?;
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
                self.live()?;
                // Zero-copy: the handler reads the device's buffer.
                let got = self.dev.borrow_mut().receive(&mut handler);
                if got.is_none() {
                    readable(self.handle).await;
                }
            }
        }

        fn disconnect(&self) {
            self.disconnected.set(true);
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
