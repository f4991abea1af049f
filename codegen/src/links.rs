//! `deps/` in the generated workspace: symbolic links to the runtime
//! bundle, the user's crate and crates pinned to a path.
//!
//! Cargo hashes a path package's location into its `-C metadata` (and so
//! into every symbol name) unless the package lies under the workspace
//! root, and passes rustc absolute source paths for it. Reached through
//! these links, every local crate is under the root: the image no longer
//! depends on where the project, the runtime cache or `$CARGO_HOME` are.
//! `deps` is excluded from the workspace, so the linked crates are not
//! members (their dev-dependencies stay out of `Cargo.lock`).

use crate::error::Error;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The directory of the links, relative to the workspace.
pub const DIR: &str = "deps";

/// Whether this platform has the links; elsewhere crates are used in place.
pub const SUPPORTED: bool = cfg!(unix);

/// True if the crate in `dir` can be used through a link: its manifest
/// names no path outside `dir` (`path = "../x"` would resolve next to the
/// link, not next to the crate) and inherits nothing from a workspace.
pub fn linkable(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
        return false;
    };
    let Ok(doc) = text.parse::<toml::Table>() else {
        return false;
    };
    SUPPORTED && self_contained(&toml::Value::Table(doc))
}

fn self_contained(v: &toml::Value) -> bool {
    match v {
        toml::Value::Table(t) => t.iter().all(|(k, v)| match (k.as_str(), v) {
            ("workspace", toml::Value::Boolean(true)) => false,
            ("workspace", toml::Value::String(_)) => false,
            ("path" | "build", toml::Value::String(p)) => stays_inside(p),
            _ => self_contained(v),
        }),
        toml::Value::Array(a) => a.iter().all(self_contained),
        _ => true,
    }
}

/// A relative path that never climbs above its start.
fn stays_inside(p: &str) -> bool {
    let path = Path::new(p);
    !path.is_absolute() && !crate::paths::normalize(path).starts_with("..")
}

/// Makes `out_dir/deps/NAME` a link to each target (absolute paths),
/// leaving correct links alone and removing links no longer wanted.
/// Something other than a link in the way is E0704 unless `force`.
pub fn write(out_dir: &Path, links: &BTreeMap<String, PathBuf>, force: bool) -> Result<(), Error> {
    let root = out_dir.join(DIR);
    let io =
        |p: &Path, e: std::io::Error| Error::plain(format!("cannot write {}: {e}", p.display()));
    for (name, target) in links {
        let link = root.join(name);
        if let Some(dir) = link.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        }
        match std::fs::symlink_metadata(&link) {
            Ok(m) if m.file_type().is_symlink() => {
                if std::fs::read_link(&link).is_ok_and(|t| &t == target) {
                    continue;
                }
            }
            Ok(m) if force => {
                let r = if m.is_dir() {
                    std::fs::remove_dir_all(&link)
                } else {
                    std::fs::remove_file(&link)
                };
                r.map_err(|e| io(&link, e))?;
            }
            Ok(_) => {
                return Err(Error::new(
                    "E0704",
                    format!("{} is not a link unikc made", link.display()),
                )
                .note(format!(
                    "`{DIR}/` of a generated workspace holds links to the crates it builds"
                ))
                .help("delete it, or rerun with --force"));
            }
            Err(_) => {}
        }
        replace(target, &link).map_err(|e| io(&link, e))?;
    }
    remove_stale(&root, &root, links).map_err(|e| io(&root, e))
}

/// Creates the link under a temporary name, then renames it into place.
#[cfg(unix)]
fn replace(target: &Path, link: &Path) -> std::io::Result<()> {
    let name = link
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = link.with_file_name(format!(".unikc-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)?;
    std::fs::rename(&tmp, link)
}

#[cfg(not(unix))]
fn replace(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "symbolic links are not supported here",
    ))
}

fn remove_stale(root: &Path, dir: &Path, keep: &BTreeMap<String, PathBuf>) -> std::io::Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let ty = entry.file_type()?;
        let rel = path
            .strip_prefix(root)
            .ok()
            .and_then(crate::paths::slash)
            .unwrap_or_default();
        if ty.is_symlink() {
            if !keep.contains_key(&rel) {
                std::fs::remove_file(&path)?;
            }
        } else if ty.is_dir() {
            remove_stale(root, &path, keep)?;
            if !keep.keys().any(|k| k.starts_with(&format!("{rel}/"))) {
                let _ = std::fs::remove_dir(&path);
            }
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn links_are_made_kept_replaced_and_removed() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        let out = d.path().join("out");
        let mut links = BTreeMap::from([
            ("runtime".to_string(), a.clone()),
            ("pin/x".to_string(), b.clone()),
        ]);
        write(&out, &links, false).unwrap();
        assert_eq!(std::fs::read_link(out.join("deps/pin/x")).unwrap(), b);
        links.insert("runtime".into(), b.clone());
        links.remove("pin/x");
        write(&out, &links, false).unwrap();
        assert_eq!(std::fs::read_link(out.join("deps/runtime")).unwrap(), b);
        assert!(!out.join("deps/pin").exists());
        std::fs::remove_file(out.join("deps/runtime")).unwrap();
        std::fs::create_dir(out.join("deps/runtime")).unwrap();
        assert_eq!(write(&out, &links, false).unwrap_err().code, Some("E0704"));
        write(&out, &links, true).unwrap();
        assert_eq!(std::fs::read_link(out.join("deps/runtime")).unwrap(), b);
    }

    #[test]
    fn crates_reaching_outside_are_not_linked() {
        let d = tempfile::tempdir().unwrap();
        let m = |text: &str| {
            std::fs::write(d.path().join("Cargo.toml"), text).unwrap();
            linkable(d.path())
        };
        assert!(m(
            "[package]\nname = \"a\"\n[dependencies]\nb = { path = \"vendor/b\" }\n"
        ));
        assert!(!m(
            "[package]\nname = \"a\"\n[dependencies]\nb = { path = \"../b\" }\n"
        ));
        assert!(!m("[package]\nname = \"a\"\nedition.workspace = true\n"));
        assert!(!m(
            "[package]\nname = \"a\"\n[target.'cfg(unix)'.dependencies]\nb = { path = \"/b\" }\n"
        ));
        assert!(!m("[package\n"));
    }
}
