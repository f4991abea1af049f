//! What differs between targets in a generated workspace. Each target
//! names its platform crate and entry point, and adds its own files
//! (`.cargo/config.toml` flags, a linker script) through [`Target::files`];
//! the rest of the generator is shared.

use crate::devices::HostDev;
use crate::error::Error;
use std::path::Path;

/// Facts about the output a target may use.
pub struct Context<'a> {
    /// The materialised runtime bundle.
    pub runtime_dir: &'a Path,
    /// `$CARGO_HOME`, when known (for path remapping).
    pub cargo_home: Option<&'a Path>,
    /// The cargo binary target, also the image's base name.
    pub bin: &'a str,
    /// The configuration's directory (relative host device paths start there).
    pub project_dir: &'a Path,
    /// Where `unikc build` puts the image.
    pub image: &'a Path,
    /// The graph's host devices, in attach order.
    pub devices: &'a [HostDev],
}

pub trait Target {
    /// `unix`, `hvt`, …
    fn name(&self) -> &'static str;
    /// The runtime crate with the platform and the `boot` helpers, as Rust
    /// writes it (`unik_unix`).
    fn platform_crate(&self) -> &'static str;
    /// The bundled crates generated `main.rs` itself uses.
    fn runtime_crates(&self) -> &'static [&'static str];
    /// An expression creating the platform (`unik_unix::UnixPlatform::new()`).
    fn platform_new(&self) -> &'static str;
    /// The connect expression of the console the default reporter writes to.
    fn console_connect(&self) -> &'static str;
    /// Inner attributes at the top of `main.rs` (`#![no_std]`, …).
    fn main_attributes(&self) -> &'static [&'static str] {
        &[]
    }
    /// The entry point: Rust items calling `boot()`. `devices` are the
    /// graph's host devices; a target that must declare them (the Solo5
    /// manifest) checks their names here, before anything is written.
    fn entry(&self, devices: &[HostDev]) -> Result<String, Error>;
    /// A freestanding image: `#![no_std]` code, built with the bare-metal
    /// flags, which `RUSTFLAGS` from the environment must not replace.
    fn freestanding(&self) -> bool {
        false
    }
    /// Features of a bundled crate this target needs (`unik-solo5` → `spt`).
    fn crate_features(&self, _package: &str) -> &'static [&'static str] {
        &[]
    }
    /// The image's file name in `dist/`.
    fn image_name(&self, name: &str) -> String;
    /// Lines of `[profile.release]` in `Cargo.toml`.
    fn release_profile(&self) -> &'static [&'static str] {
        &[]
    }
    /// Lines of `[profile.dev]` in `Cargo.toml`.
    fn dev_profile(&self) -> &'static [&'static str] {
        &[]
    }
    /// Files besides `Cargo.toml` and `src/main.rs`, by relative path.
    fn files(&self, ctx: &Context) -> Vec<(String, String)>;
    /// Generated files `unikc build` copies to `dist/` beside the image:
    /// (path in the workspace, file name in `dist/`).
    fn dist_files(&self, _bin: &str) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// The target of a name, if codegen supports it.
pub fn lookup(name: &str) -> Result<Box<dyn Target>, Error> {
    match name {
        "unix" => Ok(Box::new(Unix)),
        "virtio" => Ok(Box::new(crate::freestanding::Virtio)),
        "spt" => Ok(Box::new(crate::freestanding::Solo5::Spt)),
        "hvt" => Ok(Box::new(crate::freestanding::Solo5::Hvt)),
        "xen" => Ok(Box::new(crate::xen::Xen)),
        other => Err(Error::plain(format!(
            "unikc cannot generate images for target `{other}` yet"
        ))
        .note("the configuration checks for every target; code generation exists for unix, virtio, spt, hvt and xen")
        .help("use one of those with `-t`, or `unikc check -t TARGET` to check the configuration only")),
    }
}

/// A host process: the `unik-unix` runtime over `poll(2)`, files and sockets.
pub struct Unix;

impl Target for Unix {
    fn name(&self) -> &'static str {
        "unix"
    }
    fn platform_crate(&self) -> &'static str {
        "unik_unix"
    }
    fn runtime_crates(&self) -> &'static [&'static str] {
        &["unik-rt", "unik-unix"]
    }
    fn platform_new(&self) -> &'static str {
        "unik_unix::UnixPlatform::new()"
    }
    fn console_connect(&self) -> &'static str {
        "unik_unix::console::connect()"
    }
    fn entry(&self, _devices: &[HostDev]) -> Result<String, Error> {
        Ok("fn main() -> std::process::ExitCode {\n    unik_unix::boot::exit(boot())\n}\n".into())
    }
    fn image_name(&self, name: &str) -> String {
        name.to_string()
    }
    // One codegen unit and no build id: the same inputs give the same bytes.
    fn release_profile(&self) -> &'static [&'static str] {
        &["codegen-units = 1"]
    }
    fn files(&self, ctx: &Context) -> Vec<(String, String)> {
        let extra = ["-Clink-arg=-Wl,--build-id=none".to_string()];
        vec![(".cargo/config.toml".into(), cargo_config(ctx, &extra))]
    }
}

/// `.cargo/config.toml`: remaps the runtime, cargo-home and project paths compiled
/// into the image (panic locations, debug info), so images do not depend
/// on where they were built, while compiler messages keep the real paths;
/// `extra` flags come from the target.
pub fn cargo_config(ctx: &Context, extra: &[String]) -> String {
    render_cargo_config(ctx, None, extra)
}

/// [`cargo_config`] with `[build] target`, which keeps the flags off build
/// scripts and proc macros (they are host programs).
pub fn render_cargo_config(ctx: &Context, target: Option<&str>, extra: &[String]) -> String {
    let mut flags = vec![
        "--remap-path-scope=macro,debuginfo,object".to_string(),
        format!(
            "--remap-path-prefix={}=/unikc-runtime",
            ctx.runtime_dir.display()
        ),
    ];
    if let Some(home) = ctx.cargo_home {
        flags.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    // Local crates are reached through `deps/` (relative paths); a crate
    // that cannot be (see `links::linkable`) is at least remapped.
    flags.push(format!(
        "--remap-path-prefix={}=/unikc-project",
        ctx.project_dir.display()
    ));
    flags.extend(extra.iter().cloned());
    let mut out =
        String::from("# Generated by unikc: build flags of this target. Do not edit.\n\n[build]\n");
    if let Some(t) = target {
        out.push_str(&format!("target = {}\n", crate::toml_str(t)));
    }
    out.push_str("rustflags = [\n");
    for f in flags {
        out.push_str(&format!("  {},\n", crate::toml_str(&f)));
    }
    out.push_str("]\n");
    out
}
