//! Path arithmetic, the one copy every crate uses (the evaluator, the
//! resolver, codegen and the language server): lexical, without touching
//! the file system, so the same text names the same file everywhere.

use std::path::{Component, Path, PathBuf};

/// Removes `.` and folds `..` lexically. `..` at the root stays at the
/// root (`/..` is `/`); the leading `..` of a relative path are kept
/// (`../../a` stays as it is).
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir | Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `p` made absolute against the current directory, then normalised.
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        normalize(p)
    } else {
        normalize(&std::env::current_dir().unwrap_or_default().join(p))
    }
}

/// The relative path from directory `from` to `to`, both absolute and
/// normalised (`.` when they are the same). `to` itself when they share
/// no root.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let f: Vec<Component> = from.components().collect();
    let t: Vec<Component> = to.components().collect();
    if f.first() != t.first() {
        return to.to_path_buf();
    }
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_is_lexical() {
        let n = |s: &str| normalize(Path::new(s)).display().to_string();
        assert_eq!(n("/a/./b/../c"), "/a/c");
        assert_eq!(n("/a/b/../../.."), "/");
        assert_eq!(n("/.."), "/");
        assert_eq!(n("a/.."), "");
        assert_eq!(n("../../a"), "../../a");
        assert_eq!(n("a/../../b"), "../b");
        assert_eq!(n("./x/./y/"), "x/y");
    }

    #[test]
    fn relative_paths() {
        let r = |a: &str, b: &str| relative(Path::new(a), Path::new(b)).display().to_string();
        assert_eq!(r("/a/b/_build/x", "/a/b"), "../..");
        assert_eq!(r("/a/b/_build/x/src", "/a/b/t/f.txt"), "../../../t/f.txt");
        assert_eq!(r("/a/b", "/a/b"), ".");
        assert_eq!(r("/a/b", "/c"), "../../c");
        assert_eq!(r("/", "/c/d"), "c/d");
        assert_eq!(r("/a", "b/c"), "b/c");
    }
}
