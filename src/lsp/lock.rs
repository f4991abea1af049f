//! Locked crate versions from `unik.lock` beside a configuration, for hover
//! and inlay hints. The lock is read by codegen's lock module, the format's
//! one reader: a lock it refuses (another format, a broken integrity hash)
//! gives no hints, and the check reports why (E0506).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use unik_codegen::lock::{FILE_NAME, Lock};

/// Crate name → every version locked for it (one per target at most).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Locked(pub BTreeMap<String, BTreeSet<String>>);

impl Locked {
    /// The lock beside `config`, if there is a usable one.
    pub fn beside(config: &Path) -> Locked {
        match config.parent().map(|dir| Lock::read(&dir.join(FILE_NAME))) {
            Some(Ok(Some(lock))) => Locked::of(&lock),
            _ => Locked::default(),
        }
    }

    /// Every crate of every target of `lock`.
    pub fn of(lock: &Lock) -> Locked {
        let mut out = Locked::default();
        for c in lock.targets.values().flat_map(|t| &t.crates) {
            out.0
                .entry(c.name.clone())
                .or_default()
                .insert(c.version.clone());
        }
        out
    }

    /// `1.5.0`, or `1.5.0, 1.6.0` when targets lock different versions.
    pub fn version(&self, name: &str) -> Option<String> {
        let vs = self.0.get(name)?;
        Some(vs.iter().cloned().collect::<Vec<_>>().join(", "))
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use unik_codegen::lock::{Inputs, LockedCrate, TargetLock, Toolchain};

    /// A valid `unik.lock` locking `crates` (name, version) per target.
    pub fn lock_text(per_target: &[(&str, &[(&str, &str)])]) -> String {
        let toolchain = Toolchain {
            rustc: "1.95.0".into(),
            commit_hash: "0".into(),
            commit_date: "2026-01-01".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            llvm: "20".into(),
            cargo: "cargo 1.95.0".into(),
        };
        let mut lock = Lock::new("config.unik", toolchain);
        for (target, crates) in per_target {
            let crates = crates
                .iter()
                .map(|(name, version)| LockedCrate {
                    name: name.to_string(),
                    version: version.to_string(),
                    source: "registry+https://github.com/rust-lang/crates.io-index".into(),
                    checksum: None,
                    dependencies: Vec::new(),
                    original: None,
                })
                .collect();
            let inputs = Inputs {
                files: BTreeMap::new(),
                catalogue: String::new(),
                runtime: String::new(),
                keys: BTreeMap::new(),
            };
            let entry = TargetLock {
                inputs,
                graph: Vec::new(),
                crates,
                unused_patches: Vec::new(),
                cargo_lock_version: 4,
            };
            lock.targets.insert(target.to_string(), entry);
        }
        lock.render()
    }

    #[test]
    fn versions_per_target_from_a_real_lock() {
        let text = lock_text(&[
            ("unix", &[("bytes", "1.10.1"), ("unik-rt", "0.1.0")]),
            ("hvt", &[("bytes", "1.9.0")]),
        ]);
        let l = Locked::of(&Lock::parse(&text).expect("a valid lock"));
        assert_eq!(l.version("bytes").as_deref(), Some("1.10.1, 1.9.0"));
        assert_eq!(l.version("unik-rt").as_deref(), Some("0.1.0"));
        assert_eq!(l.version("unix"), None);
    }

    #[test]
    fn a_lock_codegen_refuses_gives_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.unik");
        let good = lock_text(&[("unix", &[("bytes", "1.10.1")])]);
        std::fs::write(dir.path().join(FILE_NAME), &good).expect("write");
        assert_eq!(
            Locked::beside(&config).version("bytes").as_deref(),
            Some("1.10.1")
        );
        // Edited by hand: the integrity hash no longer matches.
        let edited = good.replace("1.10.1", "1.10.2");
        std::fs::write(dir.path().join(FILE_NAME), edited).expect("write");
        assert_eq!(Locked::beside(&config), Locked::default());
        // The shapes the server used to guess at are not locks.
        let toml = "version = 1\n[[target]]\nname = \"unix\"\n[[target.crate]]\nname = \"bytes\"\nversion = \"1.10.1\"\n";
        std::fs::write(dir.path().join(FILE_NAME), toml).expect("write");
        assert_eq!(Locked::beside(&config), Locked::default());
    }
}
