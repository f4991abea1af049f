//! The `MFT1` manifest note and the `ABI1` note, built at compile time.
//!
//! Codegen writes one `unik_solo5::manifest! { net "service", block "storage" }`
//! into the image; it expands to a `#[link_section = ".note.solo5.manifest"]`
//! static whose bytes are exactly Solo5's `struct mft1_note`. Names are checked
//! by a `const fn`, so a bad name is a compile error. [`note_bytes`] builds the
//! same bytes at run time (for tools and tests).

use alloc::vec::Vec;
use core::fmt;

use crate::abi::{
    self, ABI1_NOTE_TYPE, AbiTarget, MFT_BLOCK_BASIC, MFT_ENTRY_SIZE, MFT_MAX_ENTRIES,
    MFT_NAME_MAX, MFT_NET_BASIC, MFT_RESERVED_FIRST, MFT_VERSION, MFT1_NOTE_TYPE, MftEntry,
    NOTE_NAME, NOTE_NAMESZ,
};

/// The kind of a manifest entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `MFT_DEV_NET_BASIC`
    Net,
    /// `MFT_DEV_BLOCK_BASIC`
    Block,
}

impl Kind {
    pub const fn code(self) -> u32 {
        match self {
            Self::Net => MFT_NET_BASIC,
            Self::Block => MFT_BLOCK_BASIC,
        }
    }
}

/// Why a manifest cannot be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ManifestError {
    /// Empty, longer than 67 bytes, or not only ASCII letters and digits.
    BadName(alloc::string::String),
    Duplicate(alloc::string::String),
    /// More than 63 devices (entry 0 is reserved).
    TooMany(usize),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadName(n) => write!(
                f,
                "device name {n:?} is not 1 to {MFT_NAME_MAX} ASCII letters or digits"
            ),
            Self::Duplicate(n) => write!(f, "device name {n:?} is declared twice"),
            Self::TooMany(n) => write!(
                f,
                "{n} devices declared; a Solo5 manifest holds at most {}",
                MFT_MAX_ENTRIES - 1
            ),
        }
    }
}

/// Whether `name` is a valid manifest name (Solo5: `[A-Za-z0-9]{1,67}`).
pub const fn name_is_valid(name: &str) -> bool {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > MFT_NAME_MAX {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_alphanumeric() {
            return false;
        }
        i += 1;
    }
    true
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn entry(name: &str, kind: u32) -> MftEntry {
    let mut e = MftEntry::EMPTY;
    let b = name.as_bytes();
    let mut i = 0;
    while i < b.len() {
        e.name[i] = b[i];
        i += 1;
    }
    e.kind = kind;
    e
}

/// Solo5's `struct mft1_note` with `N` devices after the reserved entry 0.
///
/// Layout: Elf64_Nhdr (12 bytes), "Solo5\0" padded to 8, 4 bytes of padding
/// so that `struct mft` is 8-byte aligned at offset 24, then the manifest.
/// `n_descsz` counts the padding: `12 + 104 * (N + 1)`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Mft1Note<const N: usize> {
    pub namesz: u32,
    pub descsz: u32,
    pub note_type: u32,
    pub name: [u8; 8],
    pub pad: u32,
    pub version: u32,
    pub entries: u32,
    pub reserved: MftEntry,
    pub devices: [MftEntry; N],
}

impl<const N: usize> Mft1Note<N> {
    /// Build the note; panics (a compile error in a `static`) on a bad,
    /// duplicate or excess name.
    pub const fn new(devices: [(&str, Kind); N]) -> Self {
        assert!(
            N < MFT_MAX_ENTRIES,
            "unik_solo5::manifest!: at most 63 devices"
        );
        let mut out = [MftEntry::EMPTY; N];
        let mut i = 0;
        while i < N {
            let (name, kind) = devices[i];
            assert!(
                name_is_valid(name),
                "unik_solo5::manifest!: a device name is not 1 to 67 ASCII letters or digits"
            );
            let mut j = 0;
            while j < i {
                assert!(
                    !same(devices[j].0, name),
                    "unik_solo5::manifest!: a device name is declared twice"
                );
                j += 1;
            }
            out[i] = entry(name, kind.code());
            i += 1;
        }
        Self {
            namesz: NOTE_NAMESZ,
            descsz: (core::mem::size_of::<Self>() - 20) as u32,
            note_type: MFT1_NOTE_TYPE,
            name: NOTE_NAME,
            pad: 0,
            version: MFT_VERSION,
            entries: (N + 1) as u32,
            reserved: entry("", MFT_RESERVED_FIRST),
            devices: out,
        }
    }

    /// The note's bytes, as the linker places them.
    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: repr(C) plain data with no implicit padding (checked by
        // the size assertion in the tests), valid for its whole size.
        unsafe {
            core::slice::from_raw_parts(
                (self as *const Self).cast::<u8>(),
                core::mem::size_of::<Self>(),
            )
        }
    }
}

/// Solo5's `struct abi1_note`: header, name, `{target, version, 0, 0}`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Abi1Note {
    pub namesz: u32,
    pub descsz: u32,
    pub note_type: u32,
    pub name: [u8; 8],
    pub target: u32,
    pub version: u32,
    pub reserved: [u32; 2],
}

const _: () = assert!(core::mem::size_of::<Abi1Note>() == 36);

impl Abi1Note {
    pub const fn new(target: AbiTarget, version: u32) -> Self {
        Self {
            namesz: NOTE_NAMESZ,
            descsz: 16,
            note_type: ABI1_NOTE_TYPE,
            name: NOTE_NAME,
            target: target as u32,
            version,
            reserved: [0; 2],
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: repr(C), nine u32-sized fields, no padding.
        unsafe { core::slice::from_raw_parts((self as *const Self).cast::<u8>(), 36) }
    }
}

/// `PT_INTERP` of every Solo5 image, as upstream's: a program interpreter
/// that does not exist, so `execve` of an image fails with ENOENT (the
/// shell's status 127) instead of jumping into code that needs a tender.
/// Tenders ignore `PT_INTERP`.
pub const NO_EXEC_INTERP: [u8; 24] = *b"/nonexistent/solo5/\0\0\0\0\0";
/// Input section names of the interpreter path and of the OpenBSD note.
pub const INTERP_SECTION: &str = ".solo5.interp";
pub const OPENBSD_SECTION: &str = ".note.solo5.not_openbsd";

/// An OpenBSD identification note (`"OpenBSD"`, type 1, one zero word).
/// OpenBSD only honours `PT_INTERP` for binaries it takes as its own, and
/// looks for this note in the first `PT_NOTE`; with it, OpenBSD refuses the
/// image the way Linux does.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct OpenBsdNote {
    pub namesz: u32,
    pub descsz: u32,
    pub note_type: u32,
    pub name: [u8; 8],
    pub desc: u32,
}

const _: () = assert!(core::mem::size_of::<OpenBsdNote>() == 24);

impl OpenBsdNote {
    pub const NEW: Self = Self {
        namesz: 8,
        descsz: 4,
        note_type: 1,
        name: *b"OpenBSD\0",
        desc: 0,
    };

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: repr(C), u32 fields and an 8-byte array, no padding.
        unsafe { core::slice::from_raw_parts((self as *const Self).cast::<u8>(), 24) }
    }
}

/// The [`crate::abi::VNET_NOTE_TYPE`] note: header, name, version 1.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct VnetNote {
    pub namesz: u32,
    pub descsz: u32,
    pub note_type: u32,
    pub name: [u8; 8],
    pub version: u32,
}

const _: () = assert!(core::mem::size_of::<VnetNote>() == 24);

impl VnetNote {
    pub const NEW: Self = Self {
        namesz: 6,
        descsz: 4,
        note_type: crate::abi::VNET_NOTE_TYPE,
        name: crate::abi::VNET_NOTE_NAME,
        version: 1,
    };

    pub fn as_bytes(&self) -> &[u8] {
        // SAFETY: repr(C), u32 fields and an 8-byte array, no padding.
        unsafe { core::slice::from_raw_parts((self as *const Self).cast::<u8>(), 24) }
    }
}

/// The `MFT1` note bytes for `devices`, identical to what [`crate::manifest!`]
/// puts in the image.
pub fn note_bytes(devices: &[(&str, Kind)]) -> Result<Vec<u8>, ManifestError> {
    if devices.len() >= MFT_MAX_ENTRIES {
        return Err(ManifestError::TooMany(devices.len()));
    }
    for (i, (name, _)) in devices.iter().enumerate() {
        if !name_is_valid(name) {
            return Err(ManifestError::BadName((*name).into()));
        }
        if devices[..i].iter().any(|(n, _)| n == name) {
            return Err(ManifestError::Duplicate((*name).into()));
        }
    }
    let entries = devices.len() + 1;
    let descsz = 4 + abi::MFT_HEADER_SIZE + MFT_ENTRY_SIZE * entries;
    let mut out = Vec::with_capacity(20 + descsz);
    out.extend_from_slice(&NOTE_NAMESZ.to_le_bytes());
    out.extend_from_slice(&(descsz as u32).to_le_bytes());
    out.extend_from_slice(&MFT1_NOTE_TYPE.to_le_bytes());
    out.extend_from_slice(&NOTE_NAME);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&MFT_VERSION.to_le_bytes());
    out.extend_from_slice(&(entries as u32).to_le_bytes());
    let reserved = core::iter::once(("", MFT_RESERVED_FIRST));
    for (name, kind) in reserved.chain(devices.iter().map(|(n, k)| (*n, k.code()))) {
        let mut e = [0u8; MFT_ENTRY_SIZE];
        e[..name.len()].copy_from_slice(name.as_bytes());
        e[68..72].copy_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&e);
    }
    Ok(out)
}

/// Define the image's manifest: `manifest! { net "service", block "storage" }`
/// (possibly empty). Entry 0 is the reserved one, so the devices get handles
/// 1, 2, ... in the order written. Every Solo5 image needs exactly one.
#[macro_export]
macro_rules! manifest {
    ($($kind:ident $name:literal),* $(,)?) => {
        #[used]
        #[unsafe(no_mangle)]
        #[unsafe(link_section = ".note.solo5.manifest")]
        pub static __unik_solo5_mft1: $crate::manifest::Mft1Note<{ <[&str]>::len(&[$($name),*]) }> =
            $crate::manifest::Mft1Note::new([$(($name, $crate::__solo5_kind!($kind))),*]);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __solo5_kind {
    (net) => {
        $crate::manifest::Kind::Net
    };
    (block) => {
        $crate::manifest::Kind::Block
    };
}

/// Define the `ABI1` note: `abi1_note!(spt)` or `abi1_note!(hvt)`. The
/// bindings do this themselves; only images that bring their own entry code
/// (the assembly test guest) use it directly.
#[macro_export]
macro_rules! abi1_note {
    (spt) => {
        $crate::abi1_note!(@ Spt, $crate::abi::SPT_ABI_VERSION);
    };
    (hvt) => {
        $crate::abi1_note!(@ Hvt, $crate::abi::HVT_ABI_VERSION);
    };
    (@ $target:ident, $version:expr) => {
        #[used]
        #[unsafe(link_section = ".note.solo5.abi")]
        static __UNIK_SOLO5_ABI1: $crate::manifest::Abi1Note =
            $crate::manifest::Abi1Note::new($crate::abi::AbiTarget::$target, $version);
        // The host must not run the image as a program (see `NO_EXEC_INTERP`).
        #[used]
        #[unsafe(link_section = ".solo5.interp")]
        static __UNIK_SOLO5_INTERP: [u8; 24] = $crate::manifest::NO_EXEC_INTERP;
        #[used]
        #[unsafe(link_section = ".note.unikc.vnet")]
        static __UNIK_SOLO5_VNET: $crate::manifest::VnetNote = $crate::manifest::VnetNote::NEW;
        #[used]
        #[unsafe(link_section = ".note.solo5.not_openbsd")]
        static __UNIK_SOLO5_NOT_OPENBSD: $crate::manifest::OpenBsdNote =
            $crate::manifest::OpenBsdNote::NEW;
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn empty_manifest_is_the_reserved_entry_only() {
        let note = Mft1Note::<0>::new([]);
        let b = note.as_bytes();
        assert_eq!(b.len(), 24 + 8 + 104);
        assert_eq!(le32(b, 0), 6, "namesz");
        assert_eq!(le32(b, 4), 12 + 104, "descsz counts the 4 pad bytes");
        assert_eq!(le32(b, 8), 0x3154_464d);
        assert_eq!(&b[12..20], b"Solo5\0\0\0");
        assert_eq!(le32(b, 20), 0, "pad");
        assert_eq!(le32(b, 24), 1, "version");
        assert_eq!(le32(b, 28), 1, "entries");
        assert!(
            b[32..32 + 68].iter().all(|&c| c == 0),
            "entry 0 name is empty"
        );
        assert_eq!(le32(b, 32 + 68), 1 << 30);
        assert!(b[32 + 72..].iter().all(|&c| c == 0));
    }

    #[test]
    fn devices_follow_the_reserved_entry_in_order() {
        let note = Mft1Note::<2>::new([("service", Kind::Net), ("storage", Kind::Block)]);
        let b = note.as_bytes();
        assert_eq!(b.len(), 32 + 3 * 104);
        assert_eq!(le32(b, 4), 12 + 3 * 104);
        assert_eq!(le32(b, 28), 3);
        let e1 = 32 + 104;
        assert_eq!(&b[e1..e1 + 8], b"service\0");
        assert_eq!(le32(b, e1 + 68), 2, "NET_BASIC");
        let e2 = e1 + 104;
        assert_eq!(&b[e2..e2 + 8], b"storage\0");
        assert_eq!(le32(b, e2 + 68), 1, "BLOCK_BASIC");
        assert_eq!(b[e2 + 96], 0, "attached is false in the file");
    }

    #[test]
    fn runtime_bytes_equal_the_const_note() {
        let devices = [("a", Kind::Block), ("Net0", Kind::Net), ("z9", Kind::Net)];
        let note = Mft1Note::<3>::new(devices);
        assert_eq!(note_bytes(&devices).unwrap(), note.as_bytes());
        assert_eq!(note_bytes(&[]).unwrap(), Mft1Note::<0>::new([]).as_bytes());
    }

    #[test]
    fn names_are_checked() {
        let long = "a".repeat(67);
        assert!(name_is_valid(&long));
        assert!(!name_is_valid(&"a".repeat(68)));
        for bad in ["", "with-dash", "under_score", "sp ace", "ünï"] {
            assert!(!name_is_valid(bad), "{bad:?}");
            assert_eq!(
                note_bytes(&[(bad, Kind::Net)]),
                Err(ManifestError::BadName(bad.into()))
            );
        }
        assert_eq!(
            note_bytes(&[("x", Kind::Net), ("x", Kind::Block)]),
            Err(ManifestError::Duplicate("x".into()))
        );
        let names: Vec<alloc::string::String> = (0..64).map(|i| alloc::format!("d{i}")).collect();
        let many: Vec<(&str, Kind)> = names.iter().map(|n| (n.as_str(), Kind::Net)).collect();
        assert_eq!(note_bytes(&many), Err(ManifestError::TooMany(64)));
        assert!(note_bytes(&many[..63]).is_ok());
        let b = note_bytes(&[(&long, Kind::Net)]).unwrap();
        assert_eq!(
            b[32 + 104 + 67],
            0,
            "a 67-character name keeps its terminator"
        );
    }

    #[test]
    #[should_panic(expected = "declared twice")]
    fn const_builder_rejects_duplicates() {
        let _ = Mft1Note::<2>::new([("x", Kind::Net), ("x", Kind::Net)]);
    }

    #[test]
    #[should_panic(expected = "ASCII letters or digits")]
    fn const_builder_rejects_bad_names() {
        let _ = Mft1Note::<1>::new([("a-b", Kind::Net)]);
    }

    #[test]
    fn abi1_note_bytes() {
        let n = Abi1Note::new(AbiTarget::Spt, 2);
        let b = n.as_bytes();
        assert_eq!(le32(b, 0), 6);
        assert_eq!(le32(b, 4), 16);
        assert_eq!(le32(b, 8), 0x3149_4241);
        assert_eq!(&b[12..20], b"Solo5\0\0\0");
        assert_eq!(
            [le32(b, 20), le32(b, 24), le32(b, 28), le32(b, 32)],
            [2, 2, 0, 0]
        );
        assert_eq!(le32(Abi1Note::new(AbiTarget::Hvt, 2).as_bytes(), 20), 1);
    }

    mod expanded {
        crate::manifest! { net "service", block "storage" }

        #[test]
        fn macro_defines_the_note() {
            let b = __unik_solo5_mft1.as_bytes();
            assert_eq!(b.len(), 32 + 3 * 104);
            assert_eq!(&b[32 + 104..32 + 104 + 7], b"service");
        }
    }
}
