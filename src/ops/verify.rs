//! `build --verify`: builds a copy of the project in a fresh temporary
//! directory (fresh cargo target directory, the same `unik.lock`, no
//! network) and compares the images section by section.

use super::build::{self, BuildFlags, Built};
use super::configure::{Project, show};
use super::failure::{Exit, Failure};
use super::report::Reporter;
use std::path::{Path, PathBuf};
use unik_codegen::Error;
use unik_codegen::record;

/// Rebuilds `built`'s project (asked for as `p`) in a fresh directory;
/// the failure says how the images differ.
pub fn verify(p: &Project, built: &Built, rep: &mut dyn Reporter) -> Result<(), Failure> {
    let ready = &built.ready;
    let c = &ready.configured;
    let fail = |e: Error| ready.fail(&e);
    outside_inputs(built).map_err(fail)?;
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
    copy_dir(&c.project_dir, &copy, true).map_err(fail)?;
    let config_name = ready.config.file_name().unwrap_or_default();
    rep.status(
        "Verifying",
        &format!(
            "{} for {}: a fresh build in {}",
            c.name,
            c.target,
            copy.display()
        ),
    );
    let started = std::time::Instant::now();
    let again = Project {
        file: Some(copy.join(config_name)),
        ..p.clone()
    };
    let flags = BuildFlags {
        locked: true,
        offline: true,
        target_dir: Some(tmp.path().join("target")),
        color: false,
    };
    let second = build::build(&again, &flags, rep)?.image;
    let image = &built.image;
    let a = record::file_digest(image).map_err(fail)?;
    match record::difference(image, &second).map_err(fail)? {
        None => {
            rep.status(
                "Verified",
                &format!(
                    "{}: the fresh build is identical (sha256 {a}, {:.1?})",
                    show(image),
                    started.elapsed()
                ),
            );
            Ok(())
        }
        Some(what) => {
            let b = record::file_digest(&second).map_err(fail)?;
            // Keep the other image for inspection.
            let kept = tmp.keep();
            Err(Failure::coded(
                Exit::Errors,
                unik_lang::Diagnostic::error(
                    "",
                    format!("{} is not reproducible: {what}", show(image)),
                )
                .note(format!(
                    "sha256 {a} here, {b} in the fresh build ({})",
                    second.display()
                ))
                .note(format!("the fresh build is kept in {}", kept.display())),
            ))
        }
    }
}

/// A copy only reproduces the build when every input is in the project.
fn outside_inputs(built: &Built) -> Result<(), Error> {
    let ready = &built.ready;
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
