//! The targets unikc knows, and every fact about each that is not code.
//!
//! This is the one list: the language's `target` constants, E0401, the
//! command line's value lists, code generation, `run`, the book's target
//! table and `unikc explain E0401` all derive from [`Target::ALL`]. Adding
//! a target is a new variant here (the compiler then points at every
//! exhaustive `match` that must learn it), its runtime crate and its
//! codegen module.

use crate::diag::{Diagnostic, Loc};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Unix,
    Hvt,
    Spt,
    Virtio,
    Muen,
    Genode,
    Xen,
}

/// Targets that share a runtime and a set of catalogue implementations;
/// the language's `is_unix`, `is_solo5` and `is_xen` test the family
/// (as in mirage, virtio counts as a Solo5 target).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    Unix,
    Solo5,
    Xen,
}

/// What `unikc run` does with a built image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Run {
    /// Executes it as a host process.
    Process,
    /// Boots it under `qemu-system-x86_64 -kernel`.
    Qemu,
    /// Runs it under the bundled Solo5 tender of this name.
    Tender(&'static str),
    /// Creates a domain with `xl create` (on a Xen dom0).
    Xl,
    /// Cannot run it on this kind of host, for the reason given.
    Unsupported(&'static str),
}

impl Target {
    /// Every target, in the order `check` reports them.
    pub const ALL: [Target; 7] = [
        Target::Unix,
        Target::Hvt,
        Target::Spt,
        Target::Virtio,
        Target::Muen,
        Target::Genode,
        Target::Xen,
    ];

    /// The names of [`Target::ALL`], in order.
    pub const NAMES: [&'static str; 7] = {
        let mut names = [""; 7];
        let mut i = 0;
        while i < names.len() {
            names[i] = Target::ALL[i].name();
            i += 1;
        }
        names
    };

    pub const fn name(self) -> &'static str {
        match self {
            Target::Unix => "unix",
            Target::Hvt => "hvt",
            Target::Spt => "spt",
            Target::Virtio => "virtio",
            Target::Muen => "muen",
            Target::Genode => "genode",
            Target::Xen => "xen",
        }
    }

    pub const fn family(self) -> Family {
        match self {
            Target::Unix => Family::Unix,
            Target::Hvt | Target::Spt | Target::Virtio | Target::Muen | Target::Genode => {
                Family::Solo5
            }
            Target::Xen => Family::Xen,
        }
    }

    /// The image's file name in `dist/` for a unikernel of this name.
    pub fn image_file(self, name: &str) -> String {
        match self {
            Target::Unix => name.to_string(),
            t => format!("{name}.{}", t.name()),
        }
    }

    /// What the image is, in the words of the book's target table.
    pub const fn image_kind(self) -> &'static str {
        match self {
            Target::Unix => "host executable",
            Target::Hvt => "static ELF, Solo5 ABI target 1",
            Target::Spt => "static ELF, Solo5 ABI target 2",
            Target::Virtio => "static ELF with a PVH note",
            Target::Muen => "static ELF, Solo5 ABI target 4",
            Target::Genode => "ET_DYN importing the solo5.h API from solo5.lib.so",
            Target::Xen => "static ELF with a PVH note",
        }
    }

    /// How the image boots.
    pub const fn boots(self) -> &'static str {
        match self {
            Target::Unix => "a process; tap devices, host sockets and files",
            Target::Hvt => "the Solo5 hvt tender (KVM)",
            Target::Spt => "the Solo5 spt tender (a seccomp-sandboxed process)",
            Target::Virtio => "QEMU `-kernel`, virtio-pci network and block devices",
            Target::Muen => "a Muen subject",
            Target::Genode => "a Genode component",
            Target::Xen => "Xen PVH (`xl create`)",
        }
    }

    /// The bundled runtime crate holding the target's platform.
    pub const fn runtime_crate(self) -> &'static str {
        match self {
            Target::Unix => "unik-unix",
            Target::Virtio => "unik-virtio",
            Target::Hvt | Target::Spt | Target::Muen | Target::Genode => "unik-solo5",
            Target::Xen => "unik-xen",
        }
    }

    /// Whether unikc generates and builds images for this target.
    pub const fn builds(self) -> bool {
        match self {
            Target::Unix
            | Target::Hvt
            | Target::Spt
            | Target::Virtio
            | Target::Muen
            | Target::Genode
            | Target::Xen => true,
        }
    }

    /// What `unikc run` does with the image.
    pub const fn run(self) -> Run {
        match self {
            Target::Unix => Run::Process,
            Target::Virtio => Run::Qemu,
            Target::Spt => Run::Tender("spt"),
            Target::Hvt => Run::Tender("hvt"),
            Target::Muen => Run::Unsupported(
                "a muen image runs as a subject of a Muen system, which needs VT-x and VT-d (QEMU's TCG has no VMX); deploy dist/NAME.muen with a Muen system policy",
            ),
            Target::Genode => Run::Unsupported(
                "a genode image runs as a component of a Genode system, loaded by Genode's ld.lib.so with a Solo5 solo5.lib.so; neither exists on this host",
            ),
            Target::Xen => Run::Xl,
        }
    }

    /// The `com.urunc.unikernel.hypervisor` value under which urunc runs
    /// this target's images from an OCI image (`unikc package`), if it can.
    pub const fn urunc_hypervisor(self) -> Option<&'static str> {
        match self {
            Target::Hvt => Some("hvt"),
            Target::Spt => Some("spt"),
            Target::Virtio => Some("qemu"),
            Target::Unix | Target::Muen | Target::Genode | Target::Xen => None,
        }
    }

    /// Why unikc cannot build images for this target, if it cannot.
    pub fn unbuildable(self) -> Option<String> {
        if self.builds() {
            return None;
        }
        let can: Vec<&str> = Target::ALL
            .iter()
            .filter(|t| t.builds())
            .map(|t| t.name())
            .collect();
        Some(format!(
            "unikc cannot generate images for target `{}` yet (it builds {})",
            self.name(),
            can.join(", ")
        ))
    }
}

/// E0401: `name` is not a target. Built here only, for every caller.
pub fn unknown(name: &str, at: Option<(Loc, &str)>) -> Diagnostic {
    let mut d = Diagnostic::error("E0401", format!("unknown target `{name}`"));
    if let Some((loc, label)) = at {
        d = d.label(loc, label);
    }
    d = d.note(format!("targets are: {}", Target::NAMES.join(", ")));
    if let Some(near) = crate::suggest::nearest(name, Target::NAMES.iter().copied()) {
        d = d.help(format!("did you mean `{near}`?"));
    }
    d
}

impl FromStr for Target {
    type Err = ();
    fn from_str(s: &str) -> Result<Target, ()> {
        Target::ALL.into_iter().find(|t| t.name() == s).ok_or(())
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl serde::Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in Target::ALL {
            assert_eq!(t.name().parse::<Target>(), Ok(t));
            assert_eq!(t.to_string(), t.name());
        }
        assert_eq!(Target::NAMES.len(), Target::ALL.len());
        assert!("solo5".parse::<Target>().is_err());
    }

    #[test]
    fn unknown_target_suggests() {
        let d = unknown("spt5", None);
        assert_eq!(d.code, "E0401");
        assert_eq!(d.help.as_deref(), Some("did you mean `spt`?"));
        assert!(d.notes[0].contains("unix, hvt, spt, virtio, muen, genode, xen"));
    }

    #[test]
    fn images_and_runs() {
        assert_eq!(Target::Unix.image_file("www"), "www");
        assert_eq!(Target::Spt.image_file("www"), "www.spt");
        assert_eq!(Target::Spt.run(), Run::Tender("spt"));
        assert!(matches!(Target::Muen.run(), Run::Unsupported(_)));
        assert_eq!(Target::Xen.run(), Run::Xl);
        assert!(Target::Virtio.unbuildable().is_none());
    }

    #[test]
    fn urunc_runs_only_images_unikc_builds() {
        assert_eq!(Target::Virtio.urunc_hypervisor(), Some("qemu"));
        assert_eq!(Target::Unix.urunc_hypervisor(), None);
        for t in Target::ALL {
            assert!(t.urunc_hypervisor().is_none() || t.builds(), "{t}");
        }
    }
}
