//! `unikc fmt`: the one canonical layout of a `.unik` file.
//!
//! The tree and its comments become a document (`layout`), printed within
//! [`WIDTH`] columns (`doc`). Layout depends only on the tree, the comments
//! and where blank lines separated items, so formatting is idempotent.
//! String literals are printed verbatim and parentheses kept as written.

mod comments;
mod doc;
mod equiv;
mod layout;

pub use comments::{Note, Notes};
pub use equiv::same_expr;

use crate::diag::{Diagnostic, FileId, Loc, Span};
use crate::syntax::{self, Comment, Module};

/// The line width the layout aims for.
pub const WIDTH: usize = 100;

/// Formats a file, or returns its syntax diagnostics when it has errors.
pub fn format(src: &str) -> Result<String, Vec<Diagnostic>> {
    format_file(0, src)
}

/// [`format`], with diagnostics pointing into file `file` of a source map.
pub fn format_file(file: FileId, src: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = syntax::parse(file, src);
    if parsed.has_errors() {
        return Err(parsed.diagnostics);
    }
    let out = format_module(&parsed.module, src);
    check(file, &parsed.module, &out)?;
    Ok(out)
}

/// Formats an already parsed, error-free module whose source is `src`.
pub fn format_module(module: &Module, src: &str) -> String {
    let notes = comments::attach(module, src);
    let doc = layout::Layout::new(src, &notes).module(module);
    let mut out = doc::render(&doc, WIDTH);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Every comment of `module` attached to the binding, element or `let`
/// slot it is printed with: the formatter's attachment, which the
/// catalogue's documentation and the language server's hover also read.
pub fn attach_comments(module: &Module, src: &str) -> Notes {
    comments::attach(module, src)
}

pub use comments::above_bindings;

/// A comment's text without its markers: `# x` and `## x` are `x`,
/// `/* x */` is `x`.
pub fn comment_body(text: &str) -> &str {
    match text.strip_prefix("/*") {
        Some(b) => b.strip_suffix("*/").unwrap_or(b).trim(),
        None => {
            let b = text.trim_start_matches('#');
            b.strip_prefix(' ').unwrap_or(b).trim_end()
        }
    }
}

/// The comments' texts, as formatting keeps them (sorted: slots may move a
/// comment before the expression that held it).
pub fn comment_texts(comments: &[Comment]) -> Vec<String> {
    let mut v: Vec<String> = comments
        .iter()
        .map(|c| {
            if c.block {
                c.text.clone()
            } else {
                c.text.trim_end().to_string()
            }
        })
        .collect();
    v.sort();
    v
}

/// Refuses output that would change the program or lose a comment: a
/// formatter bug must never rewrite a user's file.
fn check(file: FileId, before: &Module, out: &str) -> Result<(), Vec<Diagnostic>> {
    let after = syntax::parse(file, out);
    let same = !after.has_errors()
        && match (&before.expr, &after.module.expr) {
            (None, None) => true,
            (Some(a), Some(b)) => same_expr(a, b),
            _ => false,
        }
        && comment_texts(&before.comments) == comment_texts(&after.module.comments);
    if same {
        return Ok(());
    }
    Err(vec![
        Diagnostic::error(
            "E0001",
            "internal error: formatting would change this file's meaning or comments",
        )
        .label(
            Loc::new(file, Span::new(0, 0)),
            "the file was left unchanged",
        )
        .help("please report this file to the unikc developers"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(src: &str) -> Module {
        syntax::parse(0, src).module
    }

    #[test]
    fn output_that_changes_the_tree_is_refused() {
        let err = check(0, &module("a + b"), "a - b\n").unwrap_err();
        assert_eq!(err[0].code, "E0001");
    }

    #[test]
    fn output_that_loses_a_comment_is_refused() {
        assert!(check(0, &module("a # c"), "a\n").is_err());
        assert!(check(0, &module("a # c"), "a # c\n").is_ok());
    }

    #[test]
    fn output_that_does_not_parse_is_refused() {
        assert!(check(0, &module("[ a ]"), "[ a\n").is_err());
    }
}
