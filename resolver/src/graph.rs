//! The device DAG of one target: chosen branches only, fully applied
//! devices as nodes, hash-consed so that one device used twice (or built
//! twice from equal parts) is one node. Nodes are numbered in post-order,
//! which is a dependency order.

use crate::model::NodeId;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;
use std::rc::Rc;
use unik_lang::diag::Loc;
use unik_lang::eval::{Device, DeviceKind, ImplDef, Package, Pin};

/// What an edge of the graph means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Functor argument number N.
    Arg(usize),
    /// Data dependency number N.
    Dep(usize),
}

/// One node before it becomes a [`crate::model::Node`].
pub struct RawNode {
    pub def: Rc<ImplDef>,
    pub args: Vec<NodeId>,
    pub deps: Vec<NodeId>,
    /// Where the (outermost) device value was built.
    pub built_at: Loc,
    /// Where it was first passed as an argument (the argument expression).
    pub site: Option<Loc>,
    /// A node using this one on a shortest path from a root (see
    /// [`Graph::link_parents`]); None for roots.
    pub parent: Option<NodeId>,
}

pub struct Graph {
    pub nodes: Vec<RawNode>,
    /// Edges from a node to its arguments and dependencies.
    pub dag: DiGraph<NodeId, Edge>,
    by_ptr: HashMap<*const Device, NodeId>,
    by_parts: HashMap<(usize, Vec<NodeId>), NodeId>,
    impl_ids: HashMap<*const ImplDef, usize>,
    impl_sigs: HashMap<String, usize>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph {
            nodes: Vec::new(),
            dag: DiGraph::new(),
            by_ptr: HashMap::new(),
            by_parts: HashMap::new(),
            impl_ids: HashMap::new(),
            impl_sigs: HashMap::new(),
        }
    }

    /// The node of a fully applied, well-typed device value.
    pub fn node(&mut self, d: &Rc<Device>, site: Option<Loc>) -> NodeId {
        let key = Rc::as_ptr(d);
        if let Some(&id) = self.by_ptr.get(&key) {
            return id;
        }
        // The application spine: head implementation and arguments, choices
        // resolved to the branch this target takes.
        let mut args_rev: Vec<(Rc<Device>, Loc)> = Vec::new();
        let mut cur = d.clone();
        let def = loop {
            let next = match &cur.kind {
                DeviceKind::Impl(def) => break def.clone(),
                DeviceKind::App { func, arg, arg_loc } => {
                    args_rev.push((arg.clone(), *arg_loc));
                    func.clone()
                }
                DeviceKind::If { .. } | DeviceKind::Match { .. } => cur
                    .chosen()
                    .cloned()
                    .expect("choices always have a chosen branch"),
            };
            cur = next;
        };
        let args: Vec<NodeId> = args_rev
            .iter()
            .rev()
            .map(|(a, at)| self.node(a, Some(*at)))
            .collect();
        let deps: Vec<NodeId> = def.deps.iter().map(|x| self.node(x, None)).collect();
        let impl_id = self.impl_id(&def, &deps);
        let parts = (impl_id, args.clone());
        let id = match self.by_parts.get(&parts) {
            Some(&id) => id,
            None => {
                let id = NodeId(self.nodes.len());
                let index = self.dag.add_node(id);
                debug_assert_eq!(index.index(), id.0);
                for (i, a) in args.iter().enumerate() {
                    self.dag.add_edge(index, NodeIndex::new(a.0), Edge::Arg(i));
                }
                for (i, x) in deps.iter().enumerate() {
                    self.dag.add_edge(index, NodeIndex::new(x.0), Edge::Dep(i));
                }
                self.nodes.push(RawNode {
                    def,
                    args,
                    deps,
                    built_at: d.loc,
                    site,
                    parent: None,
                });
                self.by_parts.insert(parts, id);
                id
            }
        };
        self.by_ptr.insert(key, id);
        id
    }

    /// Equal implementations (same fields, same dependencies) share an id.
    fn impl_id(&mut self, def: &Rc<ImplDef>, deps: &[NodeId]) -> usize {
        let key = Rc::as_ptr(def);
        if let Some(&id) = self.impl_ids.get(&key) {
            return id;
        }
        let sig = signature(def, deps);
        let next = self.impl_sigs.len();
        let id = *self.impl_sigs.entry(sig).or_insert(next);
        self.impl_ids.insert(key, id);
        id
    }

    /// Sets each node's parent by a breadth-first walk from the roots (in
    /// order), so that chains are shortest paths.
    pub fn link_parents(&mut self, roots: &[NodeId]) {
        let mut seen = vec![false; self.nodes.len()];
        let mut queue = std::collections::VecDeque::new();
        for r in roots {
            if !seen[r.0] {
                seen[r.0] = true;
                queue.push_back(*r);
            }
        }
        while let Some(n) = queue.pop_front() {
            let children: Vec<NodeId> = self.nodes[n.0]
                .args
                .iter()
                .chain(&self.nodes[n.0].deps)
                .copied()
                .collect();
            for c in children {
                if !seen[c.0] {
                    seen[c.0] = true;
                    self.nodes[c.0].parent = Some(n);
                    queue.push_back(c);
                }
            }
        }
    }

    /// Device names from a root down to `id`.
    pub fn chain(&self, id: NodeId) -> Vec<String> {
        let mut out = Vec::new();
        let mut cur = Some(id);
        while let Some(c) = cur {
            out.push(self.nodes[c.0].def.name.to_string());
            cur = self.nodes[c.0].parent;
            if out.len() > self.nodes.len() {
                break;
            }
        }
        out.reverse();
        out
    }
}

fn package_sig(p: &Package, out: &mut String) {
    use std::fmt::Write;
    let pin = match &p.pin {
        None => String::new(),
        Some(Pin::Path(path)) => format!("path={path}"),
        Some(Pin::Git { url, rev }) => format!("git={url}@{rev}"),
    };
    let _ = write!(
        out,
        "[{}|{:?}|{:?}|{:?}|{pin}]",
        p.name, p.min, p.max, p.features
    );
}

/// Everything that makes two implementations different, as a string.
fn signature(def: &ImplDef, deps: &[NodeId]) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let _ = write!(
        s,
        "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{:?}\u{0}",
        def.name, def.module, def.ty, def.foreign, def.targets
    );
    for p in &def.packages {
        package_sig(p, &mut s);
    }
    for k in &def.keys {
        let _ = write!(
            s,
            "<{}|{:?}|{:?}|{:?}|{:?}|{}>",
            k.name, k.ty, k.default, k.stage, k.values, k.doc
        );
    }
    let _ = write!(s, "\u{0}{:?}\u{0}", deps);
    // serde_json maps are sorted, so this is canonical.
    s.push_str(&serde_json::to_string(&def.extra).unwrap_or_default());
    s
}
