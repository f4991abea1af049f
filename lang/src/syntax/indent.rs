//! Indented strings (`''…''`): both parsers collect a string's characters
//! and interpolations as segments, then strip the indentation here, by
//! Nix's rules, so the two can never disagree.

use super::ast::{Expr, StrPart};

pub(super) enum Seg {
    /// A source character; `raw` ones may be stripped as indentation.
    Ch(char, bool),
    Interp(Expr),
}

/// The common indentation of non-blank lines is removed, a blank first line
/// and a trailing blank last line dropped.
pub(super) fn dedent(segs: Vec<Seg>) -> Vec<StrPart> {
    let mut lines: Vec<Vec<Seg>> = vec![Vec::new()];
    for s in segs {
        let newline = matches!(s, Seg::Ch('\n', true));
        lines.last_mut().expect("at least one line").push(s);
        if newline {
            lines.push(Vec::new());
        }
    }
    let blank = |l: &Vec<Seg>| {
        l.iter()
            .all(|s| matches!(s, Seg::Ch(' ', true) | Seg::Ch('\n', true)))
    };
    if lines.len() > 1 && blank(&lines[0]) {
        lines.remove(0);
    }
    if let Some(last) = lines.last()
        && blank(last)
        && !last.iter().any(|s| matches!(s, Seg::Ch('\n', _)))
    {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !blank(l))
        .map(|l| {
            l.iter()
                .take_while(|s| matches!(s, Seg::Ch(' ', true)))
                .count()
        })
        .min()
        .unwrap_or(0);
    let mut parts: Vec<StrPart> = Vec::new();
    let mut text = String::new();
    for line in lines {
        let mut skipped = 0;
        for s in line {
            match s {
                Seg::Ch(' ', true) if skipped < indent => skipped += 1,
                Seg::Ch(ch, _) => {
                    skipped = indent;
                    text.push(ch);
                }
                Seg::Interp(e) => {
                    skipped = indent;
                    if !text.is_empty() {
                        parts.push(StrPart::Lit(std::mem::take(&mut text)));
                    }
                    parts.push(StrPart::Interp(e));
                }
            }
        }
    }
    if !text.is_empty() {
        parts.push(StrPart::Lit(text));
    }
    parts
}
