//! The catalogue reference (the book's "Device catalogue" chapter),
//! generated from the catalogue's `##` doc comments and from evaluating
//! each entry (or its `## Example:`) on every target.

use crate::graph::Graph;
use crate::session::load_catalogue;
use crate::typing::Typer;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;
use std::rc::Rc;
use unik_lang::diag::SourceMap;
use unik_lang::eval::{Evaluator, KeyValue, ModuleArena, Options, Package, Stage, Stop, Value};
use unik_stdlib::Entry;

/// What one entry is on one target.
#[derive(Clone, PartialEq, Eq)]
enum Facts {
    /// A device type, with its name (`arpv4_t` is the type `arpv4`).
    Type(String),
    Function,
    Key(String),
    Package(String),
    /// A device: its type and, per target, a row.
    Device {
        ty: String,
        /// The parameters' and the result's type names (`a @-> b` is `([a], b)`).
        sig: (Vec<String>, String),
        row: Row,
    },
    Other(&'static str),
}

#[derive(Clone, PartialEq, Eq)]
enum Row {
    Unavailable(Vec<String>),
    Available {
        implementation: String,
        module: String,
        crates: Vec<String>,
        keys: Vec<String>,
    },
}

fn key_text(k: &unik_lang::eval::KeyDef) -> String {
    let stage = match k.stage {
        Stage::Configure => "configure",
        Stage::Runtime => "boot",
    };
    let default = match &k.default {
        Some(KeyValue::Str(s)) => format!(", default `\"{s}\"`"),
        Some(v) => format!(", default `{v}`"),
        None => ", required".into(),
    };
    let values = if k.values.is_empty() {
        String::new()
    } else {
        format!(
            ", one of {}",
            k.values
                .iter()
                .map(|v| format!("`{v}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    format!(
        "`--{}` ({stage}, {}{default}{values})",
        k.name,
        k.ty.as_str()
    )
}

/// The facts of an entry on a target, and the packages of the devices it
/// pulls in there.
fn facts(
    ev: &Evaluator,
    entry: &Entry,
    index: usize,
    target: unik_lang::Target,
) -> Result<(Facts, Vec<Rc<Package>>), String> {
    let expr = entry.example.clone().unwrap_or_else(|| entry.name.clone());
    let path = PathBuf::from(format!("/{}/reference-{index}.unik", unik_stdlib::DIR));
    let before = ev.keys_read().len();
    let (_, v) = ev.eval_root(&path, &expr);
    let fail = |s: Stop| match s {
        Stop::Error(d) => format!("`{}` on {target}: {} ({})", entry.name, d.message, d.code),
        Stop::Poison => format!("`{}` on {target}: syntax error in `{expr}`", entry.name),
    };
    let v = v.map_err(fail)?;
    let mut packages = Vec::new();
    let facts = match v {
        Value::Type(t) => Facts::Type(t.to_string()),
        Value::Lambda(_) | Value::Builtin(_) => Facts::Function,
        Value::Key(k) => Facts::Key(key_text(&k)),
        Value::Package(p) => Facts::Package(format!(
            "`{}` `{}`",
            p.name,
            match (&p.min, &p.max) {
                (Some(a), Some(b)) => format!(">={a}, <{b}"),
                (Some(a), None) => format!(">={a}"),
                (None, Some(b)) => format!("<{b}"),
                (None, None) => "*".into(),
            }
        )),
        Value::Device(d) => {
            let mut typer = Typer::new(Vec::new(), Vec::new(), target);
            let Some(ty) = typer.type_of(&d) else {
                let msgs: Vec<String> = typer
                    .diagnostics
                    .iter()
                    .map(|d| d.message.clone())
                    .collect();
                return Err(format!("`{}` on {target}: {}", entry.name, msgs.join("; ")));
            };
            let mut graph = Graph::new(target);
            let root = graph.node(&d, None);
            for n in &graph.nodes {
                if n.def.doc.trim().is_empty() {
                    return Err(format!(
                        "implementation `{}` (through `{}`) has no `doc`",
                        n.def.name, entry.name
                    ));
                }
                packages.extend(n.def.packages.iter().cloned());
            }
            let missing: Vec<String> = graph
                .nodes
                .iter()
                .filter(|n| {
                    n.def
                        .targets
                        .as_ref()
                        .is_some_and(|ts| !ts.contains(&target))
                })
                .map(|n| n.def.name.to_string())
                .collect();
            let row = if !missing.is_empty() {
                Row::Unavailable(missing)
            } else {
                let sources = ev.sources.borrow().clone();
                let mut diags = Vec::new();
                let merged = crate::crates::merge(&graph, &sources, &mut diags);
                if !diags.is_empty() {
                    let msgs: Vec<String> = diags.iter().map(|d| d.message.clone()).collect();
                    return Err(format!("`{}` on {target}: {}", entry.name, msgs.join("; ")));
                }
                let mut keys: BTreeSet<String> = BTreeSet::new();
                for n in &graph.nodes {
                    keys.extend(n.def.keys.iter().map(|k| format!("`--{}`", k.name)));
                }
                for k in &ev.keys_read()[before..] {
                    keys.insert(format!("`--{}`", k.name));
                }
                let head = &graph.nodes[root.0].def;
                Row::Available {
                    implementation: head.name.to_string(),
                    module: head.module.to_string(),
                    crates: merged
                        .reqs
                        .iter()
                        .map(|c| format!("{} {}", c.name, c.req))
                        .collect(),
                    keys: keys.into_iter().collect(),
                }
            };
            let (params, result) = ty.unfold();
            Facts::Device {
                ty: ty.to_string(),
                sig: (
                    params.iter().map(|p| p.to_string()).collect(),
                    result.to_string(),
                ),
                row,
            }
        }
        Value::List(_) => Facts::Other("list"),
        Value::Attrs(_) => Facts::Other("attribute set"),
        _ => Facts::Other("value"),
    };
    Ok((facts, packages))
}

type Survey = Vec<Vec<(Facts, Vec<Rc<Package>>)>>;

/// Evaluates every entry on every target: `survey[entry][target]`.
fn survey(entries: &[Entry]) -> Result<Survey, String> {
    let mut all: Survey = vec![Vec::new(); entries.len()];
    for target in unik_lang::Target::ALL {
        let arena = ModuleArena::new();
        let ev = Evaluator::with_sources(&arena, Options::new(target), SourceMap::new());
        load_catalogue(&ev).map_err(|s| match s {
            Stop::Error(d) => format!(
                "the catalogue does not load on {target}: {} ({})",
                d.message, d.code
            ),
            Stop::Poison => format!("the catalogue has a syntax error ({target})"),
        })?;
        let errors: Vec<String> = ev
            .diagnostics
            .borrow()
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect();
        if !errors.is_empty() {
            return Err(format!("the catalogue has errors: {}", errors.join("; ")));
        }
        for (i, e) in entries.iter().enumerate() {
            all[i].push(facts(&ev, e, i, target)?);
        }
    }
    Ok(all)
}

/// One crate bound written in the catalogue, and an entry that uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueBound {
    pub min: Option<String>,
    pub max: Option<String>,
    /// The catalogue entry (and target) through which it was found.
    pub entry: String,
    pub target: String,
}

/// Every crate bound of every device of the catalogue on every target, per
/// crate name. Codegen checks the bundled runtime's versions against these,
/// and a test checks that each crate's bounds have a common version.
pub fn crate_bounds() -> Result<BTreeMap<String, Vec<CatalogueBound>>, String> {
    let entries = unik_stdlib::entries();
    let all = survey(&entries)?;
    let mut out: BTreeMap<String, Vec<CatalogueBound>> = BTreeMap::new();
    for (e, per_target) in entries.iter().zip(&all) {
        for (t, (_, packages)) in unik_lang::Target::NAMES.iter().zip(per_target) {
            for p in packages {
                let b = CatalogueBound {
                    min: p.min.as_deref().map(str::to_string),
                    max: p.max.as_deref().map(str::to_string),
                    entry: e.name.clone(),
                    target: t.to_string(),
                };
                let list = out.entry(p.name.to_string()).or_default();
                if !list.iter().any(|x| x.min == b.min && x.max == b.max) {
                    list.push(b);
                }
            }
        }
    }
    Ok(out)
}

/// One catalogue device available on one target: what a configuration
/// writes to use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceUse {
    /// The entry's name.
    pub entry: String,
    /// The expression naming the device (the entry, or its `## Example:`).
    pub expr: String,
    pub target: unik_lang::Target,
    /// The global names of its parameters' types (empty for a device that
    /// is not a functor), as a configuration spells them (`arpv4_t`).
    pub params: Vec<String>,
    /// The global name of its result type.
    pub result: String,
    /// The implementation the target gets and its Rust module.
    pub implementation: String,
    pub module: String,
}

/// Every device entry of the catalogue on every target where it is
/// available, from evaluating the catalogue (not from a list kept by hand).
pub fn uses() -> Result<Vec<DeviceUse>, String> {
    let entries = unik_stdlib::entries();
    let all = survey(&entries)?;
    // Type name → the first global bound to it (`arpv4` → `arpv4_t`).
    let mut names: BTreeMap<String, String> = BTreeMap::new();
    for (e, per_target) in entries.iter().zip(&all) {
        if let Some((Facts::Type(t), _)) = per_target.first() {
            names.entry(t.clone()).or_insert_with(|| e.name.clone());
        }
    }
    let global = |t: &str| names.get(t).cloned().unwrap_or_else(|| t.to_string());
    let mut out = Vec::new();
    for (e, per_target) in entries.iter().zip(&all) {
        for (target, (f, _)) in unik_lang::Target::ALL.iter().zip(per_target) {
            let Facts::Device {
                sig: (params, result),
                row:
                    Row::Available {
                        implementation,
                        module,
                        ..
                    },
                ..
            } = f
            else {
                continue;
            };
            out.push(DeviceUse {
                entry: e.name.clone(),
                expr: e.example.clone().unwrap_or_else(|| e.name.clone()),
                target: *target,
                params: params.iter().map(|p| global(p)).collect(),
                result: global(result),
                implementation: implementation.clone(),
                module: module.clone(),
            });
        }
    }
    Ok(out)
}

/// Generates the catalogue reference as Markdown.
pub fn reference() -> Result<String, String> {
    let entries = unik_stdlib::entries();
    let all: Vec<Vec<Facts>> = survey(&entries)?
        .into_iter()
        .map(|per_target| per_target.into_iter().map(|(f, _)| f).collect())
        .collect();
    let mut out = String::new();
    out.push_str("# Device catalogue\n\n");
    out.push_str(
        "<!-- Generated by `unikc describe --catalogue` from the `##` comments of \
         stdlib-devices/catalogue/*.unik. Do not edit: a test compares this file with \
         the generator's output. -->\n\n",
    );
    out.push_str(
        "Every name below is global in every configuration. Device values are listed \
         with the implementation each target gets, its Rust module, the crates it \
         needs (bounds merged over the devices it pulls in) and the keys it reads. \
         A target marked *not available* fails with E0402 there. Functions are shown \
         through an example application.\n",
    );
    let mut current_file = "";
    let mut in_type_table = false;
    for (i, e) in entries.iter().enumerate() {
        if e.file != current_file {
            current_file = e.file;
            in_type_table = false;
            let text = unik_stdlib::FILES
                .iter()
                .find(|(f, _)| *f == e.file)
                .map(|(_, t)| *t)
                .unwrap_or("");
            let _ = write!(out, "\n## {}\n\n{}\n", e.file, unik_stdlib::file_doc(text));
        }
        let facts = &all[i];
        // Device types are one table.
        if matches!(facts[0], Facts::Type(_)) {
            if !in_type_table {
                out.push_str("\n| type | what |\n|---|---|\n");
                in_type_table = true;
            }
            let doc = e.doc.split_whitespace().collect::<Vec<_>>().join(" ");
            let _ = writeln!(out, "| `{}` | {} |", e.name, doc.replace('|', "\\|"));
            continue;
        }
        in_type_table = false;
        let _ = write!(out, "\n### `{}`\n\n{}\n", e.name, e.doc.trim());
        if let Some(ex) = &e.example {
            let _ = write!(out, "\n*Example:* `{ex}`\n");
        }
        match &facts[0] {
            Facts::Type(_) => {}
            Facts::Function => {
                return Err(format!(
                    "`{}` is a function without an `## Example:` line",
                    e.name
                ));
            }
            Facts::Key(k) => {
                let _ = write!(out, "\n*Key:* {k}\n");
            }
            Facts::Package(p) => {
                let _ = write!(out, "\n*Crate:* {p}\n");
            }
            Facts::Other(kind) => {
                let _ = write!(out, "\n*A catalogue {kind}.*\n");
            }
            Facts::Device { ty, .. } => {
                let _ = write!(out, "\n*Type:* `{ty}`\n\n");
                out.push_str("| targets | implementation | module | crates | keys |\n|---|---|---|---|---|\n");
                // Consecutive targets with the same row share one line.
                let mut groups: Vec<(Vec<&str>, &Row)> = Vec::new();
                for (t, f) in unik_lang::Target::NAMES.iter().zip(facts) {
                    let Facts::Device { row, .. } = f else {
                        return Err(format!("`{}` is not a device on every target", e.name));
                    };
                    match groups.iter_mut().find(|(_, r)| *r == row) {
                        Some((ts, _)) => ts.push(t),
                        None => groups.push((vec![t], row)),
                    }
                }
                for (ts, row) in groups {
                    let targets = ts.join(", ");
                    match row {
                        Row::Unavailable(missing) => {
                            let _ = writeln!(
                                out,
                                "| {targets} | *not available* ({}) | | | |",
                                missing
                                    .iter()
                                    .map(|m| format!("`{m}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            );
                        }
                        Row::Available {
                            implementation,
                            module,
                            crates,
                            keys,
                        } => {
                            let _ = writeln!(
                                out,
                                "| {targets} | `{implementation}` | `{module}` | {} | {} |",
                                crates.join("<br>"),
                                if keys.is_empty() {
                                    "—".to_string()
                                } else {
                                    keys.join(" ")
                                }
                            );
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}
