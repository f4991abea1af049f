//! The PVH `hvm_start_info` handed over in `ebx`: command line and memory map.

use core::fmt;

pub const MAGIC: u32 = 0x336e_c578;
pub const E820_RAM: u32 = 1;
pub const MAX_CMDLINE: usize = 4096;
pub const MAX_MEMMAP: usize = 64;

/// `struct hvm_start_info` (xen/include/public/arch-x86/hvm/start_info.h).
#[repr(C)]
pub struct HvmStartInfo {
    pub magic: u32,
    pub version: u32,
    pub flags: u32,
    pub nr_modules: u32,
    pub modlist_paddr: u64,
    pub cmdline_paddr: u64,
    pub rsdp_paddr: u64,
    /// Version 1 and later.
    pub memmap_paddr: u64,
    pub memmap_entries: u32,
    pub reserved: u32,
}

/// `struct hvm_memmap_table_entry`, E820 style.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemmapEntry {
    pub addr: u64,
    pub size: u64,
    pub kind: u32,
    pub reserved: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum StartInfoError {
    BadMagic(u32),
    NoMemoryMap,
}

impl fmt::Display for StartInfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadMagic(m) => write!(f, "hvm_start_info magic {m:#x}, expected {MAGIC:#x}"),
            Self::NoMemoryMap => write!(f, "hvm_start_info has no memory map (version 0)"),
        }
    }
}

/// What the platform keeps from the start info, copied out of guest memory
/// before that memory is handed to the heap.
pub struct BootData {
    cmdline: [u8; MAX_CMDLINE],
    cmdline_len: usize,
    memmap: [MemmapEntry; MAX_MEMMAP],
    memmap_len: usize,
}

impl BootData {
    pub const fn empty() -> Self {
        const ZERO: MemmapEntry = MemmapEntry {
            addr: 0,
            size: 0,
            kind: 0,
            reserved: 0,
        };
        Self {
            cmdline: [0; MAX_CMDLINE],
            cmdline_len: 0,
            memmap: [ZERO; MAX_MEMMAP],
            memmap_len: 0,
        }
    }

    /// Build from already-read parts (truncating what does not fit).
    pub fn from_parts(cmdline: &[u8], memmap: &[MemmapEntry]) -> Self {
        let mut d = Self::empty();
        let n = cmdline.len().min(MAX_CMDLINE);
        d.cmdline[..n].copy_from_slice(&cmdline[..n]);
        d.cmdline_len = n;
        let m = memmap.len().min(MAX_MEMMAP);
        d.memmap[..m].copy_from_slice(&memmap[..m]);
        d.memmap_len = m;
        d
    }

    /// The command line; invalid UTF-8 is cut at the first bad byte.
    pub fn cmdline(&self) -> &str {
        let bytes = &self.cmdline[..self.cmdline_len];
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        }
    }

    pub fn memmap(&self) -> &[MemmapEntry] {
        &self.memmap[..self.memmap_len]
    }
}

/// Copy the start info at physical (= virtual) address `phys`.
///
/// # Safety
/// `phys` must be the address the boot loader (QEMU or Xen) passed in `ebx`, with the memory it
/// references still intact.
pub unsafe fn read(phys: u64) -> Result<BootData, StartInfoError> {
    let info = unsafe { &*(phys as *const HvmStartInfo) };
    if info.magic != MAGIC {
        return Err(StartInfoError::BadMagic(info.magic));
    }
    if info.version < 1 || info.memmap_paddr == 0 || info.memmap_entries == 0 {
        return Err(StartInfoError::NoMemoryMap);
    }
    let mut cmdline: &[u8] = &[];
    if info.cmdline_paddr != 0 {
        let p = info.cmdline_paddr as *const u8;
        let mut n = 0;
        // SAFETY: a NUL-terminated string; the scan is bounded.
        while n < MAX_CMDLINE && unsafe { *p.add(n) } != 0 {
            n += 1;
        }
        cmdline = unsafe { core::slice::from_raw_parts(p, n) };
    }
    let entries = (info.memmap_entries as usize).min(MAX_MEMMAP);
    // SAFETY: the table has memmap_entries entries of the declared layout.
    let memmap =
        unsafe { core::slice::from_raw_parts(info.memmap_paddr as *const MemmapEntry, entries) };
    Ok(BootData::from_parts(cmdline, memmap))
}

/// Heap regions: RAM entries clipped to `[low, high)`, minus the loaded image
/// `[image_start, image_end)`, aligned to 4 KiB. Calls `f(base, size)` per region.
pub fn heap_regions(
    memmap: &[MemmapEntry],
    image: (u64, u64),
    low: u64,
    high: u64,
    mut f: impl FnMut(u64, u64),
) {
    const PAGE: u64 = 4096;
    let mut emit = |start: u64, end: u64| {
        let start = start.max(low).next_multiple_of(PAGE);
        let end = end.min(high) & !(PAGE - 1);
        if end > start {
            f(start, end - start);
        }
    };
    for e in memmap.iter().filter(|e| e.kind == E820_RAM) {
        let (start, end) = (e.addr, e.addr.saturating_add(e.size));
        let (img_start, img_end) = image;
        if end <= img_start || start >= img_end {
            emit(start, end);
        } else {
            emit(start, img_start);
            emit(img_end, end);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn ram(addr: u64, size: u64) -> MemmapEntry {
        MemmapEntry {
            addr,
            size,
            kind: E820_RAM,
            reserved: 0,
        }
    }

    #[test]
    fn regions_skip_low_memory_image_and_reserved() {
        // A QEMU-like map: low RAM, BIOS reserved, RAM from 1 MiB to 128 MiB.
        let map = [
            ram(0, 0x9fc00),
            MemmapEntry {
                addr: 0xf0000,
                size: 0x10000,
                kind: 2,
                reserved: 0,
            },
            ram(0x10_0000, 0x7f0_0000),
        ];
        let mut out = Vec::new();
        heap_regions(&map, (0x10_0000, 0x18_0800), 0x10_0000, 1 << 32, |b, s| {
            out.push((b, s))
        });
        assert_eq!(out, [(0x18_1000, 0x800_0000 - 0x18_1000)]);
    }

    #[test]
    fn regions_clip_at_the_identity_map_limit() {
        let map = [ram(0x10_0000, 0x4_0000_0000)];
        let mut out = Vec::new();
        heap_regions(&map, (0x10_0000, 0x20_0000), 0x10_0000, 1 << 32, |b, s| {
            out.push((b, s))
        });
        assert_eq!(out, [(0x20_0000, (1 << 32) - 0x20_0000)]);
    }

    #[test]
    fn image_in_the_middle_splits_a_region() {
        let map = [ram(0, 0x100_0000)];
        let mut out = Vec::new();
        heap_regions(&map, (0x40_0000, 0x50_0000), 0x10_0000, 1 << 32, |b, s| {
            out.push((b, s))
        });
        assert_eq!(out, [(0x10_0000, 0x30_0000), (0x50_0000, 0xb0_0000)]);
    }

    #[test]
    fn boot_data_reads_a_synthetic_start_info() {
        let cmd = b"hello world\0";
        let map = [ram(0x10_0000, 0x100_0000)];
        let info = HvmStartInfo {
            magic: MAGIC,
            version: 1,
            flags: 0,
            nr_modules: 0,
            modlist_paddr: 0,
            cmdline_paddr: cmd.as_ptr() as u64,
            rsdp_paddr: 0,
            memmap_paddr: map.as_ptr() as u64,
            memmap_entries: 1,
            reserved: 0,
        };
        let data = unsafe { read(&info as *const _ as u64) }.unwrap();
        assert_eq!(data.cmdline(), "hello world");
        assert_eq!(data.memmap(), &map);

        let bad = HvmStartInfo { magic: 1, ..info };
        assert_eq!(
            unsafe { read(&bad as *const _ as u64) }.err(),
            Some(StartInfoError::BadMagic(1))
        );
        let v0 = HvmStartInfo { version: 0, ..info };
        assert_eq!(
            unsafe { read(&v0 as *const _ as u64) }.err(),
            Some(StartInfoError::NoMemoryMap)
        );
    }
}
