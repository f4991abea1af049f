//! The random-program generator shared by the formatter's property tests
//! and the parser differential test: syntactically valid programs built from
//! a random tree, rendered with blanks and comments between every two tokens.
#![allow(dead_code)]

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

pub const NAMES: &[&str] = &[
    "a",
    "b",
    "x",
    "foo",
    "bar_baz",
    "x'",
    "_u",
    "stack",
    "main",
    "a_rather_long_identifier_name",
    "another_quite_long_identifier_too",
];
pub const ATTRS: &[&str] = &[
    "a",
    "b",
    "name",
    "\"q-name\"",
    "\"with space\"",
    "long_attribute_name_here",
];
pub const PATHS: &[&str] = &["./a", "./a/b.unik", "../x", "./with-dash_1.2/c"];
pub const TEXTS: &[&str] = &[
    "abc",
    " ",
    "\\n",
    "\\\"",
    "\\$",
    "$",
    "x y",
    "a fairly long piece of text",
];
pub const IND_TEXTS: &[&str] = &[
    "\n",
    "  line",
    "    deeper",
    "''$",
    "'''",
    "''\\n",
    " t ",
    "\n\n",
];

/// A program tree. Rendering adds the parentheses precedence requires.
#[derive(Debug, Clone)]
pub enum G {
    Int(u32),
    Var(usize),
    Bool(bool),
    Null,
    Path(usize),
    Str(Vec<Piece>),
    IndStr(Vec<Piece>),
    List(Vec<G>),
    Attrs(bool, Vec<B>),
    Select(Box<G>, Vec<usize>, Option<Box<G>>),
    HasAttr(Box<G>, Vec<usize>),
    Apply(Box<G>, Box<G>),
    Unary(bool, Box<G>),
    Binary(usize, Box<G>, Box<G>),
    Let(Vec<B>, Box<G>),
    If(Box<G>, Box<G>, Box<G>),
    Assert(Box<G>, Box<G>),
    Lambda(P, Box<G>),
    Import(Box<G>),
    Paren(Box<G>),
}

#[derive(Debug, Clone)]
pub enum Piece {
    Text(usize),
    Interp(G),
}

#[derive(Debug, Clone)]
pub enum B {
    Attr(Vec<usize>, G),
    Inherit(Option<G>, Vec<usize>),
}

#[derive(Debug, Clone)]
pub enum P {
    Ident(usize),
    /// Fields, `...`, trailing comma, `name@` before (true) or after.
    Pattern(Vec<(usize, Option<G>)>, bool, bool, Option<(usize, bool)>),
}

/// (symbol, precedence, right-associative)
pub const OPS: &[(&str, u8, bool)] = &[
    ("*", 10, false),
    ("/", 10, false),
    ("+", 9, false),
    ("-", 9, false),
    ("++", 8, true),
    ("//", 7, true),
    ("<", 6, false),
    ("<=", 6, false),
    (">", 6, false),
    (">=", 6, false),
    ("==", 5, false),
    ("!=", 5, false),
    ("&&", 4, false),
    ("||", 3, false),
    ("@->", 2, true),
    ("$", 1, false),
];

pub const TAIL: u8 = 0;
pub const UNARY: u8 = 11;
pub const HAS: u8 = 12;
pub const APP: u8 = 13;
pub const SELECT: u8 = 14;
pub const ATOM: u8 = 15;

pub fn level(g: &G) -> u8 {
    match g {
        G::Let(..) | G::If(..) | G::Assert(..) | G::Lambda(..) => TAIL,
        G::Binary(op, ..) => OPS[*op].1,
        G::Unary(..) => UNARY,
        G::HasAttr(..) => HAS,
        G::Apply(..) => APP,
        G::Select(..) => SELECT,
        _ => ATOM,
    }
}

/// Renders source text; `noise` chooses the blanks and comments that go
/// between tokens.
pub struct Render<'n> {
    out: String,
    noise: &'n [u8],
    at: usize,
    comments: usize,
}

impl Render<'_> {
    fn ws(&mut self) {
        let n = if self.noise.is_empty() {
            0
        } else {
            self.noise[self.at % self.noise.len()]
        };
        self.at += 1;
        let k = self.comments;
        let s = match n {
            1 => "\n".to_string(),
            2 => "\n\n  ".to_string(),
            3 => format!(" # c{k}\n"),
            4 => format!(" /* c{k} */ "),
            5 => format!("\n  # c{k}\n\n"),
            6 => format!(" /* multi\n   line c{k} */\n"),
            7 => "\t".to_string(),
            _ => " ".to_string(),
        };
        if (3..=6).contains(&n) {
            self.comments += 1;
        }
        self.out.push_str(&s);
    }

    fn tok(&mut self, t: &str) {
        self.out.push_str(t);
        self.ws();
    }

    fn expr(&mut self, g: &G, min: u8, rightmost: bool) {
        let lvl = level(g);
        // A lambda head would first be read as an operand (`1 + x: x` does
        // not parse), so only `let`, `if` and `assert` stand bare as the
        // last operand.
        let tail_ok = lvl == TAIL && rightmost && min <= 10 && !matches!(g, G::Lambda(..));
        if lvl < min && !tail_ok {
            self.tok("(");
            self.expr(g, TAIL, true);
            self.tok(")");
            return;
        }
        match g {
            G::Int(n) => self.tok(&n.to_string()),
            G::Var(v) => self.tok(NAMES[*v]),
            G::Bool(b) => self.tok(if *b { "true" } else { "false" }),
            G::Null => self.tok("null"),
            G::Path(p) => self.tok(PATHS[*p]),
            G::Str(pieces) => {
                self.out.push('"');
                for p in pieces {
                    match p {
                        Piece::Text(t) => self.out.push_str(TEXTS[*t]),
                        Piece::Interp(e) => {
                            self.tok("${");
                            self.expr(e, TAIL, true);
                            self.out.push('}');
                        }
                    }
                }
                self.tok("\"");
            }
            G::IndStr(pieces) => {
                self.out.push_str("''");
                for p in pieces {
                    match p {
                        Piece::Text(t) => self.out.push_str(IND_TEXTS[*t]),
                        Piece::Interp(e) => {
                            self.tok("${");
                            self.expr(e, TAIL, true);
                            self.out.push('}');
                        }
                    }
                }
                self.tok("''");
            }
            G::List(items) => {
                self.tok("[");
                for (i, it) in items.iter().enumerate() {
                    self.expr(it, TAIL, true);
                    if i + 1 < items.len() || self.at.is_multiple_of(3) {
                        self.tok(",");
                    }
                }
                self.tok("]");
            }
            G::Attrs(rec, bs) => {
                if *rec {
                    self.tok("rec");
                }
                self.tok("{");
                self.bindings(bs);
                self.tok("}");
            }
            G::Select(t, path, default) => {
                self.expr(t, ATOM, false);
                for a in path {
                    self.tok(".");
                    self.tok(ATTRS[*a]);
                }
                if let Some(d) = default {
                    self.tok("or");
                    self.expr(d, SELECT, false);
                }
            }
            G::HasAttr(t, path) => {
                self.expr(t, HAS, false);
                self.tok("?");
                for (i, a) in path.iter().enumerate() {
                    if i > 0 {
                        self.tok(".");
                    }
                    self.tok(ATTRS[*a]);
                }
            }
            G::Apply(f, x) => {
                self.expr(f, APP, false);
                self.expr(x, SELECT, false);
            }
            G::Unary(not, x) => {
                self.tok(if *not { "!" } else { "-" });
                self.expr(x, UNARY, false);
            }
            G::Binary(op, l, r) => {
                let (sym, prec, right) = OPS[*op];
                let (lmin, rmin) = if right {
                    (prec + 1, prec)
                } else {
                    (prec, prec + 1)
                };
                self.expr(l, lmin, false);
                self.tok(sym);
                self.expr(r, rmin, rightmost);
            }
            G::Let(bs, body) => {
                self.tok("let");
                self.bindings(bs);
                self.tok("in");
                self.expr(body, TAIL, true);
            }
            G::If(c, t, e) => {
                self.tok("if");
                self.expr(c, TAIL, true);
                self.tok("then");
                self.expr(t, TAIL, true);
                self.tok("else");
                self.expr(e, TAIL, true);
            }
            G::Assert(c, b) => {
                self.tok("assert");
                self.expr(c, TAIL, true);
                self.tok(";");
                self.expr(b, TAIL, true);
            }
            G::Lambda(p, body) => {
                match p {
                    P::Ident(n) => self.tok(NAMES[*n]),
                    P::Pattern(fields, ellipsis, comma, bind) => {
                        if let Some((n, true)) = bind {
                            self.tok(NAMES[*n]);
                            self.tok("@");
                        }
                        self.tok("{");
                        let count = fields.len() + usize::from(*ellipsis);
                        for (i, (n, d)) in fields.iter().enumerate() {
                            self.tok(NAMES[*n]);
                            if let Some(d) = d {
                                self.tok("?");
                                self.expr(d, TAIL, true);
                            }
                            if i + 1 < count || *comma {
                                self.tok(",");
                            }
                        }
                        if *ellipsis {
                            self.tok("...");
                            if *comma {
                                self.tok(",");
                            }
                        }
                        self.tok("}");
                        if let Some((n, false)) = bind {
                            self.tok("@");
                            self.tok(NAMES[*n]);
                        }
                    }
                }
                self.tok(":");
                self.expr(body, TAIL, true);
            }
            G::Import(t) => {
                self.tok("import");
                self.expr(t, SELECT, false);
            }
            G::Paren(e) => {
                self.tok("(");
                self.expr(e, TAIL, true);
                self.tok(")");
            }
        }
    }

    fn bindings(&mut self, bs: &[B]) {
        for b in bs {
            match b {
                B::Attr(path, v) => {
                    for (i, a) in path.iter().enumerate() {
                        if i > 0 {
                            self.tok(".");
                        }
                        self.tok(ATTRS[*a]);
                    }
                    self.tok("=");
                    self.expr(v, TAIL, true);
                    self.tok(";");
                }
                B::Inherit(from, names) => {
                    self.tok("inherit");
                    if let Some(f) = from {
                        self.tok("(");
                        self.expr(f, TAIL, true);
                        self.tok(")");
                    }
                    for n in names {
                        self.tok(ATTRS[*n]);
                    }
                    self.tok(";");
                }
            }
        }
    }
}

pub fn render(g: &G, noise: &[u8]) -> String {
    let mut r = Render {
        out: String::new(),
        noise,
        at: 0,
        comments: 0,
    };
    r.ws();
    r.expr(g, TAIL, true);
    r.out
}

pub fn leaf() -> impl Strategy<Value = G> {
    prop_oneof![
        (0u32..100_000).prop_map(G::Int),
        (0..NAMES.len()).prop_map(G::Var),
        (0..NAMES.len()).prop_map(G::Var),
        any::<bool>().prop_map(G::Bool),
        Just(G::Null),
        (0..PATHS.len()).prop_map(G::Path),
        vec((0..TEXTS.len()).prop_map(Piece::Text), 0..3).prop_map(G::Str),
    ]
}

pub fn names(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<usize>> {
    vec(0..ATTRS.len(), n)
}

pub fn program() -> impl Strategy<Value = G> {
    leaf().prop_recursive(8, 160, 6, |inner| {
        let bx = |s: BoxedStrategy<G>| s.prop_map(Box::new);
        let e = inner.clone().boxed();
        let binding = prop_oneof![
            3 => (names(1..3), e.clone()).prop_map(|(p, v)| B::Attr(p, v)),
            1 => (option::of(e.clone()), names(0..4)).prop_map(|(f, n)| B::Inherit(f, n)),
        ];
        let piece = prop_oneof![
            2 => (0..IND_TEXTS.len()).prop_map(Piece::Text),
            1 => e.clone().prop_map(Piece::Interp),
        ];
        let str_piece = prop_oneof![
            2 => (0..TEXTS.len()).prop_map(Piece::Text),
            1 => e.clone().prop_map(Piece::Interp),
        ];
        let field = (0..NAMES.len(), option::of(e.clone()));
        let param = prop_oneof![
            (0..NAMES.len()).prop_map(P::Ident),
            (
                vec(field, 0..4),
                any::<bool>(),
                any::<bool>(),
                option::of((0..NAMES.len(), any::<bool>()))
            )
                .prop_map(|(f, el, c, b)| P::Pattern(f, el, c, b)),
        ];
        prop_oneof![
            1 => vec(e.clone(), 0..6).prop_map(G::List),
            1 => (any::<bool>(), vec(binding.clone(), 0..5)).prop_map(|(r, b)| G::Attrs(r, b)),
            1 => vec(str_piece, 0..4).prop_map(G::Str),
            1 => vec(piece, 0..5).prop_map(G::IndStr),
            1 => (bx(e.clone()), names(1..3), option::of(bx(e.clone())))
                .prop_map(|(t, p, d)| G::Select(t, p, d)),
            1 => (bx(e.clone()), names(1..3)).prop_map(|(t, p)| G::HasAttr(t, p)),
            2 => (bx(e.clone()), bx(e.clone())).prop_map(|(f, x)| G::Apply(f, x)),
            1 => (any::<bool>(), bx(e.clone())).prop_map(|(n, x)| G::Unary(n, x)),
            3 => (0..OPS.len(), bx(e.clone()), bx(e.clone())).prop_map(|(o, l, r)| G::Binary(o, l, r)),
            1 => (vec(binding, 0..4), bx(e.clone())).prop_map(|(b, x)| G::Let(b, x)),
            1 => (bx(e.clone()), bx(e.clone()), bx(e.clone())).prop_map(|(c, t, f)| G::If(c, t, f)),
            1 => (bx(e.clone()), bx(e.clone())).prop_map(|(c, b)| G::Assert(c, b)),
            2 => (param, bx(e.clone())).prop_map(|(p, b)| G::Lambda(p, b)),
            1 => bx(e.clone()).prop_map(G::Import),
            1 => bx(e).prop_map(G::Paren),
        ]
    })
}

/// A whole file: often a `let` or a set of many bindings, as real files are.
pub fn document() -> impl Strategy<Value = G> {
    let binding = (names(1..3), program())
        .prop_map(|(p, v)| B::Attr(p, v))
        .boxed();
    prop_oneof![
        1 => program(),
        2 => (vec(binding.clone(), 1..10), program()).prop_map(|(b, x)| G::Let(b, Box::new(x))),
        1 => (any::<bool>(), vec(binding, 1..10)).prop_map(|(r, b)| G::Attrs(r, b)),
        1 => vec(program(), 1..8).prop_map(G::List),
    ]
}
