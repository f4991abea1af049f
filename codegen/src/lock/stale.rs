//! Whether a target's lock entry still describes the configuration, and
//! if not, what changed, in words (E0504 lists them).

use super::entry::{graph, originals};
use super::{GraphNode, Inputs, Original, Pin, TargetLock};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use unik_resolver::Resolved;

/// At most this many differences of one kind are listed.
const SHOWN: usize = 5;

/// Every difference between `old` and the configuration now (`inputs`,
/// `resolved`); empty when the entry is up to date.
pub fn changes(
    old: &TargetLock,
    inputs: &Inputs,
    resolved: &Resolved,
    project_dir: &Path,
) -> Vec<String> {
    let mut out = Vec::new();
    input_changes(&old.inputs, inputs, &mut out);
    graph_changes(&old.graph, &graph(resolved), &mut out);
    let was: BTreeMap<&str, (&Original, &str)> = old
        .crates
        .iter()
        .filter_map(|c| Some((c.name.as_str(), (c.original.as_ref()?, c.version.as_str()))))
        .collect();
    bound_changes(&was, &originals(resolved, project_dir), &mut out);
    out
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

fn input_changes(old: &Inputs, new: &Inputs, out: &mut Vec<String>) {
    let what = |path: &str| {
        if path == "Cargo.toml" {
            format!("`{path}` (the user crate's manifest)")
        } else if path.ends_with("/Cargo.toml") {
            format!("`{path}` (a pinned crate's manifest)")
        } else {
            format!("`{path}`")
        }
    };
    let paths: BTreeSet<&String> = old.files.keys().chain(new.files.keys()).collect();
    for p in paths {
        match (old.files.get(p), new.files.get(p)) {
            (Some(a), Some(b)) if a != b => out.push(format!(
                "input {} changed (sha256 {} → {})",
                what(p),
                short(a),
                short(b)
            )),
            (None, Some(_)) => out.push(format!("input {} is new", what(p))),
            (Some(_), None) => out.push(format!("input {} is no longer read", what(p))),
            _ => {}
        }
    }
    if old.catalogue != new.catalogue {
        out.push(format!(
            "the device catalogue changed (sha256 {} → {}): this unikc is not the one that wrote the lock",
            short(&old.catalogue),
            short(&new.catalogue)
        ));
    }
    if old.runtime != new.runtime {
        out.push(format!(
            "the bundled runtime changed (digest {} → {}): this unikc is not the one that wrote the lock",
            short(&old.runtime),
            short(&new.runtime)
        ));
    }
    let keys: BTreeSet<&String> = old.keys.keys().chain(new.keys.keys()).collect();
    for k in keys {
        match (old.keys.get(k), new.keys.get(k)) {
            (Some(a), Some(b)) if a != b => {
                out.push(format!("configure key `--{k}` changed: {a} → {b}"))
            }
            (None, Some(b)) => out.push(format!(
                "configure key `--{k}={b}` is new on the command line"
            )),
            (Some(a), None) => out.push(format!(
                "configure key `--{k}` is no longer on the command line (it was {a})"
            )),
            _ => {}
        }
    }
}

fn graph_changes(old: &[GraphNode], new: &[GraphNode], out: &mut Vec<String>) {
    if old == new {
        return;
    }
    let index = |g: &[GraphNode]| -> BTreeMap<String, GraphNode> {
        g.iter().map(|n| (n.node.clone(), n.clone())).collect()
    };
    let (a, b) = (index(old), index(new));
    let mut lines = Vec::new();
    for (k, n) in &b {
        match a.get(k) {
            None => lines.push(format!("device `{k}` ({}) is new", n.implementation)),
            Some(o) if o.implementation != n.implementation => lines.push(format!(
                "device `{k}` is now {} (was {})",
                n.implementation, o.implementation
            )),
            Some(o) if o != n => lines.push(format!("device `{k}` ({}) changed", n.implementation)),
            _ => {}
        }
    }
    for (k, o) in &a {
        if !b.contains_key(k) {
            lines.push(format!("device `{k}` ({}) is gone", o.implementation));
        }
    }
    if lines.is_empty() {
        lines.push("the order of the devices changed".into());
    }
    push_some(out, "the device graph changed: ", lines);
}

fn bound_changes(
    old: &BTreeMap<&str, (&Original, &str)>,
    new: &BTreeMap<String, Original>,
    out: &mut Vec<String>,
) {
    let mut lines = Vec::new();
    for (name, n) in new {
        let by = n
            .required_by
            .first()
            .map(|r| format!(" by {} ({})", r.chain.join(" > "), r.at))
            .unwrap_or_default();
        let Some((o, locked)) = old.get(name.as_str()) else {
            lines.push(format!("crate `{name}` {} is now required{by}", n.req));
            continue;
        };
        if o.req != n.req {
            let fits = match (
                semver::VersionReq::parse(&n.req),
                semver::Version::parse(locked),
            ) {
                (Ok(r), Ok(v)) => r.matches(&v),
                _ => false,
            };
            lines.push(format!(
                "the bound of crate `{name}` changed from `{}` to `{}`{by}; the locked {locked} {}",
                o.req,
                n.req,
                if fits {
                    "still satisfies it"
                } else {
                    "does not satisfy it"
                }
            ));
        }
        if o.features != n.features {
            lines.push(format!(
                "the features of crate `{name}` changed from [{}] to [{}]",
                o.features.join(", "),
                n.features.join(", ")
            ));
        }
        if o.pin != n.pin {
            lines.push(format!(
                "the pin of crate `{name}` changed from {} to {}",
                pin_text(o.pin.as_ref()),
                pin_text(n.pin.as_ref())
            ));
        }
        if o.pin == n.pin
            && o.req == n.req
            && o.features == n.features
            && o.required_by != n.required_by
        {
            lines.push(format!("the devices requiring crate `{name}` changed"));
        }
    }
    for name in old.keys() {
        if !new.contains_key(*name) {
            lines.push(format!("crate `{name}` is no longer required"));
        }
    }
    push_some(out, "", lines);
}

fn pin_text(p: Option<&Pin>) -> String {
    match p {
        None => "none".into(),
        Some(Pin::Path { path }) => format!("path `{path}`"),
        Some(Pin::Git { git, rev }) => format!("git `{git}` at `{rev}`"),
    }
}

/// The first [`SHOWN`] lines, then how many more.
fn push_some(out: &mut Vec<String>, prefix: &str, lines: Vec<String>) {
    let more = lines.len().saturating_sub(SHOWN);
    for l in lines.into_iter().take(SHOWN) {
        out.push(format!("{prefix}{l}"));
    }
    if more > 0 {
        out.push(format!("{prefix}and {more} more"));
    }
}
