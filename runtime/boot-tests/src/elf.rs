//! Structural checks on a bootable image.

use object::elf::{self, FileHeader64};
use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, Object, ObjectSymbol};

/// Facts about an image, or the first problem found.
#[derive(Debug)]
pub struct ImageFacts {
    pub entry: u64,
    pub pvh_entry: u32,
    pub text: (u64, u64),
    pub loads: usize,
}

pub fn check_pvh_image(data: &[u8]) -> Result<ImageFacts, String> {
    let header = FileHeader64::<Endianness>::parse(data).map_err(|e| e.to_string())?;
    let endian = header.endian().map_err(|e| e.to_string())?;
    if header.e_type(endian) != elf::ET_EXEC {
        return Err(format!("e_type {} is not ET_EXEC", header.e_type(endian)));
    }
    if header.e_machine(endian) != elf::EM_X86_64 {
        return Err("not an x86_64 image".into());
    }
    let phdrs = header
        .program_headers(endian, data)
        .map_err(|e| e.to_string())?;
    let mut text = None;
    let mut loads = Vec::new();
    let mut pvh_entry = None;
    for ph in phdrs {
        match ph.p_type(endian) {
            elf::PT_INTERP => return Err("image has PT_INTERP".into()),
            elf::PT_DYNAMIC => return Err("image has PT_DYNAMIC".into()),
            elf::PT_LOAD => {
                let start = ph.p_vaddr(endian);
                let end = start + ph.p_memsz(endian);
                if ph.p_paddr(endian) != start {
                    return Err(format!("PT_LOAD at {start:#x} has paddr != vaddr"));
                }
                if ph.p_flags(endian).0 & elf::PF_X.0 != 0 {
                    if ph.p_flags(endian).0 & elf::PF_W.0 != 0 {
                        return Err("writable and executable segment".into());
                    }
                    text = Some((start, end));
                }
                loads.push((start, end));
            }
            elf::PT_NOTE => {
                let mut notes = ph
                    .notes(endian, data)
                    .map_err(|e| e.to_string())?
                    .ok_or("empty PT_NOTE")?;
                // Loaders read only the first note of each PT_NOTE.
                let note = notes
                    .next()
                    .map_err(|e| e.to_string())?
                    .ok_or("PT_NOTE without a note")?;
                if note.name() == b"Xen" && note.n_type(endian).0 == 18 {
                    let desc: [u8; 4] = note
                        .desc()
                        .get(..4)
                        .and_then(|d| d.try_into().ok())
                        .ok_or("short PVH note")?;
                    pvh_entry = Some(u32::from_le_bytes(desc));
                }
            }
            _ => {}
        }
    }
    loads.sort();
    if loads.windows(2).any(|w| w[0].1 > w[1].0) {
        return Err(format!("overlapping PT_LOADs: {loads:x?}"));
    }
    let text = text.ok_or("no executable PT_LOAD")?;
    if text.0 != 0x10_0000 {
        return Err(format!("text starts at {:#x}, expected 0x100000", text.0));
    }
    let pvh_entry = pvh_entry.ok_or("no Xen PHYS32_ENTRY (type 18) note in its own PT_NOTE")?;
    let entry = header.e_entry(endian);
    for (what, addr) in [("e_entry", entry), ("PVH entry", u64::from(pvh_entry))] {
        if !(text.0..text.1).contains(&addr) {
            return Err(format!(
                "{what} {addr:#x} outside text {:#x}..{:#x}",
                text.0, text.1
            ));
        }
    }
    let file = object::File::parse(data).map_err(|e| e.to_string())?;
    let undefined: Vec<String> = file
        .symbols()
        .chain(file.dynamic_symbols())
        .filter(|s| s.is_undefined() && !s.name().unwrap_or("").is_empty())
        .map(|s| s.name().unwrap_or("?").to_string())
        .collect();
    if !undefined.is_empty() {
        return Err(format!("undefined symbols: {undefined:?}"));
    }
    Ok(ImageFacts {
        entry,
        pvh_entry,
        text,
        loads: loads.len(),
    })
}
