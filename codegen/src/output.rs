//! Writing the generated workspace: every file atomically (a temporary
//! file renamed into place), unchanged files left alone (cargo's
//! fingerprints stay valid), and a manifest of the SHA-256 of each file
//! so a hand-edited file is detected and never silently overwritten.
//!
//! The manifest may list several hashes for a path: while files are being
//! replaced it holds both the old and the new ones, so a run cut short
//! leaves a directory the next run still recognises as its own.

use crate::digest;
use crate::error::Error;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::Path;

/// The manifest's file name in the output directory.
pub const MANIFEST: &str = ".unikc-manifest";

/// What [`write`] did, by relative path.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub written: Vec<String>,
    pub unchanged: Vec<String>,
    pub removed: Vec<String>,
}

type Hashes = BTreeMap<String, BTreeSet<String>>;

/// Writes `files` (relative `/` paths → contents) into `out_dir`.
pub fn write(
    out_dir: &Path,
    files: &BTreeMap<String, String>,
    force: bool,
) -> Result<Report, Error> {
    let old = read_manifest(out_dir, force)?;
    let new: Hashes = files
        .iter()
        .map(|(p, c)| (p.clone(), BTreeSet::from([digest::of_bytes(c.as_bytes())])))
        .collect();

    // Refuse to overwrite what someone else wrote.
    let mut foreign = Vec::new();
    let paths: BTreeSet<&String> = old
        .iter()
        .flatten()
        .map(|(p, _)| p)
        .chain(new.keys())
        .collect();
    for path in paths {
        let Ok(data) = std::fs::read(out_dir.join(path)) else {
            continue;
        };
        let hash = digest::of_bytes(&data);
        let ours = old
            .as_ref()
            .and_then(|o| o.get(path))
            .is_some_and(|hs| hs.contains(&hash));
        let same = new.get(path).is_some_and(|hs| hs.contains(&hash));
        if !ours && !same {
            foreign.push(path.clone());
        }
    }
    if !foreign.is_empty() && !force {
        let list = foreign.join(", ");
        let why = if old.is_some() {
            "changed since unikc generated them"
        } else {
            "not written by unikc (the directory has no manifest)"
        };
        return Err(Error::new(
            "E0704",
            format!("{}: {list} {why}", out_dir.display()),
        )
        .note("generated files are rewritten by every `unikc configure` and `unikc build`")
        .help("move your changes to your crate or the configuration, delete the files, or rerun with --force to overwrite them"));
    }

    std::fs::create_dir_all(out_dir)
        .map_err(|e| Error::plain(format!("cannot create {}: {e}", out_dir.display())))?;
    // Old and new hashes while files are replaced.
    let mut both = old.clone().unwrap_or_default();
    for (p, hs) in &new {
        both.entry(p.clone())
            .or_default()
            .extend(hs.iter().cloned());
    }
    write_manifest(out_dir, &both)?;

    let mut report = Report::default();
    for (path, contents) in files {
        let target = out_dir.join(path);
        if std::fs::read(&target).is_ok_and(|d| d == contents.as_bytes()) {
            report.unchanged.push(path.clone());
            continue;
        }
        atomic_write(&target, contents.as_bytes())?;
        report.written.push(path.clone());
    }
    for path in old.iter().flat_map(|o| o.keys()) {
        if files.contains_key(path) {
            continue;
        }
        let target = out_dir.join(path);
        match std::fs::remove_file(&target) {
            Ok(()) => report.removed.push(path.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Error::plain(format!(
                    "cannot remove {}: {e}",
                    target.display()
                )));
            }
        }
    }
    write_manifest(out_dir, &new)?;
    Ok(report)
}

/// Writes `data` to `path` through a temporary file in the same directory.
pub fn atomic_write(path: &Path, data: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |e: std::io::Error| Error::plain(format!("cannot write {}: {e}", path.display()));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".unikc-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(data).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    set_mode(tmp.as_file(), 0o644).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(unix)]
pub(crate) fn set_mode(f: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    f.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
pub(crate) fn set_mode(_: &std::fs::File, _: u32) -> std::io::Result<()> {
    Ok(())
}

fn read_manifest(out_dir: &Path, force: bool) -> Result<Option<Hashes>, Error> {
    let path = out_dir.join(MANIFEST);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::plain(format!("cannot read {}: {e}", path.display()))),
    };
    let mut out = Hashes::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        match line.split_once("  ") {
            Some((hash, file)) if hash.len() == 64 && !file.is_empty() => {
                out.entry(file.to_string())
                    .or_default()
                    .insert(hash.to_string());
            }
            _ if force => return Ok(None),
            _ => {
                return Err(
                    Error::new("E0704", format!("{} is damaged", path.display()))
                        .note(format!("unreadable line: {line:?}"))
                        .help("rerun with --force to regenerate the directory"),
                );
            }
        }
    }
    Ok(Some(out))
}

fn write_manifest(out_dir: &Path, hashes: &Hashes) -> Result<(), Error> {
    let mut text = String::from(
        "# Files unikc generated here, with their SHA-256. `unikc configure`\n\
         # refuses to overwrite a file whose contents no longer match.\n",
    );
    for (path, hs) in hashes {
        for h in hs {
            text.push_str(&format!("{h}  {path}\n"));
        }
    }
    atomic_write(&out_dir.join(MANIFEST), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(p, c)| (p.to_string(), c.to_string()))
            .collect()
    }

    #[test]
    fn writes_then_leaves_unchanged_files_alone() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("o");
        let r = write(&out, &set(&[("a", "1"), ("s/b", "2")]), false).unwrap();
        assert_eq!(r.written, ["a", "s/b"]);
        let r = write(&out, &set(&[("a", "1"), ("s/b", "3")]), false).unwrap();
        assert_eq!(
            (r.written, r.unchanged),
            (vec!["s/b".to_string()], vec!["a".to_string()])
        );
        assert_eq!(std::fs::read_to_string(out.join("s/b")).unwrap(), "3");
    }

    #[test]
    fn hand_edits_are_refused_unless_forced() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), &set(&[("a", "1")]), false).unwrap();
        std::fs::write(d.path().join("a"), "mine").unwrap();
        let e = write(d.path(), &set(&[("a", "2")]), false).unwrap_err();
        assert_eq!(e.code, Some("E0704"));
        assert_eq!(std::fs::read_to_string(d.path().join("a")).unwrap(), "mine");
        write(d.path(), &set(&[("a", "2")]), true).unwrap();
        assert_eq!(std::fs::read_to_string(d.path().join("a")).unwrap(), "2");
    }

    #[test]
    fn files_of_others_are_refused_and_stale_files_removed() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("a"), "theirs").unwrap();
        assert!(write(d.path(), &set(&[("a", "1")]), false).is_err());
        std::fs::remove_file(d.path().join("a")).unwrap();
        write(d.path(), &set(&[("a", "1"), ("b", "2")]), false).unwrap();
        let r = write(d.path(), &set(&[("a", "1")]), false).unwrap();
        assert_eq!(r.removed, ["b"]);
        assert!(!d.path().join("b").exists());
    }

    #[test]
    fn an_interrupted_run_is_still_recognised() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), &set(&[("a", "1")]), false).unwrap();
        // As if the next run stopped after its transitional manifest.
        let mut both = read_manifest(d.path(), false).unwrap().unwrap();
        both.get_mut("a").unwrap().insert(digest::of_bytes(b"2"));
        write_manifest(d.path(), &both).unwrap();
        std::fs::write(d.path().join("a"), "2").unwrap();
        write(d.path(), &set(&[("a", "3")]), false).unwrap();
    }
}
