//! `build`: configure, check the lock, run cargo, record the versions and
//! write the build record `dist/NAME.TARGET.build.json`.

use super::configure::{self, Project, Ready, show};
use super::failure::Failure;
use super::lockfile::{self, Locking};
use super::report::Reporter;
use std::path::{Path, PathBuf};
use unik_codegen as codegen;
use unik_codegen::Error;
use unik_codegen::record::{self, BuildRecord};

/// How `build` and `run` use `unik.lock`, the network and the target directory.
#[derive(Debug, Clone, Default)]
pub struct BuildFlags {
    /// `--locked`: build exactly what `unik.lock` records, never change it.
    pub locked: bool,
    /// `--offline`: cargo must not use the network.
    pub offline: bool,
    /// cargo's target directory (`None`: cargo's default).
    pub target_dir: Option<PathBuf>,
    /// Let cargo colour its output.
    pub color: bool,
}

/// A built image and the project it was built from.
pub struct Built {
    pub ready: Ready,
    pub image: PathBuf,
}

pub fn build(p: &Project, flags: &BuildFlags, rep: &mut dyn Reporter) -> Result<Built, Failure> {
    // Before anything is written: without cargo there is nothing to do.
    codegen::cargo::find_cargo()?;
    let ready = configure::configure(p, None, rep)?;
    let locking = lockfile::before_build(&ready, flags.locked, rep).map_err(|e| ready.fail(&e))?;
    let c = &ready.configured;
    rep.status(
        "Building",
        &format!(
            "{} for {} (cargo build --release in {})",
            c.name,
            c.target,
            show(&c.out_dir)
        ),
    );
    let opts = codegen::cargo::Options {
        offline: flags.offline,
        locked: locking.cargo_locked,
        target_dir: flags.target_dir.clone(),
        color: flags.color,
    };
    let started = std::time::Instant::now();
    let built = codegen::cargo::build(c, &ready.resolved, &opts).map_err(|e| ready.fail(&e))?;
    rep.status(
        "Image",
        &format!(
            "{} ({}, built in {:.1?})",
            show(&built.image),
            size(built.size),
            started.elapsed()
        ),
    );
    let image = built.image.clone();
    lockfile::after_build(&ready, &locking, rep).map_err(|e| ready.fail(&e))?;
    write_record(&ready, &locking, flags, &image).map_err(|e| ready.fail(&e))?;
    Ok(Built { ready, image })
}

/// Writes the build record of an image just built.
fn write_record(
    ready: &Ready,
    locking: &Locking,
    flags: &BuildFlags,
    image: &Path,
) -> Result<(), Error> {
    let c = &ready.configured;
    let lock_path = lockfile::path_for(&ready.config);
    let rel = |p: &Path| {
        let r = unik_codegen::paths::relative(&c.project_dir, p);
        unik_codegen::paths::slash(&r).unwrap_or_else(|| r.display().to_string())
    };
    let lock = if lock_path.is_file() {
        Some(record::FileHash {
            file: rel(&lock_path),
            sha256: record::file_digest(&lock_path)?,
        })
    } else {
        None
    };
    let size = std::fs::metadata(image)
        .map_err(|e| Error::plain(format!("cannot read {}: {e}", image.display())))?
        .len();
    let rec = BuildRecord {
        format: record::FORMAT,
        unikc: unik_codegen::VERSION.to_string(),
        name: c.name.clone(),
        target: c.target.name().to_string(),
        image: record::Image {
            file: rel(image),
            sha256: record::file_digest(image)?,
            size,
        },
        lock,
        inputs: locking.inputs.clone(),
        project: record::project_digest(&c.project_dir)?,
        toolchain: locking.toolchain.clone(),
        environment: record::environment(),
        locked: flags.locked,
        offline: flags.offline,
    };
    record::write(&record::path(c), &rec)
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}
