//! Parsing: pest grammar → syntax tree, with error recovery.

pub mod ast;
mod build;
mod explain;
mod fast;
mod indent;
pub mod lex;

pub use ast::*;

use crate::diag::{Diagnostic, FileId, Loc, Span};
use pest::Parser as _;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/unik.pest"]
pub(crate) struct UnikParser;

/// Deepest syntax tree accepted; every later stage may recurse this deep.
pub const MAX_DEPTH: usize = 512;

/// Where the tree first exceeds [`MAX_DEPTH`], measured without recursion.
fn too_deep(root: &Expr) -> Option<Span> {
    let mut stack = vec![(root, 1usize)];
    while let Some((e, d)) = stack.pop() {
        if d > MAX_DEPTH {
            return Some(e.span);
        }
        stack.extend(e.children().into_iter().map(|c| (c, d + 1)));
    }
    None
}

/// A parse that always yields a tree, plus every syntax error found.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub module: Module,
    pub diagnostics: Vec<Diagnostic>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.is_error())
    }
}

/// Parses one file. Never fails: broken pieces become `Error` nodes and diagnostics.
///
/// A file without syntax errors is read by the hand-written parser; anything
/// it does not accept is parsed again by pest, which reports the errors.
pub fn parse(file: FileId, src: &str) -> Parsed {
    match parse_fast(src) {
        Some(module) => Parsed {
            module,
            diagnostics: Vec::new(),
        },
        None => parse_pest(file, src),
    }
}

/// The hand-written parser alone: `Some` only for a file without syntax
/// errors, with exactly the tree [`parse_pest`] builds for it.
pub fn parse_fast(src: &str) -> Option<Module> {
    if lex::unterminated(src).is_some() {
        return None;
    }
    fast::parse(src)
}

/// pest calls a broken file may take per byte (a linear parse with
/// recovery needs far fewer), and at least.
const CALLS_PER_BYTE: usize = 2_000;
const MIN_CALLS: usize = 2_000_000;

/// The pest parser alone, with error recovery and diagnostics.
pub fn parse_pest(file: FileId, src: &str) -> Parsed {
    let whole = Span::new(0, src.len());
    let mut diagnostics = Vec::new();
    let unterminated = lex::unterminated(src);
    // Recovery backtracks; on some broken inputs (runs of unclosed `[`)
    // that is exponential. A budget proportional to the input bounds it:
    // past it the file gets one E0101 instead of a hang.
    pest::set_call_limit(std::num::NonZeroUsize::new(
        src.len().saturating_mul(CALLS_PER_BYTE).max(MIN_CALLS),
    ));
    let module = match UnikParser::parse(Rule::file, src) {
        Ok(mut pairs) => {
            let root = pairs.next().expect("the file rule always yields a pair");
            let mut b = build::Builder::new(file, src);
            let module = b.file(root);
            diagnostics = b.diagnostics;
            module
        }
        // The grammar is total; this is reached only when pest's own limits
        // (stack or call budget) stop it on pathological input.
        Err(e) => {
            let at = match e.location {
                pest::error::InputLocation::Pos(p) => p,
                pest::error::InputLocation::Span((s, _)) => s,
            };
            let budget = e.variant.message().contains("call limit");
            diagnostics.push(if budget {
                Diagnostic::error("E0101", "the file is too broken to recover from")
                    .label(Loc::new(file, Span::new(at, at)), "gave up here")
                    .help("fix the first syntax error (an unclosed `[`, `{` or `(` is the usual cause) and check again")
            } else {
                Diagnostic::error("E0101", "the file is nested too deeply to parse")
                    .label(
                        Loc::new(file, Span::new(at, at)),
                        "nesting limit reached here",
                    )
                    .help("split deeply nested expressions into `let` bindings")
            });
            Module {
                expr: None,
                comments: Vec::new(),
                span: whole,
            }
        }
    };
    let mut module = module;
    let already = diagnostics.iter().any(|d| d.code == "E0211");
    if !already && let Some(e) = module.expr.take() {
        match too_deep(&e) {
            None => module.expr = Some(e),
            Some(at) => {
                diagnostics.push(
                    Diagnostic::error(
                        "E0211",
                        format!("the expression is nested more than {MAX_DEPTH} levels deep"),
                    )
                    .label(Loc::new(file, at), "too deep from here on")
                    .help("split it into `let` bindings"),
                );
                // Dropping a tree this deep would recurse as deep; it is
                // pathological input, so its memory is given up instead.
                std::mem::forget(e);
                module.expr = Some(Expr::new(whole, ExprKind::Error));
            }
        }
    }
    if let Some((pos, what)) = unterminated {
        // Everything after an unterminated string or comment is noise.
        diagnostics.retain(|d| d.primary().is_none_or(|l| (l.span.start as usize) < pos));
        let width = if what == lex::Unterminated::String {
            1
        } else {
            2
        };
        let span = Span::new(pos, (pos + width).min(src.len()));
        let (msg, label, help) = match what {
            lex::Unterminated::String => (
                "unterminated string",
                "this string is never closed",
                "add the closing `\"`",
            ),
            lex::Unterminated::IndentedString => (
                "unterminated indented string",
                "this string is never closed",
                "add the closing `''`",
            ),
            lex::Unterminated::Comment => (
                "unterminated block comment",
                "this comment is never closed",
                "add the closing `*/` (block comments do not nest)",
            ),
        };
        diagnostics.push(
            Diagnostic::error("E0102", msg)
                .label(Loc::new(file, span), label)
                .help(help),
        );
    }
    diagnostics.sort_by_key(|d| d.primary().map(|l| l.span));
    Parsed {
        module,
        diagnostics,
    }
}

/// The name a broken binding was meant to define (`name = …` or `name.x = …`),
/// so that uses of it are not reported as undefined.
pub fn error_binding_name(src: &str, span: Span) -> Option<(Name, Span)> {
    let text = &src[span.range()];
    let start = text.len() - text.trim_start().len();
    let rest = &text[start..];
    let first = rest.chars().next()?;
    if !(first.is_ascii_alphabetic() || first == '_') {
        return None;
    }
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\''))
        .unwrap_or(rest.len());
    let name = &rest[..len];
    let after = rest[len..].trim_start();
    let defines = (after.starts_with('=') && !after.starts_with("=="))
        || (after.starts_with('.') && after.contains('='));
    let keyword = lex::KEYWORDS.contains(&name);
    if !defines || keyword {
        return None;
    }
    let at = span.start as usize + start;
    Some((name.into(), Span::new(at, at + len)))
}

#[cfg(test)]
mod budget_tests {
    /// Runs of unclosed `[` made recovery exponential (a 542-byte file
    /// took minutes); the call budget turns them into one E0101.
    #[test]
    fn unclosed_brackets_end_in_one_error() {
        let src = format!("{{ a = [ ]{}; }}", "[".repeat(200));
        let parsed = super::parse(0, &src);
        assert!(!parsed.diagnostics.is_empty());
        assert!(parsed.diagnostics.iter().all(|d| d.code == "E0101"));
    }
}
