//! `unikc lock`, and what `unikc build` does with `unik.lock`: check it
//! (`--locked`: E0505 when missing, E0504 when out of date), render the
//! generated workspace's `Cargo.lock` from it, and record what changed
//! after a build that was allowed to update it. The format is
//! `unik_codegen::lock`.

use crate::driver;
use crate::project::{self, BuildFlags, Project, Ready};
use crate::{EXIT_ERRORS, EXIT_OK};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_codegen as codegen;
use unik_codegen::Error;
use unik_codegen::lock::{self, Lock, TargetLock, cargo_lock};
use unik_lang::eval::TARGETS;
use unik_resolver::session::Matrix;

/// Which targets `unikc lock` locks.
pub enum Which {
    /// One target.
    One(String),
    /// Those the configuration allows and unikc can build.
    Allowed,
    /// Every target unikc can build; the configuration must allow each.
    All,
}

/// `unik.lock` beside a configuration file.
pub fn path_for(config: &Path) -> PathBuf {
    config
        .parent()
        .unwrap_or(Path::new("."))
        .join(lock::FILE_NAME)
}

fn config_name(config: &Path) -> String {
    config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The targets codegen can build, in the order of the language's list.
pub fn buildable() -> Vec<&'static str> {
    TARGETS
        .iter()
        .copied()
        .filter(|t| codegen::target::lookup(t).is_ok())
        .collect()
}

/// `unikc lock [FILE] [-t T | --all-targets] [--offline] [--update]`.
pub fn run(
    file: Option<PathBuf>,
    which: Which,
    keys: BTreeMap<String, String>,
    offline: bool,
    update: bool,
) -> u8 {
    let buildable = buildable();
    let matrix = match &which {
        Which::One(t) => Matrix::Only(vec![t.clone()]),
        Which::Allowed => Matrix::Allowed,
        Which::All => Matrix::Only(buildable.iter().map(|t| t.to_string()).collect()),
    };
    let (path, checked) = match driver::check_config(
        file.as_deref(),
        matrix,
        keys.clone(),
        driver::Want::Graphs,
        false,
    ) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if checked.errors() > 0 {
        return EXIT_ERRORS;
    }
    let mut targets = Vec::new();
    for t in &checked.targets {
        if buildable.contains(&t.as_str()) {
            targets.push(t.clone());
        } else {
            let e = codegen::target::lookup(t)
                .err()
                .map(|e| e.message)
                .unwrap_or_default();
            if matches!(which, Which::One(_)) {
                eprintln!("error: {e}");
                return EXIT_ERRORS;
            }
            eprintln!("note: target {t} is not locked: {e}");
        }
    }
    for s in &checked.skipped {
        eprintln!(
            "note: target {} is not locked: the configuration does not support it",
            s.target
        );
    }

    let lock_path = path_for(&path);
    let old = match Lock::read(&lock_path) {
        Ok(l) => l,
        Err(e) => return project::report(&e, &checked.sources),
    };
    let toolchain = match lock::toolchain(path.parent().unwrap_or(Path::new("."))) {
        Ok(t) => t,
        Err(e) => return project::report(&e, &checked.sources),
    };
    let mut new = match &old {
        Some(l) if l.config == config_name(&path) => l.clone(),
        _ => Lock::new(&config_name(&path), toolchain.clone()),
    };
    new.toolchain = toolchain;
    new.unikc = codegen::VERSION.to_string();
    for t in targets {
        let p = Project {
            file: Some(path.clone()),
            target: t.clone(),
            keys: keys.clone(),
            force: false,
        };
        let ready = match project::prepare(&p, None) {
            Ok(r) => r,
            Err(code) => return code,
        };
        let previous = new.targets.get(&t).filter(|_| !update);
        let result = lock_target(&ready, previous, offline);
        match result {
            Ok((entry, fresh)) => {
                if fresh {
                    eprintln!("  Up to date {} for {t}", ready.configured.name);
                } else {
                    eprintln!(
                        "      Locked {} for {t}: {} crates",
                        ready.configured.name,
                        entry.crates.len()
                    );
                }
                new.targets.insert(t, entry);
            }
            Err(e) => return project::report(&e, &checked.sources),
        }
    }
    match new.write(&lock_path) {
        Ok(true) => eprintln!("       Wrote {}", project::show(&lock_path)),
        Ok(false) => eprintln!("   Unchanged {}", project::show(&lock_path)),
        Err(e) => return project::report(&e, &checked.sources),
    }
    EXIT_OK
}

/// The configuration's inputs for the configured target.
fn inputs(ready: &Ready) -> Result<lock::Inputs, Error> {
    lock::inputs(
        &ready.configured.project_dir,
        ready.files.iter().map(|(p, t)| (p.as_path(), t.as_str())),
        &ready.resolved,
    )
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

/// Writes the workspace's `Cargo.lock` from a lock entry, or removes it
/// so that cargo resolves every version anew.
fn seed(out_dir: &Path, entry: Option<&TargetLock>) -> Result<(), Error> {
    let path = out_dir.join("Cargo.lock");
    match entry {
        Some(e) => {
            let text = cargo_lock::render(&e.cargo_lock());
            if std::fs::read(&path).is_ok_and(|old| old == text.as_bytes()) {
                return Ok(());
            }
            codegen::output::atomic_write(&path, text.as_bytes())
        }
        None => match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::plain(format!(
                "cannot remove {}: {e}",
                path.display()
            ))),
        },
    }
}

/// The lock entry of the `Cargo.lock` cargo left in the workspace.
fn entry_from_cargo(ready: &Ready, inputs: lock::Inputs) -> Result<TargetLock, Error> {
    let c = &ready.configured;
    let path = c.out_dir.join("Cargo.lock");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::plain(format!("cannot read {}: {e}", path.display())))?;
    let cargo = cargo_lock::parse(&text)
        .map_err(|e| Error::plain(format!("cannot read {}: {e}", path.display())))?;
    Ok(lock::target_entry(
        &ready.resolved,
        &c.project_dir,
        &c.package,
        c.user_crate.as_ref().map(|u| u.package.as_str()),
        inputs,
        &cargo,
    ))
}

/// What the build does with the lock.
pub struct Locking {
    /// Run cargo with `--locked` (the `Cargo.lock` is the lock's).
    pub cargo_locked: bool,
    /// After a successful build, record cargo's `Cargo.lock` in `unik.lock`.
    pub record: bool,
    pub inputs: lock::Inputs,
    pub toolchain: lock::Toolchain,
}

/// Before `cargo build`: checks the lock and writes the workspace's
/// `Cargo.lock` from it. With `--locked` a missing lock is E0505 and an
/// out-of-date one E0504; without, an out-of-date entry is seeded with the
/// versions it has and cargo resolves the rest.
pub fn before_build(ready: &Ready, flags: &BuildFlags) -> Result<Locking, Error> {
    let c = &ready.configured;
    let lock_path = path_for(&ready.config);
    let old = Lock::read(&lock_path)?;
    let inputs = inputs(ready)?;
    let toolchain = lock::toolchain(&c.project_dir)?;
    let shown = project::show(&lock_path);
    let name = config_name(&ready.config);
    let entry = old
        .as_ref()
        .filter(|l| l.config == name)
        .and_then(|l| l.targets.get(&c.target));
    let changes: Vec<String> = match (&old, entry) {
        (None, _) => vec![],
        (Some(l), _) if l.config != name => vec![format!(
            "the lock was written for `{}`, not `{name}`",
            l.config
        )],
        (Some(_), None) => vec![format!("the lock has no entry for target {}", c.target)],
        (Some(_), Some(e)) => lock::changes(e, &inputs, &ready.resolved, &c.project_dir),
    };
    if let Some(l) = &old
        && l.toolchain != toolchain
    {
        eprintln!(
            "warning: {shown} was written with rustc {} ({}), this is rustc {} ({}): the image may differ from one built with that toolchain",
            l.toolchain.rustc, l.toolchain.host, toolchain.rustc, toolchain.host
        );
    }
    if flags.locked {
        if old.is_none() {
            return Err(Error::new(
                "E0505",
                format!("{shown} is missing, and --locked/--frozen forbids creating it"),
            )
            .help(format!(
                "run `unikc lock -t {}` (or build once without --locked), commit {}, then build with --locked",
                c.target,
                lock::FILE_NAME
            )));
        }
        if !changes.is_empty() {
            let mut e = Error::new(
                "E0504",
                format!(
                    "{shown} is out of date for target {}, and --locked/--frozen forbids updating it",
                    c.target
                ),
            );
            for ch in &changes {
                e = e.note(ch.clone());
            }
            return Err(e.help(format!(
                "if the change is intended, run `unikc lock -t {}` (or build without --locked) and commit {}",
                c.target,
                lock::FILE_NAME
            )));
        }
    }
    seed(&c.out_dir, entry)?;
    Ok(Locking {
        cargo_locked: changes.is_empty() && entry.is_some(),
        record: !(changes.is_empty() && entry.is_some()),
        inputs,
        toolchain,
    })
}

/// After a successful build: records the versions cargo chose when the
/// lock was out of date, then writes `dist/NAME.TARGET.build.json`.
pub fn after_build(
    ready: &Ready,
    locking: &Locking,
    flags: &BuildFlags,
    image: &Path,
) -> Result<(), Error> {
    let c = &ready.configured;
    let lock_path = path_for(&ready.config);
    if locking.record {
        let name = config_name(&ready.config);
        let mut lock = match Lock::read(&lock_path)? {
            Some(l) if l.config == name => l,
            _ => Lock::new(&name, locking.toolchain.clone()),
        };
        let entry = entry_from_cargo(ready, locking.inputs.clone())?;
        eprintln!(
            "      Locked {} for {}: {} crates in {}",
            c.name,
            c.target,
            entry.crates.len(),
            project::show(&lock_path)
        );
        lock.targets.insert(c.target.clone(), entry);
        lock.toolchain = locking.toolchain.clone();
        lock.unikc = codegen::VERSION.to_string();
        lock.write(&lock_path)?;
    }
    crate::repro::record(ready, locking, flags, &lock_path, image)
}
