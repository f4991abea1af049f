//! `ramdisk`: a block device in memory, zeroed at boot, gone at exit
//! (MirageOS's `ramdisk`). It works on every target: it needs only the
//! heap.

use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::devices::{Block, BlockError, BlockInfo};

/// Bytes per sector, as on the other block devices.
pub const SECTOR_SIZE: usize = 512;

/// A zeroed disk of `sectors` sectors.
pub struct Ramdisk {
    name: alloc::string::String,
    info: BlockInfo,
    bytes: RefCell<Vec<u8>>,
}

/// Why a ramdisk cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RamdiskError {
    /// `sectors` × 512 does not fit in memory's address space.
    TooLarge { sectors: u64 },
}

impl core::fmt::Display for RamdiskError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            RamdiskError::TooLarge { sectors } => {
                write!(f, "a ramdisk of {sectors} sectors does not fit in memory")
            }
        }
    }
}

/// Makes the ramdisk `name` of `sectors` 512-byte sectors.
pub fn connect(name: &str, sectors: u64) -> Result<Ramdisk, RamdiskError> {
    let len = usize::try_from(sectors)
        .ok()
        .and_then(|s| s.checked_mul(SECTOR_SIZE))
        .filter(|&l| l <= isize::MAX as usize)
        .ok_or(RamdiskError::TooLarge { sectors })?;
    Ok(Ramdisk {
        name: name.into(),
        info: BlockInfo {
            read_write: true,
            sector_size: SECTOR_SIZE,
            sectors,
        },
        bytes: RefCell::new(vec![0; len]),
    })
}

impl Ramdisk {
    /// The name the configuration gave it.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn span(&self, sector: u64, len: usize) -> Result<core::ops::Range<usize>, BlockError> {
        self.info.check(sector, len)?;
        // `check` bounds sector + count by `sectors`, whose bytes exist.
        let start = sector as usize * SECTOR_SIZE;
        Ok(start..start + len)
    }
}

impl Block for Ramdisk {
    fn info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let span = self.span(sector, buf.len())?;
        buf.copy_from_slice(&self.bytes.borrow()[span]);
        Ok(())
    }

    async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
        let span = self.span(sector, buf.len())?;
        self.bytes.borrow_mut()[span].copy_from_slice(buf);
        Ok(())
    }

    fn disconnect(&self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ramdisk transfers never wait: one poll finishes them.
    fn block_on<F: Future>(f: F) -> F::Output {
        let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
        match core::pin::pin!(f).poll(&mut cx) {
            core::task::Poll::Ready(v) => v,
            core::task::Poll::Pending => panic!("a ramdisk transfer waited"),
        }
    }

    #[test]
    fn reads_back_what_was_written_and_starts_zeroed() {
        let d = connect("scratch", 8).unwrap();
        assert_eq!(d.info().sectors, 8);
        assert_eq!(d.name(), "scratch");
        let mut buf = [1u8; 1024];
        block_on(d.read(6, &mut buf)).unwrap();
        assert!(buf.iter().all(|&b| b == 0));
        let data: Vec<u8> = (0..1024).map(|i| i as u8).collect();
        block_on(d.write(3, &data)).unwrap();
        block_on(d.read(3, &mut buf)).unwrap();
        assert_eq!(&buf[..], &data[..]);
        // The neighbours are untouched.
        let mut one = [9u8; 512];
        block_on(d.read(2, &mut one)).unwrap();
        assert!(one.iter().all(|&b| b == 0));
    }

    #[test]
    fn transfers_are_checked_against_the_geometry() {
        let d = connect("scratch", 4).unwrap();
        let mut buf = [0u8; 1024];
        assert!(matches!(
            block_on(d.read(3, &mut buf)),
            Err(BlockError::OutOfRange { .. })
        ));
        assert!(matches!(
            block_on(d.write(u64::MAX, &buf)),
            Err(BlockError::OutOfRange { .. })
        ));
        assert!(matches!(
            block_on(d.read(0, &mut buf[..100])),
            Err(BlockError::Unaligned { .. })
        ));
        assert_eq!(
            connect("huge", u64::MAX).err(),
            Some(RamdiskError::TooLarge { sectors: u64::MAX })
        );
    }
}
