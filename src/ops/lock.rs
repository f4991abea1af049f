//! `lock`: resolve crate versions for the targets of a configuration and
//! write `unik.lock` beside it.

use super::check::{self, Want};
use super::configure::{self, Project, Ready, show};
use super::failure::Failure;
use super::lockfile::{config_name, entry_from_cargo, inputs, path_for, seed};
use super::report::Reporter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_codegen as codegen;
use unik_codegen::Error;
use unik_codegen::lock::{self, Lock, TargetLock};
use unik_lang::Target;
use unik_resolver::session::Matrix;

/// Which targets `lock` locks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Which {
    One(Target),
    /// Those the configuration allows and unikc can build.
    Allowed,
    /// Every target unikc can build; the configuration must allow each.
    All,
}

pub struct LockRequest {
    pub file: Option<PathBuf>,
    pub which: Which,
    pub keys: BTreeMap<String, String>,
    /// `cargo --offline`.
    pub offline: bool,
    /// Choose the latest versions that fit, not the locked ones.
    pub update: bool,
}

/// The targets codegen can build, in [`Target::ALL`] order.
pub fn buildable() -> Vec<Target> {
    Target::ALL.into_iter().filter(|t| t.builds()).collect()
}

/// Locks the requested targets; returns the lock file's path.
pub fn lock(req: &LockRequest, rep: &mut dyn Reporter) -> Result<PathBuf, Failure> {
    let matrix = match &req.which {
        Which::One(t) => Matrix::Only(vec![*t]),
        Which::Allowed => Matrix::Allowed,
        Which::All => Matrix::Only(buildable()),
    };
    let checked = check::check(
        req.file.as_deref(),
        matrix,
        req.keys.clone(),
        Want::Graphs,
        rep,
    )?;
    checked.require_clean(rep)?;
    let path = checked.path.clone();
    let mut targets = Vec::new();
    for t in &checked.targets {
        match t.unbuildable() {
            None => targets.push(*t),
            Some(why) if matches!(req.which, Which::One(_)) => {
                return Err(Failure::plain(super::failure::Exit::Errors, why));
            }
            Some(why) => rep.note(&format!("target {t} is not locked: {why}")),
        }
    }
    for s in &checked.skipped {
        rep.note(&format!(
            "target {} is not locked: the configuration does not support it",
            s.target
        ));
    }
    let fail = |e: Error| Failure::codegen(&e, &checked.sources);

    let lock_path = path_for(&path);
    let old = Lock::read(&lock_path).map_err(fail)?;
    let toolchain = lock::toolchain(path.parent().unwrap_or(Path::new("."))).map_err(fail)?;
    let mut new = match &old {
        Some(l) if l.config == config_name(&path) => l.clone(),
        _ => Lock::new(&config_name(&path), toolchain.clone()),
    };
    new.toolchain = toolchain;
    new.unikc = codegen::VERSION.to_string();
    for t in targets {
        let p = Project {
            file: Some(path.clone()),
            target: t,
            keys: req.keys.clone(),
            force: false,
        };
        let ready = configure::configure(&p, None, rep)?;
        let previous = new.targets.get(t.name()).filter(|_| !req.update);
        let (entry, fresh) =
            lock_target(&ready, previous, req.offline).map_err(|e| ready.fail(&e))?;
        if fresh {
            rep.status("Up to date", &format!("{} for {t}", ready.configured.name));
        } else {
            rep.status(
                "Locked",
                &format!(
                    "{} for {t}: {} crates",
                    ready.configured.name,
                    entry.crates.len()
                ),
            );
        }
        new.targets.insert(t.name().to_string(), entry);
    }
    match new.write(&lock_path).map_err(fail)? {
        true => rep.status("Wrote", &show(&lock_path)),
        false => rep.status("Unchanged", &show(&lock_path)),
    }
    Ok(lock_path)
}

/// Locks one configured target, keeping the versions of `previous` that
/// still fit; the flag says the entry was up to date already.
fn lock_target(
    ready: &Ready,
    previous: Option<&TargetLock>,
    offline: bool,
) -> Result<(TargetLock, bool), Error> {
    let c = &ready.configured;
    let inputs = inputs(ready)?;
    if let Some(prev) = previous
        && lock::changes(prev, &inputs, &ready.resolved, &c.project_dir).is_empty()
    {
        return Ok((prev.clone(), true));
    }
    seed(&c.out_dir, previous)?;
    codegen::cargo::update_lockfile(&c.out_dir, offline)?;
    Ok((entry_from_cargo(ready, inputs)?, false))
}
