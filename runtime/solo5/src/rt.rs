//! `unik_rt` over the Solo5 API (feature `rt`): the executor's platform and
//! the devices generated code connects. Constructors return
//! `Result<Device, E: Display>`, as on unix.

use alloc::vec::Vec;
use core::cell::{Cell, RefCell};
use core::convert::Infallible;

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

pub mod console {
    use super::Infallible;
    use unik_rt::ConsoleError;

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

    #[derive(Debug, Default)]
    pub struct Mclock;

    pub fn connect() -> Result<Mclock, Infallible> {
        Ok(Mclock)
    }

    impl unik_rt::Mclock for Mclock {
        fn elapsed_ns(&self) -> u64 {
            crate::clock_monotonic()
        }
    }
}

pub mod pclock {
    use super::Infallible;

    #[derive(Debug, Default)]
    pub struct Pclock;

    pub fn connect() -> Result<Pclock, Infallible> {
        Ok(Pclock)
    }

    impl unik_rt::Pclock for Pclock {
        fn now_ns(&self) -> u64 {
            crate::clock_wall()
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
            unik_rt::time::sleep_until(crate::clock_monotonic().saturating_add(ns)).await
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
        /// The tender's arguments after the image, split as the tender joined them.
        fn args(&self) -> Vec<String> {
            unik_rt::bootargs::split(crate::cmdline())
        }
    }
}

/// Random bytes from the CPU's `RDRAND` (Solo5 has no entropy call).
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
        Ok(MemKv::new(crate::clock_wall))
    }
}

pub mod net {
    use super::*;
    use unik_rt::exec::readable;
    use unik_rt::{ETHERNET_HEADER, Mac, NetError};

    /// A Solo5 network device (`NET_BASIC` manifest entry).
    #[derive(Debug)]
    pub struct Net {
        handle: crate::Handle,
        info: crate::NetInfo,
        tx: RefCell<Vec<u8>>,
        disconnected: Cell<bool>,
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
            disconnected: Cell::new(false),
        })
    }

    impl Net {
        pub fn handle(&self) -> crate::Handle {
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
            Mac(self.info.mac)
        }

        fn mtu(&self) -> usize {
            usize::from(self.info.mtu)
        }

        async fn write<F: FnOnce(&mut [u8]) -> usize>(
            &self,
            size: usize,
            fill: F,
        ) -> Result<(), NetError> {
            self.live()?;
            let max = self.mtu() + ETHERNET_HEADER;
            if size > max {
                return Err(NetError::FrameTooLarge { size, max });
            }
            let mut buf = self.tx.take();
            buf.clear();
            buf.resize(size, 0);
            let len = fill(&mut buf);
            let result = if len > size {
                Err(NetError::BadFillLength {
                    returned: len,
                    size,
                })
            } else {
                crate::net_write(self.handle, &buf[..len]).map_err(io)
            };
            self.tx.replace(buf);
            result
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
                match crate::net_read(self.handle, buf) {
                    Ok(n) => return Ok(n),
                    Err(Error::Again) => readable(self.handle).await,
                    Err(e) => return Err(io(e)),
                }
            }
        }

        fn disconnect(&self) {
            self.disconnected.set(true);
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
