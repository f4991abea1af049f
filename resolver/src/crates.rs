//! Crate requirements of the reachable devices, merged per crate: the
//! greatest minimum (inclusive) and the least maximum (exclusive), features
//! unioned. An empty intersection is E0502, listing every bound with where
//! it was written and the device chain that required it; a bound that is
//! not a version is E0501; two different pins are E0503.

use crate::graph::Graph;
use crate::model::{BoundSource, CrateReq, NodeId, PinReq};
use crate::resolve::source_pos;
use semver::Version;
use std::collections::{BTreeMap, BTreeSet};
use unik_lang::diag::{Diagnostic, Loc, SourceMap};
use unik_lang::eval::{Package, Pin};

pub struct Merged {
    pub reqs: Vec<CrateReq>,
    pub by_node: BTreeMap<NodeId, Vec<String>>,
}

struct Bound {
    min: Option<Version>,
    max: Option<Version>,
    loc: Loc,
    node: NodeId,
}

#[derive(Default)]
struct Acc {
    bounds: Vec<Bound>,
    features: BTreeSet<String>,
    pins: Vec<(Pin, Loc)>,
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

fn range(min: &Option<Version>, max: &Option<Version>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!(">={a}, <{b}"),
        (Some(a), None) => format!(">={a}"),
        (None, Some(b)) => format!("<{b}"),
        (None, None) => "*".into(),
    }
}

pub fn merge(graph: &Graph, sources: &SourceMap, diags: &mut Vec<Diagnostic>) -> Merged {
    let mut accs: BTreeMap<String, Acc> = BTreeMap::new();
    let mut by_node: BTreeMap<NodeId, Vec<String>> = BTreeMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        let node = NodeId(i);
        for p in &n.def.packages {
            let names = by_node.entry(node).or_default();
            if !names.iter().any(|x| x == &*p.name) {
                names.push(p.name.to_string());
                names.sort();
            }
            let acc = accs.entry(p.name.to_string()).or_default();
            acc.features
                .extend(p.features.iter().map(|f| f.to_string()));
            if let Some(pin) = &p.pin {
                acc.pins.push((pin.clone(), p.loc));
            }
            let min = version(p, "min", &p.min, diags);
            let max = version(p, "max", &p.max, diags);
            let (Ok(min), Ok(max)) = (min, max) else {
                acc.invalid = true;
                continue;
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
                    .help(
                        "`min` is inclusive and `max` exclusive: `max` must be greater than `min`",
                    ),
                );
                acc.invalid = true;
                continue;
            }
            acc.sources.push(BoundSource {
                min: min.as_ref().map(|v| v.to_string()),
                max: max.as_ref().map(|v| v.to_string()),
                at: source_pos(sources, p.loc),
                node,
                chain: graph.chain(node),
            });
            acc.bounds.push(Bound {
                min,
                max,
                loc: p.loc,
                node,
            });
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
            diags.push(conflict(&name, &acc, (lo, lb), (hi, hb), graph, sources));
            continue;
        }
        let mut pins: Vec<&(Pin, Loc)> = Vec::new();
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
                d = d.label(*loc, format!("pinned to {}", pin_text(pin)));
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
            pin: pins.first().map(|(p, _)| match p {
                Pin::Path(path) => PinReq::Path {
                    path: path.to_string(),
                },
                Pin::Git { url, rev } => PinReq::Git {
                    git: url.to_string(),
                    rev: rev.to_string(),
                },
            }),
            sources: acc.sources,
            name,
        });
    }
    Merged { reqs, by_node }
}

fn pin_text(p: &Pin) -> String {
    match p {
        Pin::Path(path) => format!("path `{path}`"),
        Pin::Git { url, rev } => format!("git `{url}` at `{rev}`"),
    }
}

fn conflict(
    name: &str,
    acc: &Acc,
    (lo, lb): (&Version, &Bound),
    (hi, hb): (&Version, &Bound),
    graph: &Graph,
    sources: &SourceMap,
) -> Diagnostic {
    let dev = |b: &Bound| graph.nodes[b.node.0].def.name.to_string();
    let mut d = Diagnostic::error(
        "E0502",
        format!("the version bounds of crate `{name}` cannot be satisfied together"),
    );
    // One label per `package` written, naming every device that uses it;
    // the bounds that clash come first.
    let mut order: Vec<&Bound> = vec![lb, hb];
    for b in &acc.bounds {
        if !order.iter().any(|o| std::ptr::eq(*o, b)) {
            order.push(b);
        }
    }
    let mut labelled: Vec<(Loc, Vec<String>, String)> = Vec::new();
    for b in order {
        let r = range(&b.min, &b.max);
        match labelled.iter_mut().find(|(l, _, _)| *l == b.loc) {
            Some((_, devs, _)) => {
                let n = dev(b);
                if !devs.contains(&n) {
                    devs.push(n);
                }
            }
            None => labelled.push((b.loc, vec![dev(b)], r)),
        }
    }
    for (loc, devs, r) in &labelled {
        d = d.label(*loc, format!("`{r}` for {}", devs.join(", ")));
    }
    for s in &acc.sources {
        let r = range(
            &s.min
                .as_deref()
                .map(|v| Version::parse(v).expect("parsed before")),
            &s.max
                .as_deref()
                .map(|v| Version::parse(v).expect("parsed before")),
        );
        d = d.note(format!(
            "`{r}` at {}:{}:{}, required by {}",
            s.at.file,
            s.at.line,
            s.at.column,
            s.chain.join(" → ")
        ));
    }
    let _ = sources;
    d.help(format!(
        "`{}` needs at least {lo} but `{}` needs below {hi}: no version satisfies both; change one device's bounds or use another device",
        dev(lb),
        dev(hb)
    ))
}
