//! The runtime crates, bundled into the `unikc` binary by the build script
//! and materialised on demand into a content-addressed directory
//! (`CACHE/runtime/DIGEST/`), which generated workspaces depend on by path.
//! A directory is never changed once complete: it is written under a
//! temporary name and renamed into place, so concurrent `unikc` runs and
//! running builds are safe.

use crate::digest;
use crate::error::Error;
use std::path::{Path, PathBuf};

/// One bundled runtime crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledCrate {
    /// The package name, e.g. `unik-rt`.
    pub name: &'static str,
    /// Its directory inside the bundle, e.g. `rt`.
    pub dir: &'static str,
    /// Its version, as `cargo metadata` read it when unikc was built.
    pub version: &'static str,
}

mod generated {
    use super::BundledCrate;
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

pub use generated::{CRATES, DIGEST, FILES};

/// The bundled crate of a package name.
pub fn lookup(name: &str) -> Option<&'static BundledCrate> {
    CRATES.iter().find(|c| c.name == name)
}

/// The directory holding the runtime cache: `$UNIKC_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/unikc`, else `$HOME/.cache/unikc`.
pub fn default_cache_dir() -> Result<PathBuf, Error> {
    let var = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(d) = var("UNIKC_CACHE_DIR") {
        return Ok(d);
    }
    if let Some(d) = var("XDG_CACHE_HOME") {
        return Ok(d.join("unikc"));
    }
    if let Some(h) = var("HOME") {
        return Ok(h.join(".cache").join("unikc"));
    }
    Err(Error::plain(
        "no cache directory for the bundled runtime: set UNIKC_CACHE_DIR, XDG_CACHE_HOME or HOME",
    ))
}

/// Materialises the bundle under `cache_dir` (if it is not there intact
/// already) and returns its directory, `cache_dir/runtime/DIGEST`.
pub fn materialise(cache_dir: &Path) -> Result<PathBuf, Error> {
    let parent = cache_dir.join("runtime");
    let root = parent.join(DIGEST);
    if intact(&root) {
        return Ok(root);
    }
    let io = |what: &str, p: &Path, e: std::io::Error| {
        Error::plain(format!("{what} {}: {e}", p.display()))
    };
    std::fs::create_dir_all(&parent).map_err(|e| io("cannot create", &parent, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempdir_in(&parent)
        .map_err(|e| io("cannot create a directory in", &parent, e))?;
    for (rel, data) in FILES {
        let p = tmp.path().join(rel);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("cannot create", dir, e))?;
        }
        std::fs::write(&p, data).map_err(|e| io("cannot write", &p, e))?;
    }
    if root.exists() {
        // Damaged (edited by hand or cut short by a crash outside this
        // protocol): set it aside, then replace it.
        let old = parent.join(format!(".old-{DIGEST}-{}", std::process::id()));
        std::fs::rename(&root, &old).map_err(|e| io("cannot move aside", &root, e))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    let tmp_path = tmp.keep();
    match std::fs::rename(&tmp_path, &root) {
        Ok(()) => Ok(root),
        // Another unikc finished first; its copy is as good as ours.
        Err(_) if intact(&root) => {
            let _ = std::fs::remove_dir_all(&tmp_path);
            Ok(root)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp_path);
            Err(io("cannot move the runtime into", &root, e))
        }
    }
}

/// True if every bundled file is present under `root` with its contents.
fn intact(root: &Path) -> bool {
    let mut contents = Vec::with_capacity(FILES.len());
    for (rel, _) in FILES {
        match std::fs::read(root.join(rel)) {
            Ok(d) => contents.push(d),
            Err(_) => return false,
        }
    }
    let on_disk = digest::of_files(
        FILES
            .iter()
            .zip(&contents)
            .map(|((rel, _), d)| (*rel, d.as_slice())),
    );
    on_disk == DIGEST
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_holds_the_runtime_crates() {
        let rt = lookup("unik-rt").expect("unik-rt is bundled");
        assert_eq!(rt.dir, "rt");
        assert!(semver::Version::parse(rt.version).is_ok());
        assert!(FILES.iter().any(|(p, _)| *p == "rt/Cargo.toml"));
        assert!(FILES.iter().any(|(p, _)| *p == "unix/src/lib.rs"));
        assert!(!FILES.iter().any(|(p, _)| p.contains("/tests/")));
        let digest = digest::of_files(FILES.iter().map(|(p, d)| (*p, *d)));
        assert_eq!(digest, DIGEST);
    }

    #[test]
    fn materialise_is_idempotent_and_repairs() {
        let cache = tempfile::tempdir().unwrap();
        let root = materialise(cache.path()).unwrap();
        assert!(root.ends_with(DIGEST));
        assert!(root.join("rt/Cargo.toml").is_file());
        let again = materialise(cache.path()).unwrap();
        assert_eq!(root, again);
        std::fs::write(root.join("rt/src/lib.rs"), "edited").unwrap();
        assert!(!intact(&root));
        materialise(cache.path()).unwrap();
        assert!(intact(&root));
    }
}
