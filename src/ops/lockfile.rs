//! What a build does with `unik.lock` (the format is `unik_codegen::lock`):
//! check it (`--locked`: E0505 when missing, E0504 when out of date),
//! render the generated workspace's `Cargo.lock` from it, and record the
//! versions cargo chose after a build that was allowed to update it.

use super::configure::{Ready, show};
use super::report::Reporter;
use std::path::{Path, PathBuf};
use unik_codegen as codegen;
use unik_codegen::Error;
use unik_codegen::lock::{self, Lock, TargetLock, cargo_lock};

/// `unik.lock` beside a configuration file.
pub fn path_for(config: &Path) -> PathBuf {
    config
        .parent()
        .unwrap_or(Path::new("."))
        .join(lock::FILE_NAME)
}

pub fn config_name(config: &Path) -> String {
    config
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The configuration's inputs for the configured target.
pub fn inputs(ready: &Ready) -> Result<lock::Inputs, Error> {
    lock::inputs(
        &ready.configured.project_dir,
        ready.files.iter().map(|(p, t)| (p.as_path(), t.as_str())),
        &ready.resolved,
    )
}

/// Writes the workspace's `Cargo.lock` from a lock entry, or removes it
/// so that cargo resolves every version anew.
pub fn seed(out_dir: &Path, entry: Option<&TargetLock>) -> Result<(), Error> {
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
pub fn entry_from_cargo(ready: &Ready, inputs: lock::Inputs) -> Result<TargetLock, Error> {
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
/// `Cargo.lock` from it. With `locked` a missing lock is E0505 and an
/// out-of-date one E0504; without, an out-of-date entry is seeded with the
/// versions it has and cargo resolves the rest.
pub fn before_build(ready: &Ready, locked: bool, rep: &mut dyn Reporter) -> Result<Locking, Error> {
    let c = &ready.configured;
    let lock_path = path_for(&ready.config);
    let old = Lock::read(&lock_path)?;
    let inputs = inputs(ready)?;
    let toolchain = lock::toolchain(&c.project_dir)?;
    let shown = show(&lock_path);
    let name = config_name(&ready.config);
    let target = c.target.name();
    let entry = old
        .as_ref()
        .filter(|l| l.config == name)
        .and_then(|l| l.targets.get(target));
    let changes: Vec<String> = match (&old, entry) {
        (None, _) => vec![],
        (Some(l), _) if l.config != name => vec![format!(
            "the lock was written for `{}`, not `{name}`",
            l.config
        )],
        (Some(_), None) => vec![format!("the lock has no entry for target {target}")],
        (Some(_), Some(e)) => lock::changes(e, &inputs, &ready.resolved, &c.project_dir),
    };
    if let Some(l) = &old
        && l.toolchain != toolchain
    {
        rep.warning(&format!(
            "{shown} was written with rustc {} ({}), this is rustc {} ({}): the image may differ from one built with that toolchain",
            l.toolchain.rustc, l.toolchain.host, toolchain.rustc, toolchain.host
        ));
    }
    if locked {
        if old.is_none() {
            return Err(Error::new(
                "E0505",
                format!("{shown} is missing, and --locked/--frozen forbids creating it"),
            )
            .help(format!(
                "run `unikc lock -t {target}` (or build once without --locked), commit {}, then build with --locked",
                lock::FILE_NAME
            )));
        }
        if !changes.is_empty() {
            let mut e = Error::new(
                "E0504",
                format!(
                    "{shown} is out of date for target {target}, and --locked/--frozen forbids updating it"
                ),
            );
            for ch in &changes {
                e = e.note(ch.clone());
            }
            return Err(e.help(format!(
                "if the change is intended, run `unikc lock -t {target}` (or build without --locked) and commit {}",
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
/// lock was out of date.
pub fn after_build(ready: &Ready, locking: &Locking, rep: &mut dyn Reporter) -> Result<(), Error> {
    if !locking.record {
        return Ok(());
    }
    let c = &ready.configured;
    let lock_path = path_for(&ready.config);
    let name = config_name(&ready.config);
    let mut lock = match Lock::read(&lock_path)? {
        Some(l) if l.config == name => l,
        _ => Lock::new(&name, locking.toolchain.clone()),
    };
    let entry = entry_from_cargo(ready, locking.inputs.clone())?;
    rep.status(
        "Locked",
        &format!(
            "{} for {}: {} crates in {}",
            c.name,
            c.target,
            entry.crates.len(),
            show(&lock_path)
        ),
    );
    lock.targets.insert(c.target.name().to_string(), entry);
    lock.toolchain = locking.toolchain.clone();
    lock.unikc = codegen::VERSION.to_string();
    lock.write(&lock_path)?;
    Ok(())
}
