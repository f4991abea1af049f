//! Turns an error node into an E0101 diagnostic that says, in words, what
//! was expected and what was found. The recovering grammar only knows *that*
//! a piece is broken; re-running the strict rule from the piece's start makes
//! pest report the exact position and the tokens it could have accepted.

use super::{Rule, UnikParser};
use crate::diag::{Diagnostic, FileId, Loc, Span};
use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

pub fn binding_error(file: FileId, src: &str, span: Span) -> Diagnostic {
    if src[span.range()].trim() == ";" {
        return Diagnostic::error("E0101", "unexpected `;`")
            .label(
                Loc::new(file, span),
                "a stray `;` with no binding before it",
            )
            .help("remove it");
    }
    explain(
        file,
        src,
        span,
        Rule::strict_binding,
        "this binding is broken",
    )
}

pub fn item_error(file: FileId, src: &str, span: Span) -> Diagnostic {
    if span.is_empty() {
        return Diagnostic::error("E0101", "expected a list element, found `,`")
            .label(
                Loc::new(
                    file,
                    Span::new(span.start as usize, span.start as usize + 1),
                ),
                "empty element",
            )
            .help("list elements are separated by single commas: `[ a, b ]`");
    }
    explain(
        file,
        src,
        span,
        Rule::strict_item,
        "this list element is broken",
    )
}

pub fn top_error(file: FileId, src: &str, span: Span, after_expr: bool) -> Diagnostic {
    if after_expr {
        let found = token_at(src, span.start as usize);
        let at = Span::new(span.start as usize, span.start as usize + found.1);
        return Diagnostic::error(
            "E0101",
            format!("unexpected {} after the end of the expression", found.0),
        )
        .label(Loc::new(file, at), "the file's expression already ended")
        .help("a `.unik` file is one expression; combine values with `let … in` or a list");
    }
    explain(file, src, Span::new(0, src.len()), Rule::strict_file, "")
}

fn explain(file: FileId, src: &str, node: Span, rule: Rule, context: &str) -> Diagnostic {
    let start = node.start as usize;
    let (pos, expected) = match UnikParser::parse(rule, &src[start..]) {
        Ok(_) => (start, Vec::new()),
        Err(e) => {
            let off = match e.location {
                InputLocation::Pos(p) => p,
                InputLocation::Span((s, _)) => s,
            };
            let expected = match e.variant {
                ErrorVariant::ParsingError { positives, .. } => positives,
                ErrorVariant::CustomError { .. } => Vec::new(),
            };
            (start + off, expected)
        }
    };
    let (found, len) = token_at(src, pos);
    let words = expected_words(&expected);
    let message = if words.is_empty() {
        format!("unexpected {found}")
    } else {
        format!("expected {words}, found {found}")
    };
    let at = Span::new(pos, (pos + len).min(src.len()));
    let mut d = Diagnostic::error("E0101", message).label(
        Loc::new(file, at),
        if words.is_empty() {
            "unexpected here".to_string()
        } else {
            format!("expected {words} here")
        },
    );
    if !context.is_empty() && node.start as usize != pos {
        d = d.label(Loc::new(file, Span::new(start, start)), context);
    }
    if let Some(h) = hint(&expected, &found) {
        d = d.help(h);
    }
    d
}

fn hint(expected: &[Rule], found: &str) -> Option<&'static str> {
    if expected.contains(&Rule::semi) {
        return Some("every binding ends with `;`: `name = value;`");
    }
    if expected.contains(&Rule::comma) && expected.contains(&Rule::rbracket) {
        return Some("list elements are separated by commas: `[ a, b ]`");
    }
    if expected.contains(&Rule::kw_in) {
        return Some("`let` bindings are followed by `in` and the body: `let a = 1; in a`");
    }
    if found == "`with`" {
        return Some("`with` does not exist in .unik; use `let inherit (set) name;` instead");
    }
    None
}

/// Describes the token at `pos`, and its length in bytes.
fn token_at(src: &str, pos: usize) -> (String, usize) {
    let rest = &src[pos.min(src.len())..];
    let Some(c) = rest.chars().next() else {
        return ("end of file".into(), 0);
    };
    if c.is_ascii_alphanumeric() || c == '_' {
        let n = rest
            .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '\''))
            .unwrap_or(rest.len());
        return (format!("`{}`", &rest[..n]), n);
    }
    for op in [
        "@->", "...", "++", "//", "<=", ">=", "==", "!=", "&&", "||", "${", "''",
    ] {
        if rest.starts_with(op) {
            return (format!("`{op}`"), op.len());
        }
    }
    (format!("`{c}`"), c.len_utf8())
}

/// What pest could have accepted, in words; closing tokens first, since they
/// are what a person most often forgot.
fn expected_words(rules: &[Rule]) -> String {
    let mut closers: Vec<&str> = Vec::new();
    let mut others: Vec<&str> = Vec::new();
    for r in rules {
        let (word, closer) = match r {
            Rule::semi => ("`;`", true),
            Rule::colon => ("`:`", true),
            Rule::comma => ("`,`", true),
            Rule::eq => ("`=`", true),
            Rule::rbrace => ("`}`", true),
            Rule::rbracket => ("`]`", true),
            Rule::rparen => ("`)`", true),
            Rule::kw_in => ("`in`", true),
            Rule::kw_then => ("`then`", true),
            Rule::kw_else => ("`else`", true),
            Rule::EOI => ("end of file", true),
            Rule::dot => ("`.`", false),
            Rule::at => ("`@`", false),
            Rule::question | Rule::has_attr => ("`?`", false),
            Rule::lbrace => ("`{`", false),
            Rule::lbracket => ("`[`", false),
            Rule::lparen => ("`(`", false),
            Rule::ident | Rule::pat_field => ("a name", false),
            Rule::var => ("an expression", false),
            Rule::attr_name | Rule::attrpath => ("an attribute name", false),
            Rule::ellipsis => ("`...`", false),
            Rule::kw_inherit => ("`inherit`", false),
            r if is_operator(*r) => ("an operator", false),
            _ => ("an expression", false),
        };
        let list = if closer { &mut closers } else { &mut others };
        if !list.contains(&word) {
            list.push(word);
        }
    }
    let chosen = if closers.is_empty() { others } else { closers };
    match chosen.len() {
        0 => String::new(),
        1 => chosen[0].to_string(),
        n => format!("{} or {}", chosen[..n - 1].join(", "), chosen[n - 1]),
    }
}

fn is_operator(r: Rule) -> bool {
    matches!(
        r,
        Rule::op_concat
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_update
            | Rule::op_div
            | Rule::op_le
            | Rule::op_lt
            | Rule::op_ge
            | Rule::op_gt
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_and
            | Rule::op_or
            | Rule::op_arrow
            | Rule::op_devapp
            | Rule::kw_or
    )
}
