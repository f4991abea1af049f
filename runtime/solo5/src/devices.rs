//! The devices the tender attached, read once from the manifest copy it put
//! in guest memory, and the Solo5 acquire rules (by name and kind, at most
//! once each).

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::abi::{
    MFT_BLOCK_BASIC, MFT_ENTRY_SIZE, MFT_HEADER_SIZE, MFT_MAX_ENTRIES, MFT_NET_BASIC,
    MFT_RESERVED_FIRST, MFT_VERSION, MftEntry,
};
use crate::cell::Global;

/// A device handle: the manifest index.
pub type Handle = u64;

/// `solo5_result_t` other than OK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// `SOLO5_R_AGAIN`: nothing to read now.
    Again,
    /// `SOLO5_R_EINVAL`: bad handle, name, size or offset.
    Invalid,
    /// `SOLO5_R_EUNSPEC`: the host failed.
    Unspecified,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Again => "try again",
            Self::Invalid => "invalid argument",
            Self::Unspecified => "unspecified host error",
        })
    }
}

/// `struct solo5_net_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetInfo {
    pub mac: [u8; 6],
    /// Payload MTU, without the 14-byte Ethernet header.
    pub mtu: u16,
}

/// `struct solo5_block_info`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Bytes.
    pub capacity: u64,
    pub block_size: u64,
}

/// Why the manifest the tender handed over cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestError {
    Version(u32),
    Entries(u32),
    Reserved,
    /// The tender's manifest is not the image's own (entry count or names differ).
    Mismatch,
    /// A declared device was not attached.
    NotAttached(usize),
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Version(v) => write!(f, "manifest version {v}, expected {MFT_VERSION}"),
            Self::Entries(n) => write!(f, "manifest has {n} entries (1..=64 expected)"),
            Self::Reserved => f.write_str("manifest entry 0 is not the reserved entry"),
            Self::Mismatch => f.write_str("the tender's manifest differs from the image's"),
            Self::NotAttached(i) => write!(f, "manifest entry {i} is not attached"),
        }
    }
}

/// The tender's manifest, copied out of guest memory.
pub struct Table {
    entries: [MftEntry; MFT_MAX_ENTRIES],
    count: usize,
}

impl Table {
    pub const fn empty() -> Self {
        Self {
            entries: [MftEntry::EMPTY; MFT_MAX_ENTRIES],
            count: 0,
        }
    }

    /// Parse `struct mft` from `bytes` (at least its header) and check it
    /// against the image's own manifest note (`own`: the bytes from offset
    /// 24 of the MFT1 note, i.e. its `struct mft`).
    pub fn parse(bytes: &[u8], own: &[u8]) -> Result<Self, ManifestError> {
        let word = |at: usize| -> u32 {
            bytes
                .get(at..at + 4)
                .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        let version = word(0);
        if version != MFT_VERSION {
            return Err(ManifestError::Version(version));
        }
        let count = word(4);
        let n = count as usize;
        if n == 0 || n > MFT_MAX_ENTRIES || bytes.len() < MFT_HEADER_SIZE + n * MFT_ENTRY_SIZE {
            return Err(ManifestError::Entries(count));
        }
        if own.len() != MFT_HEADER_SIZE + n * MFT_ENTRY_SIZE {
            return Err(ManifestError::Mismatch);
        }
        let mut table = Self::empty();
        table.count = n;
        for i in 0..n {
            let at = MFT_HEADER_SIZE + i * MFT_ENTRY_SIZE;
            let e = entry_at(&bytes[at..at + MFT_ENTRY_SIZE]);
            let mine = entry_at(&own[at..at + MFT_ENTRY_SIZE]);
            if e.name != mine.name || e.kind != mine.kind {
                return Err(ManifestError::Mismatch);
            }
            if i == 0 {
                if e.kind != MFT_RESERVED_FIRST || e.name[0] != 0 {
                    return Err(ManifestError::Reserved);
                }
            } else if e.attached == 0 {
                return Err(ManifestError::NotAttached(i));
            }
            table.entries[i] = e;
        }
        Ok(table)
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn get(&self, handle: Handle) -> Option<&MftEntry> {
        let i = usize::try_from(handle).ok()?;
        if i == 0 || i >= self.count {
            return None;
        }
        Some(&self.entries[i])
    }

    /// Manifest index of the device `name` of `kind`.
    pub fn find(&self, name: &str, kind: u32) -> Option<Handle> {
        (1..self.count)
            .find(|&i| {
                self.entries[i].kind == kind && self.entries[i].name_bytes() == name.as_bytes()
            })
            .map(|i| i as Handle)
    }

    /// Handles of every attached network device.
    pub fn net_mask(&self) -> u64 {
        (1..self.count)
            .filter(|&i| self.entries[i].kind == MFT_NET_BASIC)
            .fold(0, |m, i| m | 1 << i)
    }
}

fn entry_at(b: &[u8]) -> MftEntry {
    let mut e = MftEntry::EMPTY;
    e.name.copy_from_slice(&b[0..68]);
    e.kind = u32::from_le_bytes([b[68], b[69], b[70], b[71]]);
    e.u.copy_from_slice(&b[72..88]);
    e.b = u64::from_le_bytes(b[88..96].try_into().expect("8 bytes"));
    e.attached = b[96];
    e
}

static TABLE: Global<Table> = Global::new(Table::empty());
static ACQUIRED: AtomicU64 = AtomicU64::new(0);

/// Install the table at boot, before the application runs.
///
/// # Safety
/// Called once, before anything reads the table.
pub unsafe fn install(table: Table) {
    // SAFETY: forwarded; nothing else holds a reference yet.
    unsafe { *TABLE.get() = table };
}

pub fn table() -> &'static Table {
    // SAFETY: written once by `install` before the application starts.
    unsafe { &*TABLE.get() }
}

fn acquire(name: &str, kind: u32) -> Result<(Handle, &'static MftEntry), Error> {
    let t = table();
    let h = t.find(name, kind).ok_or(Error::Invalid)?;
    let bit = 1u64 << h;
    if ACQUIRED.fetch_or(bit, Ordering::AcqRel) & bit != 0 {
        return Err(Error::Invalid);
    }
    Ok((h, t.get(h).ok_or(Error::Invalid)?))
}

/// An acquired device of `kind`.
pub fn acquired(handle: Handle, kind: u32) -> Result<&'static MftEntry, Error> {
    let e = table().get(handle).ok_or(Error::Invalid)?;
    if e.kind != kind || ACQUIRED.load(Ordering::Acquire) & (1 << handle) == 0 {
        return Err(Error::Invalid);
    }
    Ok(e)
}

/// `solo5_net_acquire`.
pub fn net_acquire(name: &str) -> Result<(Handle, NetInfo), Error> {
    let (h, e) = acquire(name, MFT_NET_BASIC)?;
    Ok((
        h,
        NetInfo {
            mac: e.mac(),
            mtu: e.mtu(),
        },
    ))
}

/// `solo5_block_acquire`.
pub fn block_acquire(name: &str) -> Result<(Handle, BlockInfo), Error> {
    let (h, e) = acquire(name, MFT_BLOCK_BASIC)?;
    Ok((
        h,
        BlockInfo {
            capacity: e.capacity(),
            block_size: u64::from(e.block_size()),
        },
    ))
}

/// The Solo5 block rules: one whole block at a block-aligned offset inside
/// the device.
pub fn check_block(e: &MftEntry, offset: u64, len: usize) -> Result<(), Error> {
    let bs = u64::from(e.block_size());
    let end = offset.checked_add(bs).ok_or(Error::Invalid)?;
    if bs == 0 || len as u64 != bs || !offset.is_multiple_of(bs) || end > e.capacity() {
        return Err(Error::Invalid);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::{Kind, note_bytes};
    use alloc::vec::Vec;

    fn own(devices: &[(&str, Kind)]) -> Vec<u8> {
        note_bytes(devices).unwrap()[24..].to_vec()
    }

    /// The manifest as a tender fills it in.
    fn attached(devices: &[(&str, Kind)]) -> Vec<u8> {
        let mut b = own(devices);
        for i in 1..=devices.len() {
            let at = 8 + i * 104;
            b[at + 96] = 1;
            match devices[i - 1].1 {
                Kind::Net => {
                    b[at + 72..at + 78].copy_from_slice(&[2, 0, 0, 0, 0, i as u8]);
                    b[at + 78..at + 80].copy_from_slice(&1500u16.to_le_bytes());
                }
                Kind::Block => {
                    b[at + 72..at + 80].copy_from_slice(&(1u64 << 20).to_le_bytes());
                    b[at + 80..at + 82].copy_from_slice(&512u16.to_le_bytes());
                }
            }
            b[at + 88..at + 92].copy_from_slice(&(10 + i as u32).to_le_bytes());
        }
        b
    }

    #[test]
    fn parses_and_finds_devices() {
        let devs = [("service", Kind::Net), ("storage", Kind::Block)];
        let t = Table::parse(&attached(&devs), &own(&devs)).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.find("service", MFT_NET_BASIC), Some(1));
        assert_eq!(t.find("service", MFT_BLOCK_BASIC), None, "kind must match");
        assert_eq!(t.find("storage", MFT_BLOCK_BASIC), Some(2));
        assert_eq!(
            t.find("", MFT_RESERVED_FIRST),
            None,
            "entry 0 is never a device"
        );
        let net = t.get(1).unwrap();
        assert_eq!(net.mac(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(net.mtu(), 1500);
        assert_eq!(net.hostfd(), 11);
        let blk = t.get(2).unwrap();
        assert_eq!((blk.capacity(), blk.block_size()), (1 << 20, 512));
        assert_eq!(t.net_mask(), 0b10);
        assert!(t.get(0).is_none() && t.get(3).is_none());
    }

    #[test]
    fn rejects_foreign_or_broken_manifests() {
        let devs = [("service", Kind::Net)];
        let good = attached(&devs);
        let mine = own(&devs);
        let mut v = good.clone();
        v[0] = 2;
        assert_eq!(
            Table::parse(&v, &mine).err(),
            Some(ManifestError::Version(2))
        );
        let mut v = good.clone();
        v[4] = 65;
        assert_eq!(
            Table::parse(&v, &mine).err(),
            Some(ManifestError::Entries(65))
        );
        assert_eq!(
            Table::parse(&good[..100], &mine).err(),
            Some(ManifestError::Entries(2)),
            "truncated"
        );
        let mut v = good.clone();
        v[8 + 104] = b'X';
        assert_eq!(Table::parse(&v, &mine).err(), Some(ManifestError::Mismatch));
        assert_eq!(
            Table::parse(&good, &own(&[("other", Kind::Net)])).err(),
            Some(ManifestError::Mismatch)
        );
        let mut v = good.clone();
        v[8 + 104 + 96] = 0;
        assert_eq!(
            Table::parse(&v, &mine).err(),
            Some(ManifestError::NotAttached(1))
        );
    }

    #[test]
    fn block_rules() {
        let devs = [("d", Kind::Block)];
        let t = Table::parse(&attached(&devs), &own(&devs)).unwrap();
        let e = t.get(1).unwrap();
        assert_eq!(check_block(e, 0, 512), Ok(()));
        assert_eq!(check_block(e, (1 << 20) - 512, 512), Ok(()));
        assert_eq!(check_block(e, 1 << 20, 512), Err(Error::Invalid));
        assert_eq!(check_block(e, 256, 512), Err(Error::Invalid), "unaligned");
        assert_eq!(
            check_block(e, 0, 1024),
            Err(Error::Invalid),
            "one block only"
        );
        assert_eq!(
            check_block(e, u64::MAX - 511, 512),
            Err(Error::Invalid),
            "overflow"
        );
    }
}
