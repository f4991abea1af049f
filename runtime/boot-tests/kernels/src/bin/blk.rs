//! Block device check. The host fills the image with `host_byte`; this kernel
//! verifies reads, writes `guest_byte` patterns the host checks afterwards,
//! and checks range errors.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use unik_virtio::{BlkError, BootInfo, SECTOR_SIZE, kprintln, open_blk};

unik_virtio::entry!(main);

fn host_byte(sector: u64, i: usize) -> u8 {
    (sector as usize * 31 + i) as u8 ^ 0x5a
}

fn guest_byte(sector: u64, i: usize) -> u8 {
    (sector as usize * 13 + i * 3) as u8 ^ 0xa5
}

fn fill(buf: &mut [u8], first: u64, f: fn(u64, usize) -> u8) {
    for (k, sector) in buf.chunks_mut(SECTOR_SIZE).enumerate() {
        for (i, b) in sector.iter_mut().enumerate() {
            *b = f(first + k as u64, i);
        }
    }
}

fn check(buf: &[u8], first: u64, f: fn(u64, usize) -> u8) -> Result<(), (u64, usize)> {
    for (k, sector) in buf.chunks(SECTOR_SIZE).enumerate() {
        for (i, &b) in sector.iter().enumerate() {
            if b != f(first + k as u64, i) {
                return Err((first + k as u64, i));
            }
        }
    }
    Ok(())
}

fn main(_boot: &BootInfo) -> i32 {
    let mut blk = match open_blk(0) {
        Ok(b) => b,
        Err(e) => {
            kprintln!("blk: open failed: {e}");
            return 10;
        }
    };
    let cap = blk.capacity();
    kprintln!("blk: capacity={cap} sectors read_only={}", blk.read_only());

    // Read the whole first 512 KiB (crosses the 256 KiB request split).
    let mut buf = vec![0u8; 1024 * SECTOR_SIZE];
    if let Err(e) = blk.read(0, &mut buf) {
        kprintln!("blk: read failed: {e}");
        return 11;
    }
    if let Err((s, i)) = check(&buf, 0, host_byte) {
        kprintln!("blk: host pattern mismatch at sector {s} byte {i}");
        return 12;
    }

    // Write 300 KiB at sector 1100, read it back.
    let first = 1100;
    let mut data = vec![0u8; 600 * SECTOR_SIZE];
    fill(&mut data, first, guest_byte);
    if let Err(e) = blk.write(first, &data) {
        kprintln!("blk: write failed: {e}");
        return 13;
    }
    let mut back = vec![0u8; data.len()];
    if blk.read(first, &mut back).is_err() || back != data {
        kprintln!("blk: read-back mismatch");
        return 14;
    }

    // Last sector, then one past the end.
    let mut last = [0u8; SECTOR_SIZE];
    fill(&mut last, cap - 1, guest_byte);
    if let Err(e) = blk.write(cap - 1, &last) {
        kprintln!("blk: write of last sector failed: {e}");
        return 15;
    }
    if blk.write(cap, &last) != Err(BlkError::OutOfRange) {
        kprintln!("blk: write past the end was not refused");
        return 16;
    }
    if blk.read(0, &mut last[..100]) != Err(BlkError::Unaligned) {
        kprintln!("blk: unaligned read was not refused");
        return 17;
    }
    match blk.flush() {
        Ok(()) | Err(BlkError::Unsupported) => {}
        Err(e) => {
            kprintln!("blk: flush failed: {e}");
            return 18;
        }
    }
    kprintln!("blk: ok");
    0
}
