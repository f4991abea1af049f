//! mirage-skeleton device-usage/block: print the device's geometry, then
//! write a pattern to its first sectors, read it back and compare; a
//! read-only device is only read.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use unik_rt::{Block as BlockDevice, JobError};

pub struct Block;

/// How many sectors the check writes (fewer if the device is smaller).
const CHECKED: u64 = 8;

impl Block {
    pub async fn start(disk: &'static impl BlockDevice) -> Result<(), JobError> {
        let info = disk.info();
        unik_rt::log::info!(
            target: "block",
            "{} sectors of {} bytes, {}",
            info.sectors,
            info.sector_size,
            if info.read_write { "read-write" } else { "read-only" }
        );
        let n = info.sectors.min(CHECKED);
        let size = info.sector_size;
        let mut buf = vec![0u8; size];
        if !info.read_write {
            for sector in 0..n {
                disk.read(sector, &mut buf).await?;
            }
            unik_rt::log::info!(target: "block", "read {n} sectors");
            return Ok(());
        }
        for sector in 0..n {
            pattern(sector, &mut buf);
            disk.write(sector, &buf).await?;
        }
        let mut expected = vec![0u8; size];
        for sector in 0..n {
            disk.read(sector, &mut buf).await?;
            pattern(sector, &mut expected);
            if buf != expected {
                return Err(JobError::new(format!(
                    "sector {sector} reads back differently"
                )));
            }
        }
        // Past the end is an error value, never a crash.
        match disk.read(info.sectors, &mut buf).await {
            Err(e) => unik_rt::log::info!(target: "block", "reading past the end: {e}"),
            Ok(()) => return Err(JobError::new("reading past the end succeeded")),
        }
        unik_rt::log::info!(target: "block", "verified {n} sectors");
        Ok(())
    }
}

fn pattern(sector: u64, buf: &mut [u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = (sector as usize * 31 + i) as u8;
    }
}
