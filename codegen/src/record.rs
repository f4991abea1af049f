//! Build records and image comparison: every build writes
//! `dist/NAME.TARGET.build.json` (what went in, what came out), and
//! `unikc build --verify` compares two images section by section.

use crate::error::Error;
use crate::lock::{Inputs, Toolchain};
use crate::{Configured, digest};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Version of the build record's JSON.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BuildRecord {
    pub format: u32,
    pub unikc: String,
    pub name: String,
    pub target: String,
    pub image: Image,
    /// The lock the build used.
    pub lock: Option<FileHash>,
    /// The target's inputs, as in the lock.
    pub inputs: Inputs,
    /// SHA-256 over every file of the project directory except build
    /// outputs (`_build`, `dist`, `target`, `.git`): the user's crate,
    /// embedded data, configuration.
    pub project: String,
    pub toolchain: Toolchain,
    /// The variables set that change what cargo and rustc produce.
    pub environment: BTreeMap<String, String>,
    /// `cargo build` flags.
    pub locked: bool,
    pub offline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    /// Relative to the project.
    pub file: String,
    pub sha256: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileHash {
    pub file: String,
    pub sha256: String,
}

/// Variables recorded when set; also every `CARGO_PROFILE_*` and
/// `CARGO_TARGET_*` (but `CARGO_TARGET_DIR`, which paths remapping makes
/// irrelevant).
const ENVIRONMENT: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_BUILD_TARGET",
    "CARGO_INCREMENTAL",
    "RUSTC",
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTUP_TOOLCHAIN",
    "CC",
    "CFLAGS",
    "LDFLAGS",
    "SOURCE_DATE_EPOCH",
];

/// The environment that matters, sorted.
pub fn environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| {
            ENVIRONMENT.contains(&k.as_str())
                || ((k.starts_with("CARGO_PROFILE_") || k.starts_with("CARGO_TARGET_"))
                    && k != "CARGO_TARGET_DIR")
        })
        .collect()
}

/// `dist/NAME.TARGET.build.json` of a configured workspace.
pub fn path(cfg: &Configured) -> PathBuf {
    cfg.project_dir
        .join("dist")
        .join(format!("{}.{}.build.json", cfg.bin, cfg.target))
}

/// Writes the record as sorted, indented JSON with a final newline.
pub fn write(path: &Path, record: &BuildRecord) -> Result<(), Error> {
    let v = serde_json::to_value(record).expect("the record is plain data");
    let mut text = serde_json::to_string_pretty(&v).expect("JSON values serialise");
    text.push('\n');
    crate::output::atomic_write(path, text.as_bytes())
}

/// SHA-256 of a file, as lowercase hex.
pub fn file_digest(path: &Path) -> Result<String, Error> {
    let data = std::fs::read(path)
        .map_err(|e| Error::plain(format!("cannot read {}: {e}", path.display())))?;
    Ok(digest::of_bytes(&data))
}

/// Top-level directories of a project that hold build outputs.
pub const OUTPUT_DIRS: &[&str] = &["_build", "dist", "target", ".git"];

/// The digest of a project's files (see [`BuildRecord::project`]).
pub fn project_digest(dir: &Path) -> Result<String, Error> {
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let walk = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            !(e.depth() == 1 && OUTPUT_DIRS.contains(&&*e.file_name().to_string_lossy()))
        });
    for entry in walk {
        let entry =
            entry.map_err(|e| Error::plain(format!("cannot read {}: {e}", dir.display())))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .ok()
            .and_then(crate::paths::slash)
            .unwrap_or_default();
        let data = std::fs::read(entry.path())
            .map_err(|e| Error::plain(format!("cannot read {}: {e}", entry.path().display())))?;
        files.push((rel, data));
    }
    Ok(digest::of_files(
        files.iter().map(|(p, d)| (p.as_str(), d.as_slice())),
    ))
}

/// Where two images differ, in words; `None` when they are identical.
/// ELF (and other object formats) are compared section by section and the
/// first differing section is named.
pub fn difference(a: &Path, b: &Path) -> Result<Option<String>, Error> {
    let read = |p: &Path| {
        std::fs::read(p).map_err(|e| Error::plain(format!("cannot read {}: {e}", p.display())))
    };
    let (da, db) = (read(a)?, read(b)?);
    if da == db {
        return Ok(None);
    }
    Ok(Some(describe(&da, &db)))
}

fn first_byte(a: &[u8], b: &[u8]) -> usize {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()))
}

fn describe(a: &[u8], b: &[u8]) -> String {
    use object::{Object, ObjectSection};
    let (Ok(fa), Ok(fb)) = (object::File::parse(a), object::File::parse(b)) else {
        return format!(
            "the files differ from byte {:#x} ({} and {} bytes)",
            first_byte(a, b),
            a.len(),
            b.len()
        );
    };
    let (sa, sb): (Vec<_>, Vec<_>) = (fa.sections().collect(), fb.sections().collect());
    for (x, y) in sa.iter().zip(&sb) {
        let (nx, ny) = (x.name().unwrap_or("?"), y.name().unwrap_or("?"));
        if nx != ny {
            return format!(
                "the section lists differ: `{nx}` in one image where the other has `{ny}`"
            );
        }
        let (dx, dy) = (x.data().unwrap_or(&[]), y.data().unwrap_or(&[]));
        if x.size() != y.size() || dx.len() != dy.len() {
            return format!(
                "section `{nx}` differs: {} bytes in one image, {} in the other",
                x.size(),
                y.size()
            );
        }
        if dx != dy {
            let at = first_byte(dx, dy);
            return format!(
                "section `{nx}` differs, first at byte {at:#x} of {:#x} (address {:#x})",
                dx.len(),
                x.address() + at as u64
            );
        }
        if x.address() != y.address() {
            return format!(
                "section `{nx}` is at {:#x} in one image and {:#x} in the other",
                x.address(),
                y.address()
            );
        }
    }
    if sa.len() != sb.len() {
        return format!(
            "one image has {} sections, the other {}",
            sa.len(),
            sb.len()
        );
    }
    format!(
        "every section is identical; the headers differ, first at byte {:#x}",
        first_byte(a, b)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_differing_section_is_named() {
        let exe = std::env::current_exe().unwrap();
        let data = std::fs::read(&exe).unwrap();
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a"), d.path().join("b"));
        std::fs::write(&a, &data).unwrap();
        std::fs::write(&b, &data).unwrap();
        assert_eq!(difference(&a, &b).unwrap(), None);

        use object::{Object, ObjectSection};
        let file = object::File::parse(&*data).unwrap();
        let text = file.section_by_name(".text").unwrap();
        let (off, _) = text.file_range().unwrap();
        let mut changed = data.clone();
        changed[off as usize + 16] ^= 0xff;
        std::fs::write(&b, &changed).unwrap();
        let what = difference(&a, &b).unwrap().unwrap();
        assert!(
            what.starts_with("section `.text` differs, first at byte 0x10 "),
            "{what}"
        );

        std::fs::write(&b, b"not an image").unwrap();
        let what = difference(&a, &b).unwrap().unwrap();
        assert!(what.starts_with("the files differ from byte 0x0"), "{what}");
    }

    #[test]
    fn project_digest_ignores_build_outputs() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("config.unik"), "x").unwrap();
        let before = project_digest(d.path()).unwrap();
        std::fs::create_dir_all(d.path().join("_build/x")).unwrap();
        std::fs::write(d.path().join("_build/x/f"), "y").unwrap();
        assert_eq!(project_digest(d.path()).unwrap(), before);
        std::fs::write(d.path().join("config.unik"), "z").unwrap();
        assert_ne!(project_digest(d.path()).unwrap(), before);
    }
}
