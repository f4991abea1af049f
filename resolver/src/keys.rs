//! Keys of the reachable devices: one definition per name (E0306),
//! configure values from the command line (E0602), required configure keys
//! (E0604), runtime keys for the boot command line.

use crate::graph::Graph;
use crate::input::Input;
use crate::model::{ConfigureKey, NodeId, RuntimeKey};
use std::collections::BTreeMap;
use std::rc::Rc;
use unik_lang::diag::Diagnostic;
use unik_lang::eval::{KeyDef, KeyValue, Stage};

pub struct Keys {
    pub runtime: Vec<RuntimeKey>,
    pub configure: Vec<ConfigureKey>,
}

fn json(v: &KeyValue) -> serde_json::Value {
    match v {
        KeyValue::Int(n) => (*n).into(),
        KeyValue::Bool(b) => (*b).into(),
        KeyValue::Str(s) => s.to_string().into(),
    }
}

/// Two definitions of one key agree when everything but the place does.
fn same(a: &KeyDef, b: &KeyDef) -> bool {
    a.name == b.name
        && a.ty == b.ty
        && a.default == b.default
        && a.stage == b.stage
        && a.values == b.values
        && a.doc == b.doc
}

fn bad_value(k: &KeyDef, value: &str) -> Diagnostic {
    Diagnostic::error(
        "E0602",
        format!(
            "invalid value `{value}` for key `{}`: expected {}",
            k.name,
            k.expected()
        ),
    )
    .label(k.loc, format!("`{}` is declared here", k.name))
    .help(format!("pass it as `--{}=<{}>`", k.name, k.expected()))
}

pub fn collect(graph: &Graph, input: &Input, diags: &mut Vec<Diagnostic>) -> Keys {
    let mut defs: BTreeMap<String, (Rc<KeyDef>, Vec<NodeId>)> = BTreeMap::new();
    let mut add = |k: &Rc<KeyDef>, node: Option<NodeId>, diags: &mut Vec<Diagnostic>| match defs
        .get_mut(&*k.name)
    {
        None => {
            defs.insert(k.name.to_string(), (k.clone(), node.into_iter().collect()));
        }
        Some((first, users)) => {
            if !Rc::ptr_eq(first, k) && !same(first, k) {
                let d = Diagnostic::error(
                    "E0306",
                    format!("two different keys are named `{}`", k.name),
                )
                .label(k.loc, "one is declared here")
                .label(first.loc, "another here")
                .help("key names are global: rename one, or share one `key` value");
                if !diags.contains(&d) {
                    diags.push(d);
                }
            } else if let Some(n) = node
                // Nodes come in order: a node is the last user or a new one.
                && users.last() != Some(&n)
            {
                users.push(n);
            }
        }
    };
    for (i, n) in graph.nodes.iter().enumerate() {
        for k in &n.def.keys {
            add(k, Some(NodeId(i)), diags);
        }
    }
    for k in input.keys_read {
        add(k, None, diags);
    }
    let mut runtime = Vec::new();
    let mut configure = Vec::new();
    for (name, (k, users)) in defs {
        let given = input.keys.get(&name);
        let parsed = match given {
            Some(s) => match k.parse(s) {
                Some(v) => Some(v),
                None => {
                    diags.push(bad_value(&k, s));
                    continue;
                }
            },
            None => None,
        };
        match k.stage {
            Stage::Runtime => runtime.push(RuntimeKey {
                name,
                ty: k.ty.as_str().to_string(),
                default: k.default.as_ref().map(json),
                value: parsed.as_ref().map(json),
                doc: k.doc.to_string(),
                used_by: users,
            }),
            Stage::Configure => {
                let value = match (&parsed, &k.default) {
                    (Some(v), _) => json(v),
                    (None, Some(d)) => json(d),
                    (None, None) => {
                        diags.push(
                            Diagnostic::error("E0604", format!("key `{name}` has no value"))
                                .label(k.loc, "declared here without a default")
                                .help(format!("pass it as `--{name}=<{}>`", k.expected())),
                        );
                        continue;
                    }
                };
                configure.push(ConfigureKey {
                    name,
                    ty: k.ty.as_str().to_string(),
                    value,
                    from_command_line: parsed.is_some(),
                    doc: k.doc.to_string(),
                });
            }
        }
    }
    Keys { runtime, configure }
}
