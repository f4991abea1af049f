//! A hand-written parser for the common case: a file without syntax errors.
//!
//! It follows `unik.pest` rule by rule (same ordered choices, same
//! backtracking, same spans as `build.rs`) but has no error recovery. Where
//! the grammar would fall back to an error rule (`binding_error`,
//! `item_error`, `top_error`) or the builder would report an error, it gives
//! up, and the caller parses with pest, which produces the diagnostics.

use super::MAX_DEPTH;
use super::ast::*;
use super::indent::{Seg, dedent};
use super::lex::{KEYWORDS, comment_at, ident_char, ident_start, path_char};
use crate::diag::Span;

/// Why a rule did not produce a node.
enum Stop {
    /// The rule does not match here; the caller may try another alternative.
    NoMatch,
    /// The grammar would recover from an error here, or limits were hit:
    /// the whole fast parse is abandoned.
    Bail,
}

type R<T> = Result<T, Stop>;

/// An expression with the depth of its tree, so that a tree deeper than
/// [`MAX_DEPTH`] is never built (dropping one would recurse as deep).
struct N {
    e: Expr,
    d: usize,
}

fn node(span: Span, kind: ExprKind, d: usize) -> R<N> {
    if d > MAX_DEPTH {
        return Err(Stop::Bail);
    }
    Ok(N {
        e: Expr::new(span, kind),
        d,
    })
}

fn leaf(span: Span, kind: ExprKind) -> N {
    N {
        e: Expr::new(span, kind),
        d: 1,
    }
}

/// A restore point: position, end of the last token, comments seen.
#[derive(Clone, Copy)]
struct Mark {
    pos: usize,
    last: usize,
    ncom: usize,
}

struct Parser<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    /// End of the last real token: node spans end here (`build.rs::span`).
    last: usize,
    comments: Vec<Comment>,
    depth: usize,
    select_depth: usize,
}

/// Parses `src`; `None` when it has any syntax error or is too deep.
pub(super) fn parse(src: &str) -> Option<Module> {
    let mut p = Parser {
        src,
        b: src.as_bytes(),
        pos: 0,
        last: 0,
        comments: Vec::new(),
        depth: 0,
        select_depth: 0,
    };
    p.ws();
    let expr = if p.pos == p.b.len() {
        None
    } else {
        match p.expr() {
            Ok(n) => Some(n.e),
            Err(_) => return None,
        }
    };
    if p.pos != p.b.len() {
        return None;
    }
    Some(Module {
        expr,
        comments: p.comments,
        span: Span::new(0, src.len()),
    })
}

fn low_stack() -> bool {
    stacker::remaining_stack().is_some_and(|r| r < 128 * 1024)
}

impl<'s> Parser<'s> {
    fn mark(&self) -> Mark {
        Mark {
            pos: self.pos,
            last: self.last,
            ncom: self.comments.len(),
        }
    }

    fn reset(&mut self, m: Mark) {
        self.pos = m.pos;
        self.last = m.last;
        self.comments.truncate(m.ncom);
    }

    fn peek(&self) -> u8 {
        self.b.get(self.pos).copied().unwrap_or(0)
    }

    fn at(&self, s: &str) -> bool {
        self.b[self.pos..].starts_with(s.as_bytes())
    }

    /// Pest's implicit whitespace: blanks and comments.
    fn ws(&mut self) {
        loop {
            match self.b.get(self.pos) {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.pos += 1,
                Some(b'#' | b'/') => match comment_at(self.src, self.pos) {
                    // An unterminated comment is left to pest's diagnostics.
                    Some((end, block, closed)) if closed || !block => self.comment(end, block),
                    _ => return,
                },
                _ => return,
            }
        }
    }

    fn comment(&mut self, end: usize, block: bool) {
        self.comments.push(Comment {
            span: Span::new(self.pos, end),
            text: self.src[self.pos..end].to_string(),
            block,
        });
        self.pos = end;
    }

    /// Consumes `n` bytes of a token, then the whitespace after it.
    fn bump(&mut self, n: usize) {
        self.pos += n;
        self.last = self.pos;
        self.ws();
    }

    fn tok(&mut self, s: &str) -> bool {
        if self.at(s) {
            self.bump(s.len());
            true
        } else {
            false
        }
    }

    fn ident_end(&self) -> Option<usize> {
        let b = self.b;
        if !ident_start(self.peek()) {
            return None;
        }
        let mut i = self.pos + 1;
        while i < b.len() && ident_char(b[i]) {
            i += 1;
        }
        Some(i)
    }

    /// `kw_*`: the word not followed by an identifier character.
    fn kw(&mut self, word: &str) -> bool {
        if self.at(word)
            && !self
                .b
                .get(self.pos + word.len())
                .is_some_and(|&c| ident_char(c))
        {
            self.bump(word.len());
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> Option<Ident> {
        let end = self.ident_end()?;
        let id = Ident {
            span: Span::new(self.pos, end),
            name: self.src[self.pos..end].into(),
        };
        self.bump(end - self.pos);
        Some(id)
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start, self.last.max(start))
    }

    // ------------------------------------------------------------ expressions

    /// Enters one expression level. `build.rs` turns an expression into
    /// `Error` (without a diagnostic) once its own depth, two per level
    /// (the `expr` pair and the rule inside), passes `MAX_DEPTH`: such
    /// trees are left to it.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> R<T>) -> R<T> {
        if 2 * self.depth + 1 > MAX_DEPTH || low_stack() {
            return Err(Stop::Bail);
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn expr(&mut self) -> R<N> {
        self.nested(|p| match p.tail()? {
            Some(n) => Ok(n),
            None => p.op_expr(),
        })
    }

    /// `let_expr | if_expr | assert_expr | lambda`, or `None` if none matches.
    fn tail(&mut self) -> R<Option<N>> {
        let m = self.mark();
        for alt in [
            Self::let_expr,
            Self::if_expr,
            Self::assert_expr,
            Self::lambda,
        ] {
            match alt(self) {
                Ok(n) => return Ok(Some(n)),
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => self.reset(m),
            }
        }
        Ok(None)
    }

    fn let_expr(&mut self) -> R<N> {
        let start = self.pos;
        if !self.kw("let") {
            return Err(Stop::NoMatch);
        }
        let (bindings, bd) = self.bindings()?;
        // Anything else would be read by `binding_error`.
        if !self.kw("in") {
            return Err(Stop::Bail);
        }
        let body = self.expr()?;
        let d = 1 + bd.max(body.d);
        node(
            self.span_from(start),
            ExprKind::Let {
                bindings,
                body: Box::new(body.e),
            },
            d,
        )
    }

    fn if_expr(&mut self) -> R<N> {
        let start = self.pos;
        if !self.kw("if") {
            return Err(Stop::NoMatch);
        }
        let cond = self.expr()?;
        if !self.kw("then") {
            return Err(Stop::NoMatch);
        }
        let then = self.expr()?;
        if !self.kw("else") {
            return Err(Stop::NoMatch);
        }
        let else_ = self.expr()?;
        let d = 1 + cond.d.max(then.d).max(else_.d);
        node(
            self.span_from(start),
            ExprKind::If {
                cond: Box::new(cond.e),
                then: Box::new(then.e),
                else_: Box::new(else_.e),
            },
            d,
        )
    }

    fn assert_expr(&mut self) -> R<N> {
        let start = self.pos;
        if !self.kw("assert") {
            return Err(Stop::NoMatch);
        }
        let cond = self.expr()?;
        if !self.tok(";") {
            return Err(Stop::NoMatch);
        }
        let body = self.expr()?;
        let d = 1 + cond.d.max(body.d);
        node(
            self.span_from(start),
            ExprKind::Assert {
                cond: Box::new(cond.e),
                body: Box::new(body.e),
            },
            d,
        )
    }

    /// `at = "@" ~ !"->"` (the lookahead after whitespace, as in pest).
    fn at_sign(&mut self) -> bool {
        if self.peek() != b'@' {
            return false;
        }
        self.bump(1);
        !self.at("->")
    }

    fn lambda(&mut self) -> R<N> {
        let start = self.pos;
        let param;
        let mut d = 0;
        if let Some(id) = self.ident() {
            let m = self.mark();
            let mut pat = None;
            if self.at_sign() {
                match self.pattern() {
                    Ok(p) => pat = Some(p),
                    Err(Stop::Bail) => return Err(Stop::Bail),
                    Err(Stop::NoMatch) => self.reset(m),
                }
            } else {
                self.reset(m);
            }
            param = match pat {
                None => Param::Ident(id),
                Some((fields, ellipsis, fd)) => {
                    d = fd;
                    Param::Pattern {
                        fields,
                        ellipsis,
                        bind: Some(id),
                        bind_first: true,
                    }
                }
            };
        } else if self.peek() == b'{' {
            let (fields, ellipsis, fd) = self.pattern()?;
            d = fd;
            let m = self.mark();
            let mut bind = None;
            if self.at_sign() {
                bind = self.ident();
            }
            if bind.is_none() {
                self.reset(m);
            }
            param = Param::Pattern {
                fields,
                ellipsis,
                bind,
                bind_first: false,
            };
        } else {
            return Err(Stop::NoMatch);
        }
        if !self.tok(":") {
            return Err(Stop::NoMatch);
        }
        let body = self.expr()?;
        let d = 1 + d.max(body.d);
        node(
            self.span_from(start),
            ExprKind::Lambda {
                param,
                body: Box::new(body.e),
            },
            d,
        )
    }

    /// `{ a, b ? e, ... }`: fields, ellipsis, depth of the defaults.
    fn pattern(&mut self) -> R<(Vec<PatField>, bool, usize)> {
        if !self.tok("{") {
            return Err(Stop::NoMatch);
        }
        let mut fields = Vec::new();
        let mut ellipsis = false;
        let mut d = 0;
        if self.pat_item(&mut fields, &mut ellipsis, &mut d)? {
            loop {
                let m = self.mark();
                if !(self.tok(",") && self.pat_item(&mut fields, &mut ellipsis, &mut d)?) {
                    self.reset(m);
                    break;
                }
            }
            self.tok(",");
        }
        if !self.tok("}") {
            return Err(Stop::NoMatch);
        }
        Ok((fields, ellipsis, d))
    }

    /// `pat_field | ellipsis`; false (nothing consumed) when neither matches.
    fn pat_item(
        &mut self,
        fields: &mut Vec<PatField>,
        ellipsis: &mut bool,
        d: &mut usize,
    ) -> R<bool> {
        if let Some(ident) = self.ident() {
            let m = self.mark();
            let mut default = None;
            if self.tok("?") {
                match self.expr() {
                    Ok(n) => {
                        *d = (*d).max(n.d);
                        default = Some(n.e);
                    }
                    Err(Stop::Bail) => return Err(Stop::Bail),
                    Err(Stop::NoMatch) => self.reset(m),
                }
            }
            fields.push(PatField { ident, default });
            Ok(true)
        } else if self.tok("...") {
            *ellipsis = true;
            Ok(true)
        } else {
            Ok(false)
        }
    }

    /// Shunting-yard over `unary (infix (tail_expr | unary))*`, as `build.rs`.
    fn op_expr(&mut self) -> R<N> {
        let mut operands = vec![self.unary()?];
        let mut ops: Vec<(BinOp, Span)> = Vec::new();
        loop {
            let m = self.mark();
            let Some((op, len)) = self.infix() else {
                break;
            };
            let op_span = Span::new(self.pos, self.pos + len);
            self.bump(len);
            let operand = match self.nested(Self::tail)? {
                Some(n) => n,
                None => match self.unary() {
                    Ok(n) => n,
                    Err(Stop::Bail) => return Err(Stop::Bail),
                    Err(Stop::NoMatch) => {
                        self.reset(m);
                        break;
                    }
                },
            };
            while let Some(&(top, _)) = ops.last() {
                let pops = top.precedence() > op.precedence()
                    || (top.precedence() == op.precedence() && !op.right_assoc());
                if !pops {
                    break;
                }
                reduce(&mut operands, &mut ops)?;
            }
            ops.push((op, op_span));
            operands.push(operand);
        }
        while !ops.is_empty() {
            reduce(&mut operands, &mut ops)?;
        }
        Ok(operands.pop().expect("operator chain has an operand"))
    }

    /// The operator at the cursor, tried in `infix_op`'s order.
    fn infix(&self) -> Option<(BinOp, usize)> {
        let next = self.b.get(self.pos + 1).copied().unwrap_or(0);
        Some(match self.peek() {
            b'+' if next == b'+' => (BinOp::Concat, 2),
            b'+' => (BinOp::Add, 1),
            b'-' => (BinOp::Sub, 1),
            b'*' => (BinOp::Mul, 1),
            b'/' if next == b'/' => (BinOp::Update, 2),
            b'/' => (BinOp::Div, 1),
            b'<' if next == b'=' => (BinOp::Le, 2),
            b'<' => (BinOp::Lt, 1),
            b'>' if next == b'=' => (BinOp::Ge, 2),
            b'>' => (BinOp::Gt, 1),
            b'=' if next == b'=' => (BinOp::Eq, 2),
            b'!' if next == b'=' => (BinOp::Ne, 2),
            b'&' if next == b'&' => (BinOp::And, 2),
            b'|' if next == b'|' => (BinOp::Or, 2),
            b'@' if self.at("@->") => (BinOp::Arrow, 3),
            b'$' => (BinOp::DevApp, 1),
            _ => return None,
        })
    }

    fn unary(&mut self) -> R<N> {
        let mut prefixes: Vec<(UnOp, Span)> = Vec::new();
        loop {
            let op = match self.peek() {
                b'!' => UnOp::Not,
                b'-' => UnOp::Neg,
                _ => break,
            };
            prefixes.push((op, Span::new(self.pos, self.pos + 1)));
            self.bump(1);
        }
        let mut e = self.app()?;
        loop {
            let m = self.mark();
            if !self.tok("?") {
                break;
            }
            let path = match self.attrpath() {
                Ok(p) => p,
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => {
                    self.reset(m);
                    break;
                }
            };
            let end = path.last().map_or(e.e.span, |a| a.span);
            let d = e.d + 1;
            e = node(
                e.e.span.to(end),
                ExprKind::HasAttr {
                    target: Box::new(e.e),
                    path,
                },
                d,
            )?;
        }
        for (op, sp) in prefixes.into_iter().rev() {
            let d = e.d + 1;
            e = node(
                sp.to(e.e.span),
                ExprKind::Unary {
                    op,
                    operand: Box::new(e.e),
                },
                d,
            )?;
        }
        Ok(e)
    }

    fn app(&mut self) -> R<N> {
        let mut f = self.select()?;
        loop {
            let m = self.mark();
            let arg = match self.select() {
                Ok(a) => a,
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => {
                    self.reset(m);
                    break;
                }
            };
            let d = 1 + f.d.max(arg.d);
            f = node(
                f.e.span.to(arg.e.span),
                ExprKind::Apply {
                    func: Box::new(f.e),
                    arg: Box::new(arg.e),
                },
                d,
            )?;
        }
        Ok(f)
    }

    fn select(&mut self) -> R<N> {
        if self.select_depth >= 2 * MAX_DEPTH || low_stack() {
            return Err(Stop::Bail);
        }
        self.select_depth += 1;
        let r = self.select_inner();
        self.select_depth -= 1;
        r
    }

    fn select_inner(&mut self) -> R<N> {
        let start = self.pos;
        let target = self.primary()?;
        let mut path = Vec::new();
        loop {
            let m = self.mark();
            if !self.dot() {
                self.reset(m);
                break;
            }
            match self.attr_name() {
                Ok(a) => path.push(a),
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => {
                    self.reset(m);
                    break;
                }
            }
        }
        let m = self.mark();
        let mut default = None;
        if self.kw("or") {
            match self.select() {
                Ok(n) => default = Some(n),
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => self.reset(m),
            }
        }
        if path.is_empty() {
            // As `build.rs`: a default without a path is dropped.
            return Ok(target);
        }
        let d = 1 + target.d.max(default.as_ref().map_or(0, |n| n.d));
        node(
            self.span_from(start),
            ExprKind::Select {
                target: Box::new(target.e),
                path,
                default: default.map(|n| Box::new(n.e)),
            },
            d,
        )
    }

    /// `dot = "." ~ !"."` (the lookahead after whitespace, as in pest).
    fn dot(&mut self) -> bool {
        if self.peek() != b'.' {
            return false;
        }
        self.bump(1);
        self.peek() != b'.'
    }

    fn primary(&mut self) -> R<N> {
        let start = self.pos;
        let c = self.peek();
        if ident_start(c) {
            let end = self.ident_end().expect("an identifier starts here");
            let word = &self.src[start..end];
            if !KEYWORDS.contains(&word) {
                self.bump(end - start);
                return Ok(leaf(Span::new(start, end), ExprKind::Var(word.into())));
            }
            let kind = match word {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "null" => ExprKind::Null,
                "rec" => return self.attrset(),
                "import" => {
                    self.bump(end - start);
                    let inner = self.select()?;
                    let d = inner.d + 1;
                    return node(
                        self.span_from(start),
                        ExprKind::Import(Box::new(inner.e)),
                        d,
                    );
                }
                _ => return Err(Stop::NoMatch),
            };
            self.bump(end - start);
            return Ok(leaf(Span::new(start, end), kind));
        }
        match c {
            b'0'..=b'9' => {
                let b = self.b;
                let mut end = start;
                while end < b.len() && b[end].is_ascii_digit() {
                    end += 1;
                }
                if end < b.len() && ident_char(b[end]) {
                    return Err(Stop::NoMatch);
                }
                // Too large: the builder reports E0103.
                let n: i64 = self.src[start..end].parse().map_err(|_| Stop::Bail)?;
                self.bump(end - start);
                Ok(leaf(Span::new(start, end), ExprKind::Int(n)))
            }
            b'"' => {
                let (parts, d) = self.string()?;
                node(
                    self.span_from(start),
                    ExprKind::Str {
                        parts,
                        indented: false,
                    },
                    d + 1,
                )
            }
            b'\'' if self.at("''") => {
                let (parts, d) = self.ind_string()?;
                node(
                    self.span_from(start),
                    ExprKind::Str {
                        parts,
                        indented: true,
                    },
                    d + 1,
                )
            }
            b'.' => {
                let lead = if self.at("./") {
                    2
                } else if self.at("../") {
                    3
                } else {
                    return Err(Stop::NoMatch);
                };
                let b = self.b;
                let mut end = start + lead;
                while end < b.len() && path_char(b[end]) {
                    end += 1;
                }
                if end == start + lead {
                    return Err(Stop::NoMatch);
                }
                let text = self.src[start..end].to_string();
                self.bump(end - start);
                Ok(leaf(Span::new(start, end), ExprKind::Path(text)))
            }
            b'{' => self.attrset(),
            b'[' => self.list(),
            b'(' => {
                self.bump(1);
                let inner = self.expr()?;
                if !self.tok(")") {
                    return Err(Stop::NoMatch);
                }
                let d = inner.d + 1;
                node(self.span_from(start), ExprKind::Paren(Box::new(inner.e)), d)
            }
            _ => Err(Stop::NoMatch),
        }
    }

    fn attrset(&mut self) -> R<N> {
        let start = self.pos;
        let rec = self.kw("rec");
        if !self.tok("{") {
            return Err(Stop::NoMatch);
        }
        let (bindings, bd) = self.bindings()?;
        if !self.tok("}") {
            return Err(Stop::Bail);
        }
        node(
            self.span_from(start),
            ExprKind::Attrs { rec, bindings },
            bd + 1,
        )
    }

    fn list(&mut self) -> R<N> {
        let start = self.pos;
        self.bump(1);
        let mut items = Vec::new();
        let mut d = 0;
        if !self.tok("]") {
            loop {
                // A failing item would be an `item_error`.
                let item = match self.expr() {
                    Ok(n) => n,
                    Err(_) => return Err(Stop::Bail),
                };
                d = d.max(item.d);
                items.push(item.e);
                if self.tok(",") {
                    if self.tok("]") {
                        break;
                    }
                } else if self.tok("]") {
                    break;
                } else {
                    return Err(Stop::Bail);
                }
            }
        }
        node(self.span_from(start), ExprKind::List(items), d + 1)
    }

    // ------------------------------------------------------------ bindings

    /// `binding*`, without `binding_error`; the caller checks what ends it.
    fn bindings(&mut self) -> R<(Vec<Binding>, usize)> {
        let mut out = Vec::new();
        let mut d = 0;
        loop {
            let m = self.mark();
            match self.attr_binding() {
                Ok((b, bd)) => {
                    d = d.max(bd);
                    out.push(b);
                    continue;
                }
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => self.reset(m),
            }
            match self.inherit() {
                Ok((b, bd)) => {
                    d = d.max(bd);
                    out.push(b);
                }
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => {
                    self.reset(m);
                    break;
                }
            }
        }
        Ok((out, d))
    }

    fn attr_binding(&mut self) -> R<(Binding, usize)> {
        let start = self.pos;
        let path = self.attrpath()?;
        // `eq = "=" ~ !"="`, the lookahead after whitespace.
        if self.peek() != b'=' {
            return Err(Stop::NoMatch);
        }
        self.bump(1);
        if self.peek() == b'=' {
            return Err(Stop::NoMatch);
        }
        let value = self.expr()?;
        if !self.tok(";") {
            return Err(Stop::NoMatch);
        }
        let b = Binding {
            span: self.span_from(start),
            kind: BindingKind::Attr {
                path,
                value: value.e,
            },
        };
        Ok((b, value.d))
    }

    fn inherit(&mut self) -> R<(Binding, usize)> {
        let start = self.pos;
        if !self.kw("inherit") {
            return Err(Stop::NoMatch);
        }
        let mut from = None;
        let m = self.mark();
        if self.tok("(") {
            match self.expr() {
                Ok(n) if self.tok(")") => from = Some(n),
                Ok(_) | Err(Stop::NoMatch) => self.reset(m),
                Err(Stop::Bail) => return Err(Stop::Bail),
            }
        }
        let mut names = Vec::new();
        loop {
            let m = self.mark();
            match self.attr_name() {
                Ok(a) => names.push(a),
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => {
                    self.reset(m);
                    break;
                }
            }
        }
        if !self.tok(";") {
            return Err(Stop::NoMatch);
        }
        let d = from.as_ref().map_or(0, |n| n.d);
        let b = Binding {
            span: self.span_from(start),
            kind: BindingKind::Inherit {
                from: from.map(|n| n.e),
                names,
            },
        };
        Ok((b, d))
    }

    fn attrpath(&mut self) -> R<Vec<AttrName>> {
        let mut path = vec![self.attr_name()?];
        loop {
            let m = self.mark();
            if !self.dot() {
                self.reset(m);
                break;
            }
            match self.attr_name() {
                Ok(a) => path.push(a),
                Err(Stop::Bail) => return Err(Stop::Bail),
                Err(Stop::NoMatch) => {
                    self.reset(m);
                    break;
                }
            }
        }
        Ok(path)
    }

    fn attr_name(&mut self) -> R<AttrName> {
        if let Some(id) = self.ident() {
            return Ok(AttrName {
                span: id.span,
                name: id.name,
                quoted: false,
            });
        }
        if self.peek() != b'"' {
            return Err(Stop::NoMatch);
        }
        let start = self.pos;
        let (parts, _) = self.string()?;
        let mut name = String::new();
        for part in parts {
            match part {
                StrPart::Lit(s) => name.push_str(&s),
                // The builder reports interpolation in a name (E0101).
                StrPart::Interp(_) => return Err(Stop::Bail),
            }
        }
        Ok(AttrName {
            span: self.span_from(start),
            name: name.into(),
            quoted: true,
        })
    }

    // ------------------------------------------------------------ strings

    /// `${ expr }` inside a string; the cursor is on `$`. No whitespace is
    /// skipped after the closing brace (it is string content).
    fn interp(&mut self) -> R<N> {
        self.bump(2);
        let e = self.expr()?;
        if self.peek() != b'}' {
            return Err(Stop::NoMatch);
        }
        self.pos += 1;
        self.last = self.pos;
        Ok(e)
    }

    /// Moves past a string's closing delimiter and the whitespace after it.
    fn close(&mut self, len: usize) {
        self.bump(len);
    }

    fn string(&mut self) -> R<(Vec<StrPart>, usize)> {
        self.pos += 1;
        let b = self.b;
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut d = 0;
        loop {
            match b.get(self.pos) {
                None => return Err(Stop::NoMatch),
                Some(b'"') => break,
                Some(b'$') if b.get(self.pos + 1) == Some(&b'{') => {
                    let e = self.interp()?;
                    d = d.max(e.d);
                    if !text.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut text)));
                    }
                    parts.push(StrPart::Interp(e.e));
                }
                Some(b'\\') => {
                    let Some(ch) = self.src[self.pos + 1..].chars().next() else {
                        return Err(Stop::NoMatch);
                    };
                    match ch {
                        'n' => text.push('\n'),
                        't' => text.push('\t'),
                        'r' => text.push('\r'),
                        '\\' | '"' | '$' => text.push(ch),
                        // The builder reports an invalid escape (E0103).
                        _ => return Err(Stop::Bail),
                    }
                    self.pos += 1 + ch.len_utf8();
                }
                Some(_) => {
                    let from = self.pos;
                    let mut i = from;
                    while i < b.len()
                        && b[i] != b'"'
                        && b[i] != b'\\'
                        && !(b[i] == b'$' && b.get(i + 1) == Some(&b'{'))
                    {
                        i += 1;
                    }
                    text.push_str(&self.src[from..i]);
                    self.pos = i;
                }
            }
        }
        if !text.is_empty() {
            parts.push(StrPart::Lit(text));
        }
        self.close(1);
        Ok((parts, d))
    }

    /// `''…''`, de-indented exactly as `build.rs::ind_string_parts`.
    fn ind_string(&mut self) -> R<(Vec<StrPart>, usize)> {
        self.pos += 2;
        let b = self.b;
        let mut segs: Vec<Seg> = Vec::new();
        let mut d = 0;
        loop {
            if self.at("''$") {
                segs.push(Seg::Ch('$', false));
                self.pos += 3;
            } else if self.at("'''") {
                segs.push(Seg::Ch('\'', false));
                segs.push(Seg::Ch('\'', false));
                self.pos += 3;
            } else if self.at("''\\")
                && let Some(ch) = self.src[self.pos + 3..].chars().next()
            {
                let c = match ch {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                };
                segs.push(Seg::Ch(c, false));
                self.pos += 3 + ch.len_utf8();
            } else if self.at("${") {
                let e = self.interp()?;
                d = d.max(e.d);
                segs.push(Seg::Interp(e.e));
            } else if self.at("''") {
                break;
            } else if self.pos >= b.len() {
                return Err(Stop::NoMatch);
            } else {
                let from = self.pos;
                let mut i = from;
                while i < b.len()
                    && !(b[i] == b'\'' && b.get(i + 1) == Some(&b'\''))
                    && !(b[i] == b'$' && b.get(i + 1) == Some(&b'{'))
                {
                    i += 1;
                }
                segs.extend(self.src[from..i].chars().map(|ch| Seg::Ch(ch, true)));
                self.pos = i;
            }
        }
        self.close(2);
        Ok((dedent(segs), d))
    }
}

fn reduce(operands: &mut Vec<N>, ops: &mut Vec<(BinOp, Span)>) -> R<()> {
    let (op, op_span) = ops.pop().expect("an operator to reduce");
    let rhs = operands.pop().expect("right operand");
    let lhs = operands.pop().expect("left operand");
    let d = 1 + lhs.d.max(rhs.d);
    operands.push(node(
        lhs.e.span.to(rhs.e.span),
        ExprKind::Binary {
            op,
            op_span,
            lhs: Box::new(lhs.e),
            rhs: Box::new(rhs.e),
        },
        d,
    )?);
    Ok(())
}
