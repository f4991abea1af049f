//! `crunch`: a directory embedded in the image. The file list is taken when
//! configuring (sorted, so the output is deterministic) and each file is
//! compiled in with `include_bytes!`, so cargo rebuilds when a file's
//! contents change; `unikc build` configures first, so added and removed
//! files are picked up too.

use crate::error::Error;
use crate::paths;
use std::path::Path;

/// One embedded file: its key (`css/site.css`) and its absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub key: String,
    pub path: std::path::PathBuf,
}

/// Every regular file under `dir` (links followed), sorted by key.
/// The error is a sentence saying what is wrong.
pub fn list(dir: &Path) -> Result<Vec<File>, String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .map_err(|_| format!("{} is outside {}", entry.path().display(), dir.display()))?;
        let key = paths::slash(rel)
            .ok_or_else(|| format!("{}: the file name is not UTF-8", entry.path().display()))?;
        if key.split('/').any(|s| s.contains('\0') || s.contains('\\')) {
            return Err(format!("{key:?}: the file name cannot be a key"));
        }
        // Read now, so an unreadable file is a configure error rather than
        // a compile error in generated code.
        std::fs::File::open(entry.path())
            .map_err(|e| format!("cannot read {}: {e}", entry.path().display()))?;
        out.push(File {
            key,
            path: paths::absolute(entry.path()),
        });
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// Shorthand used by the generator: the listing, or an E0705 error.
pub fn list_for(dir: &Path, at: unik_lang::Loc, who: &str) -> Result<Vec<File>, Error> {
    list(dir).map_err(|why| {
        Error::new("E0705", format!("the directory `{who}` embeds cannot be read"))
            .at(at, "embedded here")
            .note(why)
            .help("create the directory (it is relative to the configuration), or point the device at another one")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_sorted_keys() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("b/c")).unwrap();
        std::fs::write(d.path().join("b/c/x"), "1").unwrap();
        std::fs::write(d.path().join("a"), "2").unwrap();
        std::fs::write(d.path().join("b/z"), "3").unwrap();
        let keys: Vec<String> = list(d.path()).unwrap().into_iter().map(|f| f.key).collect();
        assert_eq!(keys, ["a", "b/c/x", "b/z"]);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let e = list(&d.path().join("nope")).unwrap_err();
        assert!(e.contains("cannot read"), "{e}");
    }
}
