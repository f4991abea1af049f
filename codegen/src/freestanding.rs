//! The freestanding targets: `virtio` (a PVH kernel for QEMU) and the
//! Solo5-ABI targets `spt` and `hvt`. Each image is a static x86_64 ELF at
//! 1 MiB built on stable Rust with only the linux-gnu target (see the
//! recipe in runtime/freestanding/README.md): `#![no_std]`, `panic =
//! "abort"`, the bare-metal link flags and a linker script rendered from
//! the bundled template into the workspace.

use crate::bundle;
use crate::devices::HostDev;
use crate::error::Error;
use crate::target::{Context, Target, render_cargo_config};
use std::fmt::Write as _;
use unik_resolver::HostDeviceKind;

/// The only Rust target freestanding images are built for.
pub const RUST_TARGET: &str = "x86_64-unknown-linux-gnu";

/// The link and code-generation flags every freestanding image needs;
/// `link.ld` is resolved in the workspace root, where the linker runs, and
/// `link.map` (the linker map) is written there.
pub const FLAGS: &[&str] = &[
    "-Crelocation-model=static",
    "-Clink-arg=-nostartfiles",
    "-Clink-arg=-nostdlib",
    "-Clink-arg=-static",
    "-Clink-arg=-Wl,-T,link.ld",
    "-Clink-arg=-Wl,--build-id=none",
    "-Clink-arg=-Wl,-Map=link.map",
    "--cfg",
    "unik_kernel",
];

pub(crate) const ATTRIBUTES: &[&str] = &["#![no_std]", "#![no_main]"];
pub(crate) const RELEASE: &[&str] = &["panic = \"abort\"", "codegen-units = 1", "debug = false"];
pub(crate) const DEV: &[&str] = &["panic = \"abort\""];

/// The linker script template bundled with the runtime.
pub(crate) fn template() -> Result<&'static str, Error> {
    bundle::FILES
        .iter()
        .find(|(p, _)| *p == "freestanding/link.ld.in")
        .and_then(|(_, data)| std::str::from_utf8(data).ok())
        .ok_or_else(|| Error::plain("the bundled runtime lacks freestanding/link.ld.in"))
}

pub(crate) fn common_files(ctx: &Context, script: String) -> Vec<(String, String)> {
    let flags: Vec<String> = FLAGS.iter().map(|f| f.to_string()).collect();
    vec![
        (
            ".cargo/config.toml".into(),
            render_cargo_config(ctx, Some(RUST_TARGET), &flags),
        ),
        ("link.ld".into(), script),
    ]
}

/// A link script, or a comment saying why there is none (it then fails
/// to link with a message pointing here).
pub(crate) fn or_comment(script: Result<String, Error>) -> String {
    script.unwrap_or_else(|e| format!("/* {e} */\n"))
}

/// QEMU (or any PVH loader): `unik-virtio`.
pub struct Virtio;

impl Target for Virtio {
    fn name(&self) -> &'static str {
        "virtio"
    }
    fn platform_crate(&self) -> &'static str {
        "unik_virtio"
    }
    fn runtime_crates(&self) -> &'static [&'static str] {
        &["unik-rt", "unik-virtio"]
    }
    fn platform_new(&self) -> &'static str {
        "unik_virtio::VirtioPlatform::new()"
    }
    fn console_connect(&self) -> &'static str {
        "unik_virtio::console::connect()"
    }
    fn main_attributes(&self) -> &'static [&'static str] {
        ATTRIBUTES
    }
    fn freestanding(&self) -> bool {
        true
    }
    fn entry(&self, devices: &[HostDev]) -> Result<String, Error> {
        let mut out = String::from("unik_virtio::entry!(start);\n\n");
        out.push_str(
            "/// The host devices by name, in the order `unikc run` attaches them to\n\
             /// QEMU (the n-th network device is the n-th virtio-net function).\n",
        );
        if devices.is_empty() {
            out.push_str("static DEVICES: &[(&str, unik_virtio::DeviceKind)] = &[];\n");
        } else {
            out.push_str("static DEVICES: &[(&str, unik_virtio::DeviceKind)] = &[\n");
            for d in devices {
                let kind = match d.kind {
                    HostDeviceKind::Net => "Net",
                    HostDeviceKind::Block => "Block",
                };
                writeln!(out, "    ({:?}, unik_virtio::DeviceKind::{kind}),", d.name).unwrap();
            }
            out.push_str("];\n");
        }
        out.push_str(
            "\n/// The kernel's entry: its return value is the exit status.\n\
             fn start(_: &unik_virtio::BootInfo) -> i32 {\n    \
             unik_virtio::boot::devices(DEVICES);\n    \
             unik_virtio::boot::exit(boot())\n}\n",
        );
        Ok(out)
    }
    fn image_name(&self, name: &str) -> String {
        format!("{name}.virtio")
    }
    fn release_profile(&self) -> &'static [&'static str] {
        RELEASE
    }
    fn dev_profile(&self) -> &'static [&'static str] {
        DEV
    }
    fn files(&self, ctx: &Context) -> Vec<(String, String)> {
        let script = or_comment(template().map(|t| {
            t.replace("{{ENTRY}}", "unik_pvh_start32")
                .replace("{{TEXT_BASE}}", "0x100000")
                .replace("{{NOTE_PHDRS}}", "note_xen PT_NOTE FLAGS(4);")
                .replace(
                    "{{NOTE_SECTIONS}}",
                    ".note.Xen : { KEEP(*(.note.Xen)) } :rodata :note_xen",
                )
        }));
        let mut files = common_files(ctx, script);
        files.push((
            libvirt_name(ctx.bin),
            crate::libvirt::render(ctx.bin, ctx.image, ctx.project_dir, ctx.devices),
        ));
        files
    }
    fn dist_files(&self, bin: &str) -> Vec<(String, String)> {
        vec![(libvirt_name(bin), libvirt_name(bin))]
    }
}

fn libvirt_name(bin: &str) -> String {
    format!("{bin}_libvirt.xml")
}

/// The Solo5-ABI targets: `unik-solo5` with one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Solo5 {
    Spt,
    Hvt,
}

impl Target for Solo5 {
    fn name(&self) -> &'static str {
        match self {
            Solo5::Spt => "spt",
            Solo5::Hvt => "hvt",
        }
    }
    fn platform_crate(&self) -> &'static str {
        "unik_solo5"
    }
    fn runtime_crates(&self) -> &'static [&'static str] {
        &["unik-rt", "unik-solo5"]
    }
    fn platform_new(&self) -> &'static str {
        "unik_solo5::Solo5Platform::new()"
    }
    fn console_connect(&self) -> &'static str {
        "unik_solo5::console::connect()"
    }
    fn main_attributes(&self) -> &'static [&'static str] {
        ATTRIBUTES
    }
    fn freestanding(&self) -> bool {
        true
    }
    fn crate_features(&self, package: &str) -> &'static [&'static str] {
        match (package, self) {
            ("unik-solo5", Solo5::Spt) => &["spt"],
            ("unik-solo5", Solo5::Hvt) => &["hvt"],
            _ => &[],
        }
    }
    fn entry(&self, devices: &[HostDev]) -> Result<String, Error> {
        check_manifest(devices)?;
        let mut out = String::from(
            "// The Solo5 manifest: every host device by name, attached by the tender\n\
             // (`--net:NAME=TAP`, `--block:NAME=FILE`).\n",
        );
        let entries: Vec<String> = devices
            .iter()
            .map(|d| format!("{} {:?}", d.kind_name(), d.name))
            .collect();
        if entries.is_empty() {
            out.push_str("unik_solo5::manifest! {}\n");
        } else {
            writeln!(out, "unik_solo5::manifest! {{ {} }}", entries.join(", ")).unwrap();
        }
        out.push_str(
            "unik_solo5::entry!(start);\n\n\
             /// The image's entry: its return value is the exit status.\n\
             fn start(_: &unik_solo5::BootInfo) -> i32 {\n    \
             unik_solo5::boot::exit(boot())\n}\n",
        );
        Ok(out)
    }
    fn image_name(&self, name: &str) -> String {
        format!("{name}.{}", self.name())
    }
    fn release_profile(&self) -> &'static [&'static str] {
        RELEASE
    }
    fn dev_profile(&self) -> &'static [&'static str] {
        DEV
    }
    fn files(&self, ctx: &Context) -> Vec<(String, String)> {
        let script = or_comment(template().map(unik_solo5::link::render));
        common_files(ctx, script)
    }
}

/// The rules of the Solo5 manifest (names of 1 to 67 ASCII letters and
/// digits, unique, at most 63 devices), checked with unik-solo5's own
/// code so that a bad name is an error now, never a compile error later.
fn check_manifest(devices: &[HostDev]) -> Result<(), Error> {
    use unik_solo5::manifest::{Kind, ManifestError, name_is_valid, note_bytes};
    for (i, d) in devices.iter().enumerate() {
        let err = |msg: String| {
            Error::new("E0707", msg).at(
                &d.at,
                format!("the {} device `{}` is used here", d.kind_name(), d.name),
            )
        };
        if !name_is_valid(&d.name) {
            return Err(err(format!(
                "`{}` cannot name a Solo5 device: names are 1 to 67 ASCII letters or digits",
                d.name
            ))
            .note("Solo5 tenders attach host devices by manifest name (`--block:storage=disk.img`)")
            .help("name the device like `storage` or `service`, for example with `if_impl is_solo5 (block_of_file \"storage\") (block_of_file \"disk.img\")`"));
        }
        if devices[..i].iter().any(|e| e.name == d.name) {
            return Err(err(format!(
                "`{}` names both a network and a block device",
                d.name
            ))
            .help("give each host device its own name"));
        }
    }
    let entries: Vec<(&str, Kind)> = devices
        .iter()
        .map(|d| {
            let kind = match d.kind {
                HostDeviceKind::Net => Kind::Net,
                HostDeviceKind::Block => Kind::Block,
            };
            (d.name.as_str(), kind)
        })
        .collect();
    note_bytes(&entries).map(|_| ()).map_err(|e| {
        let help = match e {
            ManifestError::TooMany(_) => "use at most 63 host devices",
            _ => "give each host device a valid, unique name",
        };
        Error::new("E0707", format!("the Solo5 manifest cannot be built: {e}")).help(help)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use unik_resolver::SourcePos;

    fn dev(kind: HostDeviceKind, name: &str) -> HostDev {
        HostDev {
            kind,
            name: name.into(),
            at: SourcePos {
                file: "config.unik".into(),
                line: 3,
                column: 5,
            },
        }
    }

    #[test]
    fn solo5_entry_declares_the_manifest() {
        let devices = [
            dev(HostDeviceKind::Net, "service"),
            dev(HostDeviceKind::Block, "storage"),
        ];
        let entry = Solo5::Spt.entry(&devices).unwrap();
        assert!(
            entry.contains("unik_solo5::manifest! { net \"service\", block \"storage\" }"),
            "{entry}"
        );
        assert!(
            Solo5::Hvt
                .entry(&[])
                .unwrap()
                .contains("unik_solo5::manifest! {}")
        );
    }

    #[test]
    fn bad_solo5_names_are_configure_errors() {
        for bad in ["disk.img", "", "a-b", &"x".repeat(68)] {
            let e = Solo5::Spt
                .entry(&[dev(HostDeviceKind::Block, bad)])
                .unwrap_err();
            assert_eq!(e.code, Some("E0707"), "{bad}");
            assert!(e.at.is_some());
        }
        let twice = [
            dev(HostDeviceKind::Net, "a"),
            dev(HostDeviceKind::Block, "a"),
        ];
        assert_eq!(Solo5::Hvt.entry(&twice).unwrap_err().code, Some("E0707"));
        let many: Vec<HostDev> = (0..64)
            .map(|i| dev(HostDeviceKind::Net, &format!("n{i}")))
            .collect();
        assert_eq!(Solo5::Spt.entry(&many).unwrap_err().code, Some("E0707"));
        // Virtio names are labels only: a file name is fine.
        assert!(
            Virtio
                .entry(&[dev(HostDeviceKind::Block, "disk.img")])
                .is_ok()
        );
    }

    #[test]
    fn virtio_entry_lists_devices_in_order() {
        let devices = [
            dev(HostDeviceKind::Block, "disk.img"),
            dev(HostDeviceKind::Net, "service"),
        ];
        let entry = Virtio.entry(&devices).unwrap();
        let block = entry
            .find("(\"disk.img\", unik_virtio::DeviceKind::Block)")
            .unwrap();
        let net = entry
            .find("(\"service\", unik_virtio::DeviceKind::Net)")
            .unwrap();
        assert!(block < net, "{entry}");
    }

    #[test]
    fn templates_render_without_placeholders() {
        let t = template().unwrap();
        let solo5 = unik_solo5::link::render(t);
        assert!(!solo5.contains("{{"));
        assert!(solo5.contains("ENTRY(_start)"));
    }
}
