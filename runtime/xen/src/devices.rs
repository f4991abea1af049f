//! The host devices the generated `main` declares, in the order of the
//! `.xl` file's `vif` and `disk` lists: the n-th `Net` entry is the Xen
//! device `device/vif/N` of the n-th vif (likewise `Block` and `vbd`).

use crate::cell::Global;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Net,
    Block,
}

static DECLARED: Global<&'static [(&'static str, DeviceKind)]> = Global::new(&[]);

/// Declares the image's host devices (generated `main` calls this first).
pub fn declare(devices: &'static [(&'static str, DeviceKind)]) {
    // SAFETY: single CPU; called once at boot before any device connects.
    unsafe { *DECLARED.get() = devices };
}

/// The index among devices of `kind` of the one declared as `name`.
pub fn index_of(name: &str, kind: DeviceKind) -> Option<usize> {
    // SAFETY: only `declare` writes, before devices connect.
    let declared = unsafe { *DECLARED.get() };
    declared
        .iter()
        .filter(|(_, k)| *k == kind)
        .position(|(n, _)| *n == name)
}
