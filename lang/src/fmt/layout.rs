//! The syntax tree as a document: the canonical layout of every form.

use super::comments::{Boxed, Kind, Note, Notes, Slot};
use super::doc::{Doc, broken_group, choice, concat, first_fit, group, if_break, nest, text};
use crate::syntax::{
    AttrName, BinOp, Binding, BindingKind, Expr, ExprKind, Module, Param, PatField, UnOp,
};

/// An expression's layouts: `doc` in general; `hug` when it can open a block
/// on the current line and close it on its own line (`f x {` … `}`); `hang`
/// for a lambda whose body goes on the next line, indented (`f = x:` …).
struct Built {
    doc: Doc,
    hug: Option<Doc>,
    hang: Option<Doc>,
}

impl Built {
    fn plain(doc: Doc) -> Built {
        Built {
            doc,
            hug: None,
            hang: None,
        }
    }
}

pub struct Layout<'a> {
    src: &'a str,
    notes: &'a Notes,
}

impl<'a> Layout<'a> {
    pub fn new(src: &'a str, notes: &'a Notes) -> Layout<'a> {
        Layout { src, notes }
    }

    /// The whole file, without its final newline.
    pub fn module(&self, m: &Module) -> Doc {
        let bx = self.notes.get((Kind::Root, 0));
        let mut parts = Vec::new();
        if let Some(e) = &m.expr {
            let (_, row) = self.row(slot(bx, 0), self.expr(e).doc);
            parts.push(row);
        }
        for (i, n) in bx.map_or(&[][..], |b| &b.end[..]).iter().enumerate() {
            if i > 0 || m.expr.is_some() {
                if n.blank {
                    parts.push(Doc::blank_line());
                }
                parts.push(Doc::hard_line());
            }
            parts.push(text(n.text.clone()));
        }
        concat(parts)
    }

    fn raw(&self, e: &Expr) -> String {
        self.src[e.span.range()].to_string()
    }

    fn expr(&self, e: &Expr) -> Built {
        match &e.kind {
            ExprKind::Null => Built::plain(text("null")),
            ExprKind::Bool(b) => Built::plain(text(if *b { "true" } else { "false" })),
            ExprKind::Int(n) => Built::plain(text(n.to_string())),
            // Verbatim, so the value cannot change. One spanning lines is a
            // block: `f ''` … `''`.
            ExprKind::Str { .. } | ExprKind::Error => {
                let raw = self.raw(e);
                let multi = raw.contains('\n');
                let doc = text(raw);
                Built {
                    hug: multi.then(|| doc.clone()),
                    doc,
                    hang: None,
                }
            }
            ExprKind::Path(p) => Built::plain(text(p.clone())),
            ExprKind::Var(v) => Built::plain(text(&**v)),
            ExprKind::Paren(inner) => self.paren(inner),
            ExprKind::List(items) => self.list(e, items),
            ExprKind::Attrs { rec, bindings } => self.attrs(e, *rec, bindings),
            ExprKind::Select {
                target,
                path,
                default,
            } => {
                let mut parts = vec![self.expr(target).doc];
                // `./a .b`: without the space the dot would join the path.
                if matches!(target.kind, ExprKind::Path(_)) {
                    parts.push(text(" "));
                }
                parts.push(text("."));
                parts.push(self.attr_path(path));
                if let Some(d) = default {
                    parts.push(text(" or "));
                    parts.push(self.expr(d).doc);
                }
                Built::plain(concat(parts))
            }
            ExprKind::HasAttr { target, path } => Built::plain(concat([
                self.expr(target).doc,
                text(" ? "),
                self.attr_path(path),
            ])),
            ExprKind::Apply { .. } => self.apply(e),
            ExprKind::Unary { op, operand } => {
                let sym = match op {
                    UnOp::Not => "!",
                    UnOp::Neg => "-",
                };
                Built::plain(concat([text(sym), self.expr(operand).doc]))
            }
            ExprKind::Binary { .. } => self.chain(e),
            ExprKind::Let { bindings, body } => self.let_in(e, bindings, body),
            ExprKind::If { .. } => self.if_chain(e),
            ExprKind::Assert { cond, body } => {
                let (c, b) = (self.expr(cond).doc, self.expr(body).doc);
                let flat = concat([text("assert "), c.clone(), text("; "), b.clone()]);
                let broken = concat([text("assert "), c, text(";"), Doc::line(), b]);
                Built::plain(choice(flat, vec![broken]))
            }
            ExprKind::Lambda { .. } => self.lambda(e),
            ExprKind::Import(target) => {
                Built::plain(concat([text("import "), self.expr(target).doc]))
            }
        }
    }

    /// `if a then x else if b then y else z`: flat, or one keyword a line.
    fn if_chain(&self, e: &Expr) -> Built {
        let mut flat = Vec::new();
        let mut broken = Vec::new();
        let mut cur = e;
        while let ExprKind::If { cond, then, else_ } = &cur.kind {
            let (c, t) = (self.expr(cond).doc, self.expr(then).doc);
            let kw = if flat.is_empty() { "if " } else { " else if " };
            flat.extend([text(kw), c.clone(), text(" then "), t.clone()]);
            if !broken.is_empty() {
                broken.extend([Doc::line(), text("else if ")]);
            } else {
                broken.push(text("if "));
            }
            broken.extend([c, Doc::line(), text("then"), branch(then, t)]);
            cur = else_;
        }
        let f = self.expr(cur).doc;
        flat.extend([text(" else "), f.clone()]);
        broken.extend([Doc::line(), text("else"), branch(cur, f)]);
        Built::plain(choice(concat(flat), vec![concat(broken)]))
    }

    fn attr_name(&self, a: &AttrName) -> Doc {
        if a.quoted {
            text(&self.src[a.span.range()])
        } else {
            text(&*a.name)
        }
    }

    fn attr_path(&self, path: &[AttrName]) -> Doc {
        let mut parts = Vec::new();
        for (i, a) in path.iter().enumerate() {
            if i > 0 {
                parts.push(text("."));
            }
            parts.push(self.attr_name(a));
        }
        concat(parts)
    }

    fn paren(&self, inner: &Expr) -> Built {
        let b = self.expr(inner);
        let flat = concat([text("("), b.doc.clone(), text(")")]);
        let hug = b.hug.map(|h| concat([text("("), h, text(")")]));
        let broken = concat([
            text("("),
            nest(concat([Doc::soft_line(), b.doc])),
            Doc::soft_line(),
            text(")"),
        ]);
        // `(let` would print the bindings beside the parenthesis.
        let soft = !matches!(inner.kind, ExprKind::Let { .. });
        hugging(flat, hug, broken, soft)
    }

    /// `f a b`: on one line; or hugging the last block argument; or one
    /// argument per line.
    fn apply(&self, e: &Expr) -> Built {
        let mut args = Vec::new();
        let mut head = e;
        while let ExprKind::Apply { func, arg } = &head.kind {
            args.push(&**arg);
            head = func;
        }
        args.reverse();
        let head = self.expr(head).doc;
        let built: Vec<Built> = args.iter().map(|a| self.expr(a)).collect();
        let mut flat = vec![head.clone()];
        let mut broken = Vec::new();
        for b in &built {
            flat.push(text(" "));
            flat.push(b.doc.clone());
            broken.push(Doc::line());
            broken.push(b.doc.clone());
        }
        let hug = built.iter().rposition(|b| b.hug.is_some()).map(|j| {
            let mut parts = vec![head.clone()];
            for (i, b) in built.iter().enumerate() {
                parts.push(text(" "));
                parts.push(if i == j {
                    b.hug.clone().expect("chosen for its hug")
                } else {
                    b.doc.clone()
                });
            }
            concat(parts)
        });
        let flat = concat(flat);
        let broken = concat([head, nest(concat(broken))]);
        hugging(flat, hug, broken, true)
    }

    /// A run of operators of one precedence; broken before each operator.
    fn chain(&self, e: &Expr) -> Built {
        let ExprKind::Binary { op, .. } = &e.kind else {
            unreachable!("chain of a binary expression")
        };
        let prec = op.precedence();
        let mut operands: Vec<&Expr> = Vec::new();
        let mut ops: Vec<BinOp> = Vec::new();
        if op.right_assoc() {
            let mut cur = e;
            while let ExprKind::Binary {
                op: o, lhs, rhs, ..
            } = &cur.kind
                && *o == *op
            {
                operands.push(lhs);
                ops.push(*o);
                cur = rhs;
            }
            operands.push(cur);
        } else {
            let mut cur = e;
            while let ExprKind::Binary {
                op: o, lhs, rhs, ..
            } = &cur.kind
                && o.precedence() == prec
            {
                operands.push(rhs);
                ops.push(*o);
                cur = lhs;
            }
            operands.push(cur);
            operands.reverse();
            ops.reverse();
        }
        let built: Vec<Built> = operands.iter().map(|o| self.expr(o)).collect();
        let first = built[0].doc.clone();
        let mut flat = vec![first.clone()];
        let mut broken = Vec::new();
        for (o, b) in ops.iter().zip(&built[1..]) {
            flat.push(text(format!(" {} ", o.symbol())));
            flat.push(b.doc.clone());
            broken.push(Doc::line());
            broken.push(text(format!("{} ", o.symbol())));
            broken.push(b.doc.clone());
        }
        // Only `a // {` … hugs: after a longer chain the block would hide it.
        let last = built.last().filter(|_| built.len() == 2);
        let hug = last.and_then(|l| l.hug.clone()).map(|h| {
            let mut parts = flat.clone();
            parts.pop();
            parts.push(h);
            concat(parts)
        });
        // A `let` operand would print its bindings after the operator.
        let soft = !operands
            .iter()
            .any(|o| matches!(o.kind, ExprKind::Let { .. }));
        let broken = concat([first, nest(concat(broken))]);
        hugging(concat(flat), hug, broken, soft)
    }

    /// `x: y: body`, the parameters of a curried function on one line.
    fn lambda(&self, e: &Expr) -> Built {
        let mut head = Vec::new();
        let mut cur = e;
        while let ExprKind::Lambda { param, body } = &cur.kind {
            if !head.is_empty() {
                head.push(text(" "));
            }
            head.push(self.param(cur, param));
            head.push(text(":"));
            cur = body;
        }
        let head = concat(head);
        let body = self.expr(cur);
        let flat = concat([head.clone(), text(" "), body.doc.clone()]);
        let hug = body.hug.map(|h| concat([head.clone(), text(" "), h]));
        let hang = match hug {
            Some(_) => None,
            None => Some(concat([
                head.clone(),
                nest(concat([Doc::line(), body.doc.clone()])),
            ])),
        };
        // A multi-line pattern may still end `}: body`.
        let soft = !body.doc.hard();
        let broken = concat([head, Doc::line(), body.doc]);
        let mut b = hugging(flat, hug, broken, soft);
        b.hang = hang;
        b
    }

    fn param(&self, lambda: &Expr, p: &Param) -> Doc {
        match p {
            Param::Ident(id) => text(&*id.name),
            Param::Pattern {
                fields,
                ellipsis,
                bind,
                bind_first,
            } => {
                let pat = self.pattern(lambda, fields, *ellipsis);
                match bind {
                    None => pat,
                    Some(id) if *bind_first => concat([text(format!("{}@", id.name)), pat]),
                    Some(id) => concat([pat, text(format!("@{}", id.name))]),
                }
            }
        }
    }

    fn pattern(&self, lambda: &Expr, fields: &[PatField], ellipsis: bool) -> Doc {
        let n = fields.len();
        let items = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut parts = vec![text(&*f.ident.name)];
                if let Some(d) = &f.default {
                    parts.push(text(" ?"));
                    parts.push(branch(d, self.expr(d).doc));
                }
                parts.push(if i + 1 < n || ellipsis {
                    text(",")
                } else {
                    if_break(text(","), text(""))
                });
                concat(parts)
            })
            .collect();
        let tail = ellipsis.then(|| text("..."));
        let (content, noted) = self.delimited(
            "{",
            "}",
            self.notes.get((Kind::Pattern, lambda.span.start)),
            items,
            tail,
        );
        wrap(content, noted)
    }

    fn list(&self, e: &Expr, items: &[Expr]) -> Built {
        let n = items.len();
        let docs = items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                let sep = if i + 1 < n {
                    text(",")
                } else {
                    if_break(text(","), text(""))
                };
                concat([self.expr(it).doc, sep])
            })
            .collect();
        let (content, noted) = self.delimited(
            "[",
            "]",
            self.notes.get((Kind::List, e.span.start)),
            docs,
            None,
        );
        block(content, noted, n > 0)
    }

    fn attrs(&self, e: &Expr, rec: bool, bindings: &[Binding]) -> Built {
        let docs = bindings.iter().map(|b| self.binding(b)).collect();
        let open = if rec { "rec {" } else { "{" };
        let bx = self.notes.get((Kind::Attrs, e.span.start));
        let (content, noted) = self.delimited(open, "}", bx, docs, None);
        block(content, noted, !bindings.is_empty())
    }

    /// `open item item … close`: flat as `{ a; b; }`, broken one item a line.
    /// Returns the content and whether it holds comments.
    fn delimited(
        &self,
        open: &str,
        close: &str,
        bx: Option<&Boxed>,
        items: Vec<Doc>,
        tail: Option<Doc>,
    ) -> (Doc, bool) {
        let mut inner = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let (blank, row) = self.row(slot(bx, i), item);
            if blank {
                inner.push(Doc::blank_line());
            }
            inner.push(Doc::line());
            inner.push(row);
        }
        if let Some(t) = tail {
            inner.push(Doc::line());
            inner.push(t);
        }
        for n in bx.map_or(&[][..], |b| &b.end[..]) {
            if n.blank {
                inner.push(Doc::blank_line());
            }
            inner.push(Doc::line());
            inner.push(text(n.text.clone()));
        }
        let noted = bx.is_some_and(Boxed::has_comments);
        if inner.is_empty() {
            return (text(format!("{open} {close}")), noted);
        }
        (
            concat([text(open), nest(concat(inner)), Doc::line(), text(close)]),
            noted,
        )
    }

    /// One slot: its leading comments, the item, its trailing comments.
    /// Returns whether a blank line precedes the row.
    fn row(&self, slot: Option<&Slot>, item: Doc) -> (bool, Doc) {
        let Some(s) = slot else {
            return (false, item);
        };
        let mut elems: Vec<(bool, Doc)> = s
            .leading
            .iter()
            .map(|n: &Note| (n.blank, text(n.text.clone())))
            .collect();
        elems.push((s.blank, item));
        let first_blank = elems[0].0;
        let mut parts = Vec::new();
        for (j, (blank, d)) in elems.into_iter().enumerate() {
            if j > 0 {
                if blank {
                    parts.push(Doc::blank_line());
                }
                parts.push(Doc::hard_line());
            }
            parts.push(d);
        }
        for t in &s.trailing {
            parts.push(text(" "));
            parts.push(Doc::trailing(t.text.clone()));
        }
        (first_blank, concat(parts))
    }

    fn let_in(&self, e: &Expr, bindings: &[Binding], body: &Expr) -> Built {
        let bx = self.notes.get((Kind::Let, e.span.start));
        let mut inner = Vec::new();
        for (i, b) in bindings.iter().enumerate() {
            let (blank, row) = self.row(slot(bx, i), self.binding(b));
            if blank {
                inner.push(Doc::blank_line());
            }
            inner.push(Doc::hard_line());
            inner.push(row);
        }
        for n in bx.map_or(&[][..], |b| &b.end[..]) {
            if n.blank {
                inner.push(Doc::blank_line());
            }
            inner.push(Doc::hard_line());
            inner.push(text(n.text.clone()));
        }
        let (_, body) = self.row(slot(bx, bindings.len()), self.expr(body).doc);
        Built::plain(concat([
            text("let"),
            nest(concat(inner)),
            Doc::hard_line(),
            text("in"),
            Doc::hard_line(),
            body,
        ]))
    }

    fn binding(&self, b: &Binding) -> Doc {
        match &b.kind {
            BindingKind::Attr { path, value } => {
                let path = self.attr_path(path);
                let v = self.expr(value);
                let flat = concat([path.clone(), text(" = "), v.doc.clone(), text(";")]);
                if atomic(value) {
                    return flat;
                }
                let mut alts = Vec::new();
                if let Some(h) = v.hug.or(v.hang) {
                    alts.push(concat([path.clone(), text(" = "), h, text(";")]));
                }
                alts.push(concat([
                    path,
                    text(" ="),
                    nest(concat([Doc::line(), v.doc])),
                    text(";"),
                ]));
                choice(flat, alts)
            }
            BindingKind::Inherit { from, names } => {
                let mut parts = vec![text("inherit")];
                if let Some(f) = from {
                    parts.push(text(" ("));
                    parts.push(self.expr(f).doc);
                    parts.push(text(")"));
                }
                let names: Vec<Doc> = names
                    .iter()
                    .flat_map(|n| [Doc::line(), self.attr_name(n)])
                    .collect();
                parts.push(nest(concat(names)));
                parts.push(text(";"));
                group(concat(parts))
            }
            BindingKind::Error => text(&self.src[b.span.range()]),
        }
    }
}

fn slot(bx: Option<&Boxed>, i: usize) -> Option<&Slot> {
    bx.and_then(|b| b.slots.get(i))
}

/// A container's group: forced broken when it holds comments.
fn wrap(content: Doc, noted: bool) -> Doc {
    if noted {
        broken_group(content)
    } else {
        group(content)
    }
}

/// Sets and lists: a non-empty one can also hug (open on the current line).
fn block(content: Doc, noted: bool, nonempty: bool) -> Built {
    let hug = (nonempty || noted).then(|| broken_group(content.clone()));
    Built {
        doc: wrap(content, noted),
        hug,
        hang: None,
    }
}

/// Layouts of a form that can hug a block: on one line; else, when that is
/// impossible (a part must break), each part as it likes if the first line
/// fits; else hugging its last block; else `broken`.
fn hugging(flat: Doc, hug: Option<Doc>, broken: Doc, soft: bool) -> Built {
    let soft = soft && flat.hard();
    let mut alts = Vec::new();
    if soft {
        alts.push(flat.clone());
    }
    alts.extend(hug.clone());
    alts.push(broken);
    let hug = hug.map(|h| {
        if soft {
            first_fit(vec![flat.clone(), h])
        } else {
            h
        }
    });
    Built {
        doc: choice(flat, alts),
        hug,
        hang: None,
    }
}

/// ` x` after a keyword; a `let` starts on its own indented line.
fn branch(e: &Expr, doc: Doc) -> Doc {
    if matches!(e.kind, ExprKind::Let { .. }) {
        nest(concat([Doc::hard_line(), doc]))
    } else {
        concat([text(" "), doc])
    }
}

/// Values that cannot break: moving them to the next line gains nothing.
fn atomic(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Str { .. }
        | ExprKind::Path(_)
        | ExprKind::Var(_) => true,
        ExprKind::Select {
            target,
            default: None,
            ..
        } => matches!(target.kind, ExprKind::Var(_)),
        _ => false,
    }
}
