//! Building a target's lock entry: the input hashes, the device graph,
//! and the crates of the resolved `Cargo.lock` with the bounds behind them.

use super::cargo_lock::CargoLock;
use super::{GraphNode, Inputs, LockedCrate, Original, Pin, Requirement, TargetLock};
use crate::error::Error;
use crate::{bundle, digest, paths};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_resolver::{PinReq, Resolved};

/// The hashes of a target's inputs. `unik_files` are the configuration
/// files evaluated for it (absolute path, text as evaluated), without the
/// catalogue.
pub fn inputs<'a>(
    project_dir: &Path,
    unik_files: impl IntoIterator<Item = (&'a Path, &'a str)>,
    resolved: &Resolved,
) -> Result<Inputs, Error> {
    let mut files = BTreeMap::new();
    for (path, text) in unik_files {
        files.insert(rel(project_dir, path), digest::of_bytes(text.as_bytes()));
    }
    let mut manifests = vec![project_dir.join("Cargo.toml")];
    for c in &resolved.crates {
        if let Some(PinReq::Path { path }) = &c.pin {
            manifests.push(pin_dir(project_dir, path).join("Cargo.toml"));
        }
    }
    for m in manifests {
        match std::fs::read(&m) {
            Ok(data) => {
                files.insert(rel(project_dir, &m), digest::of_bytes(&data));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::plain(format!("cannot read {}: {e}", m.display()))),
        }
    }
    let keys = resolved
        .configure_keys
        .iter()
        .filter(|k| k.from_command_line)
        .map(|k| (k.name.clone(), k.value.clone()))
        .collect();
    Ok(Inputs {
        files,
        catalogue: catalogue_digest(),
        runtime: bundle::DIGEST.to_string(),
        keys,
    })
}

/// The digest of the device catalogue compiled into unikc.
pub fn catalogue_digest() -> String {
    digest::of_files(
        unik_stdlib::FILES
            .iter()
            .map(|(name, text)| (*name, text.as_bytes())),
    )
}

/// What a locked build of this target needs. `root_package` is the
/// generated package's name and `user_package` the user crate's, if any.
pub fn target_entry(
    resolved: &Resolved,
    project_dir: &Path,
    root_package: &str,
    user_package: Option<&str>,
    inputs: Inputs,
    cargo: &CargoLock,
) -> TargetLock {
    let mut originals = originals(resolved, project_dir);
    let pinned: BTreeMap<String, String> = originals
        .iter()
        .filter_map(|(name, o)| match &o.pin {
            Some(Pin::Path { path }) => Some((name.clone(), format!("path+{path}"))),
            _ => None,
        })
        .collect();
    // A requirement goes to the first locked version that satisfies it
    // (or the first of that name).
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    for (name, o) in &originals {
        let named = || {
            cargo
                .packages
                .iter()
                .enumerate()
                .filter(|(_, p)| &p.name == name)
        };
        if let Some((i, _)) = named()
            .find(|(_, p)| fits_req(o, &p.version))
            .or_else(|| named().next())
        {
            owner.insert(name.clone(), i);
        }
    }
    let crates = cargo
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let source = match &p.source {
                Some(s) => s.clone(),
                None if p.name == root_package => "generated".into(),
                None if Some(p.name.as_str()) == user_package => {
                    format!("path+{}", rel(project_dir, project_dir))
                }
                None => match pinned.get(&p.name) {
                    Some(s) => s.clone(),
                    None if bundle::lookup(&p.name).is_some() => "bundled".into(),
                    None => "path".into(),
                },
            };
            let original = if owner.get(&p.name) == Some(&i) {
                originals.remove(&p.name)
            } else {
                None
            };
            LockedCrate {
                name: p.name.clone(),
                version: p.version.clone(),
                source,
                checksum: p.checksum.clone(),
                dependencies: p.dependencies.clone(),
                original,
            }
        })
        .collect();
    TargetLock {
        inputs,
        graph: graph(resolved),
        crates,
        unused_patches: cargo.unused_patches.clone(),
        cargo_lock_version: cargo.version,
    }
}

fn fits_req(o: &Original, version: &str) -> bool {
    match (
        semver::VersionReq::parse(&o.req),
        semver::Version::parse(version),
    ) {
        (Ok(r), Ok(v)) => r.matches(&v),
        _ => false,
    }
}

/// The device graph as the lock records it.
pub(super) fn graph(r: &Resolved) -> Vec<GraphNode> {
    let var = |id: &unik_resolver::NodeId| r.nodes[id.0].var.clone();
    r.nodes
        .iter()
        .map(|n| GraphNode {
            node: n.var.clone(),
            implementation: n.impl_name.clone(),
            module: n.module.clone(),
            ty: n.ty.clone(),
            args: n.args.iter().map(var).collect(),
            deps: n.deps.iter().map(var).collect(),
            crates: n.crates.clone(),
        })
        .collect()
}

/// What the devices asked for, by crate name.
pub(super) fn originals(r: &Resolved, project_dir: &Path) -> BTreeMap<String, Original> {
    r.crates
        .iter()
        .map(|c| {
            let pin = c.pin.as_ref().map(|p| match p {
                PinReq::Path { path } => Pin::Path {
                    path: rel(project_dir, &pin_dir(project_dir, path)),
                },
                PinReq::Git { git, rev } => Pin::Git {
                    git: git.clone(),
                    rev: rev.clone(),
                },
            });
            let required_by = c
                .sources
                .iter()
                .map(|s| Requirement {
                    min: s.min.clone(),
                    max: s.max.clone(),
                    at: paths::show_pos(&s.at, project_dir),
                    chain: s.chain.clone(),
                })
                .collect();
            (
                c.name.clone(),
                Original {
                    req: c.req.clone(),
                    features: c.features.clone(),
                    pin,
                    required_by,
                },
            )
        })
        .collect()
}

/// A pinned path as a directory: absolute, or relative to the project.
pub(crate) fn pin_dir(project_dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        paths::normalize(p)
    } else {
        paths::normalize(&project_dir.join(p))
    }
}

/// `p` relative to the project, with `/`.
fn rel(project_dir: &Path, p: &Path) -> String {
    let r = paths::relative(project_dir, &paths::normalize(p));
    paths::slash(&r).unwrap_or_else(|| r.to_string_lossy().into_owned())
}
