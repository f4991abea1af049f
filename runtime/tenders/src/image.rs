//! A Solo5 image checked for one tender: ELF rules, the `ABI1` note naming
//! this target and version, and a valid `MFT1` manifest.

use std::path::Path;

use crate::elf::{self, Elf, Segment};
use crate::error::Error;
use crate::manifest::{self, Manifest};

pub const ABI1_NOTE_TYPE: u32 = 0x3149_4241;
/// unikc's "VNH1" note (name "unikc"): the image's spt network devices
/// understand frames behind a `virtio_net_hdr` when the manifest copy says
/// so (byte 80 of a net entry, unused by Solo5, set to 1).
pub const VNET_NOTE_TYPE: u32 = 0x3148_4e56;
pub const MFT_NET_VNET_HDR: usize = 80;
/// Text base of spt and hvt images.
pub const MIN_LOAD_ADDR: u64 = 0x10_0000;

/// The tender's ABI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Hvt,
    Spt,
}

impl Target {
    /// (abi_target, abi_version) of the ABI1 note.
    pub fn abi(self) -> (u32, u32) {
        match self {
            Self::Hvt => (1, 2),
            Self::Spt => (2, 2),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Hvt => "hvt",
            Self::Spt => "spt",
        }
    }
}

fn target_name(t: u32) -> &'static str {
    match t {
        1 => "hvt",
        2 => "spt",
        3 => "virtio",
        4 => "muen",
        5 => "genode",
        6 => "xen",
        _ => "unknown",
    }
}

#[derive(Clone, Debug)]
pub struct Image {
    pub bytes: Vec<u8>,
    pub elf: Elf,
    pub manifest: Manifest,
    /// The image carries the VNH1 note, version 1.
    pub vnet: bool,
}

impl Image {
    pub fn load(path: &Path, target: Target) -> Result<Self, Error> {
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", path.display())))?;
        Self::from_bytes(bytes, target)
    }

    pub fn from_bytes(bytes: Vec<u8>, target: Target) -> Result<Self, Error> {
        let elf = elf::parse(&bytes)?;
        let abi = elf::note(&bytes, &elf, ABI1_NOTE_TYPE, 4, 16, 32)?
            .ok_or_else(|| Error::Image("no Solo5 ABI1 note: not a Solo5 image".into()))?;
        let word = |at: usize| u32::from_le_bytes(abi[at..at + 4].try_into().expect("4 bytes"));
        let (want_target, want_version) = target.abi();
        if word(0) != want_target {
            return Err(Error::Image(format!(
                "built for the Solo5 {} target (ABI target {}), this tender runs {} images",
                target_name(word(0)),
                word(0),
                target.name()
            )));
        }
        if word(4) != want_version {
            return Err(Error::Image(format!(
                "Solo5 {} ABI version {}, this tender supports version {want_version}",
                target.name(),
                word(4)
            )));
        }
        let mft = elf::note(
            &bytes,
            &elf,
            manifest::NOTE_TYPE,
            manifest::NOTE_ALIGN,
            manifest::HEADER_SIZE,
            manifest::NOTE_MAX_SIZE,
        )?
        .ok_or_else(|| Error::Image("no Solo5 MFT1 (manifest) note".into()))?;
        let manifest = Manifest::parse(mft)?;
        let vnet = elf::note_named(&bytes, &elf, b"unikc\0", VNET_NOTE_TYPE, 4, 4, 4)?
            .is_some_and(|d| d == 1u32.to_le_bytes());
        Ok(Self {
            bytes,
            elf,
            manifest,
            vnet,
        })
    }

    /// Segments and `kernel_end` for `mem_size` bytes of guest memory.
    pub fn plan(&self, mem_size: u64) -> Result<(Vec<Segment>, u64), Error> {
        elf::plan(&self.elf, self.bytes.len() as u64, mem_size, MIN_LOAD_ADDR)
    }

    /// File bytes of a planned segment.
    pub fn data(&self, s: &Segment) -> &[u8] {
        &self.bytes[s.offset as usize..(s.offset + s.filesz) as usize]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::elf::tests::image;
    use crate::manifest::tests::mft;

    pub fn note(note_type: u32, desc: &[u8], pad: usize) -> Vec<u8> {
        let mut n = Vec::new();
        n.extend_from_slice(&6u32.to_le_bytes());
        n.extend_from_slice(&((desc.len() + pad) as u32).to_le_bytes());
        n.extend_from_slice(&note_type.to_le_bytes());
        n.extend_from_slice(b"Solo5\0\0\0");
        n.extend(std::iter::repeat_n(0, pad));
        n.extend_from_slice(desc);
        n
    }

    pub fn abi(target: u32, version: u32) -> Vec<u8> {
        let mut d = Vec::new();
        for w in [target, version, 0, 0] {
            d.extend_from_slice(&w.to_le_bytes());
        }
        note(ABI1_NOTE_TYPE, &d, 0)
    }

    pub fn solo5_image(target: u32, devices: &[(&str, u32)]) -> Vec<u8> {
        image(
            0x10_0000,
            &[abi(target, 2), note(manifest::NOTE_TYPE, &mft(devices), 4)],
        )
    }

    #[test]
    fn accepts_matching_images() {
        let img = Image::from_bytes(solo5_image(2, &[("service", 2)]), Target::Spt).unwrap();
        assert_eq!(img.manifest.devices[0].name, "service");
        let (segs, end) = img.plan(512 << 20).unwrap();
        assert_eq!(segs.len(), 2);
        assert_eq!(end, 0x10_3000);
        assert_eq!(img.data(&segs[0])[0], 0xf4);
        assert!(Image::from_bytes(solo5_image(1, &[]), Target::Hvt).is_ok());
        assert!(!img.vnet, "no VNH1 note");
    }

    #[test]
    fn the_vnet_note_is_read() {
        let vnet = |version: u32| {
            let mut n = note(VNET_NOTE_TYPE, &version.to_le_bytes(), 0);
            n[12..18].copy_from_slice(b"unikc\0");
            n
        };
        let with = |v| {
            image(
                0x10_0000,
                &[abi(2, 2), note(manifest::NOTE_TYPE, &mft(&[]), 4), vnet(v)],
            )
        };
        assert!(Image::from_bytes(with(1), Target::Spt).unwrap().vnet);
        assert!(
            !Image::from_bytes(with(2), Target::Spt).unwrap().vnet,
            "unknown version"
        );
        // The same type under Solo5's name is not ours.
        let b = image(
            0x10_0000,
            &[
                abi(2, 2),
                note(manifest::NOTE_TYPE, &mft(&[]), 4),
                note(VNET_NOTE_TYPE, &1u32.to_le_bytes(), 0),
            ],
        );
        assert!(!Image::from_bytes(b, Target::Spt).unwrap().vnet);
    }

    #[test]
    fn rejects_other_targets_and_missing_notes() {
        let e = Image::from_bytes(solo5_image(1, &[]), Target::Spt)
            .unwrap_err()
            .to_string();
        assert!(e.contains("hvt target"), "{e}");
        let e = Image::from_bytes(solo5_image(3, &[]), Target::Hvt)
            .unwrap_err()
            .to_string();
        assert!(e.contains("virtio"), "{e}");
        let b = image(
            0x10_0000,
            &[abi(2, 1), note(manifest::NOTE_TYPE, &mft(&[]), 4)],
        );
        let e = Image::from_bytes(b, Target::Spt).unwrap_err().to_string();
        assert!(e.contains("ABI version 1"), "{e}");
        let e = Image::from_bytes(image(0x10_0000, &[abi(2, 2)]), Target::Spt)
            .unwrap_err()
            .to_string();
        assert!(e.contains("MFT1"), "{e}");
        let b = image(0x10_0000, &[note(manifest::NOTE_TYPE, &mft(&[]), 4)]);
        let e = Image::from_bytes(b, Target::Spt).unwrap_err().to_string();
        assert!(e.contains("not a Solo5 image"), "{e}");
        // A manifest note without the 8-byte internal alignment is rejected.
        let b = image(
            0x10_0000,
            &[abi(2, 2), note(manifest::NOTE_TYPE, &mft(&[]), 0)],
        );
        assert!(Image::from_bytes(b, Target::Spt).is_err());
    }
}
