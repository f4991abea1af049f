//! The device DAG of one target: chosen branches only, fully applied
//! devices as nodes, hash-consed so that one device used twice (or built
//! twice from equal parts) is one node. Nodes are numbered in post-order,
//! which is a dependency order.

use crate::model::NodeId;
use petgraph::graph::{DiGraph, NodeIndex};
use rustc_hash::FxHashMap;
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use unik_lang::diag::Loc;
use unik_lang::eval::{Device, DeviceKind, ImplDef, KeyDef, Package};

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

/// An implementation seen before: its definition, dependencies and id.
type Interned = (Rc<ImplDef>, Vec<NodeId>, usize);

pub struct Graph {
    pub nodes: Vec<RawNode>,
    /// Edges from a node to its arguments and dependencies.
    pub dag: DiGraph<NodeId, Edge>,
    by_ptr: FxHashMap<*const Device, NodeId>,
    by_parts: FxHashMap<(usize, Vec<NodeId>), NodeId>,
    impl_ids: FxHashMap<*const ImplDef, usize>,
    impl_by_hash: FxHashMap<u64, Vec<Interned>>,
    impl_count: usize,
    target: unik_lang::Target,
    /// Hashes of implementations' own fields, kept between the graphs of
    /// one value's targets ([`Graph::node`] fills it).
    pub content_hashes: FxHashMap<*const ImplDef, u64>,
}

impl Graph {
    pub fn new(target: unik_lang::Target) -> Graph {
        Graph {
            target,
            content_hashes: FxHashMap::default(),
            nodes: Vec::new(),
            dag: DiGraph::new(),
            by_ptr: FxHashMap::default(),
            by_parts: FxHashMap::default(),
            impl_ids: FxHashMap::default(),
            impl_by_hash: FxHashMap::default(),
            impl_count: 0,
        }
    }

    /// The node of a fully applied, well-typed device value.
    pub fn node(&mut self, d: &Rc<Device>, site: Option<Loc>) -> NodeId {
        let key = Rc::as_ptr(d);
        if let Some(&id) = self.by_ptr.get(&key) {
            return id;
        }
        stacker::maybe_grow(crate::typing::RED_ZONE, crate::typing::STACK_STEP, || {
            self.build(d, site)
        })
    }

    fn build(&mut self, d: &Rc<Device>, site: Option<Loc>) -> NodeId {
        let key = Rc::as_ptr(d);
        // The application spine: head implementation and arguments, choices
        // resolved to the branch this target takes.
        let mut args_rev: Vec<(Rc<Device>, Loc)> = Vec::new();
        let mut cur = d.clone();
        // Where the device was written: through a choice, the branch taken
        // (of the outermost choice, the one a reader sees first).
        let mut built_at = d.loc;
        let mut chose = false;
        let def = loop {
            let next = match &cur.kind {
                DeviceKind::Impl(def) => break def.clone(),
                DeviceKind::App {
                    func, arg, arg_loc, ..
                } => {
                    args_rev.push((arg.clone(), *arg_loc));
                    func.clone()
                }
                DeviceKind::If { .. } | DeviceKind::Match { .. } => {
                    let (chosen, at) = cur
                        .chosen_at(self.target)
                        .expect("choices always have a chosen branch");
                    if args_rev.is_empty() && !chose {
                        built_at = at;
                        chose = true;
                    }
                    chosen.clone()
                }
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
                    built_at,
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
        let content = *self
            .content_hashes
            .entry(key)
            .or_insert_with(|| content_hash(def));
        let hash = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            content.hash(&mut h);
            deps.hash(&mut h);
            h.finish()
        };
        let candidates = self.impl_by_hash.entry(hash).or_default();
        let id = match candidates
            .iter()
            .find(|(other, other_deps, _)| other_deps.as_slice() == deps && same_impl(other, def))
        {
            Some((_, _, id)) => *id,
            None => {
                let id = self.impl_count;
                self.impl_count += 1;
                candidates.push((def.clone(), deps.to_vec(), id));
                id
            }
        };
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

/// A `fmt::Write`/`io::Write` sink that feeds a hasher.
struct HashWriter<'h>(&'h mut std::collections::hash_map::DefaultHasher);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A hash of what makes implementations different, dependencies aside
/// (equal ones hash equal).
fn content_hash(def: &ImplDef) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    def.name.hash(&mut h);
    def.module.hash(&mut h);
    def.ty.hash(&mut h);
    def.foreign.hash(&mut h);
    // serde_json maps are sorted, so this is canonical.
    let _ = serde_json::to_writer(HashWriter(&mut h), &def.extra);
    h.finish()
}

fn same_package(a: &Rc<Package>, b: &Rc<Package>) -> bool {
    Rc::ptr_eq(a, b)
        || (a.name == b.name
            && a.min == b.min
            && a.max == b.max
            && a.features == b.features
            && a.pin == b.pin)
}

fn same_key(a: &Rc<KeyDef>, b: &Rc<KeyDef>) -> bool {
    Rc::ptr_eq(a, b)
        || (a.name == b.name
            && a.ty == b.ty
            && a.default == b.default
            && a.stage == b.stage
            && a.values == b.values
            && a.doc == b.doc)
}

/// Whether two implementations are the same device definition (places and
/// documentation aside).
fn same_impl(a: &ImplDef, b: &ImplDef) -> bool {
    a.name == b.name
        && a.module == b.module
        && a.ty == b.ty
        && a.foreign == b.foreign
        && a.targets == b.targets
        && a.packages.len() == b.packages.len()
        && a.packages
            .iter()
            .zip(&b.packages)
            .all(|(x, y)| same_package(x, y))
        && a.keys.len() == b.keys.len()
        && a.keys.iter().zip(&b.keys).all(|(x, y)| same_key(x, y))
        && a.extra == b.extra
}
