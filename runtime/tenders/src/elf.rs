//! Loading a Solo5 image: the ELF checks of Solo5's `elf_load` and
//! `elf_load_note` (tenders/common/elf.c), rule for rule, plus our own
//! (the entry must lie in an executable segment).

use crate::error::Error;

pub const PT_LOAD: u32 = 1;
pub const PT_NOTE: u32 = 4;
pub const PF_X: u32 = 1;
pub const PF_W: u32 = 2;
pub const PF_R: u32 = 4;
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const PAGE: u64 = 0x1000;
/// `Elf64_Nhdr` plus "Solo5\0" padded to 4 bytes.
const SOLO5_NHDR: usize = 20;

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// A program header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub align: u64,
}

/// A segment to load: `filesz` bytes from the file at `vaddr`, zeroes up
/// to `memsz`; protection applies to the page-aligned `start..end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub offset: u64,
    pub filesz: u64,
    pub memsz: u64,
    pub flags: u32,
    pub start: u64,
    pub end: u64,
}

/// A parsed image.
#[derive(Clone, Debug)]
pub struct Elf {
    pub entry: u64,
    pub phdrs: Vec<Phdr>,
}

fn invalid(msg: String) -> Error {
    Error::Image(msg)
}

/// `ehdr_is_valid` and the program header table.
pub fn parse(b: &[u8]) -> Result<Elf, Error> {
    if b.len() < EHDR_SIZE {
        return Err(invalid(format!(
            "{} bytes is too short for an ELF header",
            b.len()
        )));
    }
    if b[0..4] != *b"\x7fELF" || b[4] != 2 || b[5] != 1 || u32_at(b, 20) != 1 {
        return Err(invalid("not a 64-bit little-endian ELF file".into()));
    }
    let (ehsize, phentsize, phnum) = (u16_at(b, 52), u16_at(b, 54), u16_at(b, 56));
    if usize::from(ehsize) != EHDR_SIZE || usize::from(phentsize) != PHDR_SIZE || phnum < 1 {
        return Err(invalid(format!(
            "unexpected ELF header sizes (ehsize {ehsize}, phentsize {phentsize}, phnum {phnum})"
        )));
    }
    let e_type = u16_at(b, 16);
    if e_type != 2 {
        return Err(invalid(format!(
            "e_type {e_type} is not ET_EXEC (a PIE or shared object cannot be loaded)"
        )));
    }
    if u16_at(b, 18) != 62 {
        return Err(invalid("not an x86_64 (EM_X86_64) executable".into()));
    }
    let phoff = u64_at(b, 32);
    let table = usize::try_from(phoff)
        .ok()
        .and_then(|off| Some(off..off.checked_add(usize::from(phnum) * PHDR_SIZE)?))
        .filter(|r| r.end <= b.len())
        .ok_or_else(|| invalid("program header table outside the file".into()))?;
    let phdrs = b[table]
        .chunks_exact(PHDR_SIZE)
        .map(|p| Phdr {
            p_type: u32_at(p, 0),
            flags: u32_at(p, 4),
            offset: u64_at(p, 8),
            vaddr: u64_at(p, 16),
            filesz: u64_at(p, 32),
            memsz: u64_at(p, 40),
            align: u64_at(p, 48),
        })
        .collect();
    Ok(Elf {
        entry: u64_at(b, 24),
        phdrs,
    })
}

fn align_down(addr: u64, align: u64) -> Option<u64> {
    align.is_power_of_two().then(|| addr & !(align - 1))
}

fn align_up(addr: u64, align: u64) -> Option<u64> {
    if !align.is_power_of_two() {
        return None;
    }
    Some(addr.checked_add(align - 1)? & !(align - 1))
}

/// The checks of `elf_load` for `mem_size` bytes of guest memory with the
/// image at or above `min_addr`: the segments to load and the highest
/// aligned end (`kernel_end`).
pub fn plan(
    elf: &Elf,
    file_len: u64,
    mem_size: u64,
    min_addr: u64,
) -> Result<(Vec<Segment>, u64), Error> {
    if elf.entry < min_addr || elf.entry >= mem_size {
        return Err(invalid(format!(
            "entry {:#x} outside guest memory {min_addr:#x}..{mem_size:#x}",
            elf.entry
        )));
    }
    let mut end = 0u64;
    let mut last = 0u64;
    let mut segments = Vec::new();
    for (i, p) in elf.phdrs.iter().enumerate() {
        // Only non-empty PT_LOADs, as Solo5.
        if p.p_type != PT_LOAD || p.filesz == 0 {
            continue;
        }
        let at = |what: &str| invalid(format!("segment {i} at {:#x}: {what}", p.vaddr));
        if p.vaddr < min_addr {
            return Err(at(&format!("below the load address {min_addr:#x}")));
        }
        if p.vaddr < last {
            return Err(at("segments are not in ascending order"));
        }
        last = p.vaddr;
        let start = align_down(p.vaddr, p.align)
            .ok_or_else(|| at(&format!("alignment {:#x} is not a power of two", p.align)))?;
        if start < min_addr {
            return Err(at("aligned start below the load address"));
        }
        if start < end {
            return Err(at("overlaps the previous segment"));
        }
        if p.vaddr >= mem_size {
            return Err(at(&format!("outside guest memory ({mem_size:#x} bytes)")));
        }
        if p.vaddr.checked_add(p.filesz).is_none_or(|e| e > mem_size) {
            return Err(at(&format!(
                "file data ends outside guest memory ({mem_size:#x} bytes)"
            )));
        }
        if p.memsz < p.filesz {
            return Err(at("memsz is smaller than filesz"));
        }
        let seg_end = p
            .vaddr
            .checked_add(p.memsz)
            .and_then(|e| align_up(e, p.align))
            .filter(|&e| e <= mem_size)
            .ok_or_else(|| at(&format!("ends outside guest memory ({mem_size:#x} bytes)")))?;
        let in_file = p
            .offset
            .checked_add(p.filesz)
            .is_some_and(|e| e <= file_len);
        if !in_file {
            return Err(at("file data beyond the end of the file"));
        }
        if start % PAGE != 0 || seg_end % PAGE != 0 {
            return Err(at("not aligned to 4 KiB pages"));
        }
        if p.flags & PF_W != 0 && p.flags & PF_X != 0 {
            return Err(at("both writable and executable"));
        }
        end = end.max(seg_end);
        segments.push(Segment {
            vaddr: p.vaddr,
            offset: p.offset,
            filesz: p.filesz,
            memsz: p.memsz,
            flags: p.flags,
            start,
            end: seg_end,
        });
    }
    if segments.is_empty() {
        return Err(invalid("no loadable segment".into()));
    }
    let in_text = segments
        .iter()
        .any(|s| s.flags & PF_X != 0 && (s.vaddr..s.vaddr + s.memsz).contains(&elf.entry));
    if !in_text {
        return Err(invalid(format!(
            "entry {:#x} is not inside an executable segment",
            elf.entry
        )));
    }
    Ok((segments, end))
}

/// `elf_load_note`: the descriptor of the first Solo5 note of `note_type`
/// (one note per PT_NOTE is read), without its internal alignment padding.
/// `Ok(None)` if there is none.
pub fn note<'a>(
    b: &'a [u8],
    elf: &Elf,
    note_type: u32,
    note_align: usize,
    min_size: usize,
    max_size: usize,
) -> Result<Option<&'a [u8]>, Error> {
    note_named(
        b, elf, b"Solo5\0", note_type, note_align, min_size, max_size,
    )
}

/// [`note`] for notes named `name` (six bytes with the terminator).
pub fn note_named<'a>(
    b: &'a [u8],
    elf: &Elf,
    name: &[u8; 6],
    note_type: u32,
    note_align: usize,
    min_size: usize,
    max_size: usize,
) -> Result<Option<&'a [u8]>, Error> {
    for (i, p) in elf.phdrs.iter().enumerate() {
        if p.p_type != PT_NOTE {
            continue;
        }
        if p.filesz < 12 {
            return Err(invalid(format!(
                "PT_NOTE {i} is smaller than a note header"
            )));
        }
        if p.filesz < SOLO5_NHDR as u64 {
            continue;
        }
        let off = usize::try_from(p.offset)
            .ok()
            .filter(|&o| o.checked_add(SOLO5_NHDR).is_some_and(|e| e <= b.len()))
            .ok_or_else(|| invalid(format!("PT_NOTE {i} outside the file")))?;
        let h = &b[off..off + SOLO5_NHDR];
        if u32_at(h, 0) != 6 || &h[12..18] != name || u32_at(h, 8) != note_type {
            continue;
        }
        let descsz = u32_at(h, 4) as usize;
        if descsz < 1 || descsz > max_size {
            return Err(invalid(format!(
                "note {note_type:#x}: descriptor of {descsz} bytes (1..={max_size} allowed)"
            )));
        }
        if p.filesz < (SOLO5_NHDR + descsz) as u64 {
            return Err(invalid(format!(
                "note {note_type:#x} is larger than its PT_NOTE"
            )));
        }
        let data_off = SOLO5_NHDR.next_multiple_of(note_align);
        let pad = data_off - SOLO5_NHDR;
        let size = descsz
            .checked_sub(pad)
            .filter(|&s| s >= min_size)
            .ok_or_else(|| {
                invalid(format!(
                    "note {note_type:#x}: descriptor of {descsz} bytes is too small"
                ))
            })?;
        let start = off + data_off;
        return b.get(start..start + size).map(Some).ok_or_else(|| {
            invalid(format!(
                "note {note_type:#x} extends past the end of the file"
            ))
        });
    }
    Ok(None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal valid image: text at 0x100000 (entry), a data segment and
    /// the given notes (each in its own PT_NOTE).
    pub fn image(entry: u64, notes: &[Vec<u8>]) -> Vec<u8> {
        let phnum = 2 + notes.len();
        let mut b = vec![0u8; 0x3000];
        b[0..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[6] = 1;
        b[16..18].copy_from_slice(&2u16.to_le_bytes());
        b[18..20].copy_from_slice(&62u16.to_le_bytes());
        b[20..24].copy_from_slice(&1u32.to_le_bytes());
        b[24..32].copy_from_slice(&entry.to_le_bytes());
        b[32..40].copy_from_slice(&64u64.to_le_bytes());
        b[52..54].copy_from_slice(&64u16.to_le_bytes());
        b[54..56].copy_from_slice(&56u16.to_le_bytes());
        b[56..58].copy_from_slice(&(phnum as u16).to_le_bytes());
        let load = |flags, offset, vaddr, filesz, memsz| Phdr {
            p_type: PT_LOAD,
            flags,
            offset,
            vaddr,
            filesz,
            memsz,
            align: 0x1000,
        };
        put_phdr(
            &mut b,
            0,
            load(PF_R | PF_X, 0x1000, 0x10_0000, 0x100, 0x100),
        );
        put_phdr(
            &mut b,
            1,
            load(PF_R | PF_W, 0x2000, 0x10_1000, 0x10, 0x2000),
        );
        let mut off = 0x2100;
        for (i, n) in notes.iter().enumerate() {
            let note = Phdr {
                p_type: PT_NOTE,
                flags: PF_R,
                offset: off as u64,
                vaddr: 0,
                filesz: n.len() as u64,
                memsz: n.len() as u64,
                align: 4,
            };
            put_phdr(&mut b, 2 + i, note);
            if b.len() < off + n.len() {
                b.resize(off + n.len(), 0);
            }
            b[off..off + n.len()].copy_from_slice(n);
            off = (off + n.len()).next_multiple_of(8);
        }
        b[0x1000] = 0xf4; // hlt
        b
    }

    fn put_phdr(b: &mut [u8], i: usize, p: Phdr) {
        let at = 64 + i * 56;
        b[at..at + 4].copy_from_slice(&p.p_type.to_le_bytes());
        b[at + 4..at + 8].copy_from_slice(&p.flags.to_le_bytes());
        b[at + 8..at + 16].copy_from_slice(&p.offset.to_le_bytes());
        b[at + 16..at + 24].copy_from_slice(&p.vaddr.to_le_bytes());
        b[at + 24..at + 32].copy_from_slice(&p.vaddr.to_le_bytes());
        b[at + 32..at + 40].copy_from_slice(&p.filesz.to_le_bytes());
        b[at + 40..at + 48].copy_from_slice(&p.memsz.to_le_bytes());
        b[at + 48..at + 56].copy_from_slice(&p.align.to_le_bytes());
    }

    pub fn set_phdr_u64(b: &mut [u8], index: usize, field: usize, value: u64) {
        let at = 64 + index * 56 + field;
        b[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }

    const MB: u64 = 1 << 20;

    #[test]
    fn plans_a_valid_image() {
        let b = image(0x10_0010, &[]);
        let elf = parse(&b).unwrap();
        let (segs, end) = plan(&elf, b.len() as u64, 512 * MB, 0x10_0000).unwrap();
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].start, segs[0].end), (0x10_0000, 0x10_1000));
        assert_eq!((segs[1].start, segs[1].end), (0x10_1000, 0x10_3000));
        assert_eq!(end, 0x10_3000);
    }

    #[test]
    fn rejects_broken_headers() {
        let good = image(0x10_0010, &[]);
        assert!(parse(&good[..63]).is_err());
        let mut b = good.clone();
        b[16] = 3; // ET_DYN
        assert!(parse(&b).unwrap_err().to_string().contains("ET_EXEC"));
        let mut b = good.clone();
        b[18] = 40; // EM_ARM
        assert!(parse(&b).is_err());
        let mut b = good.clone();
        b[4] = 1; // ELFCLASS32
        assert!(parse(&b).is_err());
        let mut b = good.clone();
        b[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // phoff
        assert!(parse(&b).is_err());
        let mut b = good;
        b[56] = 0; // phnum
        assert!(parse(&b).is_err());
    }

    #[test]
    fn rejects_bad_segments() {
        let check = |b: &[u8], mem: u64| {
            let elf = parse(b).unwrap();
            plan(&elf, b.len() as u64, mem, 0x10_0000)
                .unwrap_err()
                .to_string()
        };
        let good = image(0x10_0010, &[]);
        // Memory too small for the image.
        assert!(check(&good, 0x10_2000).contains("outside guest memory"));
        // Entry in the data segment, or outside memory.
        let e = check(&image(0x10_1004, &[]), 512 * MB);
        assert!(e.contains("not inside an executable segment"), "{e}");
        assert!(check(&image(0x8000, &[]), 512 * MB).contains("entry"));
        // Below the load address.
        let mut b = good.clone();
        set_phdr_u64(&mut b, 0, 16, 0xf_f000);
        assert!(check(&b, 512 * MB).contains("below the load address"));
        // Descending order / overlap.
        let mut b = good.clone();
        set_phdr_u64(&mut b, 1, 16, 0x10_0800);
        let e = check(&b, 512 * MB);
        assert!(e.contains("overlaps") || e.contains("aligned"), "{e}");
        // Alignment not a power of two.
        let mut b = good.clone();
        set_phdr_u64(&mut b, 0, 48, 0x1001);
        assert!(check(&b, 512 * MB).contains("power of two"));
        // Overflowing sizes.
        let mut b = good.clone();
        set_phdr_u64(&mut b, 1, 40, u64::MAX);
        assert!(check(&b, 512 * MB).contains("outside guest memory"));
        let mut b = good.clone();
        set_phdr_u64(&mut b, 1, 32, u64::MAX);
        assert!(check(&b, 512 * MB).contains("outside guest memory"));
        // memsz < filesz.
        let mut b = good.clone();
        set_phdr_u64(&mut b, 1, 40, 1);
        assert!(check(&b, 512 * MB).contains("memsz"));
        // File data past the end of the file.
        let mut b = good.clone();
        set_phdr_u64(&mut b, 1, 8, 0x10_0000);
        assert!(check(&b, 512 * MB).contains("end of the file"));
        // W+X.
        let mut b = good;
        b[64 + 4] = (PF_R | PF_W | PF_X) as u8;
        assert!(check(&b, 512 * MB).contains("writable and executable"));
    }

    fn solo5_note(note_type: u32, desc: &[u8]) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&6u32.to_le_bytes());
        n.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        n.extend_from_slice(&note_type.to_le_bytes());
        n.extend_from_slice(b"Solo5\0\0\0");
        n.extend_from_slice(desc);
        n
    }

    #[test]
    fn finds_notes_one_per_pt_note() {
        let abi = solo5_note(
            0x3149_4241,
            &[2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        );
        let mut other = solo5_note(0x1234, &[1, 2, 3, 4]);
        other.extend_from_slice(&abi); // a second note in one PT_NOTE is never seen
        let b = image(0x10_0010, &[other]);
        let elf = parse(&b).unwrap();
        assert_eq!(note(&b, &elf, 0x3149_4241, 4, 16, 32).unwrap(), None);
        let b = image(0x10_0010, &[abi]);
        let elf = parse(&b).unwrap();
        let d = note(&b, &elf, 0x3149_4241, 4, 16, 32).unwrap().unwrap();
        assert_eq!(d.len(), 16);
        assert_eq!(d[0], 2);
        // 8-byte internal alignment strips 4 bytes of padding.
        let b = image(
            0x10_0010,
            &[solo5_note(7, &[0, 0, 0, 0, 9, 9, 9, 9, 9, 9, 9, 9])],
        );
        let elf = parse(&b).unwrap();
        assert_eq!(note(&b, &elf, 7, 8, 8, 100).unwrap().unwrap(), &[9; 8]);
        // Too large / too small descriptors are errors, not skips.
        assert!(note(&b, &elf, 7, 8, 8, 11).is_err());
        assert!(note(&b, &elf, 7, 8, 9, 100).is_err());
    }
}
