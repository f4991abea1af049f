//! The `genode` target: the shared object Solo5 0.6's genode bindings
//! produced. `unik-solo5` with its `genode` binding is compiled
//! position-independent and linked `-shared` with interpreter `ld.lib.so`
//! against the binding's link-time `solo5.lib.so` stand-in, so the image
//! needs `solo5.lib.so` and imports the `solo5.h` API from it.

use crate::devices::HostDev;
use crate::error::Error;
use crate::freestanding::{ATTRIBUTES, DEV, RELEASE, solo5_entry, workspace_files};
use crate::target::{Backend, Context};

/// The image's only exports: its entry and the constructor bounds that
/// Genode's `ld.lib.so` looks up in every program.
pub const EXPORTS: &str = "{\n  global:\n    solo5_app_main;\n    _ctors_start;\n    _ctors_end;\n    _dtors_start;\n    _dtors_end;\n  local: *;\n};\n";

/// Code-generation and link flags of genode images; `link.ld` and
/// `link.map` are in the workspace root, where the linker runs.
pub const FLAGS: &[&str] = &[
    "-Crelocation-model=pic",
    "-Clink-arg=-nostartfiles",
    "-Clink-arg=-nostdlib",
    "-Clink-arg=-shared",
    "-Clink-arg=-Wl,--dynamic-linker=ld.lib.so",
    "-Clink-arg=-Wl,--eh-frame-hdr",
    "-Clink-arg=-Wl,-z,max-page-size=0x1000",
    "-Clink-arg=-Wl,-T,link.ld",
    "-Clink-arg=-Wl,--version-script=exports.map",
    "-Clink-arg=-Wl,--gc-sections",
    "-Clink-arg=-Wl,--build-id=none",
    "-Clink-arg=-Wl,-Map=link.map",
    "--cfg",
    "unik_kernel",
];

pub struct Genode;

impl Backend for Genode {
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
        match package {
            "unik-solo5" => &["genode"],
            _ => &[],
        }
    }
    fn entry(&self, devices: &[HostDev]) -> Result<String, Error> {
        solo5_entry(devices)
    }
    fn release_profile(&self) -> &'static [&'static str] {
        RELEASE
    }
    fn dev_profile(&self) -> &'static [&'static str] {
        DEV
    }
    fn files(&self, ctx: &Context) -> Vec<(String, String)> {
        let mut files = workspace_files(ctx, FLAGS, unik_solo5::link::GENODE_SCRIPT.to_string());
        files.push(("exports.map".into(), EXPORTS.into()));
        files
    }
}
