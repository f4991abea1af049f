//! `fmt`: canonical formatting of `.unik` files, written atomically.

use super::failure::{Exit, Failure};
use std::io::Write;
use std::path::{Path, PathBuf};
use unik_lang::diag::SourceMap;

/// What formatting did (or, with `check`, would do).
#[derive(Debug, Default)]
pub struct Formatted {
    /// Files whose text changed (or would change).
    pub changed: Vec<PathBuf>,
    /// Files with syntax errors, left as they were: their diagnostics.
    pub broken: Vec<Failure>,
}

/// Formats `files` (default `config.unik`); with `check`, changes nothing.
pub fn fmt(files: &[PathBuf], check: bool) -> Result<Formatted, Failure> {
    let default = [PathBuf::from("config.unik")];
    let files = if files.is_empty() {
        &default[..]
    } else {
        files
    };
    let mut out = Formatted::default();
    for f in files {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Failure::usage(format!("cannot read {}: {e}", f.display())))?;
        match unik_lang::fmt::format(&text) {
            Ok(formatted) if formatted == text => {}
            Ok(formatted) => {
                out.changed.push(f.clone());
                if !check {
                    write_atomic(f, &formatted).map_err(|e| {
                        Failure::usage(format!("cannot write {}: {e}", f.display()))
                    })?;
                }
            }
            Err(diags) => {
                let mut sources = SourceMap::new();
                let id = sources.add(f, text);
                let mut diagnostics: Vec<_> = diags
                    .into_iter()
                    .map(|mut d| {
                        for l in &mut d.labels {
                            l.loc.file = id;
                        }
                        d
                    })
                    .collect();
                diagnostics.push(unik_lang::Diagnostic::error(
                    "",
                    format!("{} has syntax errors; it was not formatted", f.display()),
                ));
                out.broken.push(Failure {
                    diagnostics,
                    sources,
                    exit: Exit::Errors,
                });
            }
        }
    }
    Ok(out)
}

/// Writes through a temporary file in the same directory, then renames, so
/// a crash never leaves a half-written file.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
