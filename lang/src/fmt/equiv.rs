//! Structural equality of syntax trees, ignoring spans: what formatting must
//! preserve.

use crate::syntax::{AttrName, Binding, BindingKind, Expr, ExprKind, Param, StrPart};

/// Whether two trees are the same program, written differently.
pub fn same_expr(a: &Expr, b: &Expr) -> bool {
    // A work list instead of recursion: long operator chains nest deeply.
    let mut todo: Vec<(&Expr, &Expr)> = vec![(a, b)];
    while let Some((a, b)) = todo.pop() {
        use ExprKind as K;
        let ok = match (&a.kind, &b.kind) {
            (K::Null, K::Null) | (K::Error, K::Error) => true,
            (K::Bool(x), K::Bool(y)) => x == y,
            (K::Int(x), K::Int(y)) => x == y,
            (K::Path(x), K::Path(y)) => x == y,
            (K::Var(x), K::Var(y)) => x == y,
            (
                K::Str {
                    parts: p,
                    indented: i,
                },
                K::Str {
                    parts: q,
                    indented: j,
                },
            ) => {
                i == j
                    && p.len() == q.len()
                    && p.iter().zip(q).all(|pair| match pair {
                        (StrPart::Lit(x), StrPart::Lit(y)) => x == y,
                        (StrPart::Interp(x), StrPart::Interp(y)) => {
                            todo.push((x, y));
                            true
                        }
                        _ => false,
                    })
            }
            (K::Paren(x), K::Paren(y)) | (K::Import(x), K::Import(y)) => {
                todo.push((x, y));
                true
            }
            (K::List(x), K::List(y)) => {
                x.len() == y.len() && {
                    todo.extend(x.iter().zip(y));
                    true
                }
            }
            (
                K::Attrs {
                    rec: r,
                    bindings: x,
                },
                K::Attrs {
                    rec: s,
                    bindings: y,
                },
            ) => r == s && same_bindings(x, y, &mut todo),
            (
                K::Select {
                    target: t,
                    path: p,
                    default: d,
                },
                K::Select {
                    target: u,
                    path: q,
                    default: e,
                },
            ) => {
                todo.push((t, u));
                same_path(p, q)
                    && match (d, e) {
                        (None, None) => true,
                        (Some(d), Some(e)) => {
                            todo.push((d, e));
                            true
                        }
                        _ => false,
                    }
            }
            (K::HasAttr { target: t, path: p }, K::HasAttr { target: u, path: q }) => {
                todo.push((t, u));
                same_path(p, q)
            }
            (K::Apply { func: f, arg: x }, K::Apply { func: g, arg: y }) => {
                todo.push((f, g));
                todo.push((x, y));
                true
            }
            (K::Unary { op: o, operand: x }, K::Unary { op: p, operand: y }) => {
                todo.push((x, y));
                o == p
            }
            (
                K::Binary {
                    op: o,
                    lhs: l,
                    rhs: r,
                    ..
                },
                K::Binary {
                    op: p,
                    lhs: m,
                    rhs: s,
                    ..
                },
            ) => {
                todo.push((l, m));
                todo.push((r, s));
                o == p
            }
            (
                K::Let {
                    bindings: x,
                    body: b,
                },
                K::Let {
                    bindings: y,
                    body: c,
                },
            ) => {
                todo.push((b, c));
                same_bindings(x, y, &mut todo)
            }
            (
                K::If {
                    cond: c,
                    then: t,
                    else_: e,
                },
                K::If {
                    cond: d,
                    then: u,
                    else_: f,
                },
            ) => {
                todo.extend([(&**c, &**d), (t, u), (e, f)]);
                true
            }
            (K::Assert { cond: c, body: b }, K::Assert { cond: d, body: e }) => {
                todo.extend([(&**c, &**d), (b, e)]);
                true
            }
            (K::Lambda { param: p, body: b }, K::Lambda { param: q, body: c }) => {
                todo.push((b, c));
                same_param(p, q, &mut todo)
            }
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

fn same_path(p: &[AttrName], q: &[AttrName]) -> bool {
    p.len() == q.len()
        && p.iter()
            .zip(q)
            .all(|(a, b)| a.name == b.name && a.quoted == b.quoted)
}

fn same_bindings<'a>(
    x: &'a [Binding],
    y: &'a [Binding],
    todo: &mut Vec<(&'a Expr, &'a Expr)>,
) -> bool {
    x.len() == y.len()
        && x.iter().zip(y).all(|(a, b)| match (&a.kind, &b.kind) {
            (BindingKind::Attr { path: p, value: v }, BindingKind::Attr { path: q, value: w }) => {
                todo.push((v, w));
                same_path(p, q)
            }
            (
                BindingKind::Inherit { from: f, names: n },
                BindingKind::Inherit { from: g, names: m },
            ) => {
                same_path(n, m)
                    && match (f, g) {
                        (None, None) => true,
                        (Some(f), Some(g)) => {
                            todo.push((f, g));
                            true
                        }
                        _ => false,
                    }
            }
            (BindingKind::Error, BindingKind::Error) => true,
            _ => false,
        })
}

fn same_param<'a>(p: &'a Param, q: &'a Param, todo: &mut Vec<(&'a Expr, &'a Expr)>) -> bool {
    match (p, q) {
        (Param::Ident(a), Param::Ident(b)) => a.name == b.name,
        (
            Param::Pattern {
                fields: f,
                ellipsis: e,
                bind: b,
                bind_first: bf,
            },
            Param::Pattern {
                fields: g,
                ellipsis: d,
                bind: c,
                bind_first: cf,
            },
        ) => {
            let binds = match (b, c) {
                (None, None) => true,
                (Some(b), Some(c)) => b.name == c.name && bf == cf,
                _ => false,
            };
            binds
                && e == d
                && f.len() == g.len()
                && f.iter().zip(g).all(|(x, y)| {
                    x.ident.name == y.ident.name
                        && match (&x.default, &y.default) {
                            (None, None) => true,
                            (Some(a), Some(b)) => {
                                todo.push((a, b));
                                true
                            }
                            _ => false,
                        }
                })
        }
        _ => false,
    }
}
