//! Printing a [`Resolved`] graph: a text tree, Graphviz dot, or JSON. Every
//! form is a pure function of the graph, so output is deterministic.

use crate::model::{Node, NodeId, Resolved};
use std::fmt::Write;

/// The JSON form (`unikc describe --json`): the model, pretty-printed.
pub fn json(g: &Resolved) -> String {
    let mut s = serde_json::to_string_pretty(g).expect("the model serialises");
    s.push('\n');
    s
}

fn label(n: &Node) -> String {
    let mut s = n.impl_name.clone();
    if !n.params.is_empty() {
        let ps: Vec<String> = n.params.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        let _ = write!(s, " {{ {} }}", ps.join(", "));
    }
    s
}

/// A tree per job; a device already printed is shown again by name only.
pub fn text(g: &Resolved) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} for {}", g.name, g.target);
    let mut shown = vec![false; g.nodes.len()];
    let _ = writeln!(out, "\njobs:");
    if g.jobs.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    let roots: Vec<(&str, NodeId)> = g
        .jobs
        .iter()
        .map(|j| ("", *j))
        .chain(g.reporter.map(|r| ("reporter: ", r)))
        .chain(g.argv.map(|a| ("argv: ", a)))
        .collect();
    for (prefix, r) in roots {
        tree(g, r, prefix, "  ", "  ", &mut shown, &mut out);
    }
    if !g.configure_keys.is_empty() {
        let _ = writeln!(out, "\nconfigure keys:");
        for k in &g.configure_keys {
            let from = if k.from_command_line {
                "command line"
            } else {
                "default"
            };
            let _ = writeln!(out, "  --{}={} ({from})", k.name, plain(&k.value));
        }
    }
    if !g.runtime_keys.is_empty() {
        let _ = writeln!(out, "\nruntime keys:");
        for k in &g.runtime_keys {
            let default = match &k.default {
                Some(d) => format!("default {}", plain(d)),
                None => "required".into(),
            };
            let value = match &k.value {
                Some(v) => format!(", boot value {}", plain(v)),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "  --{} : {} ({default}{value}) {}",
                k.name, k.ty, k.doc
            );
        }
    }
    if !g.boot_cmdline.is_empty() {
        let _ = writeln!(out, "\nboot command line: {}", g.boot_cmdline);
    }
    let _ = writeln!(out, "\ncrates:");
    if g.crates.is_empty() {
        let _ = writeln!(out, "  (none)");
    }
    for c in &g.crates {
        let mut line = format!("  {} {}", c.name, c.req);
        if !c.features.is_empty() {
            let _ = write!(line, " features [{}]", c.features.join(", "));
        }
        if let Some(p) = &c.pin {
            let _ = write!(
                line,
                " pinned {}",
                serde_json::to_string(p).unwrap_or_default()
            );
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tree(
    g: &Resolved,
    id: NodeId,
    prefix: &str,
    first: &str,
    rest: &str,
    shown: &mut [bool],
    out: &mut String,
) {
    stacker::maybe_grow(crate::typing::RED_ZONE, crate::typing::STACK_STEP, || {
        tree_at(g, id, prefix, first, rest, shown, out)
    })
}

fn tree_at(
    g: &Resolved,
    id: NodeId,
    prefix: &str,
    first: &str,
    rest: &str,
    shown: &mut [bool],
    out: &mut String,
) {
    let n = &g.nodes[id.0];
    if shown[id.0] {
        let _ = writeln!(out, "{first}{prefix}{} (see above)", n.var);
        return;
    }
    shown[id.0] = true;
    let _ = writeln!(
        out,
        "{first}{prefix}{} = {} : {}  [{}]  {}:{}",
        n.var,
        label(n),
        n.ty,
        n.module,
        n.used_at.file,
        n.used_at.line
    );
    let children: Vec<(String, NodeId)> = n
        .args
        .iter()
        .map(|a| (String::new(), *a))
        .chain(n.deps.iter().map(|d| ("dep: ".to_string(), *d)))
        .collect();
    let count = children.len();
    for (i, (p, c)) in children.into_iter().enumerate() {
        let last = i + 1 == count;
        let (f, r) = if last {
            ("└─ ", "   ")
        } else {
            ("├─ ", "│  ")
        };
        tree(
            g,
            c,
            &p,
            &format!("{rest}{f}"),
            &format!("{rest}{r}"),
            shown,
            out,
        );
    }
}

fn dot_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Graphviz: devices are boxes (jobs bold), an edge goes from a functor to
/// each argument (labelled with its position) and, dashed, to each data
/// dependency.
pub fn dot(g: &Resolved) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "digraph {} {{",
        dot_string(&format!("{}-{}", g.name, g.target))
    );
    let _ = writeln!(out, "  rankdir=BT;");
    let _ = writeln!(out, "  node [shape=box, fontname=\"monospace\"];");
    for n in g.nodes.iter() {
        let text = format!("{}\n{}\n{} : {}", n.var, label(n), n.module, n.ty);
        let style = if g.jobs.contains(&n.id) {
            ", style=bold"
        } else {
            ""
        };
        let _ = writeln!(out, "  n{} [label={}{style}];", n.id.0, dot_string(&text));
    }
    for n in g.nodes.iter() {
        for (i, a) in n.args.iter().enumerate() {
            let _ = writeln!(out, "  n{} -> n{} [label=\"{i}\"];", n.id.0, a.0);
        }
        for d in &n.deps {
            let _ = writeln!(out, "  n{} -> n{} [style=dashed];", n.id.0, d.0);
        }
    }
    let _ = writeln!(out, "}}");
    out
}
