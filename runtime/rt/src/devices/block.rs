use core::fmt;

/// Geometry of a [`Block`] device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub read_write: bool,
    pub sector_size: usize,
    pub sectors: u64,
}

impl BlockInfo {
    /// Checks a transfer of `len` bytes at `sector` against this geometry.
    pub fn check(&self, sector: u64, len: usize) -> Result<(), BlockError> {
        if self.sector_size == 0 || !len.is_multiple_of(self.sector_size) {
            return Err(BlockError::Unaligned {
                len,
                sector_size: self.sector_size,
            });
        }
        let count = (len / self.sector_size) as u64;
        match sector.checked_add(count) {
            Some(end) if end <= self.sectors => Ok(()),
            _ => Err(BlockError::OutOfRange {
                sector,
                count,
                sectors: self.sectors,
            }),
        }
    }
}

/// Errors of a [`Block`] device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// The buffer length is not a multiple of the sector size.
    Unaligned {
        len: usize,
        sector_size: usize,
    },
    /// The transfer reaches past the last sector.
    OutOfRange {
        sector: u64,
        count: u64,
        sectors: u64,
    },
    /// A write on a read-only device.
    ReadOnly,
    NotFound,
    Disconnected,
    /// The backend failed (OS error code where there is one).
    Io(i32),
}

impl fmt::Display for BlockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockError::Unaligned { len, sector_size } => {
                write!(
                    f,
                    "buffer of {len} bytes is not a multiple of the sector size {sector_size}"
                )
            }
            BlockError::OutOfRange {
                sector,
                count,
                sectors,
            } => {
                write!(
                    f,
                    "{count} sectors at sector {sector} exceed the device's {sectors} sectors"
                )
            }
            BlockError::ReadOnly => f.write_str("block device is read-only"),
            BlockError::NotFound => f.write_str("block device not found"),
            BlockError::Disconnected => f.write_str("block device disconnected"),
            BlockError::Io(code) => write!(f, "block I/O failed (os error {code})"),
        }
    }
}

/// A block device (MirageOS `Mirage_block.S`): sector-granular transfers.
pub trait Block {
    fn info(&self) -> BlockInfo;

    /// Reads `buf.len() / sector_size` sectors starting at `sector`.
    async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError>;

    /// Writes `buf.len() / sector_size` sectors starting at `sector`.
    async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError>;

    fn disconnect(&self);
}
