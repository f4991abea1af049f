//! `unik.lock`: what a build of each target used, so it can be repeated.
//!
//! The file sits beside the configuration. It is JSON with sorted keys,
//! two-space indentation and a final newline (diff-friendly and the same
//! bytes for the same content), and holds, per target, the hashes of the
//! inputs it was resolved from ([`Inputs`]), the device graph, and every
//! crate with its exact version, source and checksum as cargo locked them;
//! a crate a device asked for keeps the bound as written and the device
//! chain that required it (`original`, as flake.lock keeps `original`
//! beside `locked`). The generated workspace's `Cargo.lock` is rendered
//! from it ([`TargetLock::cargo_lock`]).
//!
//! `integrity` is the SHA-256 of the rest of the file in this canonical
//! form: a lock edited by hand, or half-merged, is refused rather than
//! trusted.

pub mod cargo_lock;
mod entry;
mod stale;

pub(crate) use entry::pin_dir;
pub use entry::{catalogue_digest, inputs, target_entry};
pub use stale::changes;

use crate::digest;
use crate::error::Error;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The lock's file name, beside the configuration.
pub const FILE_NAME: &str = "unik.lock";
/// The format this unikc reads and writes.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Always [`FORMAT`].
    pub format: u32,
    /// The unikc version that wrote it.
    pub unikc: String,
    /// The configuration file it locks, relative to the lock (`config.unik`).
    pub config: String,
    /// The toolchain that resolved the versions.
    pub toolchain: Toolchain,
    /// By target name.
    pub targets: BTreeMap<String, TargetLock>,
}

/// `rustc -vV` and `cargo -V`, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Toolchain {
    /// `release:` of `rustc -vV`, e.g. `1.95.0`.
    pub rustc: String,
    pub commit_hash: String,
    pub commit_date: String,
    pub host: String,
    pub llvm: String,
    /// `cargo -V`, e.g. `cargo 1.95.0 (f2d3ce0bd 2026-03-21)`.
    pub cargo: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetLock {
    pub inputs: Inputs,
    /// The resolved device graph, in dependency order.
    pub graph: Vec<GraphNode>,
    /// Every package of the generated workspace's `Cargo.lock`, in its order.
    pub crates: Vec<LockedCrate>,
    /// `[[patch.unused]]` of that `Cargo.lock`, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unused_patches: Vec<cargo_lock::Package>,
    /// The `Cargo.lock` format version.
    pub cargo_lock_version: u32,
}

/// SHA-256 (lowercase hex) of everything a target was resolved from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inputs {
    /// By path relative to the lock (`/`-separated): the configuration and
    /// every file it imports, the user crate's `Cargo.toml`, and the
    /// `Cargo.toml` of each crate pinned to a path.
    pub files: BTreeMap<String, String>,
    /// The device catalogue compiled into unikc.
    pub catalogue: String,
    /// The runtime bundle compiled into unikc (its `DIGEST`).
    pub runtime: String,
    /// Configure keys given on the command line, with their values.
    pub keys: BTreeMap<String, serde_json::Value>,
}

/// One device of the graph.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphNode {
    /// The device's variable in the generated code, e.g. `console_0`.
    pub node: String,
    pub implementation: String,
    pub module: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// Functor arguments and data dependencies, by `node`.
    pub args: Vec<String>,
    pub deps: Vec<String>,
    /// The crates it requires.
    pub crates: Vec<String>,
}

/// One package as cargo locked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedCrate {
    pub name: String,
    pub version: String,
    /// `registry+URL` or `git+URL?rev=…#COMMIT` as in `Cargo.lock`;
    /// `bundled` for the runtime compiled into unikc; `generated` for the
    /// workspace's own package; `path+DIR` for the user's crate and path
    /// pins (DIR relative to the lock); `path` for another local package.
    pub source: String,
    /// The registry's SHA-256 of the package, for registry crates.
    pub checksum: Option<String>,
    /// As in `Cargo.lock`.
    pub dependencies: Vec<String>,
    /// For a crate of the device graph: what was asked for, and by whom.
    pub original: Option<Original>,
}

/// A crate's requirement, merged over every device that asked for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Original {
    /// The merged bound, as a Cargo version requirement.
    pub req: String,
    pub features: Vec<String>,
    pub pin: Option<Pin>,
    /// Every `package` declaration behind it.
    pub required_by: Vec<Requirement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "lowercase")]
pub enum Pin {
    /// Relative to the lock.
    Path {
        path: String,
    },
    Git {
        git: String,
        rev: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub min: Option<String>,
    pub max: Option<String>,
    /// Where the `package` was written: `FILE:LINE:COLUMN`.
    pub at: String,
    /// Devices from a registered job down to the one that declared it.
    pub chain: Vec<String>,
}

impl TargetLock {
    /// The `Cargo.lock` this entry stands for.
    pub fn cargo_lock(&self) -> cargo_lock::CargoLock {
        cargo_lock::CargoLock {
            version: self.cargo_lock_version,
            packages: self
                .crates
                .iter()
                .map(|c| cargo_lock::Package {
                    name: c.name.clone(),
                    version: c.version.clone(),
                    source: (c.source.starts_with("registry+") || c.source.starts_with("git+"))
                        .then(|| c.source.clone()),
                    checksum: c.checksum.clone(),
                    dependencies: c.dependencies.clone(),
                })
                .collect(),
            unused_patches: self.unused_patches.clone(),
        }
    }
}

impl Lock {
    pub fn new(config: &str, toolchain: Toolchain) -> Lock {
        Lock {
            format: FORMAT,
            unikc: crate::VERSION.to_string(),
            config: config.to_string(),
            toolchain,
            targets: BTreeMap::new(),
        }
    }

    /// The file's text: canonical JSON with its integrity hash.
    pub fn render(&self) -> String {
        let mut v = sorted(serde_json::to_value(self).expect("the lock is plain data"));
        let sum = integrity(&v);
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("integrity".into(), serde_json::Value::String(sum));
        }
        canonical(&sorted(v))
    }

    /// Parses a lock's text, checking its format and integrity. The error
    /// says what is wrong.
    pub fn parse(text: &str) -> Result<Lock, String> {
        let mut v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("it is not valid JSON ({e})"))?;
        let serde_json::Value::Object(m) = &mut v else {
            return Err("it is not a JSON object".into());
        };
        match m.get("format").and_then(|f| f.as_u64()) {
            Some(f) if f == u64::from(FORMAT) => {}
            Some(f) => {
                return Err(format!(
                    "it has format {f}, and this unikc ({}) reads format {FORMAT}",
                    crate::VERSION
                ));
            }
            None => return Err("it has no `format`".into()),
        }
        let Some(serde_json::Value::String(recorded)) = m.remove("integrity") else {
            return Err("it has no `integrity` hash".into());
        };
        let actual = integrity(&sorted(v.clone()));
        if recorded != actual {
            return Err(format!(
                "its integrity hash does not match its contents (recorded {recorded}, actual {actual})"
            ));
        }
        serde_json::from_value(v).map_err(|e| format!("it does not have the expected fields ({e})"))
    }

    /// Reads `path`: `Ok(None)` when there is no file, E0506 when it
    /// cannot be used.
    pub fn read(path: &Path) -> Result<Option<Lock>, Error> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(unusable(path, format!("it cannot be read ({e})")));
            }
        };
        Lock::parse(&text)
            .map(Some)
            .map_err(|why| unusable(path, why))
    }

    /// Writes the lock to `path` unless the file already holds these
    /// bytes; says whether it wrote.
    pub fn write(&self, path: &Path) -> Result<bool, Error> {
        let text = self.render();
        if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(false);
        }
        crate::output::atomic_write(path, text.as_bytes())?;
        Ok(true)
    }
}

fn unusable(path: &Path, why: String) -> Error {
    Error::new("E0506", format!("{} cannot be used: {why}", path.display()))
        .note("unik.lock is written by unikc only; a lock edited by hand or left half-merged is not trusted")
        .help("take one side of a merge conflict (or delete the file), then run `unikc lock` and review the difference")
}

/// `sha256:HEX` of the canonical text of `v`.
fn integrity(v: &serde_json::Value) -> String {
    format!("sha256:{}", digest::of_bytes(canonical(v).as_bytes()))
}

fn canonical(v: &serde_json::Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

/// `v` with every object's keys in sorted order (whatever map serde_json uses).
fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut entries: Vec<(String, serde_json::Value)> = m.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// Runs `rustc -vV` and `cargo -V` in `dir` (so a `rust-toolchain.toml`
/// there applies, as it does to the build).
pub fn toolchain(dir: &Path) -> Result<Toolchain, Error> {
    let run = |prog: &std::ffi::OsStr, arg: &str| -> Result<String, Error> {
        let out = std::process::Command::new(prog)
            .arg(arg)
            .current_dir(dir)
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| {
                Error::new(
                    "E0701",
                    format!("cannot run `{} {arg}`: {e}", prog.to_string_lossy()),
                )
                .help("install Rust with rustup (https://rustup.rs), stable 1.95 or newer")
            })?;
        if !out.status.success() {
            return Err(Error::new(
                "E0701",
                format!(
                    "`{} {arg}` failed: {}",
                    prog.to_string_lossy(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ),
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let vv = run(&rustc, "-vV")?;
    let cargo = crate::cargo::find_cargo()?;
    let cargo_v = run(cargo.as_os_str(), "-V")?;
    Ok(parse_toolchain(&vv, &cargo_v))
}

fn parse_toolchain(rustc_vv: &str, cargo_v: &str) -> Toolchain {
    let field = |name: &str| {
        rustc_vv
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    Toolchain {
        rustc: field("release"),
        commit_hash: field("commit-hash"),
        commit_date: field("commit-date"),
        host: field("host"),
        llvm: field("LLVM version"),
        cargo: cargo_v.trim().to_string(),
    }
}

#[cfg(test)]
mod tests;
