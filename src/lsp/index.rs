//! Static facts about one parsed file: which name each variable refers to,
//! the bindings visible at each point, path literals, `package` calls and
//! the outline. Scoping is `unik_lang::eval::scope`'s, the checker's own
//! (fully static: there is no `with`), so a variable either names a local
//! binding or a global (builtin or catalogue entry).

use unik_lang::diag::Span;
use unik_lang::eval::scope;
pub use unik_lang::eval::scope::{Def, DefKind, Ref};
use unik_lang::syntax::{self, BindingKind, Expr, ExprKind, Module, StrPart};

/// `package "NAME" { … }`: where a locked version hint goes.
#[derive(Debug, Clone)]
pub struct PackageCall {
    pub name: String,
    /// The string literal naming the package.
    pub name_span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymKind {
    Variable,
    Function,
    Set,
    Key,
    Package,
    Device,
    Type,
    Register,
}

/// One entry of the outline.
#[derive(Debug, Clone)]
pub struct Sym {
    pub name: String,
    pub kind: SymKind,
    /// The whole binding.
    pub span: Span,
    /// The name.
    pub name_span: Span,
    pub children: Vec<Sym>,
}

#[derive(Debug, Default)]
pub struct Index {
    pub defs: Vec<Def>,
    /// In source order.
    pub refs: Vec<Ref>,
    /// Path literals and their text (`./lib.unik`).
    pub paths: Vec<(Span, String)>,
    pub packages: Vec<PackageCall>,
    pub symbols: Vec<Sym>,
    /// The body of the innermost `let` of the top-level chain.
    pub top_body: Option<Span>,
    /// Where the `let`s of the top-level chain start.
    top_lets: Vec<u32>,
}

impl Index {
    pub fn build(module: &Module, text: &str) -> Index {
        let mut index = Index::default();
        let Some(root) = &module.expr else {
            return index;
        };
        let mut e = root;
        while let ExprKind::Let { body, .. } = &e.kind {
            index.top_lets.push(e.span.start);
            index.top_body = Some(body.span);
            e = body;
        }
        // The checker's own scoping (its diagnostics are the checker's to report).
        let scopes = scope::resolve(0, text, module);
        index.defs = scopes.defs;
        index.refs = scopes.refs;
        collect_literals(root, &mut index);
        index.symbols = symbols_of(root);
        index
    }

    /// The variable reference under `offset` (the innermost).
    pub fn ref_at(&self, offset: u32) -> Option<&Ref> {
        self.refs
            .iter()
            .filter(|r| r.span.contains(offset))
            .min_by_key(|r| r.span.len())
    }

    /// The definition whose name is under `offset`.
    pub fn def_at(&self, offset: u32) -> Option<usize> {
        self.defs
            .iter()
            .enumerate()
            .filter(|(_, d)| d.span.contains(offset))
            .min_by_key(|(_, d)| d.span.len())
            .map(|(i, _)| i)
    }

    pub fn path_at(&self, offset: u32) -> Option<&(Span, String)> {
        self.paths.iter().find(|(s, _)| s.contains(offset))
    }

    /// Local bindings visible at `offset`, innermost first, one per name.
    pub fn visible(&self, offset: u32) -> Vec<&Def> {
        let mut found: Vec<&Def> = self
            .defs
            .iter()
            .filter(|d| d.scope.contains(offset))
            .collect();
        // Inner scopes start later (or end earlier) than the ones around them.
        found.sort_by_key(|d| std::cmp::Reverse((d.scope.start, u32::MAX - d.scope.end)));
        let mut seen = std::collections::HashSet::new();
        found.retain(|d| seen.insert(d.name.clone()));
        found
    }

    /// Whether `d` is a binding of the file's top-level `let` chain (these
    /// are evaluated for hover and inlay hints).
    pub fn is_top(&self, d: &Def) -> bool {
        d.kind == DefKind::Let && self.top_lets.contains(&d.scope.start)
    }

    /// The top-level binding of that name.
    pub fn top_def(&self, name: &str) -> Option<&Def> {
        self.defs
            .iter()
            .find(|d| self.is_top(d) && &*d.name == name)
    }
}

/// Path literals and `package "NAME"` calls, anywhere in `e`.
fn collect_literals(e: &Expr, index: &mut Index) {
    match &e.kind {
        ExprKind::Path(p) => index.paths.push((e.span, p.clone())),
        ExprKind::Apply { func, arg } => {
            if let ExprKind::Var(f) = &func.kind
                && &**f == "package"
                && let Some(name) = literal(arg)
            {
                index.packages.push(PackageCall {
                    name,
                    name_span: arg.span,
                });
            }
        }
        _ => {}
    }
    for c in e.children() {
        collect_literals(c, index);
    }
}

/// The text of a string literal without interpolation.
pub fn literal(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str { parts, .. } => {
            let mut out = String::new();
            for p in parts {
                match p {
                    StrPart::Lit(s) => out.push_str(s),
                    StrPart::Interp(_) => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// The function at the head of an application chain, and its arguments.
pub fn unapply(e: &Expr) -> (&Expr, Vec<&Expr>) {
    let mut args = Vec::new();
    let mut e = e;
    while let ExprKind::Apply { func, arg } = &e.kind {
        args.push(&**arg);
        e = func;
    }
    args.reverse();
    (e, args)
}

fn head_name(e: &Expr) -> Option<&str> {
    match &unapply(e).0.kind {
        ExprKind::Var(n) => Some(n),
        _ => None,
    }
}

fn kind_of(value: &Expr) -> SymKind {
    match &value.kind {
        ExprKind::Lambda { .. } => SymKind::Function,
        ExprKind::Attrs { .. } => SymKind::Set,
        ExprKind::Binary {
            op: syntax::BinOp::Arrow,
            ..
        } => SymKind::Type,
        ExprKind::Binary {
            op: syntax::BinOp::DevApp,
            ..
        } => SymKind::Device,
        ExprKind::Paren(inner) => kind_of(inner),
        _ => match head_name(value) {
            Some("key") => SymKind::Key,
            Some("package") => SymKind::Package,
            Some("typ") => SymKind::Type,
            Some("register") => SymKind::Register,
            Some("impl" | "foreign" | "main" | "if_impl" | "match_impl") => SymKind::Device,
            _ => SymKind::Variable,
        },
    }
}

fn binding_syms(bindings: &[syntax::Binding]) -> Vec<Sym> {
    let mut out = Vec::new();
    for b in bindings {
        match &b.kind {
            BindingKind::Attr { path, value } => {
                let name = path.iter().map(|a| &*a.name).collect::<Vec<_>>().join(".");
                let first = path[0].span;
                let last = path[path.len() - 1].span;
                out.push(Sym {
                    name,
                    kind: kind_of(value),
                    span: b.span,
                    name_span: first.to(last),
                    children: nested_syms(value),
                });
            }
            BindingKind::Inherit { names, .. } => {
                for n in names {
                    out.push(Sym {
                        name: n.name.to_string(),
                        kind: SymKind::Variable,
                        span: n.span,
                        name_span: n.span,
                        children: Vec::new(),
                    });
                }
            }
            BindingKind::Error => {}
        }
    }
    out
}

/// Symbols inside a binding's value: nested sets and `let`s, not the
/// option sets of calls such as `key "k" { … }`.
fn nested_syms(e: &Expr) -> Vec<Sym> {
    match &e.kind {
        ExprKind::Attrs { bindings, .. } => binding_syms(bindings),
        ExprKind::Paren(inner) => nested_syms(inner),
        ExprKind::Lambda { body, .. } => nested_syms(body),
        ExprKind::Let { bindings, body } => {
            let mut out = binding_syms(bindings);
            out.extend(nested_syms(body));
            out
        }
        _ => Vec::new(),
    }
}

/// The outline of a file: its bindings and its `register`.
fn symbols_of(e: &Expr) -> Vec<Sym> {
    match &e.kind {
        ExprKind::Let { bindings, body } => {
            let mut out = binding_syms(bindings);
            out.extend(symbols_of(body));
            out
        }
        ExprKind::Paren(inner) | ExprKind::Assert { body: inner, .. } => symbols_of(inner),
        ExprKind::Lambda { body, .. } => symbols_of(body),
        ExprKind::Attrs { bindings, .. } => binding_syms(bindings),
        ExprKind::Apply { .. } if head_name(e) == Some("register") => {
            let (_, args) = unapply(e);
            let name = args.first().and_then(|a| literal(a)).unwrap_or_default();
            let name_span = args.first().map(|a| a.span).unwrap_or(e.span);
            vec![Sym {
                name: format!("register \"{name}\""),
                kind: SymKind::Register,
                span: e.span,
                name_span,
                children: Vec::new(),
            }]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(src: &str) -> Index {
        let parsed = syntax::parse(0, src);
        Index::build(&parsed.module, src)
    }

    fn at(src: &str, needle: &str, nth: usize) -> u32 {
        src.match_indices(needle).nth(nth).expect("needle").0 as u32
    }

    #[test]
    fn references_resolve_to_the_innermost_binding() {
        let src = "let a = 1; f = a: a + b; b = 2; in f a";
        let ix = index(src);
        // `a` inside the lambda is the parameter.
        let r = ix.ref_at(at(src, "a +", 0)).expect("a ref");
        let d = &ix.defs[r.def.expect("local")];
        assert_eq!(d.kind, DefKind::Param);
        // `b` inside the lambda is the let binding, defined after it.
        let r = ix.ref_at(at(src, "b;", 0)).expect("b ref");
        assert_eq!(
            ix.defs[r.def.expect("local")].span.start,
            at(src, "b = 2", 0)
        );
        // The body's `a` is the let binding, which is top-level.
        let r = ix.ref_at(at(src, "f a", 0) + 2).expect("a ref");
        let d = &ix.defs[r.def.expect("local")];
        assert!(ix.is_top(d) && d.kind == DefKind::Let);
        // Globals have no local definition.
        let ix = index("let x = map; in x");
        assert!(ix.ref_at(8).expect("map").def.is_none());
    }

    #[test]
    fn inherit_reads_the_outer_scope_and_rec_sets_see_themselves() {
        // `inherit x;` in a `let` reads the enclosing scope, not itself.
        let src = "let x = 1; in let inherit x; v = { inherit x; }; in rec { y = v; z = y; }";
        let ix = index(src);
        let r = ix.ref_at(at(src, "inherit x", 0) + 8).expect("inherited");
        assert_eq!(ix.defs[r.def.expect("outer x")].span.start, 4);
        // In a plain set it reads the scope around the set: the inner `x`.
        let r = ix.ref_at(at(src, "inherit x", 1) + 8).expect("inherited");
        assert_eq!(
            ix.defs[r.def.expect("inner x")].span.start,
            at(src, "inherit x", 0) + 8
        );
        let r = ix.ref_at(at(src, "= y", 0) + 2).expect("y");
        assert_eq!(ix.defs[r.def.expect("rec y")].kind, DefKind::Rec);
    }

    #[test]
    fn visible_names_are_innermost_first() {
        let src = "let a = 1; b = 2; in { c }: a + c";
        let ix = index(src);
        let names: Vec<&str> = ix
            .visible(at(src, "a + c", 0))
            .iter()
            .map(|d| &*d.name)
            .collect();
        assert_eq!(names, ["c", "a", "b"]);
        assert!(ix.visible(0).is_empty() || ix.visible(0).iter().all(|d| ix.is_top(d)));
    }

    #[test]
    fn outline_packages_and_paths() {
        let src = "let\n  k = key \"port\" { type = \"int\"; doc = \"\"; };\n  p = package \"bytes\" { };\n  lib = import ./lib.unik;\n  s = { a = 1; b.c = 2; };\nin\nregister \"x\" [ ]\n";
        let ix = index(src);
        let outline: Vec<(String, SymKind)> = ix
            .symbols
            .iter()
            .map(|s| (s.name.clone(), s.kind))
            .collect();
        assert_eq!(
            outline,
            [
                ("k".to_string(), SymKind::Key),
                ("p".to_string(), SymKind::Package),
                ("lib".to_string(), SymKind::Variable),
                ("s".to_string(), SymKind::Set),
                ("register \"x\"".to_string(), SymKind::Register),
            ]
        );
        let kids: Vec<&str> = ix.symbols[3].children.iter().map(|s| &*s.name).collect();
        assert_eq!(kids, ["a", "b.c"]);
        assert_eq!(ix.packages.len(), 1);
        assert_eq!(ix.packages[0].name, "bytes");
        assert_eq!(ix.paths[0].1, "./lib.unik");
        assert!(ix.defs.iter().filter(|d| ix.is_top(d)).count() == 4);
    }
}
