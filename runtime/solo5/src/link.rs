//! What the freestanding linker script template (`link.ld.in` of
//! unik-freestanding) needs for a Solo5 image: the entry symbol and one
//! PT_NOTE per Solo5 note, because tenders read only the first note of each.

use alloc::string::String;

/// `{{ENTRY}}`: the binding's entry (spt and hvt alike).
pub const ENTRY: &str = "_start";
/// `{{TEXT_BASE}}`: spt and hvt load at 1 MiB.
pub const TEXT_BASE: &str = "0x100000";
/// `{{NOTE_PHDRS}}`: besides the notes, upstream's markers that keep the
/// host from running an image as a program: `PT_INTERP` (a path that does
/// not exist) and the OpenBSD note, in the first `PT_NOTE`.
pub const NOTE_PHDRS: &str = "interp PT_INTERP;\n    \
     note_openbsd PT_NOTE FLAGS(4);\n    \
     note_abi PT_NOTE FLAGS(4);\n    \
     note_mft PT_NOTE FLAGS(4);\n    \
     note_vnet PT_NOTE FLAGS(4);";
/// `{{NOTE_SECTIONS}}`.
pub const NOTE_SECTIONS: &str = ".interp : { KEEP(*(.solo5.interp)) } :rodata :interp\n    \
     .note.solo5.not_openbsd : { KEEP(*(.note.solo5.not_openbsd)) } :rodata :note_openbsd\n    \
     .note.solo5.abi : { KEEP(*(.note.solo5.abi)) } :rodata :note_abi\n    \
     .note.solo5.manifest : { KEEP(*(.note.solo5.manifest)) } :rodata :note_mft\n    \
     .note.unikc.vnet : { KEEP(*(.note.unikc.vnet)) } :rodata :note_vnet";

/// Render the template for spt or hvt (the script is the same for both).
pub fn render(template: &str) -> String {
    template
        .replace("{{ENTRY}}", ENTRY)
        .replace("{{TEXT_BASE}}", TEXT_BASE)
        .replace("{{NOTE_PHDRS}}", NOTE_PHDRS)
        .replace("{{NOTE_SECTIONS}}", NOTE_SECTIONS)
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_every_placeholder() {
        let template = include_str!("../../freestanding/link.ld.in");
        let script = super::render(template);
        assert!(!script.contains("{{"), "{script}");
        assert!(script.contains("ENTRY(_start)"));
        assert!(script.contains(". = 0x100000;"));
        assert!(script.contains(":rodata :note_mft"));
        assert!(script.contains("interp PT_INTERP;"));
        let openbsd = script.find("note_openbsd PT_NOTE").unwrap();
        assert!(
            openbsd < script.find("note_abi PT_NOTE").unwrap(),
            "first PT_NOTE"
        );
    }
}
