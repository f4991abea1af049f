//! Turns pest pairs into the syntax tree.

use super::ast::*;
use super::indent::{Seg, dedent};
use super::{Rule, explain};
use crate::diag::{Diagnostic, FileId, Loc, Span};
use pest::iterators::Pair;

pub(super) struct Builder<'s> {
    file: FileId,
    src: &'s str,
    pub diagnostics: Vec<Diagnostic>,
    depth: usize,
    cut: bool,
}

type P<'s> = Pair<'s, Rule>;

/// A node's span, ending at its last real token: pest keeps the whitespace
/// and comments skipped before an optional part that did not match.
fn span(p: &P) -> Span {
    let start = p.as_span().start();
    let mut last = p.clone();
    // Strings end at their closing quote, which is not a child token.
    while !matches!(last.as_rule(), Rule::string | Rule::ind_string)
        && let Some(child) = last
            .clone()
            .into_inner()
            .filter(|c| c.as_rule() != Rule::COMMENT)
            .last()
    {
        last = child;
    }
    Span::new(start, last.as_span().end().max(start))
}

/// Children without comments (comments are collected once, up front).
fn kids<'s>(p: P<'s>) -> impl Iterator<Item = P<'s>> {
    p.into_inner().filter(|c| c.as_rule() != Rule::COMMENT)
}

impl<'s> Builder<'s> {
    pub fn new(file: FileId, src: &'s str) -> Builder<'s> {
        Builder {
            file,
            src,
            diagnostics: Vec::new(),
            depth: 0,
            cut: false,
        }
    }

    fn loc(&self, span: Span) -> Loc {
        Loc::new(self.file, span)
    }

    pub fn file(&mut self, root: P<'s>) -> Module {
        let whole = span(&root);
        let comments = root
            .clone()
            .into_inner()
            .flatten()
            .filter(|p| p.as_rule() == Rule::COMMENT)
            .map(|p| Comment {
                span: span(&p),
                text: p.as_str().to_string(),
                block: p.as_str().starts_with("/*"),
            })
            .collect();
        let mut expr = None;
        for p in kids(root) {
            match p.as_rule() {
                Rule::expr => expr = Some(self.expr(p)),
                Rule::top_error => {
                    let d = explain::top_error(self.file, self.src, span(&p), expr.is_some());
                    self.diagnostics.push(d);
                    if expr.is_none() {
                        expr = Some(Expr::new(span(&p), ExprKind::Error));
                    }
                }
                _ => {}
            }
        }
        Module {
            expr,
            comments,
            span: whole,
        }
    }

    fn expr(&mut self, p: P<'s>) -> Expr {
        // Nesting beyond the tree limit is reported after building; stop
        // descending here so building itself cannot exhaust the stack.
        let low_stack = stacker::remaining_stack().is_some_and(|r| r < 128 * 1024);
        // The counter grows by two per level (the `expr` pair and the rule
        // inside); the fast parser mirrors this cut-off exactly.
        if self.depth > super::MAX_DEPTH || low_stack {
            // Every cut is reported (once): an Error node without a
            // diagnostic would silently poison the file's value.
            if !self.cut {
                self.cut = true;
                self.diagnostics.push(
                    Diagnostic::error("E0211", "the expression is nested too deeply to read")
                        .label(self.loc(span(&p)), "too deep from here on")
                        .help("split it into `let` bindings"),
                );
            }
            return Expr::new(span(&p), ExprKind::Error);
        }
        self.depth += 1;
        let e = self.expr_inner(p);
        self.depth -= 1;
        e
    }

    fn expr_inner(&mut self, p: P<'s>) -> Expr {
        let sp = span(&p);
        match p.as_rule() {
            Rule::expr | Rule::tail_expr => {
                let inner = kids(p).next().expect("expr has one child");
                self.expr(inner)
            }
            Rule::let_expr => {
                let mut bindings = Vec::new();
                let mut body = None;
                for c in kids(p) {
                    match c.as_rule() {
                        Rule::attr_binding | Rule::inherit | Rule::binding_error => {
                            bindings.push(self.binding(c))
                        }
                        Rule::expr => body = Some(self.expr(c)),
                        _ => {}
                    }
                }
                Expr::new(
                    sp,
                    ExprKind::Let {
                        bindings,
                        body: Box::new(body.expect("let has a body")),
                    },
                )
            }
            Rule::if_expr => {
                let mut es = kids(p).filter(|c| c.as_rule() == Rule::expr);
                let cond = self.expr(es.next().expect("if cond"));
                let then = self.expr(es.next().expect("if then"));
                let else_ = self.expr(es.next().expect("if else"));
                Expr::new(
                    sp,
                    ExprKind::If {
                        cond: Box::new(cond),
                        then: Box::new(then),
                        else_: Box::new(else_),
                    },
                )
            }
            Rule::assert_expr => {
                let mut es = kids(p).filter(|c| c.as_rule() == Rule::expr);
                let cond = self.expr(es.next().expect("assert cond"));
                let body = self.expr(es.next().expect("assert body"));
                Expr::new(
                    sp,
                    ExprKind::Assert {
                        cond: Box::new(cond),
                        body: Box::new(body),
                    },
                )
            }
            Rule::lambda => self.lambda(p),
            Rule::op_expr => self.op_expr(p),
            other => unreachable!("not an expression rule: {other:?}"),
        }
    }

    fn lambda(&mut self, p: P<'s>) -> Expr {
        let sp = span(&p);
        let mut it = kids(p);
        let head = it.next().expect("lambda head");
        let body = it.find(|c| c.as_rule() == Rule::expr).expect("lambda body");
        let mut ident = None;
        let mut pattern = None;
        let mut bind_first = false;
        for c in kids(head) {
            match c.as_rule() {
                Rule::ident => {
                    bind_first = pattern.is_none();
                    ident = Some(self.ident(&c));
                }
                Rule::pattern => pattern = Some(c),
                _ => {}
            }
        }
        let param = match pattern {
            None => Param::Ident(ident.expect("lambda parameter")),
            Some(pat) => {
                let mut fields = Vec::new();
                let mut ellipsis = false;
                for c in kids(pat) {
                    match c.as_rule() {
                        Rule::pat_field => {
                            let mut f = kids(c);
                            let id = self.ident(&f.next().expect("field name"));
                            let default =
                                f.find(|c| c.as_rule() == Rule::expr).map(|e| self.expr(e));
                            fields.push(PatField { ident: id, default });
                        }
                        Rule::ellipsis => ellipsis = true,
                        _ => {}
                    }
                }
                Param::Pattern {
                    fields,
                    ellipsis,
                    bind: ident,
                    bind_first,
                }
            }
        };
        let body = self.expr(body);
        Expr::new(
            sp,
            ExprKind::Lambda {
                param,
                body: Box::new(body),
            },
        )
    }

    /// Operator precedence by shunting-yard: no recursion, so long chains
    /// (`a + b + … `) cannot exhaust the stack while building.
    fn op_expr(&mut self, p: P<'s>) -> Expr {
        let mut operands: Vec<Expr> = Vec::new();
        let mut ops: Vec<(BinOp, Span)> = Vec::new();
        for c in kids(p) {
            match c.as_rule() {
                Rule::unary => {
                    let e = self.unary(c);
                    operands.push(e);
                }
                Rule::tail_expr => {
                    let e = self.expr(c);
                    operands.push(e);
                }
                r => {
                    let op = binop(r);
                    while let Some(&(top, _)) = ops.last() {
                        let pops = top.precedence() > op.precedence()
                            || (top.precedence() == op.precedence() && !op.right_assoc());
                        if !pops {
                            break;
                        }
                        reduce(&mut operands, &mut ops);
                    }
                    ops.push((op, span(&c)));
                }
            }
        }
        while !ops.is_empty() {
            reduce(&mut operands, &mut ops);
        }
        operands.pop().expect("operator chain has an operand")
    }

    fn unary(&mut self, p: P<'s>) -> Expr {
        let mut prefixes: Vec<(UnOp, Span)> = Vec::new();
        let mut e: Option<Expr> = None;
        for c in kids(p) {
            match c.as_rule() {
                Rule::op_not => prefixes.push((UnOp::Not, span(&c))),
                Rule::op_neg => prefixes.push((UnOp::Neg, span(&c))),
                Rule::app => e = Some(self.app(c)),
                Rule::has_attr => {
                    let target = e.take().expect("has_attr follows an operand");
                    let path_pair = kids(c)
                        .find(|c| c.as_rule() == Rule::attrpath)
                        .expect("has_attr path");
                    let path = self.attrpath(path_pair);
                    let end = path.last().map(|a| a.span).unwrap_or(target.span);
                    e = Some(Expr::new(
                        target.span.to(end),
                        ExprKind::HasAttr {
                            target: Box::new(target),
                            path,
                        },
                    ));
                }
                _ => {}
            }
        }
        let mut e = e.expect("unary has an operand");
        for (op, sp) in prefixes.into_iter().rev() {
            e = Expr::new(
                sp.to(e.span),
                ExprKind::Unary {
                    op,
                    operand: Box::new(e),
                },
            );
        }
        e
    }

    fn app(&mut self, p: P<'s>) -> Expr {
        let mut e: Option<Expr> = None;
        for c in kids(p) {
            let arg = self.select(c);
            e = Some(match e {
                None => arg,
                Some(f) => Expr::new(
                    f.span.to(arg.span),
                    ExprKind::Apply {
                        func: Box::new(f),
                        arg: Box::new(arg),
                    },
                ),
            });
        }
        e.expect("application has a head")
    }

    fn select(&mut self, p: P<'s>) -> Expr {
        let sp = span(&p);
        let mut it = kids(p);
        let target = self.primary(it.next().expect("select primary"));
        let mut path = Vec::new();
        let mut default = None;
        for c in it {
            match c.as_rule() {
                Rule::attr_name => path.push(self.attr_name(c)),
                Rule::select => default = Some(Box::new(self.select(c))),
                _ => {}
            }
        }
        if path.is_empty() {
            return target;
        }
        Expr::new(
            sp,
            ExprKind::Select {
                target: Box::new(target),
                path,
                default,
            },
        )
    }

    fn primary(&mut self, p: P<'s>) -> Expr {
        let sp = span(&p);
        let kind = match p.as_rule() {
            Rule::int => match p.as_str().parse::<i64>() {
                Ok(n) => ExprKind::Int(n),
                Err(_) => {
                    self.diagnostics.push(
                        Diagnostic::error("E0103", "integer literal is too large")
                            .label(self.loc(sp), "does not fit in a 64-bit signed integer")
                            .help(format!("integers range from {} to {}", i64::MIN, i64::MAX)),
                    );
                    ExprKind::Error
                }
            },
            Rule::string => ExprKind::Str {
                parts: self.string_parts(p),
                indented: false,
            },
            Rule::ind_string => ExprKind::Str {
                parts: self.ind_string_parts(p),
                indented: true,
            },
            Rule::path => ExprKind::Path(p.as_str().to_string()),
            Rule::kw_true => ExprKind::Bool(true),
            Rule::kw_false => ExprKind::Bool(false),
            Rule::kw_null => ExprKind::Null,
            Rule::var => ExprKind::Var(p.as_str().into()),
            Rule::paren => {
                let inner = kids(p).find(|c| c.as_rule() == Rule::expr).expect("paren");
                ExprKind::Paren(Box::new(self.expr(inner)))
            }
            Rule::import_expr => {
                let inner = kids(p)
                    .find(|c| c.as_rule() == Rule::select)
                    .expect("import");
                ExprKind::Import(Box::new(self.select(inner)))
            }
            Rule::attrset => {
                let mut rec = false;
                let mut bindings = Vec::new();
                for c in kids(p) {
                    match c.as_rule() {
                        Rule::kw_rec => rec = true,
                        Rule::attr_binding | Rule::inherit | Rule::binding_error => {
                            bindings.push(self.binding(c))
                        }
                        _ => {}
                    }
                }
                ExprKind::Attrs { rec, bindings }
            }
            Rule::list => {
                let mut items = Vec::new();
                for c in kids(p) {
                    match c.as_rule() {
                        Rule::expr => items.push(self.expr(c)),
                        Rule::item_error => {
                            let d = explain::item_error(self.file, self.src, span(&c));
                            self.diagnostics.push(d);
                            items.push(Expr::new(span(&c), ExprKind::Error));
                        }
                        _ => {}
                    }
                }
                ExprKind::List(items)
            }
            other => unreachable!("not a primary: {other:?}"),
        };
        Expr::new(sp, kind)
    }

    fn binding(&mut self, p: P<'s>) -> Binding {
        let sp = span(&p);
        let kind = match p.as_rule() {
            Rule::attr_binding => {
                let mut it = kids(p);
                let path = self.attrpath(it.next().expect("binding path"));
                let value = it
                    .find(|c| c.as_rule() == Rule::expr)
                    .expect("binding value");
                BindingKind::Attr {
                    path,
                    value: self.expr(value),
                }
            }
            Rule::inherit => {
                let mut from = None;
                let mut names = Vec::new();
                for c in kids(p) {
                    match c.as_rule() {
                        Rule::expr => from = Some(self.expr(c)),
                        Rule::attr_name => names.push(self.attr_name(c)),
                        _ => {}
                    }
                }
                BindingKind::Inherit { from, names }
            }
            _ => {
                let d = explain::binding_error(self.file, self.src, sp);
                self.diagnostics.push(d);
                BindingKind::Error
            }
        };
        Binding { span: sp, kind }
    }

    fn attrpath(&mut self, p: P<'s>) -> Vec<AttrName> {
        kids(p)
            .filter(|c| c.as_rule() == Rule::attr_name)
            .map(|c| self.attr_name(c))
            .collect()
    }

    fn attr_name(&mut self, p: P<'s>) -> AttrName {
        let sp = span(&p);
        let inner = kids(p).next().expect("attr name");
        match inner.as_rule() {
            Rule::ident => AttrName {
                span: sp,
                name: inner.as_str().into(),
                quoted: false,
            },
            _ => {
                let parts = self.string_parts(inner);
                let mut name = String::new();
                for part in parts {
                    match part {
                        StrPart::Lit(s) => name.push_str(&s),
                        StrPart::Interp(e) => self.diagnostics.push(
                            Diagnostic::error(
                                "E0101",
                                "interpolation is not allowed in an attribute name",
                            )
                            .label(self.loc(e.span), "attribute names are fixed text")
                            .help("write the name literally, e.g. `\"my-name\" = …;`"),
                        ),
                    }
                }
                AttrName {
                    span: sp,
                    name: name.into(),
                    quoted: true,
                }
            }
        }
    }

    fn ident(&self, p: &P<'s>) -> Ident {
        Ident {
            span: span(p),
            name: p.as_str().into(),
        }
    }

    fn string_parts(&mut self, p: P<'s>) -> Vec<StrPart> {
        let mut parts: Vec<StrPart> = Vec::new();
        let mut text = String::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::str_text => text.push_str(c.as_str()),
                Rule::str_escape => {
                    let esc = &c.as_str()[1..];
                    match esc {
                        "n" => text.push('\n'),
                        "t" => text.push('\t'),
                        "r" => text.push('\r'),
                        "\\" | "\"" | "$" => text.push_str(esc),
                        _ => {
                            self.diagnostics.push(
                                Diagnostic::error("E0103", format!("invalid escape `\\{esc}`"))
                                    .label(self.loc(span(&c)), "unknown escape sequence")
                                    .help(
                                        "valid escapes are \\n \\t \\r \\\\ \\\" and \\$; \
                                         write `\\\\` for a backslash",
                                    ),
                            );
                            text.push_str(esc);
                        }
                    }
                }
                Rule::str_interp => {
                    if !text.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut text)));
                    }
                    let e = kids(c).find(|c| c.as_rule() == Rule::expr).expect("interp");
                    parts.push(StrPart::Interp(self.expr(e)));
                }
                _ => {}
            }
        }
        if !text.is_empty() {
            parts.push(StrPart::Lit(text));
        }
        parts
    }

    /// Indented strings: the common indentation of non-blank lines is
    /// removed, a blank first line and trailing blank last line dropped (as Nix).
    fn ind_string_parts(&mut self, p: P<'s>) -> Vec<StrPart> {
        let mut segs: Vec<Seg> = Vec::new();
        for c in p.into_inner() {
            match c.as_rule() {
                Rule::ind_text => segs.extend(c.as_str().chars().map(|ch| Seg::Ch(ch, true))),
                Rule::ind_escape => {
                    let s = c.as_str();
                    let lit = match s {
                        "''$" => "$".to_string(),
                        "'''" => "''".to_string(),
                        _ => match &s[3..] {
                            "n" => "\n".into(),
                            "t" => "\t".into(),
                            "r" => "\r".into(),
                            other => other.to_string(),
                        },
                    };
                    segs.extend(lit.chars().map(|ch| Seg::Ch(ch, false)));
                }
                Rule::ind_interp => {
                    let e = kids(c).find(|c| c.as_rule() == Rule::expr).expect("interp");
                    segs.push(Seg::Interp(self.expr(e)));
                }
                _ => {}
            }
        }
        dedent(segs)
    }
}

fn binop(r: Rule) -> BinOp {
    match r {
        Rule::op_mul => BinOp::Mul,
        Rule::op_div => BinOp::Div,
        Rule::op_add => BinOp::Add,
        Rule::op_sub => BinOp::Sub,
        Rule::op_concat => BinOp::Concat,
        Rule::op_update => BinOp::Update,
        Rule::op_lt => BinOp::Lt,
        Rule::op_le => BinOp::Le,
        Rule::op_gt => BinOp::Gt,
        Rule::op_ge => BinOp::Ge,
        Rule::op_eq => BinOp::Eq,
        Rule::op_ne => BinOp::Ne,
        Rule::op_and => BinOp::And,
        Rule::op_or => BinOp::Or,
        Rule::op_arrow => BinOp::Arrow,
        Rule::op_devapp => BinOp::DevApp,
        other => unreachable!("not an operator: {other:?}"),
    }
}

fn reduce(operands: &mut Vec<Expr>, ops: &mut Vec<(BinOp, Span)>) {
    let (op, op_span) = ops.pop().expect("an operator to reduce");
    let rhs = operands.pop().expect("right operand");
    let lhs = operands.pop().expect("left operand");
    operands.push(Expr::new(
        lhs.span.to(rhs.span),
        ExprKind::Binary {
            op,
            op_span,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    ));
}
