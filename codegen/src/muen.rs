//! The `muen` target: a Solo5 image for a Muen subject, `unik-solo5` with
//! its `muen` binding, linked static at 2 MiB by the binding's own script
//! (upstream's segment layout, which Muen's tools read).

use crate::devices::HostDev;
use crate::error::Error;
use crate::freestanding::{ATTRIBUTES, DEV, FLAGS, RELEASE, solo5_entry, workspace_files};
use crate::target::{Backend, Context};

pub struct Muen;

impl Backend for Muen {
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
            "unik-solo5" => &["muen"],
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
        workspace_files(ctx, FLAGS, unik_solo5::link::MUEN_SCRIPT.to_string())
    }
}
