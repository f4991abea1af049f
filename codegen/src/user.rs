//! The user's crate: the Cargo package in the configuration's directory,
//! which defines the `foreign` items the configuration names.

use crate::error::Error;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCrate {
    /// The package directory (absolute).
    pub dir: PathBuf,
    /// The package name (`hello-key`).
    pub package: String,
    /// The library's crate name as Rust code writes it (`hello_key`).
    pub lib: String,
    /// Package names of its dependencies (after `package = …` renames).
    pub dependencies: BTreeSet<String>,
}

/// What the configuration's directory holds.
#[derive(Debug)]
pub enum Found {
    Crate(UserCrate),
    /// No `Cargo.toml`.
    Missing,
    /// A `Cargo.toml` that cannot be the user's crate, and why.
    Unusable(String),
}

/// Reads the package in `dir`.
pub fn find(dir: &Path) -> Result<Found, Error> {
    let manifest = dir.join("Cargo.toml");
    let text = match std::fs::read_to_string(&manifest) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) => {
            return Err(Error::plain(format!(
                "cannot read {}: {e}",
                manifest.display()
            )));
        }
    };
    let doc: toml::Table = match text.parse() {
        Ok(d) => d,
        Err(e) => {
            return Ok(Found::Unusable(format!(
                "{} is not valid TOML: {}",
                manifest.display(),
                e.message()
            )));
        }
    };
    let Some(package) = doc.get("package").and_then(|p| p.as_table()) else {
        return Ok(Found::Unusable(format!(
            "{} has no [package] (a workspace is not a crate)",
            manifest.display()
        )));
    };
    let Some(name) = package.get("name").and_then(|n| n.as_str()) else {
        return Ok(Found::Unusable(format!(
            "{} has no package name",
            manifest.display()
        )));
    };
    let lib_table = doc.get("lib").and_then(|l| l.as_table());
    let lib_path = lib_table
        .and_then(|l| l.get("path"))
        .and_then(|p| p.as_str())
        .unwrap_or("src/lib.rs");
    if !dir.join(lib_path).is_file() {
        return Ok(Found::Unusable(format!(
            "the package `{name}` in {} has no library ({lib_path} is missing)",
            dir.display()
        )));
    }
    let lib = lib_table
        .and_then(|l| l.get("name"))
        .and_then(|n| n.as_str())
        .unwrap_or(name)
        .replace('-', "_");
    let mut dependencies = BTreeSet::new();
    for table in ["dependencies", "build-dependencies"] {
        if let Some(deps) = doc.get(table).and_then(|d| d.as_table()) {
            for (key, spec) in deps {
                let pkg = spec
                    .as_table()
                    .and_then(|t| t.get("package"))
                    .and_then(|p| p.as_str())
                    .unwrap_or(key);
                dependencies.insert(pkg.to_string());
            }
        }
    }
    Ok(Found::Crate(UserCrate {
        dir: dir.to_path_buf(),
        package: name.to_string(),
        lib,
        dependencies,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, manifest: &str, lib: bool) {
        std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
        if lib {
            std::fs::create_dir_all(dir.join("src")).unwrap();
            std::fs::write(dir.join("src/lib.rs"), "").unwrap();
        }
    }

    #[test]
    fn reads_name_lib_and_dependencies() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "[package]\nname = \"hello-key\"\nversion = \"0.1.0\"\n[dependencies]\nunik-rt = \"0.1\"\nrt2 = { package = \"unik-unix\", version = \"0.1\" }\n",
            true,
        );
        let Found::Crate(c) = find(d.path()).unwrap() else {
            panic!("a crate")
        };
        assert_eq!(c.package, "hello-key");
        assert_eq!(c.lib, "hello_key");
        assert!(c.dependencies.contains("unik-rt") && c.dependencies.contains("unik-unix"));
    }

    #[test]
    fn missing_and_unusable() {
        let d = tempfile::tempdir().unwrap();
        assert!(matches!(find(d.path()).unwrap(), Found::Missing));
        write(d.path(), "[workspace]\n", false);
        assert!(matches!(find(d.path()).unwrap(), Found::Unusable(_)));
        write(d.path(), "[package]\nname = \"x\"\n", false);
        assert!(matches!(find(d.path()).unwrap(), Found::Unusable(m) if m.contains("no library")));
        write(d.path(), "[package\n", false);
        assert!(matches!(find(d.path()).unwrap(), Found::Unusable(m) if m.contains("TOML")));
    }
}
