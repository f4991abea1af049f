//! What differs between targets in a generated workspace: each buildable
//! [`Target`] has a [`Backend`] that writes its entry point and adds its own
//! files (`.cargo/config.toml` flags, a linker script) through
//! [`Backend::files`]; the rest of the generator is shared. Names, image
//! files and runtime crates are facts of [`Target`] itself.

use crate::devices::HostDev;
use crate::error::Error;
use std::path::Path;
use unik_lang::Target;

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
    /// `CACHE/build`, where cargo runs a relocatable workspace.
    pub build_root: &'a Path,
    /// Whether every local crate is reached through `deps/` (see
    /// `Plan::relocatable`); if not, the project's path is remapped.
    pub relocatable: bool,
    /// Where `unikc build` puts the image.
    pub image: &'a Path,
    /// The graph's host devices, in attach order.
    pub devices: &'a [HostDev],
}

/// How code generation serves one target.
pub trait Backend {
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

/// The bundled crates generated `main.rs` itself uses.
pub fn runtime_crates(target: Target) -> [&'static str; 2] {
    ["unik-rt", target.runtime_crate()]
}

/// The platform crate as Rust writes it (`unik_unix`).
pub fn platform_crate(target: Target) -> String {
    target.runtime_crate().replace('-', "_")
}

/// A host process: the `unik-unix` runtime over `poll(2)`, files and sockets.
pub struct Unix;

impl Backend for Unix {
    fn platform_new(&self) -> &'static str {
        "unik_unix::UnixPlatform::new()"
    }
    fn console_connect(&self) -> &'static str {
        "unik_unix::console::connect()"
    }
    fn entry(&self, _devices: &[HostDev]) -> Result<String, Error> {
        Ok("fn main() -> std::process::ExitCode {\n    unik_unix::boot::exit(boot())\n}\n".into())
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

/// `.cargo/config.toml`: remaps the runtime, cargo-home and build paths
/// compiled into the image (panic locations, debug info), so images do not
/// depend on where they were built, while compiler messages keep the real
/// paths; `extra` flags come from the target. The project's own path is
/// named only when a crate is used in place: otherwise the file is the
/// same wherever the project is, which shared compiler caches need.
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
    flags.push(format!(
        "--remap-path-prefix={}=/unikc-build",
        ctx.build_root.display()
    ));
    // Local crates are reached through `deps/` (relative paths); a crate
    // that cannot be (see `links::linkable`) is at least remapped.
    if !ctx.relocatable {
        flags.push(format!(
            "--remap-path-prefix={}=/unikc-project",
            ctx.project_dir.display()
        ));
    }
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
