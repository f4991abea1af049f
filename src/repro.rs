//! Reproducible builds: the build record `dist/NAME.TARGET.build.json`
//! written after every build, and `unikc build --verify`, which builds a
//! copy of the project in a fresh temporary directory (fresh cargo target
//! directory, the same `unik.lock`, no network) and compares the images.

use crate::EXIT_ERRORS;
use crate::lock::Locking;
use crate::project::{self, BuildFlags, Project, Ready};
use std::path::{Path, PathBuf};
use unik_codegen::Error;
use unik_codegen::record::{self, BuildRecord};

/// Writes the build record of an image just built.
pub fn record(
    ready: &Ready,
    locking: &Locking,
    flags: &BuildFlags,
    lock_path: &Path,
    image: &Path,
) -> Result<(), Error> {
    let c = &ready.configured;
    let rel = |p: &Path| {
        let r = unik_codegen::paths::relative(&c.project_dir, p);
        unik_codegen::paths::slash(&r).unwrap_or_else(|| r.display().to_string())
    };
    let lock = if lock_path.is_file() {
        Some(record::FileHash {
            file: rel(lock_path),
            sha256: record::file_digest(lock_path)?,
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
        target: c.target.clone(),
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

/// Rebuilds the project in a fresh temporary directory and compares the
/// image with `image`; exit status 1 when they differ.
pub fn verify(p: &Project, ready: &Ready, image: &Path) -> Result<(), u8> {
    let c = &ready.configured;
    let fail = |e: Error| project::report(&e, &unik_lang::diag::SourceMap::new());
    outside_inputs(ready).map_err(fail)?;
    let tmp = tempfile::Builder::new()
        .prefix("unikc-verify-")
        .tempdir()
        .map_err(|e| {
            fail(Error::plain(format!(
                "cannot create a temporary directory: {e}"
            )))
        })?;
    let dir_name = c
        .project_dir
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "project".into());
    let copy = tmp.path().join(dir_name);
    copy_project(&c.project_dir, &copy).map_err(fail)?;
    let config_name = ready.config.file_name().unwrap_or_default();
    eprintln!(
        "   Verifying {} for {}: a fresh build in {}",
        c.name,
        c.target,
        copy.display()
    );
    let started = std::time::Instant::now();
    let again = Project {
        file: Some(copy.join(config_name)),
        target: p.target.clone(),
        keys: p.keys.clone(),
        force: false,
    };
    let flags = BuildFlags {
        locked: true,
        offline: true,
        verify: false,
        target_dir: Some(tmp.path().join("target")),
    };
    let (_, second) = project::build_image(&again, &flags)?;
    let a = record::file_digest(image).map_err(fail)?;
    match record::difference(image, &second).map_err(fail)? {
        None => {
            eprintln!(
                "    Verified {}: the fresh build is identical (sha256 {a}, {:.1?})",
                project::show(image),
                started.elapsed()
            );
            Ok(())
        }
        Some(what) => {
            let b = record::file_digest(&second).map_err(fail)?;
            eprintln!(
                "error: {} is not reproducible: {what}\n  = note: sha256 {a} here, {b} in the fresh build ({})",
                project::show(image),
                second.display()
            );
            // Keep the other image for inspection.
            let kept = tmp.keep();
            eprintln!("  = note: the fresh build is kept in {}", kept.display());
            Err(EXIT_ERRORS)
        }
    }
}

/// A copy only reproduces the build when every input is in the project.
fn outside_inputs(ready: &Ready) -> Result<(), Error> {
    let dir = &ready.configured.project_dir;
    let mut outside: Vec<String> = ready
        .files
        .iter()
        .map(|(p, _)| p.clone())
        .chain(ready.resolved.crates.iter().filter_map(|c| match &c.pin {
            Some(unik_resolver::PinReq::Path { path }) => Some(PathBuf::from(path)),
            _ => None,
        }))
        .filter(|p| !unik_codegen::paths::normalize(p).starts_with(dir))
        .map(|p| p.display().to_string())
        .collect();
    outside.dedup();
    if outside.is_empty() {
        return Ok(());
    }
    Err(Error::plain(format!(
        "--verify rebuilds a copy of {}, but some inputs are outside it: {}",
        dir.display(),
        outside.join(", ")
    ))
    .help("move them into the project directory"))
}

/// Copies a project without its build outputs (links are copied as links).
fn copy_project(from: &Path, to: &Path) -> Result<(), Error> {
    copy_dir(from, to, true)
}

fn copy_dir(from: &Path, to: &Path, top: bool) -> Result<(), Error> {
    let io =
        |p: &Path, e: std::io::Error| Error::plain(format!("cannot copy {}: {e}", p.display()));
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let name = entry.file_name();
        if top && record::OUTPUT_DIRS.contains(&&*name.to_string_lossy()) {
            continue;
        }
        let (src, dest) = (entry.path(), to.join(&name));
        let ty = entry.file_type().map_err(|e| io(&src, e))?;
        if ty.is_dir() {
            copy_dir(&src, &dest, false)?;
        } else if ty.is_symlink() {
            #[cfg(unix)]
            {
                let target = std::fs::read_link(&src).map_err(|e| io(&src, e))?;
                std::os::unix::fs::symlink(target, &dest).map_err(|e| io(&src, e))?;
            }
        } else {
            std::fs::copy(&src, &dest).map_err(|e| io(&src, e))?;
        }
    }
    Ok(())
}
