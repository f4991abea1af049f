//! The image's `MFT1` manifest: validation with the rules of Solo5's
//! `mft_validate` (plus name and kind checks `elftool` applies when
//! building), device lookup, and the attached copy handed to the guest.

use crate::error::Error;

pub const VERSION: u32 = 1;
pub const MAX_ENTRIES: usize = 64;
pub const ENTRY_SIZE: usize = 104;
pub const HEADER_SIZE: usize = 8;
pub const NAME_MAX: usize = 67;
pub const BLOCK_BASIC: u32 = 1;
pub const NET_BASIC: u32 = 2;
pub const RESERVED_FIRST: u32 = 1 << 30;
/// ELF note type "MFT1", internal alignment 8.
pub const NOTE_TYPE: u32 = 0x3154_464d;
pub const NOTE_ALIGN: usize = 8;
/// Largest descriptor: 4 bytes of padding, the header and 64 entries.
pub const NOTE_MAX_SIZE: usize = 4 + HEADER_SIZE + MAX_ENTRIES * ENTRY_SIZE;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Net,
    Block,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Net => "NET_BASIC",
            Self::Block => "BLOCK_BASIC",
        }
    }
}

/// A device the image declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub name: String,
    pub kind: Kind,
}

/// What a tender attached to a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attached {
    Net {
        mac: [u8; 6],
        mtu: u16,
        hostfd: i32,
    },
    Block {
        capacity: u64,
        block_size: u16,
        hostfd: i32,
    },
}

/// The devices in manifest order; handle `i + 1` is `devices[i]` (entry 0
/// is the reserved one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub devices: Vec<Device>,
}

fn bad(msg: String) -> Error {
    Error::Image(format!("manifest: {msg}"))
}

impl Manifest {
    /// Validate `struct mft` as read from the note (padding stripped).
    pub fn parse(m: &[u8]) -> Result<Self, Error> {
        if m.len() < HEADER_SIZE {
            return Err(bad(format!("{} bytes is shorter than its header", m.len())));
        }
        let word = |at: usize| u32::from_le_bytes(m[at..at + 4].try_into().expect("4 bytes"));
        if word(0) != VERSION {
            return Err(bad(format!("version {} (expected {VERSION})", word(0))));
        }
        let n = word(4) as usize;
        if n > MAX_ENTRIES {
            return Err(bad(format!("{n} entries (at most {MAX_ENTRIES})")));
        }
        if m.len() != HEADER_SIZE + n * ENTRY_SIZE {
            return Err(bad(format!(
                "{} bytes for {n} entries (expected {})",
                m.len(),
                HEADER_SIZE + n * ENTRY_SIZE
            )));
        }
        if n < 1 {
            return Err(bad("no entries (entry 0 must be the reserved one)".into()));
        }
        let mut devices: Vec<Device> = Vec::new();
        for i in 0..n {
            let e = &m[HEADER_SIZE + i * ENTRY_SIZE..][..ENTRY_SIZE];
            let kind = word(HEADER_SIZE + i * ENTRY_SIZE + 68);
            if e[NAME_MAX] != 0 {
                return Err(bad(format!("entry {i}: name is not terminated")));
            }
            if e[96] != 0 {
                return Err(bad(format!("entry {i}: marked attached in the image")));
            }
            let len = e[..NAME_MAX]
                .iter()
                .position(|&c| c == 0)
                .unwrap_or(NAME_MAX);
            let name = &e[..len];
            if i == 0 {
                if kind != RESERVED_FIRST || !name.is_empty() {
                    return Err(bad("entry 0 is not the reserved entry".into()));
                }
                continue;
            }
            let kind = match kind {
                NET_BASIC => Kind::Net,
                BLOCK_BASIC => Kind::Block,
                other => return Err(bad(format!("entry {i}: unknown type {other:#x}"))),
            };
            if name.is_empty() || !name.iter().all(u8::is_ascii_alphanumeric) {
                return Err(bad(format!(
                    "entry {i}: name {:?} is not 1 to {NAME_MAX} ASCII letters or digits",
                    String::from_utf8_lossy(name)
                )));
            }
            let name = String::from_utf8_lossy(name).into_owned();
            if devices.iter().any(|d| d.name == name) {
                return Err(bad(format!("entry {i}: name {name:?} appears twice")));
            }
            devices.push(Device { name, kind });
        }
        Ok(Self { devices })
    }

    /// Handle (manifest index) of `name`, which must be of `kind`.
    pub fn handle(&self, name: &str, kind: Kind) -> Result<usize, Error> {
        match self.devices.iter().position(|d| d.name == name) {
            Some(i) if self.devices[i].kind == kind => Ok(i + 1),
            Some(i) => Err(Error::Usage(format!(
                "device {name:?} is a {} device in the manifest, not {}",
                self.devices[i].kind.name(),
                kind.name()
            ))),
            None => Err(Error::Usage(format!(
                "resource not declared in manifest: {name:?}"
            ))),
        }
    }

    /// The `struct mft` the guest sees: every device attached (`attached`
    /// must have an entry per device, in order).
    pub fn attached_bytes(&self, attached: &[Attached]) -> Vec<u8> {
        assert_eq!(
            attached.len(),
            self.devices.len(),
            "one attachment per device"
        );
        let n = self.devices.len() + 1;
        let mut m = vec![0u8; HEADER_SIZE + n * ENTRY_SIZE];
        m[0..4].copy_from_slice(&VERSION.to_le_bytes());
        m[4..8].copy_from_slice(&(n as u32).to_le_bytes());
        m[HEADER_SIZE + 68..HEADER_SIZE + 72].copy_from_slice(&RESERVED_FIRST.to_le_bytes());
        for (i, (d, a)) in self.devices.iter().zip(attached).enumerate() {
            let e = &mut m[HEADER_SIZE + (i + 1) * ENTRY_SIZE..][..ENTRY_SIZE];
            e[..d.name.len()].copy_from_slice(d.name.as_bytes());
            let (kind, hostfd) = match *a {
                Attached::Net { mac, mtu, hostfd } => {
                    e[72..78].copy_from_slice(&mac);
                    e[78..80].copy_from_slice(&mtu.to_le_bytes());
                    (NET_BASIC, hostfd)
                }
                Attached::Block {
                    capacity,
                    block_size,
                    hostfd,
                } => {
                    e[72..80].copy_from_slice(&capacity.to_le_bytes());
                    e[80..82].copy_from_slice(&block_size.to_le_bytes());
                    (BLOCK_BASIC, hostfd)
                }
            };
            e[68..72].copy_from_slice(&kind.to_le_bytes());
            e[88..92].copy_from_slice(&hostfd.to_le_bytes());
            e[96] = 1;
        }
        m
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// `struct mft` for `devices` as an image carries it.
    pub fn mft(devices: &[(&str, u32)]) -> Vec<u8> {
        let n = devices.len() + 1;
        let mut m = vec![0u8; HEADER_SIZE + n * ENTRY_SIZE];
        m[0..4].copy_from_slice(&1u32.to_le_bytes());
        m[4..8].copy_from_slice(&(n as u32).to_le_bytes());
        m[HEADER_SIZE + 68..HEADER_SIZE + 72].copy_from_slice(&RESERVED_FIRST.to_le_bytes());
        for (i, (name, kind)) in devices.iter().enumerate() {
            let at = HEADER_SIZE + (i + 1) * ENTRY_SIZE;
            m[at..at + name.len()].copy_from_slice(name.as_bytes());
            m[at + 68..at + 72].copy_from_slice(&kind.to_le_bytes());
        }
        m
    }

    #[test]
    fn parses_devices_in_order() {
        let m = Manifest::parse(&mft(&[("service", 2), ("storage", 1)])).unwrap();
        assert_eq!(m.devices.len(), 2);
        assert_eq!(m.handle("service", Kind::Net).unwrap(), 1);
        assert_eq!(m.handle("storage", Kind::Block).unwrap(), 2);
        assert!(
            m.handle("storage", Kind::Net)
                .unwrap_err()
                .to_string()
                .contains("BLOCK_BASIC")
        );
        assert!(
            m.handle("nope", Kind::Net)
                .unwrap_err()
                .to_string()
                .contains("not declared")
        );
        assert_eq!(Manifest::parse(&mft(&[])).unwrap().devices, vec![]);
    }

    #[test]
    fn rejects_malformed_manifests() {
        let err = |m: &[u8]| Manifest::parse(m).unwrap_err().to_string();
        let good = mft(&[("service", 2)]);
        assert!(err(&good[..7]).contains("shorter"));
        let mut m = good.clone();
        m[0] = 2;
        assert!(err(&m).contains("version"));
        let mut m = good.clone();
        m[4] = 65;
        assert!(err(&m).contains("65 entries"));
        let mut m = good.clone();
        m[4] = 3;
        assert!(err(&m).contains("expected"), "size must match the count");
        assert!(err(&good[..good.len() - 1]).contains("expected"));
        let mut m = good.clone();
        m[4] = 0;
        m.truncate(8);
        assert!(err(&m).contains("no entries"));
        let mut m = good.clone();
        m[HEADER_SIZE + 68 + 3] = 0;
        assert!(err(&m).contains("reserved"));
        let mut m = good.clone();
        m[HEADER_SIZE] = b'x';
        assert!(
            err(&m).contains("reserved"),
            "entry 0 must have an empty name"
        );
        let mut m = good.clone();
        m[HEADER_SIZE + ENTRY_SIZE..HEADER_SIZE + ENTRY_SIZE + 68].fill(b'a');
        assert!(err(&m).contains("not terminated"));
        let mut m = good.clone();
        m[HEADER_SIZE + ENTRY_SIZE + 96] = 1;
        assert!(err(&m).contains("attached"));
        let mut m = good.clone();
        m[HEADER_SIZE + ENTRY_SIZE + 68] = 9;
        assert!(err(&m).contains("unknown type"));
        assert!(err(&mft(&[("bad-name", 2)])).contains("ASCII"));
        assert!(err(&mft(&[("", 2)])).contains("ASCII"));
        assert!(err(&mft(&[("a", 2), ("a", 1)])).contains("twice"));
    }

    #[test]
    fn attached_copy_has_the_guest_fields() {
        let m = Manifest::parse(&mft(&[("service", 2), ("storage", 1)])).unwrap();
        let b = m.attached_bytes(&[
            Attached::Net {
                mac: [2, 1, 2, 3, 4, 5],
                mtu: 1500,
                hostfd: 7,
            },
            Attached::Block {
                capacity: 1 << 20,
                block_size: 512,
                hostfd: 8,
            },
        ]);
        let e1 = HEADER_SIZE + ENTRY_SIZE;
        assert_eq!(&b[e1..e1 + 8], b"service\0");
        assert_eq!(&b[e1 + 72..e1 + 78], &[2, 1, 2, 3, 4, 5]);
        assert_eq!(u16::from_le_bytes([b[e1 + 78], b[e1 + 79]]), 1500);
        assert_eq!(b[e1 + 88], 7);
        assert_eq!(b[e1 + 96], 1);
        let e2 = e1 + ENTRY_SIZE;
        assert_eq!(
            u64::from_le_bytes(b[e2 + 72..e2 + 80].try_into().unwrap()),
            1 << 20
        );
        assert_eq!(u16::from_le_bytes([b[e2 + 80], b[e2 + 81]]), 512);
        assert_eq!(
            u32::from_le_bytes(b[e2 + 68..e2 + 72].try_into().unwrap()),
            1
        );
        // The copy is itself a valid manifest apart from `attached`.
        let mut plain = b.clone();
        plain[e1 + 96] = 0;
        plain[e2 + 96] = 0;
        assert_eq!(Manifest::parse(&plain).unwrap(), m);
    }
}
