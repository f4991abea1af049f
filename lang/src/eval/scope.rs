//! Static scoping, before evaluation. [`resolve`] finds every local
//! definition and what each variable refers to; [`check`] turns that into
//! diagnostics: undefined variables (E0201, with a suggestion), duplicate
//! bindings (E0212) and unused `let` bindings (W0101). Scoping is fully
//! static (there is no `with`), so this sees every name, including ones in
//! branches that evaluation never takes. The language server's index is
//! built on the same [`Scopes`].

use crate::diag::{Diagnostic, FileId, Loc, Span};
use crate::syntax::{
    self, AttrName, Binding, BindingKind, Expr, ExprKind, Module, Name, Param, StrPart,
};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefKind {
    /// A `let` binding.
    Let,
    /// An attribute of a `rec { … }` set.
    Rec,
    /// A function parameter or pattern field.
    Param,
}

/// A local definition.
#[derive(Debug, Clone)]
pub struct Def {
    pub name: Name,
    /// The name where it is defined.
    pub span: Span,
    pub kind: DefKind,
    /// The value expression (`name = VALUE;`), when it has one of its own.
    pub value: Option<Span>,
    /// Where the name is visible: the whole `let`, `rec { … }` or function.
    pub scope: Span,
}

/// A variable, or a name of `inherit NAME;`.
#[derive(Debug, Clone)]
pub struct Ref {
    pub span: Span,
    pub name: Name,
    /// The local definition (an index into [`Scopes::defs`]); `None` for a
    /// global or an undefined name.
    pub def: Option<usize>,
    /// A name of `inherit NAME;` in a `let` or `rec` set, which is looked up
    /// outside that set's own bindings.
    pub inherit: bool,
}

/// What a file's names mean.
#[derive(Debug, Default)]
pub struct Scopes {
    pub defs: Vec<Def>,
    /// In source order.
    pub refs: Vec<Ref>,
    /// Names defined twice (E0212).
    pub duplicates: Vec<Diagnostic>,
}

/// Resolves every variable of `module` (the file `file`, for duplicates'
/// labels) to its local definition.
pub fn resolve(file: FileId, text: &str, module: &Module) -> Scopes {
    let mut w = Walker {
        file,
        text,
        frames: Vec::new(),
        out: Scopes::default(),
    };
    if let Some(e) = &module.expr {
        w.expr(e);
    }
    w.out
}

/// The static diagnostics of a file whose global names are `root`.
pub fn check(file: FileId, text: &str, module: &Module, root: &[Name]) -> Vec<Diagnostic> {
    let scopes = resolve(file, text, module);
    let mut diags = scopes.duplicates;
    let root: HashSet<&str> = root.iter().map(|n| &**n).collect();
    let mut used = vec![false; scopes.defs.len()];
    for r in &scopes.refs {
        match r.def {
            Some(i) => used[i] = true,
            None if root.contains(&*r.name) => {}
            None => {
                // What is visible there: the globals and the enclosing definitions
                // (for `inherit`, not those of its own set).
                let enclosing = |d: &&Def| d.scope.contains(r.span.start);
                let own = r
                    .inherit
                    .then(|| {
                        scopes
                            .defs
                            .iter()
                            .filter(enclosing)
                            .map(|d| d.scope)
                            .max_by_key(|s| (s.start, u32::MAX - s.end))
                    })
                    .flatten();
                let mut candidates: Vec<&str> = root.iter().copied().collect();
                candidates.extend(
                    scopes
                        .defs
                        .iter()
                        .filter(enclosing)
                        .filter(|d| Some(d.scope) != own)
                        .map(|d| &*d.name),
                );
                candidates.sort_unstable();
                candidates.dedup();
                let mut d = Diagnostic::error("E0201", format!("undefined variable `{}`", r.name))
                    .label(Loc::new(file, r.span), "not found in this scope");
                if let Some(near) = crate::suggest::nearest(&r.name, candidates.iter().copied()) {
                    d = d.help(format!("did you mean `{near}`?"));
                }
                diags.push(d);
            }
        }
    }
    for (d, used) in scopes.defs.iter().zip(used) {
        if d.kind == DefKind::Let && !used && !d.name.starts_with('_') {
            diags.push(
                Diagnostic::warning("W0101", format!("unused binding `{}`", d.name))
                    .label(Loc::new(file, d.span), "never used")
                    .help(format!(
                        "remove it, or name it `_{}` to keep it unused on purpose",
                        d.name
                    )),
            );
        }
    }
    diags
}

struct Walker<'t> {
    file: FileId,
    text: &'t str,
    /// Each frame: the names one `let`, `rec` set or function binds, with
    /// their definitions; searched innermost first.
    frames: Vec<HashMap<Name, usize>>,
    out: Scopes,
}

impl Walker<'_> {
    fn loc(&self, span: Span) -> Loc {
        Loc::new(self.file, span)
    }

    /// Records a reference to `name`, searching frames below `skip` innermost ones.
    fn resolve(&mut self, name: &Name, span: Span, skip: usize) {
        let n = self.frames.len().saturating_sub(skip);
        let def = self.frames[..n]
            .iter()
            .rev()
            .find_map(|f| f.get(name).copied());
        self.out.refs.push(Ref {
            span,
            name: name.clone(),
            def,
            inherit: skip > 0,
        });
    }

    fn define(
        &mut self,
        name: Name,
        span: Span,
        kind: DefKind,
        value: Option<Span>,
        scope: Span,
    ) -> usize {
        let i = self.out.defs.len();
        self.out.defs.push(Def {
            name,
            span,
            kind,
            value,
            scope,
        });
        i
    }

    /// The names a binding list defines (the first definition of a name
    /// wins, as in the evaluator), checking for duplicates. `kind` is None
    /// for a plain attribute set, which defines no variables.
    fn bindings_frame(
        &mut self,
        bindings: &[Binding],
        kind: Option<DefKind>,
        scope: Span,
    ) -> HashMap<Name, usize> {
        // name -> (span, whether it was defined by a nested path `a.b = …`)
        let mut seen: BTreeMap<Name, (Span, bool)> = BTreeMap::new();
        let mut frame = HashMap::new();
        let mut nested: BTreeMap<Name, Vec<(Vec<AttrName>, Span)>> = BTreeMap::new();
        for b in bindings {
            let names: Vec<(Name, Span, bool, Option<Span>)> = match &b.kind {
                BindingKind::Attr { path, value } => {
                    if path.len() > 1 {
                        nested
                            .entry(path[0].name.clone())
                            .or_default()
                            .push((path[1..].to_vec(), path[0].span));
                    }
                    let own = (path.len() == 1).then_some(value.span);
                    vec![(path[0].name.clone(), path[0].span, path.len() > 1, own)]
                }
                BindingKind::Inherit { names, .. } => names
                    .iter()
                    .map(|n| (n.name.clone(), n.span, false, None))
                    .collect(),
                BindingKind::Error => syntax::error_binding_name(self.text, b.span)
                    .map(|(n, s)| vec![(n, s, false, None)])
                    .unwrap_or_default(),
            };
            for (name, span, is_nested, value) in names {
                match seen.get(&name) {
                    Some(&(first, first_nested)) if !(is_nested && first_nested) => {
                        let d = Diagnostic::error("E0212", format!("`{name}` is defined twice"))
                            .label(self.loc(span), "defined again here")
                            .label(self.loc(first), "first defined here")
                            .help("remove one of the definitions or rename it");
                        self.out.duplicates.push(d);
                    }
                    Some(_) => {}
                    None => {
                        seen.insert(name.clone(), (span, is_nested));
                        if let Some(kind) = kind {
                            let i = self.define(name.clone(), span, kind, value, scope);
                            frame.insert(name, i);
                        }
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
                    let d =
                        Diagnostic::error("E0212", format!("`{}` is defined twice", key.join(".")))
                            .label(self.loc(span), "defined again here")
                            .label(self.loc(*first), "first defined here");
                    self.out.duplicates.push(d);
                } else {
                    leaf.insert(key, span);
                }
            }
        }
        frame
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

    fn lambda(&mut self, param: &Param, body: &Expr, scope: Span) {
        let mut frame = HashMap::new();
        let mut defaults = Vec::new();
        let mut add = |w: &mut Self, id: &syntax::Ident| {
            let i = w.define(id.name.clone(), id.span, DefKind::Param, None, scope);
            // The first field of a name wins, as for bindings.
            frame.entry(id.name.clone()).or_insert(i);
        };
        match param {
            Param::Ident(id) => add(self, id),
            Param::Pattern { fields, bind, .. } => {
                let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
                for f in fields {
                    if let Some(first) = seen.get(&*f.ident.name) {
                        let d = Diagnostic::error(
                            "E0212",
                            format!("parameter `{}` is defined twice", f.ident.name),
                        )
                        .label(self.loc(f.ident.span), "defined again here")
                        .label(self.loc(*first), "first defined here");
                        self.out.duplicates.push(d);
                    }
                    seen.insert(&f.ident.name, f.ident.span);
                    add(self, &f.ident);
                    if let Some(d) = &f.default {
                        defaults.push(d);
                    }
                }
                if let Some(b) = bind {
                    add(self, b);
                }
            }
        }
        self.frames.push(frame);
        for d in defaults {
            self.expr(d);
        }
        self.expr(body);
        self.frames.pop();
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Var(name) => self.resolve(name, e.span, 0),
            ExprKind::Let { bindings, body } => {
                let frame = self.bindings_frame(bindings, Some(DefKind::Let), e.span);
                self.frames.push(frame);
                self.bindings(bindings, 1);
                self.expr(body);
                self.frames.pop();
            }
            ExprKind::Attrs {
                rec: true,
                bindings,
            } => {
                let frame = self.bindings_frame(bindings, Some(DefKind::Rec), e.span);
                self.frames.push(frame);
                self.bindings(bindings, 1);
                self.frames.pop();
            }
            ExprKind::Attrs {
                rec: false,
                bindings,
            } => {
                self.bindings_frame(bindings, None, e.span);
                self.bindings(bindings, 0);
            }
            ExprKind::Lambda { param, body } => self.lambda(param, body, e.span),
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
