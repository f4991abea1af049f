//! Muen subject information (sinfo, version 5): the subject's name and its
//! resources (memory regions, events), found by name. Read from a byte
//! copy of the page so a malformed page can only make lookups fail.

/// Where Muen maps the sinfo page for Solo5 subjects.
pub const SINFO_ADDR: u64 = 0xe_0000_0000;
/// Where the scheduling information page follows it.
pub const SCHED_INFO_ADDR: u64 = 0xe_0000_8000;
/// `"muinfo"` and version 5.
pub const MAGIC: u64 = 0x0500_6f66_6e69_756d;
/// Bytes of a version 5 sinfo: header, then 255 resources.
pub const SIZE: usize = 80 + MAX_RESOURCES * RESOURCE_SIZE;
pub const MAX_RESOURCES: usize = 255;
pub const RESOURCE_SIZE: usize = 128;
/// A name field: length byte, up to 63 characters, NUL.
pub const NAME_SIZE: usize = 65;
pub const NAME_MAX: usize = 63;

pub const KIND_MEMORY: u32 = 1;
pub const KIND_EVENT: u32 = 2;
/// Memory kind of a channel region.
pub const MEM_CHANNEL: u8 = 5;
const WRITABLE: u8 = 1;

const NAME_AT: usize = 12;
const COUNT_AT: usize = 78;
const RESOURCES_AT: usize = 80;
const DATA_AT: usize = 72;

/// A memory resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    pub kind: u8,
    pub writable: bool,
    pub address: u64,
    pub size: u64,
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// The characters of a name field, if its length byte is sane.
fn name_of(field: &[u8]) -> Option<&[u8]> {
    let n = usize::from(field[0]);
    (n <= NAME_MAX).then(|| &field[1..1 + n])
}

/// A parsed view of an sinfo page.
pub struct Sinfo<'a> {
    page: &'a [u8],
}

impl<'a> Sinfo<'a> {
    /// `page` must be the whole sinfo; None unless it carries the v5 magic.
    pub fn new(page: &'a [u8]) -> Option<Self> {
        (page.len() >= SIZE && u64_at(page, 0) == MAGIC).then_some(Self { page })
    }

    /// The subject's name.
    pub fn subject(&self) -> &'a [u8] {
        name_of(&self.page[NAME_AT..NAME_AT + NAME_SIZE]).unwrap_or(b"")
    }

    pub fn tsc_khz(&self) -> u32 {
        u32_at(self.page, 8)
    }

    /// The resources in order, up to the count or the first empty one.
    fn resources(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let count = usize::from(u16::from_le_bytes([
            self.page[COUNT_AT],
            self.page[COUNT_AT + 1],
        ]))
        .min(MAX_RESOURCES);
        let page = self.page;
        (0..count)
            .map(move |i| &page[RESOURCES_AT + i * RESOURCE_SIZE..][..RESOURCE_SIZE])
            .take_while(|r| u32_at(r, 0) != 0)
    }

    fn find(&self, name: &str, kind: u32) -> Option<&'a [u8]> {
        self.resources().find(|r| {
            u32_at(r, 0) == kind && name_of(&r[4..4 + NAME_SIZE]) == Some(name.as_bytes())
        })
    }

    /// The memory resource `name`.
    pub fn memory(&self, name: &str) -> Option<Memory> {
        let r = self.find(name, KIND_MEMORY)?;
        let d = &r[DATA_AT..];
        Some(Memory {
            kind: d[0],
            writable: d[2] & WRITABLE != 0,
            address: u64_at(d, 8),
            size: u64_at(d, 16),
        })
    }

    /// The number of the event `name`.
    pub fn event(&self, name: &str) -> Option<u8> {
        self.find(name, KIND_EVENT).map(|r| r[DATA_AT])
    }
}

/// Write an sinfo page (the harness's and the tests' side).
pub mod build {
    use super::*;

    /// A resource to lay out.
    pub enum Res<'n> {
        Memory(&'n str, Memory),
        Event(&'n str, u8),
    }

    fn put_name(field: &mut [u8], name: &str) {
        let n = name.len().min(NAME_MAX);
        field[0] = n as u8;
        field[1..1 + n].copy_from_slice(&name.as_bytes()[..n]);
    }

    /// Fill `page` (at least [`SIZE`] bytes) with a v5 sinfo.
    pub fn page(page: &mut [u8], subject: &str, tsc_khz: u32, resources: &[Res]) {
        page[..SIZE].fill(0);
        page[0..8].copy_from_slice(&MAGIC.to_le_bytes());
        page[8..12].copy_from_slice(&tsc_khz.to_le_bytes());
        put_name(&mut page[NAME_AT..NAME_AT + NAME_SIZE], subject);
        let count = resources.len().min(MAX_RESOURCES);
        page[COUNT_AT..COUNT_AT + 2].copy_from_slice(&(count as u16).to_le_bytes());
        for (i, res) in resources.iter().take(count).enumerate() {
            let r = &mut page[RESOURCES_AT + i * RESOURCE_SIZE..][..RESOURCE_SIZE];
            match res {
                Res::Memory(name, m) => {
                    r[0..4].copy_from_slice(&KIND_MEMORY.to_le_bytes());
                    put_name(&mut r[4..4 + NAME_SIZE], name);
                    let d = &mut r[DATA_AT..];
                    d[0] = m.kind;
                    d[2] = u8::from(m.writable);
                    d[8..16].copy_from_slice(&m.address.to_le_bytes());
                    d[16..24].copy_from_slice(&m.size.to_le_bytes());
                }
                Res::Event(name, n) => {
                    r[0..4].copy_from_slice(&KIND_EVENT.to_le_bytes());
                    put_name(&mut r[4..4 + NAME_SIZE], name);
                    r[DATA_AT] = *n;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::build::{Res, page};
    use super::*;
    use alloc::vec;

    fn chan(address: u64, writable: bool) -> Memory {
        Memory {
            kind: MEM_CHANNEL,
            writable,
            address,
            size: 0x1000,
        }
    }

    #[test]
    fn finds_resources_by_name_and_kind() {
        let mut p = vec![0u8; SIZE];
        page(
            &mut p,
            "unikernel",
            2_000_000,
            &[
                Res::Memory("debuglog", chan(0x1000_0000, true)),
                Res::Memory("service|in", chan(0x2000_0000, false)),
                Res::Event("solo5_exit", 31),
            ],
        );
        let s = Sinfo::new(&p).unwrap();
        assert_eq!(s.subject(), b"unikernel");
        assert_eq!(s.tsc_khz(), 2_000_000);
        assert_eq!(s.memory("debuglog"), Some(chan(0x1000_0000, true)));
        assert_eq!(s.memory("service|in"), Some(chan(0x2000_0000, false)));
        assert_eq!(s.memory("service|out"), None);
        assert_eq!(s.event("solo5_exit"), Some(31));
        assert_eq!(s.memory("solo5_exit"), None, "an event is not memory");
        assert_eq!(s.event("debuglog"), None);
    }

    #[test]
    fn stops_at_the_count_and_at_an_empty_resource() {
        let mut p = vec![0u8; SIZE];
        page(&mut p, "s", 0, &[Res::Event("a", 1), Res::Event("b", 2)]);
        p[COUNT_AT] = 1;
        assert_eq!(Sinfo::new(&p).unwrap().event("b"), None);
        p[COUNT_AT] = 255;
        assert_eq!(Sinfo::new(&p).unwrap().event("b"), Some(2));
        p[RESOURCES_AT..RESOURCES_AT + 4].fill(0);
        assert_eq!(
            Sinfo::new(&p).unwrap().event("b"),
            None,
            "kind 0 ends the list"
        );
    }

    /// Any page content: lookups answer or fail, never panic.
    #[test]
    fn arbitrary_pages_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut p = vec![0u8; SIZE];
        for round in 0..300 {
            for b in p.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            p[..8].copy_from_slice(&MAGIC.to_le_bytes());
            // Some rounds with short names so lookups can match.
            if round % 2 == 0 {
                for r in 0..MAX_RESOURCES {
                    p[RESOURCES_AT + r * RESOURCE_SIZE + 4] %= 8;
                }
            }
            let s = Sinfo::new(&p).unwrap();
            let _ = (s.subject(), s.memory("a"), s.event("b"), s.memory(""));
        }
    }

    #[test]
    fn refuses_bad_pages_and_names() {
        let mut p = vec![0u8; SIZE];
        page(&mut p, "s", 0, &[Res::Event("a", 1)]);
        assert!(Sinfo::new(&p[..SIZE - 1]).is_none());
        p[RESOURCES_AT + 4] = 200; // a name length past the field
        assert_eq!(Sinfo::new(&p).unwrap().event("a"), None);
        p[0] ^= 1;
        assert!(Sinfo::new(&p).is_none());
    }
}
