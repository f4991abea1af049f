//! Where cargo builds a workspace: a copy of the generated files in
//! `CACHE/build/BIN-TARGET-DIGEST/`, named by their contents, with the
//! same `deps/` links. Compiler caches (sccache) hash the directory rustc
//! runs in and `CARGO_MANIFEST_DIR`, both absolute, for the workspace's
//! own crates (the runtime, the user's crate): built from `_build/` they
//! would miss the cache from any other checkout of the same project. From
//! the copy, the same project gives the same paths wherever it is.
//!
//! Only a relocatable workspace (`Plan::relocatable`: everything local
//! reached through `deps/`) whose project has no cargo configuration of
//! its own is copied; the copy's links are reset by each
//! build, which holds a lock on the directory while cargo runs.

use crate::error::Error;
use crate::plan::Plan;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// The copy of a configured workspace.
#[derive(Debug, Clone)]
pub struct Stage {
    /// `CACHE/build/BIN-TARGET-DIGEST`.
    pub dir: PathBuf,
    files: BTreeMap<String, String>,
    links: BTreeMap<String, PathBuf>,
}

/// A stage ready for cargo, locked until dropped.
pub struct Entered {
    pub dir: PathBuf,
    _lock: File,
}

/// Whether cargo, run in `out_dir`, would read a configuration file of
/// the project's (`.cargo/config.toml` in a directory above it, other than
/// `$CARGO_HOME`'s): from the copy it would not, so such a workspace is
/// built in place.
pub(crate) fn project_cargo_config(out_dir: &Path, cargo_home: Option<&Path>) -> bool {
    out_dir.ancestors().skip(1).any(|d| {
        let dir = d.join(".cargo");
        Some(dir.as_path()) != cargo_home
            && (dir.join("config.toml").is_file() || dir.join("config").is_file())
    })
}

impl Stage {
    pub(crate) fn new(plan: &Plan, files: &BTreeMap<String, String>) -> Stage {
        // What `dist/` gets (a libvirt domain naming the image's absolute
        // path) is not built: it stays out, so the name does not depend on
        // where the project is.
        let dist: Vec<String> = plan
            .backend
            .dist_files(&plan.bin)
            .into_iter()
            .map(|(from, _)| from)
            .collect();
        let files: BTreeMap<String, String> = files
            .iter()
            .filter(|(p, _)| !dist.contains(p))
            .map(|(p, c)| (p.clone(), c.clone()))
            .collect();
        let digest = crate::digest::of_files(files.iter().map(|(p, c)| (p.as_str(), c.as_bytes())));
        Stage {
            dir: plan.build_root.join(format!(
                "{}-{}-{}",
                plan.bin,
                plan.target.name(),
                &digest[..16]
            )),
            files,
            links: plan.links.clone(),
        }
    }

    /// Locks the copy, writes what changed (files, links to this
    /// project's crates) and brings `Cargo.lock` from `out_dir`.
    /// Files a build wrote there before (a linker map) are removed.
    pub fn enter(&self, out_dir: &Path) -> Result<Entered, Error> {
        let io = |p: &Path, e: std::io::Error| Error::plain(format!("{}: {e}", p.display()));
        let parent = self.dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        let lock_path = self.dir.with_extension("lock");
        let lock = File::create(&lock_path).map_err(|e| io(&lock_path, e))?;
        // Another project with the same files may be building here.
        lock.lock().map_err(|e| io(&lock_path, e))?;
        crate::output::write(&self.dir, &self.files, true)?;
        crate::links::write(&self.dir, &self.links, true)?;
        for entry in std::fs::read_dir(&self.dir).map_err(|e| io(&self.dir, e))? {
            let entry = entry.map_err(|e| io(&self.dir, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().is_ok_and(|t| t.is_file())
                && name != crate::output::MANIFEST
                && name != "Cargo.lock"
                && !self.files.contains_key(&name)
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        sync(&out_dir.join("Cargo.lock"), &self.dir.join("Cargo.lock"))?;
        Ok(Entered {
            dir: self.dir.clone(),
            _lock: lock,
        })
    }
}

impl Entered {
    /// Brings back what the build wrote beside the generated files:
    /// `Cargo.lock`, the linker's map.
    pub fn leave(&self, stage: &Stage, out_dir: &Path) -> Result<(), Error> {
        let io = |e: std::io::Error| Error::plain(format!("{}: {e}", self.dir.display()));
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().map_err(io)?.is_file()
                && name != crate::output::MANIFEST
                && !stage.files.contains_key(&name)
            {
                sync(&entry.path(), &out_dir.join(&name))?;
            }
        }
        Ok(())
    }
}

/// Makes `to` a copy of `from` (or absent, if `from` is), writing only
/// if the bytes differ so cargo's fingerprints stay valid.
fn sync(from: &Path, to: &Path) -> Result<(), Error> {
    let io = |p: &Path, e: std::io::Error| Error::plain(format!("{}: {e}", p.display()));
    match std::fs::read(from) {
        Ok(data) => {
            if std::fs::read(to).is_ok_and(|d| d == data) {
                return Ok(());
            }
            let dir = to.parent().unwrap_or(Path::new("."));
            let mut tmp = tempfile::Builder::new()
                .prefix(".unikc-")
                .tempfile_in(dir)
                .map_err(|e| io(dir, e))?;
            std::io::Write::write_all(&mut tmp, &data).map_err(|e| io(to, e))?;
            // The source's mode, not the temporary file's 0600.
            let mode = std::fs::metadata(from).map_err(|e| io(from, e))?;
            std::fs::set_permissions(tmp.path(), mode.permissions()).map_err(|e| io(to, e))?;
            tmp.persist(to).map_err(|e| io(to, e.error))?;
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match std::fs::remove_file(to) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(to, e)),
            _ => Ok(()),
        },
        Err(e) => Err(io(from, e)),
    }
}
