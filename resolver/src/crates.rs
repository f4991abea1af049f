//! Crate requirements of the reachable devices, merged per crate: the
//! greatest minimum (inclusive) and the least maximum (exclusive), features
//! unioned. An empty intersection is E0502, listing every bound with where
//! it was written and the device chain that required it; a bound that is
//! not a version is E0501; two different pins are E0503.

use crate::graph::Graph;
use crate::model::source_pos;
use crate::model::{BoundSource, CrateReq, NodeId, PinReq};
use rustc_hash::FxHashMap;
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::rc::Rc;
use unik_lang::diag::{Diagnostic, Loc, SourceMap};
use unik_lang::eval::{Package, Pin};

/// A `package` as written: place, min and max.
type BoundKey = (Loc, Option<Rc<str>>, Option<Rc<str>>);

pub struct Merged {
    pub reqs: Vec<CrateReq>,
    pub by_node: BTreeMap<NodeId, Vec<String>>,
}

struct Bound {
    min: Option<Version>,
    max: Option<Version>,
    loc: Loc,
    /// The devices that use this `package`, in graph order.
    nodes: Vec<NodeId>,
}

#[derive(Default)]
struct Acc {
    bounds: Vec<Bound>,
    features: BTreeSet<String>,
    /// Resolved (a path pin made absolute), so two pins are the same
    /// source exactly when they name the same place.
    pins: Vec<(PinReq, Loc)>,
    sources: Vec<BoundSource>,
    invalid: bool,
}

fn version(
    p: &Package,
    which: &str,
    text: &Option<std::rc::Rc<str>>,
    diags: &mut Vec<Diagnostic>,
) -> Result<Option<Version>, ()> {
    let Some(t) = text else { return Ok(None) };
    match Version::parse(t) {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            let mut d = Diagnostic::error(
                "E0501",
                format!("`{which}` of package `{}` is not a version: `{t}`", p.name),
            )
            .label(p.loc, format!("{e}"));
            d = if t.split('.').count() < 3 && t.split('.').all(|s| s.parse::<u64>().is_ok()) {
                let padded = format!("{t}{}", ".0".repeat(3 - t.split('.').count()));
                d.help(format!("write a full semantic version: `{padded}`"))
            } else {
                d.help("versions are `MAJOR.MINOR.PATCH`, e.g. `1.5.0`")
            };
            diags.push(d);
            Err(())
        }
    }
}

/// The range of one `package`, or `None` after reporting E0501.
fn parse_range(
    p: &Package,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Option<Version>, Option<Version>)> {
    let min = version(p, "min", &p.min, diags);
    let max = version(p, "max", &p.max, diags);
    let (Ok(min), Ok(max)) = (min, max) else {
        return None;
    };
    if let (Some(a), Some(b)) = (&min, &max)
        && a >= b
    {
        diags.push(
            Diagnostic::error(
                "E0501",
                format!(
                    "package `{}` asks for an empty range: min {a} is not below max {b}",
                    p.name
                ),
            )
            .label(p.loc, "this bound admits no version")
            .help("`min` is inclusive and `max` exclusive: `max` must be greater than `min`"),
        );
        return None;
    }
    Some((min, max))
}

fn range(min: &Option<Version>, max: &Option<Version>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!(">={a}, <{b}"),
        (Some(a), None) => format!(">={a}"),
        (None, Some(b)) => format!("<{b}"),
        (None, None) => "*".into(),
    }
}

pub fn merge(graph: &Graph, sources: &SourceMap, diags: &mut Vec<Diagnostic>) -> Merged {
    let mut accs: BTreeMap<Rc<str>, Acc> = BTreeMap::new();
    let mut by_node: BTreeMap<NodeId, Vec<String>> = BTreeMap::new();
    // Parsed once per package value; `None` when it is invalid.
    type Parsed = Option<(Option<Version>, Option<Version>)>;
    let mut parsed: FxHashMap<*const Package, Parsed> = FxHashMap::default();
    // One bound per `package` written (place and range), whatever the
    // number of devices that use it.
    let mut bound_of: FxHashMap<BoundKey, usize> = FxHashMap::default();
    for (i, n) in graph.nodes.iter().enumerate() {
        let node = NodeId(i);
        if !n.def.packages.is_empty() {
            let mut names: Vec<String> =
                n.def.packages.iter().map(|p| p.name.to_string()).collect();
            names.sort();
            names.dedup();
            by_node.insert(node, names);
        }
        for p in &n.def.packages {
            let acc = accs.entry(p.name.clone()).or_default();
            for f in &p.features {
                if !acc.features.contains(&**f) {
                    acc.features.insert(f.to_string());
                }
            }
            if let Some(pin) = &p.pin {
                let pin = pin_req(sources, p.loc, pin);
                if !acc.pins.iter().any(|(q, l)| *q == pin && *l == p.loc) {
                    acc.pins.push((pin, p.loc));
                }
            }
            let range = parsed
                .entry(Rc::as_ptr(p))
                .or_insert_with(|| parse_range(p, diags))
                .clone();
            let Some((min, max)) = range else {
                acc.invalid = true;
                continue;
            };
            let key = (p.loc, p.min.clone(), p.max.clone());
            match bound_of.get(&key) {
                Some(&b) => {
                    if acc.bounds[b].nodes.last() != Some(&node) {
                        acc.bounds[b].nodes.push(node);
                    }
                }
                None => {
                    bound_of.insert(key, acc.bounds.len());
                    acc.sources.push(BoundSource {
                        min: min.as_ref().map(|v| v.to_string()),
                        max: max.as_ref().map(|v| v.to_string()),
                        at: source_pos(sources, p.loc),
                        loc: p.loc,
                        node,
                        chain: graph.chain(node),
                    });
                    acc.bounds.push(Bound {
                        min,
                        max,
                        loc: p.loc,
                        nodes: vec![node],
                    });
                }
            }
        }
    }
    let mut reqs = Vec::new();
    for (name, acc) in accs {
        if acc.invalid {
            continue;
        }
        let lower = acc
            .bounds
            .iter()
            .filter_map(|b| b.min.as_ref().map(|v| (v, b)))
            .max_by(|a, b| a.0.cmp(b.0));
        let upper = acc
            .bounds
            .iter()
            .filter_map(|b| b.max.as_ref().map(|v| (v, b)))
            .min_by(|a, b| a.0.cmp(b.0));
        if let (Some((lo, lb)), Some((hi, hb))) = (lower, upper)
            && lo >= hi
        {
            diags.push(conflict(&name, &acc, (lo, lb), (hi, hb), graph));
            continue;
        }
        let mut pins: Vec<&(PinReq, Loc)> = Vec::new();
        for p in &acc.pins {
            if !pins.iter().any(|q| q.0 == p.0) {
                pins.push(p);
            }
        }
        if pins.len() > 1 {
            let mut d = Diagnostic::error(
                "E0503",
                format!(
                    "crate `{name}` is pinned to {} different sources",
                    pins.len()
                ),
            );
            for (pin, loc) in &pins {
                d = d.label(*loc, format!("pinned to {}", pin_text(sources, *loc, pin)));
            }
            d = d.help("pin a crate in one place, or pin every use to the same source");
            diags.push(d);
            continue;
        }
        let min = lower.map(|(v, _)| v.clone());
        let max = upper.map(|(v, _)| v.clone());
        reqs.push(CrateReq {
            req: range(&min, &max),
            min: min.map(|v| v.to_string()),
            max: max.map(|v| v.to_string()),
            features: acc.features.into_iter().collect(),
            pin: pins.first().map(|(p, _)| p.clone()),
            sources: acc.sources,
            name: name.to_string(),
        });
    }
    Merged { reqs, by_node }
}

/// A pin as the build sees it. A path pin is made absolute against the
/// directory of the file that declared the `package` (a path literal
/// already is, against the file it is written in), so an imported file's
/// pins mean the same wherever it is imported from.
fn pin_req(sources: &SourceMap, loc: Loc, pin: &Pin) -> PinReq {
    match pin {
        Pin::Path(path) => {
            let p = Path::new(&**path);
            let declared_in = &sources.get(loc.file).path;
            let path = match declared_in.parent() {
                Some(dir) if !p.is_absolute() && declared_in.is_absolute() => {
                    unik_lang::eval::normalize(&dir.join(p))
                        .display()
                        .to_string()
                }
                _ => path.to_string(),
            };
            PinReq::Path { path }
        }
        Pin::Git { url, rev } => PinReq::Git {
            git: url.to_string(),
            rev: rev.to_string(),
        },
    }
}

/// A pin in a message: a path relative to the file that declared it, as
/// it would be written there (the same on every machine), unless the two
/// share nothing but the root.
fn pin_text(sources: &SourceMap, loc: Loc, p: &PinReq) -> String {
    match p {
        PinReq::Path { path } => {
            let path = Path::new(path);
            let declared_in = &sources.get(loc.file).path;
            let shown = match declared_in.parent() {
                Some(dir)
                    if path.is_absolute()
                        && dir.components().nth(1).is_some()
                        && dir.components().nth(1) == path.components().nth(1) =>
                {
                    unik_lang::eval::relative(dir, path)
                }
                _ => path.display().to_string(),
            };
            format!("path `{shown}`")
        }
        PinReq::Git { git, rev } => format!("git `{git}` at `{rev}`"),
    }
}

/// The devices using a bound, by name: a few, then how many more.
fn devices(graph: &Graph, b: &Bound) -> String {
    let mut names: Vec<&str> = Vec::new();
    for n in &b.nodes {
        let name = &*graph.nodes[n.0].def.name;
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.len() > 3 {
        let more = names.len() - 3;
        format!("{} and {more} more", names[..3].join(", "))
    } else {
        names.join(", ")
    }
}

fn conflict(
    name: &str,
    acc: &Acc,
    (lo, lb): (&Version, &Bound),
    (hi, hb): (&Version, &Bound),
    graph: &Graph,
) -> Diagnostic {
    let first = |b: &Bound| graph.nodes[b.nodes[0].0].def.name.to_string();
    let mut d = Diagnostic::error(
        "E0502",
        format!("the version bounds of crate `{name}` cannot be satisfied together"),
    );
    // One label per `package` written, the two that clash first.
    let mut order: Vec<&Bound> = vec![lb];
    if !std::ptr::eq(lb, hb) {
        order.push(hb);
    }
    for b in &acc.bounds {
        if !order.iter().any(|o| std::ptr::eq(*o, b)) {
            order.push(b);
        }
    }
    for b in order {
        d = d.label(
            b.loc,
            format!("`{}` for {}", range(&b.min, &b.max), devices(graph, b)),
        );
    }
    for (s, b) in acc.sources.iter().zip(&acc.bounds) {
        d = d.note(format!(
            "`{}` at {}:{}:{}, required by {}",
            range(&b.min, &b.max),
            s.at.file,
            s.at.line,
            s.at.column,
            s.chain.join(" → ")
        ));
    }
    d.help(format!(
        "`{}` needs at least {lo} but `{}` needs below {hi}: no version satisfies both; change one device's bounds or use another device",
        first(lb),
        first(hb)
    ))
}
