//! Path arithmetic for generated files: everything is made absolute and
//! normalised first, so the output does not depend on the current directory.

use std::path::{Path, PathBuf};
use unik_resolver::SourcePos;

/// `p` made absolute against the current directory, with `.` and `..`
/// removed lexically and symbolic links of its existing prefix resolved.
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let lexical = normalize(&joined);
    // Resolve links in the longest existing prefix; the rest does not exist yet.
    let mut existing = lexical.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return lexical,
        }
    }
}

pub use unik_lang::path::{normalize, relative};

/// A path as a string with `/` separators, or `None` if it is not UTF-8.
pub fn slash(p: &Path) -> Option<String> {
    let parts: Option<Vec<&str>> = p.components().map(|c| c.as_os_str().to_str()).collect();
    let parts = parts?;
    let joined = parts.join("/");
    // `RootDir` renders as "/", which would double the separator.
    Some(if joined.starts_with("//") {
        joined[1..].to_string()
    } else {
        joined
    })
}

/// A source position's file, relative to the configuration's directory
/// (`config.unik:6:27`), so comments do not depend on where unikc ran.
pub fn show_pos(pos: &SourcePos, config_dir: &Path) -> String {
    format!(
        "{}:{}:{}",
        show_file(&pos.file, config_dir),
        pos.line,
        pos.column
    )
}

/// A source file name relative to `config_dir`; names like `<stdlib>/…`
/// are kept.
pub fn show_file(file: &str, config_dir: &Path) -> String {
    if file.starts_with('<') {
        return file.to_string();
    }
    let abs = absolute(Path::new(file));
    slash(&relative(config_dir, &abs)).unwrap_or_else(|| file.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_keeps_missing_tails() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        let p = absolute(&dir.path().join("x/../y/z"));
        assert_eq!(p, base.join("y/z"));
    }
}
