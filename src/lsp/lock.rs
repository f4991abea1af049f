//! Locked crate versions from `unik.lock` beside a configuration, for hover
//! and inlay hints. The file is read tolerantly (JSON or TOML, any layout):
//! every table with a string `name` and a string `version` is a locked
//! crate. A missing or unreadable lock simply gives no hints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Crate name → every version locked for it (one per target at most).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Locked(pub BTreeMap<String, BTreeSet<String>>);

impl Locked {
    /// The lock beside `config`, if there is a readable one.
    pub fn beside(config: &Path) -> Locked {
        let Some(dir) = config.parent() else {
            return Locked::default();
        };
        match std::fs::read_to_string(dir.join("unik.lock")) {
            Ok(text) => Locked::parse(&text),
            Err(_) => Locked::default(),
        }
    }

    pub fn parse(text: &str) -> Locked {
        let value = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .or_else(|| {
                let t: toml::Value = toml::from_str(text).ok()?;
                serde_json::to_value(t).ok()
            });
        let mut out = Locked::default();
        if let Some(v) = value {
            collect(&v, &mut out.0);
        }
        out
    }

    /// `1.5.0`, or `1.5.0, 1.6.0` when targets lock different versions.
    pub fn version(&self, name: &str) -> Option<String> {
        let vs = self.0.get(name)?;
        Some(vs.iter().cloned().collect::<Vec<_>>().join(", "))
    }
}

fn collect(v: &serde_json::Value, out: &mut BTreeMap<String, BTreeSet<String>>) {
    match v {
        serde_json::Value::Object(map) => {
            if let (Some(serde_json::Value::String(n)), Some(serde_json::Value::String(ver))) =
                (map.get("name"), map.get("version"))
            {
                out.entry(n.clone()).or_default().insert(ver.clone());
            }
            map.values().for_each(|c| collect(c, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|c| collect(c, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_json_layouts() {
        let toml = r#"
version = 1
[[target]]
name = "unix"
[[target.crate]]
name = "bytes"
version = "1.10.1"
[[target.crate]]
name = "unik-rt"
version = "0.1.0"
"#;
        let l = Locked::parse(toml);
        assert_eq!(l.version("bytes").as_deref(), Some("1.10.1"));
        assert_eq!(l.version("unix"), None);
        let json = r#"{"targets":{"unix":{"crates":[{"name":"bytes","version":"1.10.1"}]},
                       "hvt":{"crates":[{"name":"bytes","version":"1.9.0"}]}}}"#;
        assert_eq!(
            Locked::parse(json).version("bytes").as_deref(),
            Some("1.10.1, 1.9.0")
        );
        assert_eq!(Locked::parse("not a lock {").0.len(), 0);
    }
}
