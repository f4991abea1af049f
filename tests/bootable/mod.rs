//! Helpers for the tests that boot images of the virtio, spt and hvt
//! targets with `unikc run`: test projects, a network namespace with a tap
//! device whose Linux side is the peer, and a TCP echo check. Needs root,
//! /dev/net/tun and iproute2 (ping from iputils-ping); a missing one fails
//! the test, it never skips.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use crate::unikernel;
pub use crate::unikernel::{Ns, ping_answers, stop, tcp_echoes};

/// A copy of `tests/bootable/NAME` in a fresh temporary directory.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary directory");
    let dest = tmp.path().join(name);
    unikernel::copy_dir(&unikernel::repo().join("tests/bootable").join(name), &dest);
    (tmp, dest)
}

/// The 1 MiB pattern the block example writes: sector `s` byte `i` is
/// `s * 31 + i` (mod 256), over its first 8 sectors.
pub fn check_block_pattern(disk: &Path) {
    let data = std::fs::read(disk).unwrap();
    assert_eq!(data.len(), 1 << 20, "the device never grows the file");
    for sector in 0..8usize {
        let s = &data[sector * 512..(sector + 1) * 512];
        assert!(
            s.iter()
                .enumerate()
                .all(|(i, b)| *b == (sector * 31 + i) as u8),
            "sector {sector} does not hold the pattern"
        );
    }
    assert!(
        data[8 * 512..].iter().all(|b| *b == 0xa5),
        "sectors past 8 changed"
    );
}
