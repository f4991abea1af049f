//! Packs the runtime crates' sources into the `unikc` binary, so an
//! installed `unikc` can materialise them anywhere (see `src/bundle.rs`).
//! Their versions are read with `cargo metadata`, as cargo sees them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[path = "src/digest.rs"]
mod digest;

/// Runtime crates bundled with unikc, as directories of `runtime/`.
/// Later targets add theirs here.
const CRATES: &[&str] = &[
    "rt",
    "unix",
    "net",
    "dns",
    "freestanding",
    "virtio",
    "solo5",
    "xen",
    "tls",
    "http",
];

/// Directories of a crate that building it as a dependency never reads.
const SKIP_DIRS: &[&str] = &["target", "tests", "examples", "benches"];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let runtime = manifest_dir.join("../runtime");
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut crates = String::new();
    for dir in CRATES {
        let root = runtime.join(dir);
        println!("cargo:rerun-if-changed={}", root.display());
        collect(&root, dir, &mut files);
        let (name, version) = package_of(&root.join("Cargo.toml"));
        writeln!(
            crates,
            "    BundledCrate {{ name: {name:?}, dir: {dir:?}, version: {version:?} }},"
        )
        .unwrap();
    }
    files.sort();
    let contents: Vec<Vec<u8>> = files
        .iter()
        .map(|(_, p)| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect();
    let digest = digest::of_files(
        files
            .iter()
            .zip(&contents)
            .map(|((rel, _), data)| (rel.as_str(), data.as_slice())),
    );

    let mut out = String::new();
    writeln!(
        out,
        "/// Digest of every bundled file (`digest::of_files`)."
    )
    .unwrap();
    writeln!(out, "pub const DIGEST: &str = {digest:?};").unwrap();
    writeln!(out, "/// The bundled files, sorted by path.").unwrap();
    writeln!(out, "pub static FILES: &[(&str, &[u8])] = &[").unwrap();
    for (rel, path) in &files {
        let abs = path.canonicalize().expect("the file was just read");
        writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        )
        .unwrap();
    }
    writeln!(out, "];").unwrap();
    writeln!(out, "/// The bundled crates, in bundle order.").unwrap();
    writeln!(out, "pub static CRATES: &[BundledCrate] = &[\n{crates}];").unwrap();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    std::fs::write(out_dir.join("bundle.rs"), out).expect("writing bundle.rs");
}

/// Every file of a crate directory, as (`DIR/relative/path`, absolute path).
fn collect(root: &Path, dir: &str, out: &mut Vec<(String, PathBuf)>) {
    let walk = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            let top_skip = e.depth() == 1 && e.file_type().is_dir() && SKIP_DIRS.contains(&&*name);
            let hidden = e.depth() > 0 && name.starts_with('.');
            !top_skip && !hidden && name != "Cargo.lock"
        });
    for entry in walk {
        let entry = entry.unwrap_or_else(|e| panic!("walking {}: {e}", root.display()));
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(root)
            .expect("walkdir stays under its root");
        let rel: Vec<String> = rel
            .components()
            .map(|c| {
                c.as_os_str()
                    .to_str()
                    .expect("runtime paths are UTF-8")
                    .to_string()
            })
            .collect();
        out.push((
            format!("{dir}/{}", rel.join("/")),
            entry.path().to_path_buf(),
        ));
    }
}

/// The package name and version cargo reads from a manifest.
fn package_of(manifest: &Path) -> (String, String) {
    let meta = cargo_metadata::MetadataCommand::new()
        .manifest_path(manifest)
        .no_deps()
        .other_options(vec!["--offline".to_string()])
        .exec()
        .unwrap_or_else(|e| panic!("cargo metadata for {}: {e}", manifest.display()));
    let manifest = manifest.canonicalize().expect("the manifest exists");
    let pkg = meta
        .packages
        .iter()
        .find(|p| p.manifest_path.as_std_path() == manifest)
        .unwrap_or_else(|| panic!("cargo metadata does not list {}", manifest.display()));
    (pkg.name.to_string(), pkg.version.to_string())
}
