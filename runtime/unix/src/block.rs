//! A block device on a host file (MirageOS `block_of_file`), 512-byte
//! sectors. The capacity is the file size rounded down to whole sectors.

use std::cell::Cell;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;

use unik_rt::{BlockError, BlockInfo};

pub const SECTOR_SIZE: usize = 512;

#[derive(Debug)]
pub struct FileBlock {
    file: File,
    info: BlockInfo,
    connected: Cell<bool>,
}

fn io_error(e: &io::Error) -> BlockError {
    match e.kind() {
        io::ErrorKind::NotFound => BlockError::NotFound,
        _ => BlockError::Io(crate::sys::code(e)),
    }
}

/// Opens `path` read-write, or read-only when writing is not permitted.
pub fn connect(path: &str) -> Result<FileBlock, BlockError> {
    let (file, read_write) = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => (f, true),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EACCES | libc::EROFS | libc::EPERM)
            ) =>
        {
            (File::open(path).map_err(|e| io_error(&e))?, false)
        }
        Err(e) => return Err(io_error(&e)),
    };
    let meta = file.metadata().map_err(|e| io_error(&e))?;
    if !meta.is_file() {
        return Err(BlockError::Io(libc::EISDIR));
    }
    let info = BlockInfo {
        read_write,
        sector_size: SECTOR_SIZE,
        sectors: meta.len() / SECTOR_SIZE as u64,
    };
    Ok(FileBlock {
        file,
        info,
        connected: Cell::new(true),
    })
}

impl FileBlock {
    fn offset(&self, sector: u64, len: usize) -> Result<u64, BlockError> {
        if !self.connected.get() {
            return Err(BlockError::Disconnected);
        }
        self.info.check(sector, len)?;
        Ok(sector * SECTOR_SIZE as u64)
    }
}

impl unik_rt::Block for FileBlock {
    fn info(&self) -> BlockInfo {
        self.info
    }

    async fn read(&self, sector: u64, buf: &mut [u8]) -> Result<(), BlockError> {
        let offset = self.offset(sector, buf.len())?;
        self.file
            .read_exact_at(buf, offset)
            .map_err(|e| io_error(&e))
    }

    async fn write(&self, sector: u64, buf: &[u8]) -> Result<(), BlockError> {
        let offset = self.offset(sector, buf.len())?;
        if !self.info.read_write {
            return Err(BlockError::ReadOnly);
        }
        self.file
            .write_all_at(buf, offset)
            .map_err(|e| io_error(&e))
    }

    fn disconnect(&self) {
        self.connected.set(false);
    }
}
