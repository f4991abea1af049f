//! The genode binding, in the form Solo5 0.6 gave Genode: the image is a
//! position-independent shared object (`ET_DYN`, interpreter `ld.lib.so`)
//! that needs `solo5.lib.so` and imports the whole `solo5.h` API from it
//! as undefined dynamic symbols; it exports `solo5_app_main`, which the
//! host library calls with the command line and the heap. The host owns
//! devices, time and exit: the image's manifest note names the Nic and
//! Block sessions it wants, and nothing here parses a manifest.
//!
//! Solo5 reserves ABI target 5 for genode but never emitted an ABI1 note
//! for it, so neither does this binding.

#[cfg(feature = "genode")]
pub mod api;

/// `struct solo5_start_info` of Solo5 0.6.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct StartInfo {
    pub cmdline: *const u8,
    pub heap_start: usize,
    pub heap_size: usize,
}

/// `struct solo5_net_info`: the MTU is a `size_t`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NetInfo {
    pub mac_address: [u8; 6],
    pub mtu: usize,
}

/// `struct solo5_block_info`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockInfo {
    pub capacity: u64,
    pub block_size: u64,
}

const _: () = assert!(core::mem::size_of::<StartInfo>() == 24);
const _: () = assert!(core::mem::size_of::<NetInfo>() == 16);
const _: () = assert!(core::mem::offset_of!(NetInfo, mtu) == 8);

/// `solo5_result_t`.
pub fn result(r: i32) -> Result<(), crate::Error> {
    use crate::Error;
    match r {
        0 => Ok(()),
        1 => Err(Error::Again),
        2 => Err(Error::Invalid),
        _ => Err(Error::Unspecified),
    }
}

/// A device name as the C string the host expects, in `buf`; None if it
/// does not fit or holds a NUL.
pub fn c_name<'b>(name: &str, buf: &'b mut [u8; 72]) -> Option<&'b [u8]> {
    if name.len() >= buf.len() || name.as_bytes().contains(&0) {
        return None;
    }
    buf[..name.len()].copy_from_slice(name.as_bytes());
    buf[name.len()] = 0;
    Some(&buf[..=name.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_and_names() {
        assert_eq!(result(0), Ok(()));
        assert_eq!(result(1), Err(crate::Error::Again));
        assert_eq!(result(2), Err(crate::Error::Invalid));
        assert_eq!(result(3), Err(crate::Error::Unspecified));
        let mut buf = [0xffu8; 72];
        assert_eq!(c_name("service", &mut buf), Some(&b"service\0"[..]));
        assert_eq!(c_name("a\0b", &mut buf), None);
        assert_eq!(c_name(&"x".repeat(72), &mut buf), None);
    }
}
