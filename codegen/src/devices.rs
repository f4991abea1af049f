//! The host devices a graph asks the platform for (`netif "service"`,
//! `block_of_file "disk.img"`), in one order shared by everything that
//! names them: the Solo5 manifest, the virtio device declaration in the
//! generated `main`, and the devices `unikc run` attaches (the `n`-th
//! network device of this list is the `n`-th virtio-net function).

use unik_lang::Loc;
use unik_resolver::{HostDeviceKind, Resolved};

/// One host device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostDev {
    pub kind: HostDeviceKind,
    /// The name the configuration gives it (tap, manifest entry, file).
    pub name: String,
    /// Where the device is used first (for diagnostics).
    pub at: Loc,
}

impl HostDev {
    /// `net` or `block`, as the Solo5 manifest and the tenders' options say.
    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            HostDeviceKind::Net => "net",
            HostDeviceKind::Block => "block",
        }
    }
}

/// The graph's host devices in connect (node) order; a device used by
/// several nodes is listed once.
pub fn host_devices(r: &Resolved) -> Vec<HostDev> {
    let mut out: Vec<HostDev> = Vec::new();
    for node in r.nodes.iter() {
        let Some(h) = &node.host_device else { continue };
        if out.iter().any(|d| d.kind == h.kind && d.name == h.name) {
            continue;
        }
        out.push(HostDev {
            kind: h.kind,
            name: h.name.clone(),
            at: node.used_loc,
        });
    }
    out
}
