//! Guest-physical layout and initial vCPU state of an hvt guest, as
//! Solo5 0.12's tender sets them up (research/runtime.md §1.3).

use kvm_bindings::{kvm_regs, kvm_segment, kvm_sregs};

use super::mem::GuestMemory;
use crate::elf::{PF_W, PF_X, Segment};
use crate::error::Error;

pub const GDT_BASE: u64 = 0x1000;
pub const PML4_BASE: u64 = 0x2000;
pub const PDPT_BASE: u64 = 0x3000;
/// Four page directories (one per GiB).
pub const PD_BASE: u64 = 0x4000;
/// Page tables for the 2 MiB regions that need 4 KiB pages (the boot area
/// and wherever the image's segments change protection): eight of them,
/// 0x8000..0x10000.
pub const PT_BASE: u64 = 0x8000;
pub const PT_COUNT: u64 = 8;
pub const BOOT_INFO_BASE: u64 = 0x10000;
pub const BOOT_INFO_SIZE: u64 = 56;
/// Start of the image; the boot area below it is read-only for the guest.
pub const GUEST_MIN_BASE: u64 = 0x10_0000;
pub const CMDLINE_SIZE: usize = 8192;
const PAGE_2M: u64 = 0x20_0000;
const GIB: u64 = 1 << 30;

const PRESENT: u64 = 1;
const WRITABLE: u64 = 2;
const HUGE: u64 = 0x80;
const NX: u64 = 1 << 63;

pub const CR0: u64 = 0x8001_0021; // PE | NE | WP | PG
pub const CR4: u64 = 0x620; // PAE | OSFXSR | OSXMMEXCPT: SSE, no AVX
pub const EFER: u64 = 0xd00; // LME | LMA | NXE
pub const GDT_CODE: u64 = 0x00AF_9900_0000_FFFF;
pub const GDT_DATA: u64 = 0x00CF_9300_0000_FFFF;

/// Guest memory for a request: 2 MiB granules, 2 MiB to 4 GiB.
pub fn mem_size(requested: u64) -> Result<u64, Error> {
    let size = requested & !(PAGE_2M - 1);
    if size < PAGE_2M {
        return Err(Error::Usage(format!(
            "guest memory of {requested} bytes is below the 2 MiB minimum"
        )));
    }
    if size > 4 * GIB {
        return Err(Error::Usage(format!(
            "guest memory of {requested} bytes is above the 4 GiB maximum"
        )));
    }
    Ok(size)
}

pub fn write_gdt(mem: &GuestMemory) -> Result<(), Error> {
    let mut gdt = [0u8; 24];
    gdt[8..16].copy_from_slice(&GDT_CODE.to_le_bytes());
    gdt[16..24].copy_from_slice(&GDT_DATA.to_le_bytes());
    mem.write_phys(GDT_BASE, &gdt)
}

/// Guest page flags of the 4 KiB page at `addr`: nothing below 0x10000,
/// the boot area read-only, each segment as its ELF flags say (text
/// read-execute, rodata read-only, data read-write), everything else
/// (heap, stack) read-write; only text is executable.
pub fn page_flags(addr: u64, segments: &[Segment]) -> u64 {
    if addr < BOOT_INFO_BASE {
        return 0;
    }
    if addr < GUEST_MIN_BASE {
        return PRESENT | NX;
    }
    match segments.iter().find(|s| (s.start..s.end).contains(&addr)) {
        Some(s) => {
            let w = if s.flags & PF_W != 0 { WRITABLE } else { 0 };
            let nx = if s.flags & PF_X != 0 { 0 } else { NX };
            PRESENT | w | nx
        }
        None => PRESENT | WRITABLE | NX,
    }
}

/// Identity map of [0, size) with [`page_flags`]: a 2 MiB page where the
/// whole region has one protection, 4 KiB pages (up to [`PT_COUNT`]
/// tables) where it changes. An image so large that it needs more tables
/// gets its excess regions as 2 MiB pages with the union of their flags;
/// the host side still keeps text and rodata read-only there.
pub fn write_page_tables(mem: &GuestMemory, segments: &[Segment]) -> Result<(), Error> {
    let size = mem.size();
    let entry =
        |table: u64, i: u64, value: u64| mem.write_phys(table + 8 * i, &value.to_le_bytes());
    entry(PML4_BASE, 0, PDPT_BASE | PRESENT | WRITABLE)?;
    for g in 0..size.div_ceil(GIB) {
        entry(PDPT_BASE, g, (PD_BASE + g * 0x1000) | PRESENT | WRITABLE)?;
    }
    let mut tables = 0;
    // Above the image every page is heap or stack: no need to look.
    let image_end = segments.iter().map(|s| s.end).max().unwrap_or(0);
    for p in 0..size / PAGE_2M {
        let base = p * PAGE_2M;
        if base >= image_end.max(GUEST_MIN_BASE) {
            entry(PD_BASE, p, base | PRESENT | WRITABLE | NX | HUGE)?;
            continue;
        }
        let pages: Vec<u64> = (0..512)
            .map(|i| page_flags(base + i * 0x1000, segments))
            .collect();
        let uniform = pages.iter().all(|&f| f == pages[0]);
        let value = if uniform && pages[0] != 0 {
            base | pages[0] | HUGE
        } else if tables < PT_COUNT {
            let pt = PT_BASE + tables * 0x1000;
            tables += 1;
            for (i, f) in pages.iter().enumerate() {
                let v = if *f == 0 {
                    0
                } else {
                    (base + i as u64 * 0x1000) | f
                };
                entry(pt, i as u64, v)?;
            }
            pt | PRESENT | WRITABLE
        } else {
            let any = pages.iter().fold(0, |a, f| a | f);
            let nx = if pages.iter().all(|f| f & NX != 0) {
                NX
            } else {
                0
            };
            base | (any & (PRESENT | WRITABLE)) | nx | HUGE
        };
        // The four PDs are contiguous, so entry p of "one big PD" works.
        entry(PD_BASE, p, value)?;
    }
    Ok(())
}

/// Addresses of what [`write_boot_info`] placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BootArea {
    pub mft: u64,
    pub cmdline: u64,
}

/// `hvt_boot_info` at 0x10000, then the manifest copy, then the command line.
pub fn write_boot_info(
    mem: &GuestMemory,
    kernel_end: u64,
    cpu_cycle_freq: u64,
    mft: &[u8],
    cmdline: &[u8],
) -> Result<BootArea, Error> {
    let mft_at = (BOOT_INFO_BASE + BOOT_INFO_SIZE).next_multiple_of(8);
    let cmdline_at = (mft_at + mft.len() as u64).next_multiple_of(8);
    if cmdline.len() >= CMDLINE_SIZE || cmdline_at + CMDLINE_SIZE as u64 > GUEST_MIN_BASE {
        return Err(Error::Usage(
            "manifest and command line do not fit the boot area".into(),
        ));
    }
    let mut bi = Vec::with_capacity(BOOT_INFO_SIZE as usize);
    for v in [mem.size(), kernel_end, cpu_cycle_freq, cmdline_at, mft_at] {
        bi.extend_from_slice(&v.to_le_bytes());
    }
    // host_features = 0 (no shared rings: hypercalls only), guest_features, net_ring.
    bi.extend_from_slice(&[0u8; 16]);
    mem.write_phys(BOOT_INFO_BASE, &bi)?;
    mem.write_phys(mft_at, mft)?;
    let mut line = vec![0u8; CMDLINE_SIZE];
    line[..cmdline.len()].copy_from_slice(cmdline);
    mem.write_phys(cmdline_at, &line)?;
    Ok(BootArea {
        mft: mft_at,
        cmdline: cmdline_at,
    })
}

fn segment(selector: u16, type_: u8, l: u8, db: u8) -> kvm_segment {
    kvm_segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        type_,
        present: 1,
        dpl: 0,
        db,
        s: 1,
        l,
        g: 1,
        avl: 0,
        unusable: 0,
        padding: 0,
    }
}

/// Long mode, paging on, SSE enabled, flat segments from our GDT.
pub fn sregs(mut s: kvm_sregs) -> kvm_sregs {
    s.cr0 = CR0;
    s.cr3 = PML4_BASE;
    s.cr4 = CR4;
    s.efer = EFER;
    s.cs = segment(0x08, 9, 1, 0);
    let data = segment(0x10, 3, 0, 1);
    s.ds = data;
    s.es = data;
    s.fs = data;
    s.gs = data;
    s.ss = data;
    s.gdt.base = GDT_BASE;
    s.gdt.limit = 23;
    s.idt.base = 0;
    s.idt.limit = 0;
    s.tr = kvm_segment {
        type_: 11,
        present: 1,
        ..kvm_segment::default()
    };
    s.ldt = kvm_segment {
        unusable: 1,
        ..kvm_segment::default()
    };
    s
}

/// `rip` = entry, interrupts off, stack at the top of memory, `rdi` = boot info.
pub fn regs(entry: u64, mem_size: u64) -> kvm_regs {
    kvm_regs {
        rip: entry,
        rflags: 2,
        rsp: mem_size - 8,
        rdi: BOOT_INFO_BASE,
        ..kvm_regs::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u64_at(mem: &GuestMemory, gpa: u64) -> u64 {
        let mut b = [0u8; 8];
        mem.read_phys(gpa, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(mem_size(512 << 20).unwrap(), 512 << 20);
        assert_eq!(mem_size((3 << 20) + 5).unwrap(), 2 << 20);
        assert!(mem_size(1 << 20).is_err());
        assert_eq!(mem_size(4 << 30).unwrap(), 4 << 30);
        assert!(mem_size((4 << 30) + (2 << 20)).is_err());
    }

    fn seg(start: u64, end: u64, flags: u32) -> Segment {
        Segment {
            vaddr: start,
            offset: 0,
            filesz: end - start,
            memsz: end - start,
            flags,
            start,
            end,
        }
    }

    #[test]
    fn page_tables_and_gdt() {
        use crate::elf::PF_R;
        let mem = GuestMemory::new(1 << 30 | 4 << 20).unwrap(); // 1 GiB + 4 MiB
        let segs = [
            seg(0x10_0000, 0x10_3000, PF_R | PF_X),
            seg(0x10_3000, 0x10_5000, PF_R),
            seg(0x10_5000, 0x10_8000, PF_R | PF_W),
        ];
        write_gdt(&mem).unwrap();
        write_page_tables(&mem, &segs).unwrap();
        assert_eq!(u64_at(&mem, GDT_BASE), 0);
        assert_eq!(u64_at(&mem, GDT_BASE + 8), 0x00AF_9900_0000_FFFF);
        assert_eq!(u64_at(&mem, GDT_BASE + 16), 0x00CF_9300_0000_FFFF);
        assert_eq!(u64_at(&mem, PML4_BASE), 0x3003);
        assert_eq!(u64_at(&mem, PDPT_BASE), 0x4003);
        assert_eq!(u64_at(&mem, PDPT_BASE + 8), 0x5003);
        assert_eq!(u64_at(&mem, PDPT_BASE + 16), 0, "only the GiBs that exist");
        assert_eq!(u64_at(&mem, PD_BASE), 0x8003, "first 2 MiB through a PT");
        assert_eq!(u64_at(&mem, PD_BASE + 8), NX | 0x20_0083, "heap: RW, NX");
        assert_eq!(
            u64_at(&mem, PD_BASE + 511 * 8),
            NX | (511 * 0x20_0000) | 0x83
        );
        assert_eq!(
            u64_at(&mem, PD_BASE + 512 * 8),
            NX | (1 << 30) | 0x83,
            "second PD"
        );
        assert_eq!(u64_at(&mem, PD_BASE + 514 * 8), 0, "nothing past the end");
        let pte = |i: u64| u64_at(&mem, PT_BASE + i * 8);
        assert_eq!(pte(0), 0, "page 0 absent");
        assert_eq!(pte(15), 0, "0xf000 absent");
        assert_eq!(pte(16), NX | 0x10001, "boot info read-only");
        assert_eq!(pte(255), NX | 0xff001);
        assert_eq!(pte(256), 0x10_0001, "text: read-only, executable");
        assert_eq!(pte(258), 0x10_2001);
        assert_eq!(pte(259), NX | 0x10_3001, "rodata: read-only, NX");
        assert_eq!(pte(261), NX | 0x10_5003, "data: writable, NX");
        assert_eq!(pte(264), NX | 0x10_8003, "bss/heap: writable, NX");
        assert_eq!(pte(511), NX | 0x1f_f003);
    }

    #[test]
    fn an_image_beyond_the_page_tables_gets_union_pages() {
        use crate::elf::PF_R;
        let mem = GuestMemory::new(64 << 20).unwrap();
        // Text and data alternate in every 2 MiB region up to 40 MiB.
        let segs: Vec<Segment> = (0..20u64)
            .flat_map(|r| {
                let b = 0x10_0000 + r * PAGE_2M;
                [
                    seg(b, b + 0x1000, PF_R | PF_X),
                    seg(b + 0x1000, b + 0x2000, PF_R | PF_W),
                ]
            })
            .collect();
        write_page_tables(&mem, &segs).unwrap();
        for p in 0..PT_COUNT {
            assert_eq!(u64_at(&mem, PD_BASE + p * 8), (PT_BASE + p * 0x1000) | 3);
        }
        assert_eq!(
            u64_at(&mem, PD_BASE + PT_COUNT * 8),
            (PT_COUNT * PAGE_2M) | 0x83,
            "out of tables: writable and executable"
        );
    }

    #[test]
    fn boot_info_layout() {
        let mem = GuestMemory::new(2 << 20).unwrap();
        let mft = vec![7u8; 8 + 2 * 104];
        let area = write_boot_info(&mem, 0x12_3000, 2_596_118_000, &mft, b"a b").unwrap();
        assert_eq!(u64_at(&mem, 0x10000), 2 << 20);
        assert_eq!(u64_at(&mem, 0x10008), 0x12_3000);
        assert_eq!(u64_at(&mem, 0x10010), 2_596_118_000);
        assert_eq!(u64_at(&mem, 0x10018), area.cmdline);
        assert_eq!(u64_at(&mem, 0x10020), area.mft);
        assert_eq!(u64_at(&mem, 0x10028), 0, "host_features: no rings");
        assert_eq!(area.mft, 0x10038);
        let mut line = [0u8; 4];
        mem.read_phys(area.cmdline, &mut line).unwrap();
        assert_eq!(&line, b"a b\0");
        assert!(area.cmdline >= area.mft + mft.len() as u64);
        assert!(write_boot_info(&mem, 0, 1, &mft, &[b'x'; CMDLINE_SIZE]).is_err());
    }

    #[test]
    fn vcpu_state() {
        let s = sregs(kvm_sregs::default());
        assert_eq!(
            (s.cr0, s.cr3, s.cr4, s.efer),
            (0x8001_0021, 0x2000, 0x620, 0xd00)
        );
        assert_eq!((s.cs.selector, s.cs.type_, s.cs.l, s.cs.db), (8, 9, 1, 0));
        assert_eq!(
            (s.ss.selector, s.ss.type_, s.ss.db, s.ss.g),
            (0x10, 3, 1, 1)
        );
        assert_eq!((s.gdt.base, s.gdt.limit), (0x1000, 23));
        assert_eq!((s.tr.type_, s.tr.present), (11, 1));
        assert_eq!(s.ldt.unusable, 1);
        let r = regs(0x10_2000, 64 << 20);
        assert_eq!(
            (r.rip, r.rflags, r.rsp, r.rdi),
            (0x10_2000, 2, (64 << 20) - 8, 0x10000)
        );
    }
}
