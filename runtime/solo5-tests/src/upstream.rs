//! What an upstream Solo5 0.12 tender (and `solo5-elftool`) require of an
//! image, written down independently of unik-tender's loader so the two
//! can disagree: ELF header and segment rules of `elf_load`, the
//! one-note-per-PT_NOTE rule of `elf_load_note`, and the exact bytes of the
//! `ABI1` and `MFT1` notes (research/runtime.md §1.1).

use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol};

const ABI1: u32 = 0x3149_4241;
const MFT1: u32 = 0x3154_464d;
const TEXT_BASE: u64 = 0x10_0000;
const PAGE: u64 = 0x1000;

/// What an image declares, once it passed every rule.
#[derive(Debug)]
pub struct Facts {
    pub entry: u64,
    /// (abi_target, abi_version)
    pub abi: (u32, u32),
    /// Manifest entries after the reserved one: (name, type).
    pub devices: Vec<(String, u32)>,
    /// The whole MFT1 note (header included) as stored in the file.
    pub mft_note: Vec<u8>,
    /// Non-empty PT_LOADs: (vaddr, memsz, flags).
    pub loads: Vec<(u64, u64, u32)>,
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// Check `data` as an image for ABI target `target` (1 = hvt, 2 = spt), version 2.
pub fn check(data: &[u8], target: u32) -> Result<Facts, String> {
    let h = FileHeader64::<Endianness>::parse(data).map_err(|e| e.to_string())?;
    let e = h.endian().map_err(|e| e.to_string())?;
    if !h.is_little_endian() || data[6] != 1 || h.e_version(e) != 1 {
        return Err("not a version-1 little-endian ELF64 file".into());
    }
    if h.e_type(e) != elf::ET_EXEC || h.e_machine(e) != elf::EM_X86_64 {
        return Err(format!(
            "e_type {} / e_machine {}: not an x86_64 ET_EXEC",
            h.e_type(e),
            h.e_machine(e)
        ));
    }
    if h.e_ehsize(e) != 64 || h.e_phentsize(e) != 56 || h.e_phnum(e) == 0 {
        return Err("unexpected ELF header sizes".into());
    }
    let entry = h.e_entry(e);
    let phdrs = h.program_headers(e, data).map_err(|e| e.to_string())?;

    let mut loads = Vec::new();
    let mut end = 0u64;
    let mut abi = None;
    let mut mft = None;
    let mut interp = false;
    let mut first_note = true;
    for (i, p) in phdrs.iter().enumerate() {
        let (vaddr, filesz, memsz, align) =
            (p.p_vaddr(e), p.p_filesz(e), p.p_memsz(e), p.p_align(e));
        match p.p_type(e) {
            // Upstream images name an interpreter that does not exist so
            // that the host refuses to run them.
            elf::PT_INTERP => {
                let off = p.p_offset(e) as usize;
                let path = data
                    .get(off..off + filesz as usize)
                    .ok_or("PT_INTERP outside the file")?;
                if !path.starts_with(b"/nonexistent/solo5/\0") {
                    return Err(format!(
                        "PT_INTERP {:?}, expected \"/nonexistent/solo5/\"",
                        String::from_utf8_lossy(path)
                    ));
                }
                interp = true;
            }
            elf::PT_DYNAMIC => return Err("PT_DYNAMIC present".into()),
            elf::PT_LOAD if filesz > 0 => {
                let flags = p.p_flags(e).0;
                if align != PAGE {
                    return Err(format!(
                        "PT_LOAD {i}: p_align {align:#x}, expected 0x1000 (-z max-page-size=0x1000)"
                    ));
                }
                if vaddr < TEXT_BASE || vaddr % PAGE != 0 || vaddr < end {
                    return Err(format!(
                        "PT_LOAD {i} at {vaddr:#x}: below 1 MiB, unaligned or not ascending"
                    ));
                }
                if memsz < filesz || p.p_paddr(e) != vaddr {
                    return Err(format!("PT_LOAD {i}: memsz < filesz or paddr != vaddr"));
                }
                if flags & elf::PF_W.0 != 0 && flags & elf::PF_X.0 != 0 {
                    return Err(format!("PT_LOAD {i} is writable and executable"));
                }
                end = (vaddr + memsz).next_multiple_of(PAGE);
                loads.push((vaddr, memsz, flags));
            }
            elf::PT_NOTE => {
                let off = p.p_offset(e) as usize;
                let b = data
                    .get(off..off + filesz as usize)
                    .ok_or("PT_NOTE outside the file")?;
                // OpenBSD reads the first PT_NOTE: it must say "OpenBSD".
                if std::mem::take(&mut first_note)
                    && (b.len() != 24
                        || le32(b, 0) != 8
                        || le32(b, 8) != 1
                        || &b[12..20] != b"OpenBSD\0")
                {
                    return Err(format!(
                        "PT_NOTE {i}: the first PT_NOTE is not the OpenBSD note"
                    ));
                }
                if b.len() < 20 || le32(b, 0) != 6 || &b[12..20] != b"Solo5\0\0\0" {
                    continue;
                }
                let descsz = le32(b, 4) as usize;
                // One note per PT_NOTE: the segment is exactly this note.
                if b.len() != 20 + descsz {
                    return Err(format!(
                        "PT_NOTE {i}: {} bytes for a note of {}",
                        b.len(),
                        20 + descsz
                    ));
                }
                match le32(b, 8) {
                    ABI1 if abi.is_none() => abi = Some(b.to_vec()),
                    MFT1 if mft.is_none() => mft = Some(b.to_vec()),
                    t => {
                        return Err(format!(
                            "PT_NOTE {i}: unexpected or repeated Solo5 note {t:#x}"
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    if !interp {
        return Err("no PT_INTERP: the host would run the image as a program".into());
    }
    if loads.first().map(|l| l.0) != Some(TEXT_BASE) {
        return Err("the first PT_LOAD is not at 0x100000".into());
    }
    let in_text = loads
        .iter()
        .any(|&(v, m, f)| f & elf::PF_X.0 != 0 && (v..v + m).contains(&entry));
    if !in_text {
        return Err(format!(
            "e_entry {entry:#x} is not in an executable PT_LOAD"
        ));
    }

    let abi = abi.ok_or("no ABI1 note in a PT_NOTE of its own")?;
    let mut want = vec![6, 0, 0, 0, 16, 0, 0, 0];
    want.extend_from_slice(&ABI1.to_le_bytes());
    want.extend_from_slice(b"Solo5\0\0\0");
    for w in [target, 2, 0, 0] {
        want.extend_from_slice(&w.to_le_bytes());
    }
    if abi != want {
        return Err(format!("ABI1 note bytes {abi:02x?}, expected {want:02x?}"));
    }

    let note = mft.ok_or("no MFT1 note in a PT_NOTE of its own")?;
    let descsz = le32(&note, 4) as usize;
    if le32(&note, 20) != 0 {
        return Err("MFT1: the 4 alignment bytes are not zero".into());
    }
    let m = &note[24..];
    let n = le32(m, 4) as usize;
    if le32(m, 0) != 1 || n == 0 || n > 64 || descsz != 12 + 104 * n || m.len() != 8 + 104 * n {
        return Err(format!(
            "MFT1: version {}, {n} entries, descsz {descsz}",
            le32(m, 0)
        ));
    }
    let mut devices: Vec<(String, u32)> = Vec::new();
    for i in 0..n {
        let ent = &m[8 + 104 * i..8 + 104 * (i + 1)];
        let len = ent[..68]
            .iter()
            .position(|&c| c == 0)
            .ok_or("MFT1: unterminated name")?;
        if ent[len..68].iter().any(|&c| c != 0) {
            return Err(format!("MFT1 entry {i}: bytes after the name terminator"));
        }
        if ent[72..].iter().any(|&c| c != 0) {
            return Err(format!(
                "MFT1 entry {i}: device fields or `attached` set in the image"
            ));
        }
        let ty = le32(ent, 68);
        let name = std::str::from_utf8(&ent[..len]).map_err(|_| "MFT1: name is not text")?;
        if i == 0 {
            if ty != 1 << 30 || len != 0 {
                return Err("MFT1 entry 0 is not MFT_RESERVED_FIRST with an empty name".into());
            }
            continue;
        }
        if !(1..=67).contains(&len) || !name.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(format!("MFT1 entry {i}: bad name {name:?}"));
        }
        if ty != 1 && ty != 2 {
            return Err(format!("MFT1 entry {i}: type {ty}"));
        }
        if devices.iter().any(|(d, _)| d == name) {
            return Err(format!("MFT1: {name:?} twice"));
        }
        devices.push((name.to_string(), ty));
    }

    let file = object::File::parse(data).map_err(|e| e.to_string())?;
    let undefined: Vec<String> = file
        .symbols()
        .filter(|s| s.is_undefined() && !s.name().unwrap_or("").is_empty())
        .map(|s| s.name().unwrap_or("?").to_string())
        .collect();
    if !undefined.is_empty() {
        return Err(format!("undefined symbols: {undefined:?}"));
    }
    Ok(Facts {
        entry,
        abi: (target, 2),
        devices,
        mft_note: note,
        loads,
    })
}
