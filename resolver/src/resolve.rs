//! `resolve`: one evaluated register, one target → a [`Resolved`] graph or
//! diagnostics.

use crate::graph::Graph;
pub use crate::input::Input;
use crate::model::*;
use crate::typing::Typer;
use crate::{bootargs, crates, keys};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::rc::Rc;
use unik_lang::Target;
use unik_lang::diag::{Diagnostic, Loc, SourceMap};
use unik_lang::eval::{DevType, Device, ImplDef, Register};

/// The result of [`resolve`].
pub struct Outcome {
    /// Present when there are no errors and `input.model` asked for it.
    pub resolved: Option<Resolved>,
    /// Errors and warnings, each naming the target.
    pub diagnostics: Vec<Diagnostic>,
    /// Every key any branch of the value declares or reads (for E0601).
    pub known_keys: BTreeSet<String>,
}

/// Type-checks the register (every branch), builds the device graph of the
/// target (chosen branches) and checks targets, keys and crate bounds.
pub fn resolve(input: &Input) -> Outcome {
    let typed = typecheck(input);
    if !typed.diagnostics.is_empty() {
        return typing_errors(input, &typed);
    }
    finish(input, &typed, &build(input, &mut Default::default()))
}

/// What one evaluated register gives every target that shares it (an
/// evaluation that never looked at the target): the typing, done once, and
/// the graph of each distinct set of choices. Targets that take the same
/// branches everywhere (hvt, spt, muen and genode, usually) have one graph,
/// built once; only the check of implementations against the target is
/// theirs alone.
pub struct Shared {
    typed: Typed,
    /// Per distinct choices: each choice's branch and where it was written
    /// (the graph's places depend on both).
    graphs: Vec<(Vec<(*const Device, Loc)>, Built)>,
    content_hashes: rustc_hash::FxHashMap<*const ImplDef, u64>,
}

/// [`resolve`] for one of several targets of one evaluated register.
pub fn resolve_shared(input: &Input, shared: &mut Option<Shared>) -> Outcome {
    let sh = match shared {
        // Errors are worded for the target (they name the branch it takes).
        Some(sh) if sh.typed.diagnostics.is_empty() => sh,
        _ => shared.insert(Shared {
            typed: typecheck(input),
            graphs: Vec::new(),
            content_hashes: Default::default(),
        }),
    };
    if !sh.typed.diagnostics.is_empty() {
        return typing_errors(input, &sh.typed);
    }
    let choices: Vec<(*const Device, Loc)> = sh
        .typed
        .typer
        .choices
        .iter()
        .map(|d| {
            let (c, at) = d.chosen_at(input.target).expect("a choice");
            (Rc::as_ptr(c), at)
        })
        .collect();
    let at = match sh.graphs.iter().position(|(c, _)| *c == choices) {
        Some(i) => i,
        None => {
            let built = build(input, &mut sh.content_hashes);
            sh.graphs.push((choices, built));
            sh.graphs.len() - 1
        }
    };
    finish(input, &sh.typed, &sh.graphs[at].1)
}

/// The typing of a register: every branch, so it is the same on every
/// target except for the wording of errors (which name the branch a
/// target takes). Clean typing can serve every target of one evaluation.
pub struct Typed {
    typer: Typer,
    /// Errors, in `input.target`'s wording; empty when the typing is clean.
    pub diagnostics: Vec<Diagnostic>,
    known_keys: BTreeSet<String>,
}

/// Types every device of the register (the first half of [`resolve`]).
pub fn typecheck(input: &Input) -> Typed {
    let reg = input.register;
    let catalogue: Vec<unik_lang::diag::FileId> = input
        .sources
        .files()
        .map(|(id, _)| id)
        .filter(|id| in_catalogue(input.sources, Loc::new(*id, Default::default())))
        .collect();
    let user = user_files(input);
    let mut typer = Typer::new(catalogue, user, input.target);
    let mut job_types = Vec::new();
    for job in &reg.jobs {
        job_types.push(typer.type_at(job, job.loc));
    }
    let reporter_ty = reg.reporter.as_ref().map(|r| typer.type_at(r, r.loc));
    let argv_ty = reg.argv.as_ref().map(|a| typer.type_at(a, a.loc));
    let mut diags = std::mem::take(&mut typer.diagnostics);
    for (job, ty) in reg.jobs.iter().zip(&job_types) {
        if let Some(t) = ty
            && !is_base(t, "job")
        {
            let mut d = Diagnostic::error(
                "E0303",
                format!("a registered job must have type `job`, this one has type `{t}`"),
            )
            .label(job.loc, format!("this is `{t}`"));
            d = match &**t {
                DevType::Fn(p, _) => d.help(format!(
                    "it is not fully applied: apply it to a `{p}` device with `$`"
                )),
                _ => d.help("register jobs (`foreign … (… @-> job)` applied to all its devices)"),
            };
            diags.push(d);
        }
    }
    for (what, dev, ty) in [
        ("reporter", &reg.reporter, &reporter_ty),
        ("argv", &reg.argv, &argv_ty),
    ] {
        if let (Some(dev), Some(Some(t))) = (dev, ty)
            && !is_base(t, what)
        {
            diags.push(
                Diagnostic::error(
                    "E0301",
                    format!("the register's `{what}` must have type `{what}`, found `{t}`"),
                )
                .label(dev.loc, format!("this is `{t}`"))
                .help(format!("use `default_{what}` or another `{what}` device")),
            );
        }
    }
    let mut known_keys: BTreeSet<String> =
        input.keys_read.iter().map(|k| k.name.to_string()).collect();
    known_keys.extend(typer.key_names());
    Typed {
        typer,
        diagnostics: diags,
        known_keys,
    }
}

fn typing_errors(input: &Input, typed: &Typed) -> Outcome {
    Outcome {
        resolved: None,
        diagnostics: with_target(typed.diagnostics.clone(), input.target),
        known_keys: typed.known_keys.clone(),
    }
}

/// The graph of the branches `input.target` takes, and what follows from
/// it alone (not from the target): duplicates, keys, crate bounds and the
/// resolved form.
struct Built {
    graph: Graph,
    /// Errors found in the graph.
    diagnostics: Vec<Diagnostic>,
    /// Warnings (W0301), which do not stop the resolved form.
    warnings: Vec<Diagnostic>,
    /// Present when there are none; its `target` is set per target.
    resolved: Option<Resolved>,
}

/// `content_hashes` carries the graph's implementation hashes from one
/// build to the next.
fn build(input: &Input, content_hashes: &mut rustc_hash::FxHashMap<*const ImplDef, u64>) -> Built {
    let reg = input.register;
    let mut diags = Vec::new();
    let mut graph = Graph::new(input.target);
    graph.content_hashes = std::mem::take(content_hashes);
    let jobs: Vec<NodeId> = reg.jobs.iter().map(|j| graph.node(j, None)).collect();
    let reporter = reg.reporter.as_ref().map(|r| graph.node(r, None));
    let argv = reg.argv.as_ref().map(|a| graph.node(a, None));
    let roots: Vec<NodeId> = jobs.iter().copied().chain(reporter).chain(argv).collect();
    graph.link_parents(&roots);
    *content_hashes = std::mem::take(&mut graph.content_hashes);

    check_duplicates(&graph, &jobs, reg, &mut diags);
    let keys = keys::collect(&graph, input, &mut diags);
    let crates = crates::merge(&graph, input.sources, &mut diags);
    let warnings = deprecations(&graph, input.sources);
    if !diags.is_empty() || !input.model {
        return Built {
            graph,
            diagnostics: diags,
            warnings,
            resolved: None,
        };
    }

    // Type names, printed once per implementation.
    let mut types: HashMap<*const ImplDef, (String, String)> = HashMap::new();
    let nodes: Vec<Node> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, raw)| build_node(i, raw, input, &crates, &mut types))
        .collect();
    let boot_cmdline = bootargs::join(
        &keys
            .runtime
            .iter()
            .filter_map(|k| {
                k.value
                    .as_ref()
                    .map(|v| format!("--{}={}", k.name, plain(v)))
            })
            .collect::<Vec<_>>(),
    );
    let resolved = Resolved {
        format: FORMAT_VERSION,
        name: reg.name.to_string(),
        target: input.target,
        nodes: nodes.into(),
        jobs,
        reporter,
        argv,
        crates: crates.reqs,
        runtime_keys: keys.runtime,
        configure_keys: keys.configure,
        boot_cmdline,
    };
    Built {
        graph,
        diagnostics: diags,
        warnings,
        resolved: Some(resolved),
    }
}

/// Checks the graph's implementations against `input.target` and gives the
/// target its outcome.
fn finish(input: &Input, typed: &Typed, built: &Built) -> Outcome {
    let mut diags = Vec::new();
    check_targets(&built.graph, &typed.typer, input, &mut diags);
    diags.extend(built.diagnostics.iter().cloned());
    let resolved = match &built.resolved {
        Some(r) if diags.is_empty() => Some(Resolved {
            target: input.target,
            ..r.clone()
        }),
        _ => None,
    };
    diags.extend(built.warnings.iter().cloned());
    Outcome {
        resolved,
        diagnostics: with_target(diags, input.target),
        known_keys: typed.known_keys.clone(),
    }
}

/// W0301 for each implementation of the graph whose definition says
/// `deprecated = "what to use instead";`, once per implementation.
fn deprecations(graph: &Graph, sources: &SourceMap) -> Vec<Diagnostic> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for n in &graph.nodes {
        let Some(serde_json::Value::String(instead)) = n.def.extra.get("deprecated") else {
            continue;
        };
        if !seen.insert(Rc::as_ptr(&n.def)) {
            continue;
        }
        // The argument it is passed as, else where the device was built.
        let used = match n.site {
            Some(s) if !in_catalogue(sources, s) => s,
            _ => used_at(sources, n),
        };
        let mut d = Diagnostic::warning(
            "W0301",
            format!("`{}` is deprecated: {instead}", n.def.name),
        )
        .label(used, "used here");
        if n.def.loc != used {
            d = d.label(n.def.loc, "marked `deprecated` here");
        }
        out.push(d);
    }
    out
}

fn is_base(t: &DevType, name: &str) -> bool {
    matches!(t, DevType::Base { name: n } if &**n == name)
}

/// A JSON scalar as it is written on a command line.
fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn with_target(mut diags: Vec<Diagnostic>, target: Target) -> Vec<Diagnostic> {
    for d in &mut diags {
        d.targets = vec![target.to_string()];
    }
    diags
}

/// The user's own files: those under the configuration's directory
/// (not the catalogue, not files imported from outside the project).
pub fn user_files(input: &Input) -> Vec<unik_lang::diag::FileId> {
    input
        .sources
        .files()
        .filter(|(id, f)| {
            f.path.starts_with(input.root_dir)
                && !in_catalogue(input.sources, Loc::new(*id, Default::default()))
        })
        .map(|(id, _)| id)
        .collect()
}

/// True for locations inside the embedded catalogue.
pub fn in_catalogue(sources: &SourceMap, loc: Loc) -> bool {
    // Catalogue files are loaded under the relative path `<stdlib>/…`.
    let path = sources.get(loc.file).path.as_os_str().as_encoded_bytes();
    path.strip_prefix(unik_stdlib::DIR.as_bytes())
        .is_some_and(|rest| rest.first() == Some(&b'/'))
}

/// Where a node shows in the configuration: where it was built if that is
/// in the user's files, else where it was passed, else where it was built.
pub fn used_at(sources: &SourceMap, n: &crate::graph::RawNode) -> Loc {
    if !in_catalogue(sources, n.built_at) {
        return n.built_at;
    }
    match n.site {
        Some(s) if !in_catalogue(sources, s) => s,
        _ => n.built_at,
    }
}

/// Where the user's configuration asks for node `id`: its own place if
/// that is in the user's files, else the nearest user ancestor's.
pub fn user_loc(graph: &Graph, sources: &SourceMap, id: NodeId) -> Option<Loc> {
    let mut cur = Some(id);
    let mut steps = 0;
    while let Some(c) = cur {
        let at = used_at(sources, &graph.nodes[c.0]);
        if !in_catalogue(sources, at) {
            return Some(at);
        }
        cur = graph.nodes[c.0].parent;
        steps += 1;
        if steps > graph.nodes.len() {
            break;
        }
    }
    None
}

fn check_targets(graph: &Graph, typer: &Typer, input: &Input, diags: &mut Vec<Diagnostic>) {
    let target = input.target;
    for (i, n) in graph.nodes.iter().enumerate() {
        let Some(ts) = &n.def.targets else { continue };
        if ts.contains(&target) {
            continue;
        }
        let id = NodeId(i);
        let name = &n.def.name;
        let mut d = Diagnostic::error("E0402", format!("`{name}` is not available on the target"));
        let here = used_at(input.sources, n);
        match user_loc(graph, input.sources, id) {
            Some(l) if l != here => {
                d = d.label(l, format!("this needs `{name}`"));
            }
            _ => d = d.label(here, format!("`{name}` is used here")),
        }
        d = d.label(
            n.def.loc,
            format!(
                "this implementation ({}) supports {}",
                n.def.module,
                ts.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
            ),
        );
        let everywhere = typer.available(name);
        d = if everywhere.is_empty() {
            d.help(format!("`{name}` is not available on any target"))
        } else {
            d.help(format!(
                "`{name}` is available on: {}",
                everywhere.join(", ")
            ))
        };
        let chain = graph.chain(id);
        if chain.len() > 1 {
            d = d.note(format!("required by {}", chain.join(" → ")));
        }
        diags.push(d);
    }
}

fn check_duplicates(graph: &Graph, jobs: &[NodeId], reg: &Register, diags: &mut Vec<Diagnostic>) {
    // One Rust item with two different types cannot be called both ways.
    let mut modules: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, n) in graph.nodes.iter().enumerate() {
        match modules.get(&*n.def.module) {
            None => {
                modules.insert(&n.def.module, i);
            }
            Some(&first) => {
                let f = &graph.nodes[first].def;
                if f.ty != n.def.ty {
                    diags.push(
                        Diagnostic::error(
                            "E0306",
                            format!("`{}` is declared twice with different types", n.def.module),
                        )
                        .label(n.def.ty_loc, format!("here with type `{}`", n.def.ty))
                        .label(f.ty_loc, format!("here with type `{}`", f.ty))
                        .help("one Rust item has one `start`/`connect` signature: use one declaration"),
                    );
                }
            }
        }
    }
    let mut seen: BTreeMap<NodeId, usize> = BTreeMap::new();
    for (i, j) in jobs.iter().enumerate() {
        if let Some(&first) = seen.get(j) {
            diags.push(
                Diagnostic::error(
                    "E0306",
                    format!(
                        "the job `{}` is registered twice",
                        graph.nodes[j.0].def.name
                    ),
                )
                .label(reg.jobs[i].loc, "registered again here")
                .label(reg.jobs[first].loc, "first registered here")
                .help("a job applied to the same devices is one job; remove one of them"),
            );
        } else {
            seen.insert(*j, i);
        }
    }
}

use crate::model::source_pos;

/// A Rust identifier from a device name: `hello::Hello` → `hello_hello`.
fn var_base(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('_') {
            s.push('_');
        }
    }
    let s = s.trim_matches('_').to_string();
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        format!("d{s}")
    } else {
        s
    }
}

fn build_node(
    i: usize,
    raw: &crate::graph::RawNode,
    input: &Input,
    crates: &crates::Merged,
    types: &mut HashMap<*const ImplDef, (String, String)>,
) -> Node {
    let def = &raw.def;
    // The typing pass checked these fields.
    let extra = crate::typing::extra_of(def).ok();
    // Every node is fully applied (arguments and dependencies are typed so),
    // so its type is the result of the implementation's type.
    let (impl_type, ty) = types
        .entry(Rc::as_ptr(def))
        .or_insert_with(|| (def.ty.to_string(), def.ty.unfold().1.to_string()))
        .clone();
    let embed_dir = extra.as_ref().and_then(|e| e.embed.as_ref()).map(|d| {
        let p = Path::new(d);
        let abs = if p.is_absolute() {
            p.to_path_buf()
        } else {
            input.root_dir.join(p)
        };
        unik_lang::path::normalize(&abs).display().to_string()
    });
    Node {
        id: NodeId(i),
        var: format!("{}_{i}", var_base(&def.name)),
        impl_name: def.name.to_string(),
        module: def.module.to_string(),
        impl_type,
        ty,
        foreign: def.foreign,
        args: raw.args.clone(),
        deps: raw.deps.clone(),
        connect: extra.as_ref().and_then(|e| e.connect.map(str::to_string)),
        params: extra
            .as_ref()
            .map(|e| {
                e.params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        embed_dir,
        host_device: extra
            .as_ref()
            .and_then(|e| e.device)
            .map(|(kind, name)| HostDevice {
                kind,
                name: name.to_string(),
            }),
        keys: {
            let mut k: Vec<String> = def.keys.iter().map(|k| k.name.to_string()).collect();
            k.sort();
            k.dedup();
            k
        },
        crates: crates.by_node.get(&NodeId(i)).cloned().unwrap_or_default(),
        doc: def.doc.to_string(),
        defined_at: source_pos(input.sources, def.loc),
        used_at: source_pos(input.sources, used_at(input.sources, raw)),
        defined_loc: def.loc,
        used_loc: used_at(input.sources, raw),
    }
}
