//! `clean`: removes `_build/` and `dist/` beside the configuration.

use super::check::find_config;
use super::configure::show;
use super::failure::{Exit, Failure};
use super::report::Reporter;
use std::path::{Path, PathBuf};

pub fn clean(file: Option<&Path>, rep: &mut dyn Reporter) -> Result<Vec<PathBuf>, Failure> {
    let path = find_config(file)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut removed = Vec::new();
    for sub in ["_build", "dist"] {
        let d = dir.join(sub);
        match std::fs::remove_dir_all(&d) {
            Ok(()) => {
                rep.status("Removed", &show(&d));
                removed.push(d);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::plain(
                    Exit::Errors,
                    format!("cannot remove {}: {e}", d.display()),
                ));
            }
        }
    }
    Ok(removed)
}
