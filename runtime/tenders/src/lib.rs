//! unikc's tenders for Solo5-ABI images: `unikc-spt` runs an spt image in a
//! seccomp-sandboxed process, `unikc-hvt` runs an hvt image in a KVM
//! virtual machine. Both take solo5-spt/solo5-hvt command lines.

pub mod attach;
pub mod elf;
pub mod error;
pub mod hvt;
pub mod image;
pub mod manifest;
pub mod options;
pub mod seccomp;
pub mod spt;

pub use error::Error;
pub use image::{Image, Target};
pub use options::Options;
