//! Packs the examples into the `unikc` binary as the templates of
//! `unikc new --template NAME`: every file of `examples/NAME` that is not
//! a build output.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What `unikc build` and `unikc lock` write beside a configuration.
const OUTPUTS: &[&str] = &["_build", "dist", "target", "Cargo.lock", "unik.lock"];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let examples = root.join("examples");
    println!("cargo:rerun-if-changed={}", examples.display());
    let mut names: Vec<String> = std::fs::read_dir(&examples)
        .expect("examples/ is readable")
        .flatten()
        .filter(|e| e.path().join("config.unik").is_file() && e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = String::new();
    writeln!(out, "/// The templates' names, sorted.").unwrap();
    writeln!(out, "pub const NAMES: [&str; {}] = {names:?};", names.len()).unwrap();
    writeln!(
        out,
        "/// Each template's files: path relative to the project, contents."
    )
    .unwrap();
    writeln!(
        out,
        "pub static FILES: [&[(&str, &[u8])]; {}] = [",
        names.len()
    )
    .unwrap();
    for name in &names {
        let dir = examples.join(name);
        let mut files = Vec::new();
        collect(&dir, &dir, &mut files);
        files.sort();
        writeln!(out, "    &[").unwrap();
        for (rel, path) in files {
            println!("cargo:rerun-if-changed={}", path.display());
            writeln!(
                out,
                "        ({rel:?}, include_bytes!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        writeln!(out, "    ],").unwrap();
    }
    writeln!(out, "];").unwrap();
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("templates.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}

fn collect(base: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    for entry in std::fs::read_dir(dir)
        .expect("an example directory is readable")
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if OUTPUTS.contains(&name.as_str()) {
            continue;
        }
        let path = entry.path();
        if path.is_dir() {
            collect(base, &path, out);
        } else {
            let rel = path.strip_prefix(base).expect("under base");
            let rel = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
}
