//! Differential test of the two parsers: the hand-written fast path must
//! accept every program pest reads without errors, and build exactly the
//! same tree (spans included) and comment list; it must reject everything
//! pest reports an error for.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use unik_lang::syntax::{Expr, ExprKind, Module, parse_fast, parse_pest};

const NAMES: &[&str] = &[
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
const ATTRS: &[&str] = &[
    "a",
    "b",
    "name",
    "\"q-name\"",
    "\"with space\"",
    "long_attribute_name_here",
];
const PATHS: &[&str] = &["./a", "./a/b.unik", "../x", "./with-dash_1.2/c"];
const TEXTS: &[&str] = &[
    "abc",
    " ",
    "\\n",
    "\\\"",
    "\\$",
    "$",
    "x y",
    "a fairly long piece of text",
];
const IND_TEXTS: &[&str] = &[
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
enum G {
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
enum Piece {
    Text(usize),
    Interp(G),
}

#[derive(Debug, Clone)]
enum B {
    Attr(Vec<usize>, G),
    Inherit(Option<G>, Vec<usize>),
}

#[derive(Debug, Clone)]
enum P {
    Ident(usize),
    /// Fields, `...`, trailing comma, `name@` before (true) or after.
    Pattern(Vec<(usize, Option<G>)>, bool, bool, Option<(usize, bool)>),
}

/// (symbol, precedence, right-associative)
const OPS: &[(&str, u8, bool)] = &[
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

const TAIL: u8 = 0;
const UNARY: u8 = 11;
const HAS: u8 = 12;
const APP: u8 = 13;
const SELECT: u8 = 14;
const ATOM: u8 = 15;

fn level(g: &G) -> u8 {
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
struct Render<'n> {
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

fn render(g: &G, noise: &[u8]) -> String {
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

fn leaf() -> impl Strategy<Value = G> {
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

fn names(n: std::ops::Range<usize>) -> impl Strategy<Value = Vec<usize>> {
    vec(0..ATTRS.len(), n)
}

fn program() -> impl Strategy<Value = G> {
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
fn document() -> impl Strategy<Value = G> {
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

// ---------------------------------------------------------------- the check

/// Compares both parsers on one input; `Err` describes the first difference.
fn diff(src: &str) -> Result<(), String> {
    let pest = parse_pest(0, src);
    let fast = parse_fast(src);
    match fast {
        Some(m) => {
            if pest.has_errors() {
                return Err(format!(
                    "fast path accepted a program pest rejects: {:?}",
                    pest.diagnostics.first()
                ));
            }
            if format!("{m:?}") != format!("{:?}", pest.module) {
                let (a, b) = (format!("{m:#?}"), format!("{:#?}", pest.module));
                let line = a
                    .lines()
                    .zip(b.lines())
                    .position(|(x, y)| x != y)
                    .unwrap_or(0);
                let around = |s: &str| {
                    s.lines()
                        .skip(line.saturating_sub(8))
                        .take(12)
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                return Err(format!(
                    "trees differ at debug line {line}\nfast:\n{}\npest:\n{}",
                    around(&a),
                    around(&b)
                ));
            }
            Ok(())
        }
        None if !pest.has_errors() && !has_error_node(&pest.module) => {
            Err("fast path rejected a valid program".into())
        }
        None => Ok(()),
    }
}

/// `build.rs` gives up below a nesting depth with an `Error` node but no
/// diagnostic; the fast path leaves such files to it.
fn has_error_node(m: &Module) -> bool {
    let mut stack: Vec<&Expr> = m.expr.iter().collect();
    while let Some(e) = stack.pop() {
        if matches!(e.kind, ExprKind::Error) {
            return true;
        }
        stack.extend(e.children());
    }
    false
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is inside the repository")
        .to_path_buf()
}

fn unik_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            unik_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "unik") {
            out.push(p);
        }
    }
}

/// Every `.unik` file of the repository the brief names, plus the book's
/// code blocks marked `unik`.
fn sources() -> Vec<(String, String)> {
    let root = repo();
    let mut files = Vec::new();
    for dir in [
        "lang/tests/corpus",
        "lang/tests/fmt",
        "tests/diagnostics",
        "tests/device-diagnostics",
        "examples",
        "stdlib-devices",
    ] {
        unik_files(&root.join(dir), &mut files);
    }
    let mut out: Vec<(String, String)> = files
        .into_iter()
        .filter_map(|p| Some((p.display().to_string(), std::fs::read_to_string(&p).ok()?)))
        .collect();
    if let Ok(entries) = std::fs::read_dir(root.join("book/src")) {
        let mut pages: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        pages.sort();
        for page in pages
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "md"))
        {
            let Ok(text) = std::fs::read_to_string(page) else {
                continue;
            };
            let mut block: Option<String> = None;
            for (i, line) in text.lines().enumerate() {
                match &mut block {
                    None if line.trim_start().starts_with("```unik") => block = Some(String::new()),
                    Some(b) if line.trim_start().starts_with("```") => {
                        out.push((format!("{}:{i}", page.display()), std::mem::take(b)));
                        block = None;
                    }
                    Some(b) => {
                        b.push_str(line);
                        b.push('\n');
                    }
                    None => {}
                }
            }
        }
    }
    out
}

#[test]
fn repository_files_parse_the_same() {
    let srcs = sources();
    assert!(srcs.len() > 50, "found only {} inputs", srcs.len());
    let mut failures = Vec::new();
    let mut accepted = 0;
    for (name, src) in &srcs {
        if parse_fast(src).is_some() {
            accepted += 1;
        }
        if let Err(e) = diff(src) {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Both outcomes are exercised: valid files and the diagnostics suite.
    assert!(accepted > 10 && accepted < srcs.len(), "{accepted}");
}

/// Every prefix (at character boundaries) of the corpus and fmt files: most
/// are broken programs, which the fast path must reject.
#[test]
fn prefixes_parse_the_same() {
    let root = repo();
    let mut files = Vec::new();
    unik_files(&root.join("lang/tests/corpus"), &mut files);
    unik_files(&root.join("lang/tests/fmt"), &mut files);
    assert!(!files.is_empty());
    let mut failures = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).expect("readable");
        for (at, _) in src.char_indices().chain([(src.len(), ' ')]) {
            if let Err(e) = diff(&src[..at]) {
                failures.push(format!("{} prefix {at}: {e}", f.display()));
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn edge_cases_parse_the_same() {
    for src in [
        "",
        "  # only a comment\n",
        "/* a */ 1 /* b */",
        "a or b",
        "a.b or c",
        "f x.y or z w",
        "import ./a or b",
        "a../x",
        "a./x",
        "x: y: x",
        "let: let",
        "{ a ? 1, ... }@args: a",
        "args @ { a }: a",
        "{ }: 1",
        "x @-> y $ z",
        "1 + x ? a.b",
        "- -x ? a",
        "!a ? b",
        "a ++ b ++ c // d // e",
        "a - b - c * d / e",
        "1 + if a then b else c + 2",
        "1 + let a = 1; in a",
        "[ 1, 2, ]",
        "[ ]",
        "{ inherit (x) a \"b\" in; in = 1; or.\"c d\" = 2; }",
        "{ a = 1; } ? a",
        "\"a${ b # c\n}d\\n\\$\"",
        "''\n  a\n    b ${c}\n  ''$x'''\\n\n''",
        "''''\\",
        "\"\\q\"",
        "99999999999999999999",
        "{ \"a${b}\" = 1; }",
        "let a = 1; b",
        "[ 1 2, ]",
        "[ , ]",
        "x:",
        "a.b.c",
        "a . b",
        "12abc",
        "rec { a = 1; }",
        "true false null",
        "assert a; b",
    ] {
        if let Err(e) = diff(src) {
            panic!("{src:?}: {e}");
        }
    }
}

#[test]
fn deep_nesting_falls_back() {
    for n in [100, 511, 512, 513, 600, 5000] {
        for (open, close) in [("(", ")"), ("[", "]"), ("-", ""), ("f ", "")] {
            let src = format!("{}x{}", open.repeat(n), close.repeat(n));
            let r = std::thread::Builder::new()
                .stack_size(16 << 20)
                .spawn(move || diff(&src))
                .expect("thread")
                .join()
                .expect("no panic");
            if let Err(e) = r {
                panic!("depth {n} of {open:?}: {e}");
            }
        }
        let chain = vec!["a"; n].join(" ++ ");
        diff(&chain).unwrap_or_else(|e| panic!("chain {n}: {e}"));
    }
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn random_programs_parse_the_same(g in document(), noise in vec(0u8..16, 0..48)) {
        let src = render(&g, &noise);
        diff(&src).map_err(|e| TestCaseError::fail(format!("{src}\n{e}")))?;
        prop_assert!(parse_fast(&src).is_some(), "generated programs are valid:\n{}", src);
    }

    #[test]
    fn random_programs_without_noise_parse_the_same(g in document()) {
        let src = render(&g, &[]);
        diff(&src).map_err(|e| TestCaseError::fail(format!("{src}\n{e}")))?;
    }
}
