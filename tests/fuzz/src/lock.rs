//! The lock-file readers: `unik.lock` (`Lock::parse`) and the generated workspaces'
//! `Cargo.lock` (`cargo_lock::parse`). First byte `C`: the input is a Cargo.lock; `F`: a
//! unik.lock whose integrity hash the harness recomputes first, so that mutations reach the
//! field checks behind it; otherwise a unik.lock as is. Whatever parses must render and parse
//! back to the same value.

use sha2::{Digest, Sha256};
use unik_codegen::lock::{Lock, Toolchain, cargo_lock};

pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match mode {
        b'C' => {
            if let Ok(l) = cargo_lock::parse(text) {
                let again = cargo_lock::parse(&cargo_lock::render(&l))
                    .expect("a rendered Cargo.lock parses");
                assert_eq!(l, again);
            }
        }
        b'F' => {
            if let Some(fixed) = with_integrity(text) {
                unik_lock(&fixed);
            }
        }
        _ => unik_lock(text),
    }
}

fn unik_lock(text: &str) {
    if let Ok(l) = Lock::parse(text) {
        let again = Lock::parse(&l.render()).expect("a rendered unik.lock parses");
        assert_eq!(l, again);
    }
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let mut e: Vec<_> = m.into_iter().collect();
            e.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(e.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        serde_json::Value::Array(a) => {
            serde_json::Value::Array(a.into_iter().map(sorted).collect())
        }
        other => other,
    }
}

/// The text with its `integrity` field set to the hash of the rest (as the lock writer
/// computes it: SHA-256 of the sorted, pretty-printed JSON and a newline).
pub fn with_integrity(text: &str) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(text).ok()?;
    let m = v.as_object_mut()?;
    m.remove("integrity");
    let mut canon = serde_json::to_string_pretty(&sorted(v.clone())).ok()?;
    canon.push('\n');
    let sum: String = Sha256::digest(canon.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    v.as_object_mut()?.insert(
        "integrity".into(),
        serde_json::Value::String(format!("sha256:{sum}")),
    );
    serde_json::to_string_pretty(&v).ok()
}

/// A lock as unikc writes it, with one target (a seed).
pub fn sample() -> String {
    let mut l = Lock::new(
        "config.unik",
        Toolchain {
            rustc: "1.95.0".into(),
            commit_hash: "abc".into(),
            commit_date: "2026-03-21".into(),
            host: "x86_64-unknown-linux-gnu".into(),
            llvm: "20.1.8".into(),
            cargo: "cargo 1.95.0 (def 2026-03-10)".into(),
        },
    );
    let mut v: serde_json::Value = serde_json::from_str(&l.render()).unwrap();
    let target = serde_json::json!({
        "inputs": {
            "files": { "config.unik": "00".repeat(32) },
            "catalogue": "11".repeat(32),
            "runtime": "22".repeat(32),
            "keys": {}
        },
        "graph": [{
            "node": "console_0", "implementation": "default_console",
            "module": "unik_unix::console", "ty": "console", "args": [], "deps": [],
            "crates": ["unik-unix"]
        }],
        "crates": [{
            "name": "libc", "version": "0.2.177",
            "source": "registry+https://github.com/rust-lang/crates.io-index",
            "checksum": "33".repeat(32), "dependencies": [],
            "original": { "req": ">=0.2.0, <0.3.0", "features": [], "pin": null,
                "required_by": [{ "min": "0.2.0", "max": "0.3.0", "at": "config.unik:3:5",
                    "chain": ["hello::Hello"] }] }
        }],
        "cargo_lock_version": 4
    });
    v["targets"]["unix"] = target;
    let text = with_integrity(&v.to_string()).unwrap();
    // Prefer the writer's own rendering when the hand-made target is accepted.
    if let Ok(parsed) = Lock::parse(&text) {
        l = parsed;
        return format!("F{}", l.render());
    }
    format!("F{text}")
}
