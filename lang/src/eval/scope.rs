//! Static checks before evaluation: undefined variables (E0201, with a
//! suggestion), duplicate bindings (E0212) and unused `let` bindings (W0101).
//! Scoping is fully static (there is no `with`), so this sees every name,
//! including ones in branches that evaluation never takes.

use crate::diag::{Diagnostic, FileId, Loc, Span};
use crate::syntax::{
    self, AttrName, Binding, BindingKind, Expr, ExprKind, Module, Name, Param, StrPart,
};
use std::cell::Cell;
use std::collections::{BTreeMap, HashMap, HashSet};

struct Entry {
    name: Name,
    span: Span,
    used: Cell<bool>,
}

/// The names one `let`, `rec` set or function binds.
struct Frame {
    entries: Vec<Entry>,
    index: HashMap<Name, usize>,
}

impl Frame {
    fn new(entries: Vec<Entry>) -> Frame {
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Frame { entries, index }
    }
}

struct Walker<'t> {
    file: FileId,
    text: &'t str,
    frames: Vec<Frame>,
    root: HashSet<Name>,
    diags: Vec<Diagnostic>,
}

pub fn check(file: FileId, text: &str, module: &Module, root: &[Name]) -> Vec<Diagnostic> {
    let mut w = Walker {
        file,
        text,
        frames: Vec::new(),
        root: root.iter().cloned().collect(),
        diags: Vec::new(),
    };
    if let Some(e) = &module.expr {
        w.expr(e);
    }
    w.diags
}

impl Walker<'_> {
    fn loc(&self, span: Span) -> Loc {
        Loc::new(self.file, span)
    }

    /// Marks `name` used, searching frames below `skip` innermost ones.
    fn resolve(&mut self, name: &Name, span: Span, skip: usize) {
        let n = self.frames.len().saturating_sub(skip);
        for frame in self.frames[..n].iter().rev() {
            if let Some(&i) = frame.index.get(name) {
                frame.entries[i].used.set(true);
                return;
            }
        }
        if self.root.contains(name) {
            return;
        }
        let mut candidates: Vec<&str> = self.root.iter().map(|n| &**n).collect();
        for f in &self.frames[..n] {
            candidates.extend(f.entries.iter().map(|e| &*e.name));
        }
        candidates.sort_unstable();
        let mut d = Diagnostic::error("E0201", format!("undefined variable `{name}`"))
            .label(self.loc(span), "not found in this scope");
        if let Some(near) = crate::suggest::nearest(name, candidates.iter().copied()) {
            d = d.help(format!("did you mean `{near}`?"));
        }
        self.diags.push(d);
    }

    /// The names a binding list defines, checking for duplicates.
    fn defined(&mut self, bindings: &[Binding]) -> Vec<Entry> {
        // name -> (span, whether it was defined by a nested path `a.b = …`)
        let mut seen: BTreeMap<Name, (Span, bool)> = BTreeMap::new();
        let mut out = Vec::new();
        let mut nested: BTreeMap<Name, Vec<(Vec<AttrName>, Span)>> = BTreeMap::new();
        for b in bindings {
            let names: Vec<(Name, Span, bool)> = match &b.kind {
                BindingKind::Attr { path, .. } => {
                    if path.len() > 1 {
                        nested
                            .entry(path[0].name.clone())
                            .or_default()
                            .push((path[1..].to_vec(), path[0].span));
                    }
                    vec![(path[0].name.clone(), path[0].span, path.len() > 1)]
                }
                BindingKind::Inherit { names, .. } => names
                    .iter()
                    .map(|n| (n.name.clone(), n.span, false))
                    .collect(),
                BindingKind::Error => syntax::error_binding_name(self.text, b.span)
                    .map(|(n, s)| vec![(n, s, false)])
                    .unwrap_or_default(),
            };
            for (name, span, is_nested) in names {
                match seen.get(&name) {
                    Some(&(first, first_nested)) if !(is_nested && first_nested) => {
                        self.diags.push(
                            Diagnostic::error("E0212", format!("`{name}` is defined twice"))
                                .label(self.loc(span), "defined again here")
                                .label(self.loc(first), "first defined here")
                                .help("remove one of the definitions or rename it"),
                        );
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(name.clone(), (span, is_nested));
                        out.push(Entry {
                            name,
                            span,
                            used: Cell::new(false),
                        });
                    }
                }
            }
        }
        // `a.b = 1; a.b = 2;` is a duplicate one level down.
        for paths in nested.values() {
            let mut leaf: BTreeMap<Vec<&str>, Span> = BTreeMap::new();
            for (rest, _) in paths {
                let key: Vec<&str> = rest.iter().map(|a| &*a.name).collect();
                let span = rest.last().map(|a| a.span).unwrap_or_default();
                if let Some(first) = leaf.get(&key) {
                    self.diags.push(
                        Diagnostic::error("E0212", format!("`{}` is defined twice", key.join(".")))
                            .label(self.loc(span), "defined again here")
                            .label(self.loc(*first), "first defined here"),
                    );
                } else {
                    leaf.insert(key, span);
                }
            }
        }
        out
    }

    fn bindings(&mut self, bindings: &[Binding], inherit_skip: usize) {
        for b in bindings {
            match &b.kind {
                BindingKind::Attr { value, .. } => self.expr(value),
                // `inherit (e) x;` evaluates e inside the frame, like a value.
                BindingKind::Inherit { from: Some(e), .. } => self.expr(e),
                BindingKind::Inherit { from: None, names } => {
                    for n in names {
                        self.resolve(&n.name, n.span, inherit_skip);
                    }
                }
                BindingKind::Error => {}
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Var(name) => self.resolve(name, e.span, 0),
            ExprKind::Let { bindings, body } => {
                let frame = self.defined(bindings);
                self.frames.push(Frame::new(frame));
                self.bindings(bindings, 1);
                self.expr(body);
                let frame = self.frames.pop().expect("pushed above");
                for entry in frame.entries {
                    if !entry.used.get() && !entry.name.starts_with('_') {
                        self.diags.push(
                            Diagnostic::warning(
                                "W0101",
                                format!("unused binding `{}`", entry.name),
                            )
                            .label(self.loc(entry.span), "never used")
                            .help(format!(
                                "remove it, or name it `_{}` to keep it unused on purpose",
                                entry.name
                            )),
                        );
                    }
                }
            }
            ExprKind::Attrs {
                rec: true,
                bindings,
            } => {
                let frame = self.defined(bindings);
                self.frames.push(Frame::new(frame));
                self.bindings(bindings, 1);
                self.frames.pop();
            }
            ExprKind::Attrs {
                rec: false,
                bindings,
            } => {
                self.defined(bindings);
                self.bindings(bindings, 0);
            }
            ExprKind::Lambda { param, body } => {
                let mut frame = Vec::new();
                let mut defaults = Vec::new();
                match param {
                    Param::Ident(id) => frame.push(Entry {
                        name: id.name.clone(),
                        span: id.span,
                        used: Cell::new(true),
                    }),
                    Param::Pattern { fields, bind, .. } => {
                        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
                        for f in fields {
                            if let Some(first) = seen.get(&*f.ident.name) {
                                self.diags.push(
                                    Diagnostic::error(
                                        "E0212",
                                        format!("parameter `{}` is defined twice", f.ident.name),
                                    )
                                    .label(self.loc(f.ident.span), "defined again here")
                                    .label(self.loc(*first), "first defined here"),
                                );
                            }
                            seen.insert(&f.ident.name, f.ident.span);
                            frame.push(Entry {
                                name: f.ident.name.clone(),
                                span: f.ident.span,
                                used: Cell::new(true),
                            });
                            if let Some(d) = &f.default {
                                defaults.push(d);
                            }
                        }
                        if let Some(b) = bind {
                            frame.push(Entry {
                                name: b.name.clone(),
                                span: b.span,
                                used: Cell::new(true),
                            });
                        }
                    }
                }
                self.frames.push(Frame::new(frame));
                for d in defaults {
                    self.expr(d);
                }
                self.expr(body);
                self.frames.pop();
            }
            ExprKind::Str { parts, .. } => {
                for p in parts {
                    if let StrPart::Interp(e) = p {
                        self.expr(e);
                    }
                }
            }
            _ => {
                for c in e.children() {
                    self.expr(c);
                }
            }
        }
    }
}
