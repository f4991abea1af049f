//! Rendering the freestanding linker script template
//! (runtime/freestanding/link.ld.in); codegen does the same substitution.

/// One ELF note the image carries: its PT_NOTE name and input section.
pub struct Note<'a> {
    pub phdr: &'a str,
    pub section: &'a str,
}

pub fn render(template: &str, entry: &str, text_base: u64, notes: &[Note<'_>]) -> String {
    let phdrs: Vec<String> = notes
        .iter()
        .map(|n| format!("{} PT_NOTE FLAGS(4);", n.phdr))
        .collect();
    let sections: Vec<String> = notes
        .iter()
        .map(|n| format!("{0} : {{ KEEP(*({0})) }} :rodata :{1}", n.section, n.phdr))
        .collect();
    template
        .replace("{{ENTRY}}", entry)
        .replace("{{TEXT_BASE}}", &format!("{text_base:#x}"))
        .replace("{{NOTE_PHDRS}}", &phdrs.join("\n    "))
        .replace("{{NOTE_SECTIONS}}", &sections.join("\n    "))
}

/// The virtio target's script: PVH note only.
pub fn render_virtio(template: &str) -> String {
    render(
        template,
        "unik_pvh_start32",
        0x10_0000,
        &[Note {
            phdr: "note_xen",
            section: ".note.Xen",
        }],
    )
}
