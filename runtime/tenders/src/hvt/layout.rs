//! Guest-physical layout and initial vCPU state of an hvt guest, as
//! Solo5 0.12's tender sets them up (research/runtime.md §1.3).

use kvm_bindings::{kvm_regs, kvm_segment, kvm_sregs};

use super::mem::GuestMemory;
use crate::error::Error;

pub const GDT_BASE: u64 = 0x1000;
pub const PML4_BASE: u64 = 0x2000;
pub const PDPT_BASE: u64 = 0x3000;
/// Four page directories (one per GiB).
pub const PD_BASE: u64 = 0x4000;
/// 4 KiB pages for the first 2 MiB.
pub const PT_BASE: u64 = 0x8000;
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

pub const CR0: u64 = 0x8001_0021; // PE | NE | WP | PG
pub const CR4: u64 = 0x620; // PAE | OSFXSR | OSXMMEXCPT: SSE, no AVX
pub const EFER: u64 = 0x500; // LME | LMA
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

/// Identity map of [0, size): the first 2 MiB in 4 KiB pages (nothing below
/// 0x10000, the boot area read-only, the rest writable), 2 MiB pages above.
pub fn write_page_tables(mem: &GuestMemory) -> Result<(), Error> {
    let size = mem.size();
    let entry =
        |table: u64, i: u64, value: u64| mem.write_phys(table + 8 * i, &value.to_le_bytes());
    entry(PML4_BASE, 0, PDPT_BASE | PRESENT | WRITABLE)?;
    for g in 0..size.div_ceil(GIB) {
        entry(PDPT_BASE, g, (PD_BASE + g * 0x1000) | PRESENT | WRITABLE)?;
    }
    for p in 0..size / PAGE_2M {
        let value = if p == 0 {
            PT_BASE | PRESENT | WRITABLE
        } else {
            (p * PAGE_2M) | PRESENT | WRITABLE | HUGE
        };
        // The four PDs are contiguous, so entry p of "one big PD" works.
        entry(PD_BASE, p, value)?;
    }
    for i in 0..512 {
        let addr = i * 0x1000;
        let value = match addr {
            a if a < BOOT_INFO_BASE => 0,
            a if a < GUEST_MIN_BASE => a | PRESENT,
            a => a | PRESENT | WRITABLE,
        };
        entry(PT_BASE, i, value)?;
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

    #[test]
    fn page_tables_and_gdt() {
        let mem = GuestMemory::new(1 << 30 | 4 << 20).unwrap(); // 1 GiB + 4 MiB
        write_gdt(&mem).unwrap();
        write_page_tables(&mem).unwrap();
        assert_eq!(u64_at(&mem, GDT_BASE), 0);
        assert_eq!(u64_at(&mem, GDT_BASE + 8), 0x00AF_9900_0000_FFFF);
        assert_eq!(u64_at(&mem, GDT_BASE + 16), 0x00CF_9300_0000_FFFF);
        assert_eq!(u64_at(&mem, PML4_BASE), 0x3003);
        assert_eq!(u64_at(&mem, PDPT_BASE), 0x4003);
        assert_eq!(u64_at(&mem, PDPT_BASE + 8), 0x5003);
        assert_eq!(u64_at(&mem, PDPT_BASE + 16), 0, "only the GiBs that exist");
        assert_eq!(u64_at(&mem, PD_BASE), 0x8003, "first 2 MiB through the PT");
        assert_eq!(u64_at(&mem, PD_BASE + 8), 0x20_0083);
        assert_eq!(u64_at(&mem, PD_BASE + 511 * 8), (511 * 0x20_0000) | 0x83);
        assert_eq!(
            u64_at(&mem, PD_BASE + 512 * 8),
            (1 << 30) | 0x83,
            "second PD"
        );
        assert_eq!(u64_at(&mem, PD_BASE + 513 * 8), (1 << 30 | 2 << 20) | 0x83);
        assert_eq!(u64_at(&mem, PD_BASE + 514 * 8), 0, "nothing past the end");
        assert_eq!(u64_at(&mem, PT_BASE), 0, "page 0 absent");
        assert_eq!(u64_at(&mem, PT_BASE + 15 * 8), 0, "0xf000 absent");
        assert_eq!(
            u64_at(&mem, PT_BASE + 16 * 8),
            0x10001,
            "boot info read-only"
        );
        assert_eq!(u64_at(&mem, PT_BASE + 255 * 8), 0xff001);
        assert_eq!(u64_at(&mem, PT_BASE + 256 * 8), 0x10_0003, "image writable");
        assert_eq!(u64_at(&mem, PT_BASE + 511 * 8), 0x1f_f003);
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
            (0x8001_0021, 0x2000, 0x620, 0x500)
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
