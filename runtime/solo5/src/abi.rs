//! The Solo5 0.12 ABI at the byte level: ELF note identifiers, the manifest
//! entry layout, the boot info handed over by the tenders and the hvt
//! hypercall argument structures (see `shared/research/runtime.md` §1–2).

/// `n_name` of every Solo5 note: "Solo5\0" padded to 8 bytes.
pub const NOTE_NAME: [u8; 8] = *b"Solo5\0\0\0";
/// `n_namesz`: the name with its terminator, without the padding.
pub const NOTE_NAMESZ: u32 = 6;
/// "ABI1" little-endian.
pub const ABI1_NOTE_TYPE: u32 = 0x3149_4241;
/// "MFT1" little-endian.
pub const MFT1_NOTE_TYPE: u32 = 0x3154_464d;
/// Input section names the linker script keeps, each in its own PT_NOTE.
pub const ABI1_SECTION: &str = ".note.solo5.abi";
pub const MFT1_SECTION: &str = ".note.solo5.manifest";

/// unikc's own note (name "unikc\0", in a PT_NOTE of its own, ignored by
/// Solo5 tenders): "my spt network devices understand frames behind a
/// `virtio_net_hdr`", which lets unikc-spt turn the tap's offloads on.
pub const VNET_NOTE_NAME: [u8; 8] = *b"unikc\0\0\0";
/// "VNH1" little-endian.
pub const VNET_NOTE_TYPE: u32 = 0x3148_4e56;
/// Where in the net entry's union unikc-spt says it did (see
/// [`MftEntry::net_vnet_hdr`]).
pub const MFT_NET_VNET_HDR: usize = 8;

/// `abi_target` values of the ABI1 note.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum AbiTarget {
    Hvt = 1,
    Spt = 2,
    Virtio = 3,
    Muen = 4,
    Genode = 5,
    Xen = 6,
}

pub const HVT_ABI_VERSION: u32 = 2;
pub const SPT_ABI_VERSION: u32 = 2;

pub const MFT_VERSION: u32 = 1;
pub const MFT_MAX_ENTRIES: usize = 64;
/// Bytes of `mft_entry.name`, terminator included.
pub const MFT_NAME_SIZE: usize = 68;
/// Longest device name.
pub const MFT_NAME_MAX: usize = 67;
pub const MFT_ENTRY_SIZE: usize = 104;
/// `struct mft` header: version and entry count.
pub const MFT_HEADER_SIZE: usize = 8;
pub const MFT_BLOCK_BASIC: u32 = 1;
pub const MFT_NET_BASIC: u32 = 2;
pub const MFT_RESERVED_FIRST: u32 = 1 << 30;

/// One manifest entry, 104 bytes, as in `mft_abi.h`.
///
/// `u` is the C union: block `capacity: u64` at 72 and `block_size: u16` at
/// 80, or net `mac: [u8; 6]` at 72 and `mtu: u16` at 78. `b` is the backing
/// host descriptor (`int hostfd`, spt) or pointer; `attached` is a C `bool`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MftEntry {
    pub name: [u8; MFT_NAME_SIZE],
    pub kind: u32,
    pub u: [u8; 16],
    pub b: u64,
    pub attached: u8,
    pub pad: [u8; 7],
}

const _: () = assert!(core::mem::size_of::<MftEntry>() == MFT_ENTRY_SIZE);
const _: () = assert!(core::mem::align_of::<MftEntry>() == 8);
const _: () = assert!(core::mem::offset_of!(MftEntry, kind) == 68);
const _: () = assert!(core::mem::offset_of!(MftEntry, u) == 72);
const _: () = assert!(core::mem::offset_of!(MftEntry, b) == 88);
const _: () = assert!(core::mem::offset_of!(MftEntry, attached) == 96);

impl MftEntry {
    pub const EMPTY: Self = Self {
        name: [0; MFT_NAME_SIZE],
        kind: 0,
        u: [0; 16],
        b: 0,
        attached: 0,
        pad: [0; 7],
    };

    /// The name up to its terminator.
    pub fn name_bytes(&self) -> &[u8] {
        let end = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(MFT_NAME_SIZE);
        &self.name[..end]
    }

    pub fn capacity(&self) -> u64 {
        u64::from_le_bytes(self.u[0..8].try_into().expect("8 bytes"))
    }

    pub fn block_size(&self) -> u16 {
        u16::from_le_bytes([self.u[8], self.u[9]])
    }

    pub fn mac(&self) -> [u8; 6] {
        self.u[0..6].try_into().expect("6 bytes")
    }

    pub fn mtu(&self) -> u16 {
        u16::from_le_bytes([self.u[6], self.u[7]])
    }

    /// unikc spt only: the tender opened the tap with `IFF_VNET_HDR` and
    /// its offloads on (byte 8 of the net union, unused by Solo5, is 1),
    /// because the image carries the [`VNET_NOTE_TYPE`] note. Upstream
    /// tenders leave it 0: plain frames.
    pub fn net_vnet_hdr(&self) -> bool {
        self.u[MFT_NET_VNET_HDR] == 1
    }

    /// spt: the host descriptor the tender attached (`int hostfd`).
    pub fn hostfd(&self) -> i32 {
        self.b as u32 as i32
    }
}

/// `struct hvt_boot_info` (56 bytes), at guest-physical 0x10000.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct HvtBootInfo {
    pub mem_size: u64,
    pub kernel_end: u64,
    pub cpu_cycle_freq: u64,
    pub cmdline: u64,
    pub mft: u64,
    pub host_features: u32,
    pub guest_features: u32,
    pub net_ring: u64,
}

const _: () = assert!(core::mem::size_of::<HvtBootInfo>() == 56);

/// `struct spt_boot_info` (40 bytes), at 0x11000 in the tender's address space.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SptBootInfo {
    pub mem_size: u64,
    pub kernel_end: u64,
    pub cmdline: u64,
    pub mft: u64,
    pub epollfd: i32,
    pub timerfd: i32,
}

const _: () = assert!(core::mem::size_of::<SptBootInfo>() == 40);

/// Where the spt tender puts the boot info; the guest is called with it in rdi.
pub const SPT_BOOT_INFO_BASE: u64 = 0x11000;
/// Where the hvt tender puts the boot info; rdi at entry.
pub const HVT_BOOT_INFO_BASE: u64 = 0x10000;
/// `epoll_event.data` the spt tender gives its internal timerfd (`~1U`).
pub const SPT_INTERNAL_TIMERFD: u64 = 0xffff_fffe;
/// Lowest load address of the image (text base).
pub const GUEST_MIN_BASE: u64 = 0x10_0000;
/// Command line buffer size, terminator included.
pub const CMDLINE_SIZE: usize = 8192;

/// hvt hypercalls: `outl` to `HYPERCALL_PIO_BASE + nr`.
pub const HYPERCALL_PIO_BASE: u16 = 0x500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u16)]
pub enum Hypercall {
    Walltime = 1,
    Puts = 2,
    Poll = 3,
    BlockWrite = 4,
    BlockRead = 5,
    NetWrite = 6,
    NetRead = 7,
    Halt = 8,
}

/// `solo5_result_t`, as hypercalls report it in `ret`.
pub const R_OK: i32 = 0;
pub const R_AGAIN: i32 = 1;
pub const R_EINVAL: i32 = 2;
pub const R_EUNSPEC: i32 = 3;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcWalltime {
    pub nsecs: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcPuts {
    pub data: u64,
    pub len: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcPoll {
    pub timeout_nsecs: u64,
    pub ready_set: u64,
    pub ret: i32,
    pub pad: u32,
}

/// `hvt_hc_block_write` and `hvt_hc_block_read` share this layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcBlock {
    pub handle: u64,
    pub offset: u64,
    pub data: u64,
    pub len: u64,
    pub ret: i32,
    pub pad: u32,
}

/// `hvt_hc_net_write` and `hvt_hc_net_read` share this layout.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcNet {
    pub handle: u64,
    pub data: u64,
    pub len: u64,
    pub ret: i32,
    pub pad: u32,
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct HcHalt {
    pub cookie: u64,
    pub exit_status: i32,
    pub pad: u32,
}

const _: () = assert!(core::mem::size_of::<HcPoll>() == 24);
const _: () = assert!(core::mem::size_of::<HcBlock>() == 40);
const _: () = assert!(core::mem::size_of::<HcNet>() == 32);
const _: () = assert!(core::mem::size_of::<HcHalt>() == 16);
