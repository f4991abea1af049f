//! Completion. The context comes from the language's tokens before the
//! cursor (`unik_lang::syntax::lex`: the file is usually unfinished there,
//! so no tree covers it); names come from the index of the current or last
//! good parse, and device types from evaluation.

use unik_lang::Target;
use unik_lang::syntax::lex::{self, TokenKind as K};

/// A token and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Tok<'s> {
    kind: K,
    text: &'s str,
}

impl Tok<'_> {
    /// A name or keyword spelled `w`.
    fn is(&self, w: &str) -> bool {
        matches!(self.kind, K::Ident | K::Keyword) && self.text == w
    }

    fn is_any(&self, ws: &[&str]) -> bool {
        ws.iter().any(|w| self.is(w))
    }

    fn word(&self) -> Option<&str> {
        matches!(self.kind, K::Ident | K::Keyword).then_some(self.text)
    }

    fn punct(&self, p: &str) -> bool {
        matches!(self.kind, K::Punct(q) if q == p)
    }

    fn open(&self) -> bool {
        matches!(self.kind, K::Open(_))
    }

    fn close(&self) -> bool {
        matches!(self.kind, K::Close(_))
    }

    fn string(&self) -> bool {
        matches!(self.kind, K::Str { .. })
    }
}

pub type Fields = &'static [(&'static str, &'static str)];

pub const KEY_FIELDS: Fields = &[
    ("type", "\"int\", \"string\" or \"bool\" (required)"),
    (
        "default",
        "the value when none is given; without it the key is required",
    ),
    ("doc", "what the key does (required)"),
    (
        "stage",
        "\"configure\" (default: fixed when configuring) or \"runtime\" (a boot argument)",
    ),
    ("values", "the allowed values of a string key"),
];
pub const PACKAGE_FIELDS: Fields = &[
    ("min", "the least version, inclusive (semver)"),
    ("max", "the first version excluded (semver)"),
    ("features", "Cargo features to enable"),
    (
        "pin",
        "{ path = …; } or { git = …; rev = …; }: where the crate comes from",
    ),
];
pub const IMPL_FIELDS: Fields = &[
    ("name", "the implementation's name (required)"),
    ("module", "the Rust module implementing it (required)"),
    (
        "type",
        "its device type, e.g. `network @-> ethernet` (required)",
    ),
    ("targets", "the targets it supports (default: all)"),
    ("packages", "the crates it needs"),
    ("keys", "the keys it reads"),
    ("deps", "devices connected before it, not passed to it"),
    ("connect", "the Rust expression connecting it (required)"),
    ("params", "literal parameters of the connect template"),
    ("embed", "a directory embedded in the image"),
    (
        "device",
        "a device the host provides: { kind = \"net\" | \"block\"; name = …; }",
    ),
    ("doc", "documentation"),
];
pub const FOREIGN_FIELDS: Fields = &[
    ("packages", "the crates the user's code needs"),
    ("keys", "the keys it reads"),
    ("deps", "devices connected before it, not passed to it"),
    ("doc", "documentation"),
];
pub const REGISTER_FIELDS: Fields = &[
    ("jobs", "the jobs to run (required)"),
    ("reporter", "a device of type `reporter`"),
    ("argv", "a device of type `argv`"),
];
const KEY_TYPES: &[&str] = &["int", "string", "bool"];
const STAGES: &[&str] = &["configure", "runtime"];

#[derive(Debug, PartialEq, Eq)]
pub enum Context {
    /// Inside a string: these values fit.
    Strings(&'static [&'static str]),
    /// At a field name of a known call's option set.
    Fields(Fields),
    /// At a case name of `match_impl target { … }`.
    TargetCases,
    /// After `$`: a device argument of `head` (when it is a plain name),
    /// the `index`-th of its functor type.
    Device { head: Option<String>, index: usize },
    /// After `builtins.`.
    Builtins,
    /// Any name in scope.
    Names,
    /// Nowhere names fit (a new binding's name, a select, …).
    Nothing,
}

/// The context at the end of `before` (the text before the cursor), and
/// the identifier prefix being typed.
pub fn context(before: &str) -> (Context, String) {
    let mut toks: Vec<Tok> = lex::tokens(before)
        .into_iter()
        .filter(|t| t.kind != K::Unknown)
        .map(|t| Tok {
            kind: t.kind,
            text: t.text(before),
        })
        .collect();
    match toks.last().map(|t| t.kind) {
        Some(K::Comment { closed: false, .. }) => return (Context::Nothing, String::new()),
        Some(K::Str { closed: false, .. }) => {
            toks.pop();
            toks.retain(|t| !matches!(t.kind, K::Comment { .. }));
            return (string_context(&toks), String::new());
        }
        _ => toks.retain(|t| !matches!(t.kind, K::Comment { .. })),
    }
    let mut prefix = String::new();
    if before.bytes().next_back().is_some_and(lex::ident_char)
        && let Some(w) = toks.last().and_then(Tok::word)
    {
        prefix = w.to_string();
        toks.pop();
    }
    let open = innermost_open(&toks);
    let last = toks.last();
    let ctx = if last.is_some_and(|t| t.punct(".")) {
        match toks.iter().rev().nth(1) {
            Some(b) if b.is("builtins") => Context::Builtins,
            _ => Context::Nothing,
        }
    } else if last.is_some_and(|t| t.punct("$")) {
        device_context(&toks)
    } else if last.is_some_and(|t| t.kind == K::Open(b'{') || t.punct(";"))
        && let Some(i) = open.filter(|&i| toks[i].kind == K::Open(b'{'))
    {
        fields_context(&toks[..i])
    } else if in_let_bindings(&toks) || last.is_some_and(|t| t.is("let")) {
        // A new binding's name.
        Context::Nothing
    } else {
        Context::Names
    };
    (ctx, prefix)
}

/// Index of the innermost bracket still open.
fn innermost_open(toks: &[Tok]) -> Option<usize> {
    let mut stack = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        if t.open() {
            stack.push(i);
        } else if t.close() {
            stack.pop();
        }
    }
    stack.last().copied()
}

/// At a binding name of a `let`: the last unmatched `let` at this depth
/// comes after any `in`, and the previous token ends a binding.
fn in_let_bindings(toks: &[Tok]) -> bool {
    if !toks.last().is_some_and(|t| t.punct(";")) {
        return false;
    }
    let mut depth = 0i32;
    for t in toks.iter().rev() {
        if t.close() {
            depth += 1;
        } else if t.open() {
            if depth == 0 {
                return false;
            }
            depth -= 1;
        } else if depth == 0 && t.is_any(&["in", "assert"]) {
            return false;
        } else if depth == 0 && t.is("let") {
            return true;
        }
    }
    false
}

/// What owns the `{`: the tokens before it.
fn fields_context(before_brace: &[Tok]) -> Context {
    let n = before_brace.len();
    let at = |back: usize| n.checked_sub(back).and_then(|i| before_brace.get(i));
    let ident = |back: usize, names: &[&str]| at(back).is_some_and(|t| t.is_any(names));
    let string = |back: usize| at(back).is_some_and(Tok::string);
    if ident(1, &["impl"]) {
        Context::Fields(IMPL_FIELDS)
    } else if string(1) && ident(2, &["key"]) {
        Context::Fields(KEY_FIELDS)
    } else if string(1) && ident(2, &["package"]) {
        Context::Fields(PACKAGE_FIELDS)
    } else if string(1) && ident(2, &["foreign", "main"]) {
        Context::Fields(FOREIGN_FIELDS)
    } else if string(1) && ident(2, &["register"]) {
        Context::Fields(REGISTER_FIELDS)
    } else if ident(1, &["target"]) && ident(2, &["match_impl"]) {
        Context::TargetCases
    } else {
        Context::Nothing
    }
}

fn string_context(toks: &[Tok]) -> Context {
    let n = toks.len();
    let tail = |k: usize| toks.get(n.saturating_sub(k)..).unwrap_or(&[]);
    let field = match tail(2) {
        [f, eq] if eq.punct("=") => f.word(),
        _ => None,
    };
    let owner = innermost_open(toks).map(|i| fields_context(&toks[..i]));
    match (field, owner) {
        (Some("type"), Some(Context::Fields(f))) if f == KEY_FIELDS => {
            return Context::Strings(KEY_TYPES);
        }
        (Some("stage"), Some(Context::Fields(f))) if f == KEY_FIELDS => {
            return Context::Strings(STAGES);
        }
        _ => {}
    }
    if let [t, op] = tail(2)
        && t.is("target")
        && (op.punct("==") || op.punct("!="))
    {
        return Context::Strings(&Target::NAMES);
    }
    // Inside `targets = [ …`.
    if let Some(i) = innermost_open(toks)
        && toks[i].kind == K::Open(b'[')
        && matches!(&toks[..i], [.., f, eq] if f.is("targets") && eq.punct("="))
    {
        return Context::Strings(&Target::NAMES);
    }
    Context::Nothing
}

/// After `$`: the head of the application chain and the argument's index.
fn device_context(toks: &[Tok]) -> Context {
    let mut depth = 0i32;
    let mut start = 0;
    for (i, t) in toks.iter().enumerate().rev() {
        let stop = if t.close() {
            depth += 1;
            false
        } else if t.open() {
            if depth == 0 {
                true
            } else {
                depth -= 1;
                false
            }
        } else {
            depth == 0
                && ([",", ";", "=", ":"].iter().any(|p| t.punct(p))
                    || t.is_any(&["in", "then", "else", "let", "assert"]))
        };
        if stop {
            start = i + 1;
            break;
        }
    }
    let seg = &toks[start..];
    let index = seg.iter().filter(|t| t.punct("$")).count() - 1;
    let first_dollar = seg.iter().position(|t| t.punct("$")).unwrap_or(0);
    let head = match &seg[..first_dollar] {
        [h] if h.kind == K::Ident => Some(h.text.to_string()),
        _ => None,
    };
    Context::Device { head, index }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts() {
        let c = |s: &str| context(s).0;
        assert_eq!(
            c("let m = x; in register \"a\" [ m $ default_console $ def"),
            Context::Device {
                head: Some("m".into()),
                index: 1
            }
        );
        assert_eq!(
            c("f (a $ "),
            Context::Device {
                head: Some("a".into()),
                index: 0
            }
        );
        assert_eq!(
            c("x = key \"p\" { type = \"int\"; "),
            Context::Fields(KEY_FIELDS)
        );
        assert_eq!(c("x = key \"p\" { type = \""), Context::Strings(KEY_TYPES));
        assert_eq!(c("x = key \"p\" { stage = \"ru"), Context::Strings(STAGES));
        assert_eq!(c("package \"b\" { mi"), Context::Fields(PACKAGE_FIELDS));
        assert_eq!(c("impl { name = \"x\"; "), Context::Fields(IMPL_FIELDS));
        assert_eq!(c("foreign \"a::B\" { "), Context::Fields(FOREIGN_FIELDS));
        assert_eq!(c("register \"n\" { "), Context::Fields(REGISTER_FIELDS));
        assert_eq!(c("match_impl target { h"), Context::TargetCases);
        assert_eq!(c("if target == \"h"), Context::Strings(&Target::NAMES));
        assert_eq!(
            c("impl { targets = [ \"unix\", \""),
            Context::Strings(&Target::NAMES)
        );
        assert_eq!(c("builtins."), Context::Builtins);
        assert_eq!(c("let a = 1; "), Context::Nothing);
        assert_eq!(c("let a = 1; in ma"), Context::Names);
        assert_eq!(c("let a = m"), Context::Names);
        assert_eq!(context("let a = ma").1, "ma");
        assert_eq!(c("{ a = 1; "), Context::Nothing);
        assert_eq!(c("\"just text"), Context::Nothing);
        assert_eq!(c("let a = 1; # a comm"), Context::Nothing);
        assert_eq!(c("let a = /* x */ m"), Context::Names);
    }
}
