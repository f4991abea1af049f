//! No file circles inside `src/` (the library and the binary),
//! `resolver/` or `codegen/`: files import each other one way, so each can be read, and
//! changed, knowing only what is below it. An import is a `crate::a::b`
//! or `super::…` path naming another file of the same crate; the crate
//! root (`lib.rs`, `main.rs`), which only declares and re-exports, is left
//! out of the graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file below `dir`, keyed by its module path (`ops::check`).
fn modules(dir: &Path) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(dir).unwrap().with_extension("");
                let mut parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                let name = parts.join("::");
                if !matches!(name.as_str(), "lib" | "main") {
                    out.insert(name, p);
                }
            }
        }
    }
    out
}

/// The module a path `a::b::c` names: the longest known prefix.
fn resolve<'m>(path: &[&str], mods: &'m BTreeMap<String, PathBuf>) -> Option<&'m String> {
    (1..=path.len())
        .rev()
        .find_map(|n| mods.get_key_value(&path[..n].join("::")).map(|(k, _)| k))
}

fn edges(mods: &BTreeMap<String, PathBuf>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, file) in mods {
        // Comments (doc links included) import nothing.
        let text: String = std::fs::read_to_string(file)
            .unwrap()
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let here: Vec<&str> = name.split("::").collect();
        let deps = out.entry(name.clone()).or_default();
        for (i, _) in text
            .match_indices("crate::")
            .chain(text.match_indices("super::"))
        {
            // Skip `unik_crate::` and the like: the match must start a path.
            if i > 0 && text.as_bytes()[i - 1].is_ascii_alphanumeric() || text[..i].ends_with('_') {
                continue;
            }
            let rest = &text[i..];
            let path: Vec<&str> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|s| !s.is_empty())
                .collect();
            let full: Vec<&str> = if path[0] == "crate" {
                path[1..].to_vec()
            } else {
                // `super` is the parent of this file's module (a `mod.rs`
                // is its directory's module).
                let mut base = here.clone();
                let mut p = &path[..];
                while p.first() == Some(&"super") {
                    base.pop();
                    p = &p[1..];
                }
                base.into_iter().chain(p.iter().copied()).collect()
            };
            if let Some(target) = resolve(&full, mods)
                && target != name
                && !name.starts_with(&format!("{target}::"))
            {
                deps.insert(target.clone());
            }
        }
    }
    out
}

/// The first circle found, as the files along it.
fn circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == m).unwrap();
                    let mut c = path[start..].to_vec();
                    c.push(m.clone());
                    return Some(c);
                }
                0 => {
                    if let Some(c) = visit(m, edges, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in edges.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0
            && let Some(c) = visit(n, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

fn check(dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mods = modules(&root);
    assert!(mods.len() > 5, "{dir}: too few files found");
    let e = edges(&mods);
    assert!(e.values().any(|d| !d.is_empty()), "{dir}: no imports seen");
    if let Some(c) = circle(&e) {
        panic!(
            "{dir}: files import each other in a circle: {}",
            c.join(" -> ")
        );
    }
}

#[test]
fn no_file_circles_in_the_binary_and_library() {
    check("src");
}

#[test]
fn no_file_circles_in_codegen() {
    check("codegen/src");
}

#[test]
fn no_file_circles_in_the_resolver() {
    check("resolver/src");
}

#[test]
fn a_circle_is_found() {
    let dir = tempfile::tempdir().unwrap();
    for (f, text) in [
        ("lib.rs", "mod a; mod b; mod c;"),
        ("a.rs", "use crate::b::B;"),
        ("b.rs", "use super::c::C;"),
        ("c.rs", "pub fn f() { crate::a::g() }"),
    ] {
        std::fs::write(dir.path().join(f), text).unwrap();
    }
    let mods = modules(dir.path());
    let c = circle(&edges(&mods)).expect("a -> b -> c -> a");
    assert_eq!(c.len(), 4, "{c:?}");
}
