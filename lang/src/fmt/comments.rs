//! Attaches every comment to a slot: a binding, a list element, a pattern
//! field, a `let` binding or body, or the file root.
//!
//! A comment between two slots leads the next one, or trails the previous
//! one when it starts on the line where that slot ends. A comment inside a
//! slot's expression (not inside a deeper container) is moved before the
//! slot. Comments inside string literals belong to the literal, which is
//! printed verbatim. Blank lines between slots are recorded (as one).

use crate::diag::Span;
use crate::syntax::lex::skip_trivia;
use crate::syntax::{Comment, Expr, ExprKind, Module, Param};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Root,
    Attrs,
    List,
    Let,
    Pattern,
}

/// A container is named by its kind and the byte where its node starts.
pub type Key = (Kind, u32);

#[derive(Debug, Clone)]
pub struct Note {
    pub text: String,
    /// Where the comment is written.
    pub span: Span,
    /// A blank line precedes it.
    pub blank: bool,
}

#[derive(Debug, Clone, Default)]
pub struct Slot {
    pub leading: Vec<Note>,
    pub trailing: Vec<Note>,
    /// A blank line precedes the item itself.
    pub blank: bool,
}

/// The slots of one container, and the comments after its last item (for a
/// `let`: after the last binding, before `in`).
#[derive(Debug, Clone, Default)]
pub struct Boxed {
    pub slots: Vec<Slot>,
    pub end: Vec<Note>,
}

impl Boxed {
    pub fn has_comments(&self) -> bool {
        !self.end.is_empty()
            || self
                .slots
                .iter()
                .any(|s| !s.leading.is_empty() || !s.trailing.is_empty())
    }
}

#[derive(Debug, Default)]
pub struct Notes {
    map: HashMap<Key, Boxed>,
}

impl Notes {
    pub fn get(&self, key: Key) -> Option<&Boxed> {
        self.map.get(&key)
    }

    /// The comments before the file's expression.
    pub fn file(&self) -> &[Note] {
        self.get((Kind::Root, 0))
            .and_then(|b| b.slots.first())
            .map_or(&[], |s| s.leading.as_slice())
    }
}

struct Container {
    key: Key,
    lo: u32,
    hi: u32,
    items: Vec<(u32, u32)>,
    /// For a `let`: where `in` starts.
    split: Option<u32>,
}

/// The comments written directly above each binding of every `let` and
/// attribute set, by the byte where the binding starts: the run of those
/// attached to it with no blank line between them and the binding (a
/// comment moved out of the binding's value is not one of them).
pub fn above_bindings(module: &Module, src: &str) -> HashMap<u32, Vec<Note>> {
    let notes = attach(module, src);
    let mut out = HashMap::new();
    let mut stack: Vec<&Expr> = module.expr.iter().collect();
    while let Some(e) = stack.pop() {
        let (kind, bindings) = match &e.kind {
            ExprKind::Let { bindings, .. } => (Kind::Let, bindings),
            ExprKind::Attrs { bindings, .. } => (Kind::Attrs, bindings),
            _ => {
                stack.extend(e.children());
                continue;
            }
        };
        if let Some(b) = notes.get((kind, e.span.start)) {
            for (binding, slot) in bindings.iter().zip(&b.slots) {
                let start = binding.span.start;
                let mut run: Vec<Note> = Vec::new();
                let mut next = start as usize;
                for n in slot.leading.iter().rev().filter(|n| n.span.end <= start) {
                    if has_blank(&src[n.span.end as usize..next]) {
                        break;
                    }
                    run.push(n.clone());
                    next = n.span.start as usize;
                }
                if !run.is_empty() {
                    run.reverse();
                    out.insert(start, run);
                }
            }
        }
        stack.extend(e.children());
    }
    out
}

pub fn attach(module: &Module, src: &str) -> Notes {
    let (containers, strings) = collect(module, src);
    let mut gaps: Vec<Vec<Vec<&Comment>>> = containers
        .iter()
        .map(|c| vec![Vec::new(); c.items.len() + 1])
        .collect();
    let mut moved: Vec<Vec<Vec<&Comment>>> = containers
        .iter()
        .map(|c| vec![Vec::new(); c.items.len()])
        .collect();
    let strings = outermost(strings);
    // Containers nest (or are disjoint), so a sweep in source order keeps
    // the chain of those open at a comment on a stack; its top is the
    // innermost. Of equal ranges (the root and its top expression) the one
    // found later in the tree is inner.
    let mut order: Vec<usize> = (0..containers.len()).collect();
    order.sort_by_key(|&i| (containers[i].lo, std::cmp::Reverse(containers[i].hi), i));
    let mut open: Vec<usize> = Vec::new();
    let mut next = 0;
    for cm in &module.comments {
        let (s, e) = (cm.span.start, cm.span.end);
        while let Some(&i) = order.get(next)
            && containers[i].lo <= s
        {
            let c = &containers[i];
            while open.last().is_some_and(|&t| containers[t].hi < c.hi) {
                open.pop();
            }
            open.push(i);
            next += 1;
        }
        while open.last().is_some_and(|&t| containers[t].hi < e) {
            open.pop();
        }
        let at = strings.partition_point(|&(lo, _)| lo < s);
        if at > 0 && e <= strings[at - 1].1 {
            continue;
        }
        let Some(&ci) = open.last() else {
            continue;
        };
        let c = &containers[ci];
        // Items are disjoint and in order.
        let k = c.items.partition_point(|&(_, hi)| hi <= s);
        match c.items.get(k) {
            Some(&(lo, hi)) if lo <= s && e <= hi => moved[ci][k].push(cm),
            _ => gaps[ci][k].push(cm),
        }
    }
    let mut map = HashMap::new();
    for (ci, c) in containers.iter().enumerate() {
        map.insert(c.key, boxed(src, c, &gaps[ci], &moved[ci]));
    }
    Notes { map }
}

/// The string literals not inside another one, in order.
fn outermost(mut spans: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    spans.sort_by_key(|&(lo, hi)| (lo, std::cmp::Reverse(hi)));
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (lo, hi) in spans {
        if out.last().is_none_or(|&(_, end)| end <= lo) {
            out.push((lo, hi));
        }
    }
    out
}

fn note(cm: &Comment, blank: bool) -> Note {
    let text = if cm.block {
        cm.text.clone()
    } else {
        cm.text.trim_end().to_string()
    };
    Note {
        text,
        span: cm.span,
        blank,
    }
}

/// Whether the text between two things holds an empty line.
fn has_blank(between: &str) -> bool {
    let lines: Vec<&str> = between.split('\n').collect();
    lines.len() >= 3
        && lines[1..lines.len() - 1]
            .iter()
            .any(|l| l.trim().is_empty())
}

fn boxed(src: &str, c: &Container, gaps: &[Vec<&Comment>], moved: &[Vec<&Comment>]) -> Boxed {
    let n = c.items.len();
    let text = |a: u32, b: u32| &src[a as usize..(b as usize).max(a as usize)];
    let mut out = Boxed {
        slots: vec![Slot::default(); n],
        end: Vec::new(),
    };
    for (k, gap) in gaps.iter().enumerate() {
        let mut cursor = if k == 0 { c.lo } else { c.items[k - 1].1 };
        let mut rest = gap.as_slice();
        // In a `let`, the gap before the body holds `in`: comments before it
        // end the bindings, comments after it lead the body.
        let split = c.split.filter(|_| k + 1 == n);
        if k > 0 {
            while let Some((cm, more)) = rest.split_first() {
                if text(cursor, cm.span.start).contains('\n')
                    || split.is_some_and(|at| cm.span.start > at)
                {
                    break;
                }
                out.slots[k - 1].trailing.push(note(cm, false));
                cursor = cm.span.end;
                rest = more;
            }
        }
        for cm in rest {
            let nt = note(cm, has_blank(text(cursor, cm.span.start)));
            cursor = cm.span.end;
            if k < n && split.is_none_or(|at| cm.span.start >= at) {
                out.slots[k].leading.push(nt);
            } else {
                out.end.push(nt);
            }
        }
        if k < n {
            out.slots[k].blank = has_blank(text(cursor, c.items[k].0));
        }
    }
    for (k, mv) in moved.iter().enumerate() {
        let slot = &mut out.slots[k];
        let mut first = true;
        for cm in mv.iter() {
            slot.leading.push(note(cm, first && slot.blank));
            first = false;
        }
        if !mv.is_empty() {
            slot.blank = false;
        }
    }
    // Nothing is separated from an opening delimiter by a blank line.
    if let Some(s) = out.slots.first_mut() {
        match s.leading.first_mut() {
            Some(n) => n.blank = false,
            None => s.blank = false,
        }
    }
    if c.split.is_some() {
        let body = out.slots.last_mut().expect("a let has a body");
        match body.leading.first_mut() {
            Some(n) => n.blank = false,
            None => body.blank = false,
        }
        if n == 1
            && let Some(e) = out.end.first_mut()
        {
            e.blank = false;
        }
    } else if n == 0
        && let Some(e) = out.end.first_mut()
    {
        e.blank = false;
    }
    out
}

/// Ends a range at its last token: some node spans run on over the blanks
/// and comments after them.
struct Tight<'m> {
    src: &'m [u8],
    comment_ends: Vec<(u32, u32)>,
}

impl Tight<'_> {
    fn end(&self, start: u32, mut end: u32) -> u32 {
        while end > start {
            if self.src[end as usize - 1].is_ascii_whitespace() {
                end -= 1;
            } else if let Ok(i) = self.comment_ends.binary_search_by_key(&end, |&(e, _)| e) {
                end = self.comment_ends[i].1;
            } else {
                break;
            }
        }
        end
    }

    fn range(&self, span: Span) -> (u32, u32) {
        (span.start, self.end(span.start, span.end))
    }
}

/// Every container and every string literal span.
fn collect(module: &Module, src: &str) -> (Vec<Container>, Vec<(u32, u32)>) {
    let mut comment_ends: Vec<(u32, u32)> = module
        .comments
        .iter()
        .map(|c| (c.span.end, c.span.start))
        .collect();
    comment_ends.sort();
    let t = Tight {
        src: src.as_bytes(),
        comment_ends,
    };
    let mut containers = vec![Container {
        key: (Kind::Root, 0),
        lo: 0,
        hi: src.len() as u32,
        items: module.expr.iter().map(|e| t.range(e.span)).collect(),
        split: None,
    }];
    let mut strings = Vec::new();
    let mut stack: Vec<&Expr> = module.expr.iter().collect();
    while let Some(e) = stack.pop() {
        let at = e.span.start;
        let range = t.range(e.span);
        match &e.kind {
            // A literal is printed verbatim, comments included.
            ExprKind::Str { .. } => {
                strings.push(range);
                continue;
            }
            ExprKind::Attrs { bindings, .. } => containers.push(Container {
                key: (Kind::Attrs, at),
                lo: range.0,
                hi: range.1,
                items: bindings.iter().map(|b| t.range(b.span)).collect(),
                split: None,
            }),
            ExprKind::List(items) => containers.push(Container {
                key: (Kind::List, at),
                lo: range.0,
                hi: range.1,
                items: items.iter().map(|i| t.range(i.span)).collect(),
                split: None,
            }),
            ExprKind::Let { bindings, body } => {
                let after = bindings
                    .last()
                    .map_or(at as usize + "let".len(), |b| t.range(b.span).1 as usize);
                let mut items: Vec<(u32, u32)> = bindings.iter().map(|b| t.range(b.span)).collect();
                items.push(t.range(body.span));
                containers.push(Container {
                    key: (Kind::Let, at),
                    lo: range.0,
                    hi: range.1,
                    items,
                    split: Some(skip_trivia(src, after) as u32),
                });
            }
            ExprKind::Lambda {
                param:
                    Param::Pattern {
                        fields,
                        bind,
                        bind_first,
                        ..
                    },
                ..
            } => {
                let open = match (bind, bind_first) {
                    (Some(id), true) => {
                        let at_sign = skip_trivia(src, id.span.end as usize);
                        skip_trivia(src, at_sign + 1)
                    }
                    _ => at as usize,
                };
                let items: Vec<(u32, u32)> = fields
                    .iter()
                    .map(|f| {
                        let span = f
                            .default
                            .as_ref()
                            .map_or(f.ident.span, |d| f.ident.span.to(d.span));
                        t.range(span)
                    })
                    .collect();
                let mut cursor = items.last().map_or(open + 1, |&(_, hi)| hi as usize);
                let close = loop {
                    let p = skip_trivia(src, cursor);
                    match src.as_bytes().get(p) {
                        Some(b',') => cursor = p + 1,
                        Some(b'.') => cursor = p + "...".len(),
                        _ => break p,
                    }
                };
                containers.push(Container {
                    key: (Kind::Pattern, at),
                    lo: open as u32,
                    hi: (close + 1).min(src.len()) as u32,
                    items,
                    split: None,
                });
            }
            _ => {}
        }
        stack.extend(e.children());
    }
    (containers, strings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(src: &str) -> Notes {
        let p = crate::syntax::parse(0, src);
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        attach(&p.module, src)
    }

    #[test]
    fn leading_trailing_and_end() {
        let src = "{\n  # lead\n  a = 1; # trail\n\n  b = 2;\n  # end\n}";
        let n = notes(src);
        let b = n.get((Kind::Attrs, 0)).expect("attrs");
        assert_eq!(b.slots[0].leading[0].text, "# lead");
        assert_eq!(b.slots[0].trailing[0].text, "# trail");
        assert!(b.slots[1].blank);
        assert_eq!(b.end[0].text, "# end");
    }

    #[test]
    fn comment_inside_an_expression_moves_before_its_slot() {
        let src = "[ a, f /* inner */ x ]";
        let n = notes(src);
        let b = n.get((Kind::List, 0)).expect("list");
        assert_eq!(b.slots[1].leading[0].text, "/* inner */");
    }

    #[test]
    fn let_comments_before_and_after_in() {
        let src = "let\n  a = 1;\n  # before in\nin\n# after in\na";
        let n = notes(src);
        let b = n.get((Kind::Let, 0)).expect("let");
        assert_eq!(b.end[0].text, "# before in");
        assert_eq!(b.slots[1].leading[0].text, "# after in");
    }

    #[test]
    fn comments_in_strings_belong_to_the_string() {
        let src = "\"${ /* kept */ a }\"";
        let n = notes(src);
        assert!(!n.get((Kind::Root, 0)).expect("root").has_comments());
    }

    #[test]
    fn comments_directly_above_bindings() {
        let src = "let\n  # a1\n  # a2\n  a = 1;\n  # far\n\n  b = # inside\n    2;\nin { /* c */ c = a; }";
        let p = crate::syntax::parse(0, src);
        let above = above_bindings(&p.module, src);
        let texts = |at: &str| -> Vec<String> {
            let start = src.find(at).expect("binding") as u32;
            above
                .get(&start)
                .map(|v| v.iter().map(|n| n.text.clone()).collect())
                .unwrap_or_default()
        };
        assert_eq!(texts("a = 1"), ["# a1", "# a2"]);
        assert!(texts("b = ").is_empty());
        assert_eq!(texts("c = a"), ["/* c */"]);
    }

    #[test]
    fn pattern_fields_take_comments() {
        let src = "{ a, # the a\n  b ? 1, ... }: a";
        let n = notes(src);
        let b = n.get((Kind::Pattern, 0)).expect("pattern");
        assert_eq!(b.slots[0].trailing[0].text, "# the a");
    }
}
