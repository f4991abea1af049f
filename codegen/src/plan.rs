//! Everything the generated files are rendered from, checked before
//! anything is written: the user's crate, the crates and their sources, the
//! embedded directories, and the output paths.

use crate::bundle;
use crate::embed;
use crate::error::Error;
use crate::paths;
use crate::target::Backend;
use crate::user::{self, Found, UserCrate};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use unik_lang::Target;
use unik_resolver::{NodeId, PinReq, Resolved, SourcePos};

pub struct Plan<'a> {
    pub resolved: &'a Resolved,
    pub target: Target,
    pub backend: Box<dyn Backend>,
    /// The register's name.
    pub name: String,
    /// The cargo binary target, also the image's base name.
    pub bin: String,
    /// The generated package's name.
    pub package: String,
    /// The configuration file, relative to its directory (`config.unik`).
    pub config_name: String,
    /// The configuration's directory (absolute).
    pub project_dir: PathBuf,
    pub out_dir: PathBuf,
    pub user: Option<UserCrate>,
    pub deps: Vec<Dep>,
    /// `[patch.crates-io]`: package name → path.
    pub patches: Vec<(String, String)>,
    /// The files of each `crunch` node.
    pub embeds: BTreeMap<NodeId, Vec<embed::File>>,
    pub runtime_dir: PathBuf,
    pub cargo_home: Option<PathBuf>,
    /// `deps/NAME` → the directory it links to (see [`crate::links`]).
    pub links: BTreeMap<String, PathBuf>,
    /// `CACHE/build`, where cargo runs (see [`crate::stage`]).
    pub build_root: PathBuf,
}

pub struct Dep {
    pub name: String,
    pub req: String,
    pub source: Source,
    pub features: Vec<String>,
    /// The devices that asked for it.
    pub needed_by: Vec<String>,
}

pub enum Source {
    Registry,
    /// Relative to the output directory, or absolute.
    Path(String),
    Git {
        git: String,
        rev: String,
    },
}

impl Plan<'_> {
    /// `p` relative to the output directory, with `/`.
    pub fn rel_from_out(&self, p: &Path) -> String {
        slash_or_lossy(&paths::relative(&self.out_dir, p))
    }

    /// How `Cargo.toml` names a local crate's directory: through its link
    /// in `deps/` when it has one, else relative to the output directory.
    pub fn crate_path(&self, dir: &Path) -> String {
        match self.links.iter().find(|(_, to)| *to == dir) {
            Some((name, _)) => format!("{}/{name}", crate::links::DIR),
            None => self.rel_from_out(dir),
        }
    }

    /// `p` relative to the output's `src/`.
    pub fn rel_from_src(&self, p: &Path) -> String {
        slash_or_lossy(&paths::relative(&self.out_dir.join("src"), p))
    }

    /// Whether the generated files name nothing outside the workspace
    /// except through `deps/` links: every local crate is linked and no
    /// directory is embedded. Such a workspace can be built from a copy
    /// elsewhere (see [`crate::stage`]).
    pub fn relocatable(&self) -> bool {
        let linked = |dir: &Path| self.links.values().any(|d| d == dir);
        crate::links::SUPPORTED
            && self.embeds.is_empty()
            && self.user.as_ref().is_none_or(|u| linked(&u.dir))
            && self.resolved.crates.iter().all(|c| match &c.pin {
                Some(PinReq::Path { path }) => {
                    linked(&crate::lock::pin_dir(&self.project_dir, path))
                }
                _ => true,
            })
    }

    /// A source position for comments (`config.unik:6:27`).
    pub fn pos(&self, pos: &SourcePos) -> String {
        paths::show_pos(pos, &self.project_dir)
    }
}

fn slash_or_lossy(p: &Path) -> String {
    paths::slash(p).unwrap_or_else(|| p.to_string_lossy().into_owned())
}

pub struct Inputs<'a> {
    pub resolved: &'a Resolved,
    pub config: &'a Path,
    pub out_dir: Option<&'a Path>,
    pub cache_dir: Option<&'a Path>,
}

/// Checks the inputs and materialises the runtime; writes nothing else.
pub fn prepare<'a>(inp: &Inputs<'a>) -> Result<Plan<'a>, Error> {
    let resolved = inp.resolved;
    let target = resolved.target;
    let backend = crate::backends::lookup(target)?;
    let config = paths::absolute(inp.config);
    let project_dir = config
        .parent()
        .map(Path::to_path_buf)
        .ok_or_else(|| Error::plain(format!("{} has no directory", config.display())))?;
    let config_name = config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bin = bin_name(&resolved.name);
    let out_dir = match inp.out_dir {
        Some(d) => paths::absolute(d),
        None => project_dir
            .join("_build")
            .join(format!("{bin}-{}", target.name())),
    };

    check_crates(resolved)?;
    let user = user_crate(resolved, &project_dir)?;
    let mut package = format!("unikernel-{bin}");
    if user.as_ref().is_some_and(|u| u.package == package) {
        package.push_str("-main");
    }

    let mut embeds = BTreeMap::new();
    for node in resolved.nodes.iter() {
        if let Some(dir) = &node.embed_dir {
            let files = embed::list_for(Path::new(dir), node.used_loc, &node.impl_name)?;
            embeds.insert(node.id, files);
        }
    }

    let cache = match inp.cache_dir {
        Some(d) => paths::absolute(d),
        None => bundle::default_cache_dir()?,
    };
    let runtime_dir = bundle::materialise(&cache)?;
    let cargo_home = cargo_home();

    let mut plan = Plan {
        resolved,
        target,
        backend,
        name: resolved.name.clone(),
        bin,
        package,
        config_name,
        project_dir,
        out_dir,
        user,
        deps: Vec::new(),
        patches: Vec::new(),
        embeds,
        links: BTreeMap::new(),
        runtime_dir,
        cargo_home,
        build_root: cache.join("build"),
    };
    plan.links = links(&plan);
    plan.deps = deps(&plan);
    plan.patches = patches(&plan);
    Ok(plan)
}

/// The binary's name: the register's name with characters cargo rejects
/// replaced.
fn bin_name(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "u-");
    }
    s
}

/// Finds the user's crate and checks every `foreign` path names a crate
/// the workspace will have.
fn user_crate(resolved: &Resolved, dir: &Path) -> Result<Option<UserCrate>, Error> {
    let found = user::find(dir)?;
    let packages: BTreeSet<String> = resolved
        .crates
        .iter()
        .map(|c| c.name.replace('-', "_"))
        .collect();
    for node in resolved.nodes.iter().filter(|n| n.foreign) {
        let krate = node.module.split("::").next().unwrap_or_default();
        if packages.contains(krate) {
            continue;
        }
        let shown = dir.display();
        let err = match &found {
            Found::Crate(c) if c.lib == krate => continue,
            Found::Crate(c) => Error::new(
                "E0703",
                format!(
                    "`{}` names the crate `{krate}`, but the crate in {shown} is `{}`",
                    node.module, c.lib
                ),
            )
            .at(node.defined_loc, "the user's code is named here")
            .help(format!(
                "write the path as `{}::…`, or declare the crate that defines it with `packages = [ (package \"{krate}\" {{ … }}) ]`",
                c.lib
            )),
            Found::Missing => Error::new(
                "E0703",
                format!("the user's crate is missing: there is no Cargo.toml in {shown}"),
            )
            .at(node.defined_loc, format!("`{}` should come from the crate `{krate}`", node.module))
            .help(format!(
                "create it beside the configuration (`cargo init --lib --name {krate}`, then add `unik-rt = \"0.1\"` to its dependencies), or start a project with `unikc new`"
            )),
            Found::Unusable(why) => Error::new(
                "E0703",
                format!("the user's crate in {shown} cannot be used"),
            )
            .at(node.defined_loc, format!("`{}` should come from it", node.module))
            .note(why.clone())
            .help(format!("make {shown}/Cargo.toml a package with a library named `{krate}`")),
        };
        return Err(err);
    }
    Ok(match found {
        Found::Crate(c) => Some(c),
        _ => None,
    })
}

/// Every bundled runtime crate the graph needs must satisfy its bounds;
/// runtime crates (`unik-*`) must be bundled unless pinned.
fn check_crates(resolved: &Resolved) -> Result<(), Error> {
    let bundled: Vec<String> = bundle::CRATES
        .iter()
        .map(|c| format!("{} {}", c.name, c.version))
        .collect();
    for c in resolved.crates.iter().filter(|c| c.pin.is_none()) {
        let first = c.sources.first();
        let with_source = |e: Error| match first {
            Some(s) => e.at(
                s.loc,
                format!("bounds declared here (for {})", s.chain.join(" > ")),
            ),
            None => e,
        };
        match bundle::lookup(&c.name) {
            Some(b) => {
                let req = semver::VersionReq::parse(&c.req).map_err(|e| {
                    Error::plain(format!("`{}` is not a version requirement: {e}", c.req))
                })?;
                let version = semver::Version::parse(b.version).map_err(|e| {
                    Error::plain(format!("bundled {} has version {}: {e}", b.name, b.version))
                })?;
                if !req.matches(&version) {
                    return Err(with_source(Error::new(
                        "E0706",
                        format!(
                            "this unikc bundles {} {}, but the configuration requires {} {}",
                            c.name, b.version, c.name, c.req
                        ),
                    ))
                    .help("use a unikc whose runtime matches, or pin the crate with `pin = { path = …; }`"));
                }
            }
            None if c.name.starts_with("unik-") => {
                return Err(with_source(Error::new(
                    "E0706",
                    format!("the runtime crate {} is not bundled with this unikc", c.name),
                ))
                .note(format!("bundled: {}", bundled.join(", ")))
                .help("choose devices this unikc supports on the target, or pin the crate with `pin = { path = …; }`"));
            }
            None => {}
        }
    }
    Ok(())
}

fn deps(plan: &Plan) -> Vec<Dep> {
    let r = plan.resolved;
    let mut out = Vec::new();
    for c in &r.crates {
        let source = match (&c.pin, bundle::lookup(&c.name)) {
            (Some(PinReq::Path { path }), _) => {
                let abs = crate::lock::pin_dir(&plan.project_dir, path);
                Source::Path(plan.crate_path(&abs))
            }
            (Some(PinReq::Git { git, rev }), _) => Source::Git {
                git: git.clone(),
                rev: rev.clone(),
            },
            (None, Some(b)) => Source::Path(runtime_path(plan, b)),
            (None, None) => Source::Registry,
        };
        let mut needed_by: Vec<String> = Vec::new();
        for s in &c.sources {
            let n = &r.nodes[s.node.0];
            let who = format!("{} ({})", n.impl_name, plan.pos(&n.used_at));
            if !needed_by.contains(&who) {
                needed_by.push(who);
            }
        }
        out.push(Dep {
            name: c.name.clone(),
            req: c.req.clone(),
            source,
            features: c.features.clone(),
            needed_by,
        });
    }
    // The generated main itself uses the platform runtime.
    for name in crate::target::runtime_crates(plan.target) {
        if out.iter().any(|d| d.name == name) {
            continue;
        }
        if let Some(b) = bundle::lookup(name) {
            out.push(Dep {
                name: b.name.to_string(),
                req: b.version.to_string(),
                source: Source::Path(runtime_path(plan, b)),
                features: Vec::new(),
                needed_by: vec!["the generated main.rs".to_string()],
            });
        }
    }
    // Features the target selects (the Solo5 binding).
    for dep in &mut out {
        for f in plan.backend.crate_features(&dep.name) {
            if !dep.features.iter().any(|have| have == f) {
                dep.features.push(f.to_string());
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn runtime_path(plan: &Plan, b: &bundle::BundledCrate) -> String {
    if plan.links.contains_key(RUNTIME_LINK) {
        return format!("{}/{RUNTIME_LINK}/{}", crate::links::DIR, b.dir);
    }
    paths::slash(&plan.runtime_dir.join(b.dir))
        .unwrap_or_else(|| plan.runtime_dir.join(b.dir).to_string_lossy().into_owned())
}

const RUNTIME_LINK: &str = "runtime";

/// The links of `deps/`: the runtime, the user's crate (`project`) and
/// each path pin (`pin/NAME`), when they can be used through a link.
fn links(plan: &Plan) -> BTreeMap<String, PathBuf> {
    let mut out = BTreeMap::new();
    if !crate::links::SUPPORTED {
        return out;
    }
    out.insert(RUNTIME_LINK.to_string(), plan.runtime_dir.clone());
    if let Some(u) = &plan.user
        && crate::links::linkable(&u.dir)
    {
        out.insert("project".to_string(), u.dir.clone());
    }
    for c in &plan.resolved.crates {
        if let Some(PinReq::Path { path }) = &c.pin {
            let dir = crate::lock::pin_dir(&plan.project_dir, path);
            if crate::links::linkable(&dir) && !out.values().any(|d| *d == dir) {
                out.insert(format!("pin/{}", c.name), dir);
            }
        }
    }
    out
}

/// Bundled crates the graph or the user's crate uses, unless pinned.
fn patches(plan: &Plan) -> Vec<(String, String)> {
    let pinned: BTreeSet<&str> = plan
        .resolved
        .crates
        .iter()
        .filter(|c| c.pin.is_some())
        .map(|c| c.name.as_str())
        .collect();
    let used = |name: &str| {
        plan.deps.iter().any(|d| d.name == name)
            || plan
                .user
                .as_ref()
                .is_some_and(|u| u.dependencies.contains(name))
    };
    bundle::CRATES
        .iter()
        .filter(|b| used(b.name) && !pinned.contains(b.name))
        .map(|b| (b.name.to_string(), runtime_path(plan, b)))
        .collect()
}

/// `$CARGO_HOME`, or `~/.cargo`.
fn cargo_home() -> Option<PathBuf> {
    let var = |n: &str| {
        std::env::var_os(n)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("CARGO_HOME").or_else(|| var("HOME").map(|h| h.join(".cargo")))
}
