//! A Wadler-style document algebra and its printer.
//!
//! Groups print flat when they fit in the remaining width, otherwise their
//! lines break. A `Choice` lists layouts in order of preference: the first is
//! the flat form, the others are tried in break mode and the first whose first
//! line fits is taken (the last one unconditionally).

use std::rc::Rc;

/// One document: a cheap handle, so that alternative layouts share their
/// parts instead of copying them (which would be exponential in nesting).
#[derive(Debug, Clone)]
pub struct Doc(Rc<Node>);

/// Text never contains a newline except raw literals (strings, block
/// comments), whose inner newlines are content and get no indentation.
#[derive(Debug)]
pub enum Node {
    Text(String),
    /// A comment at the end of a line: printed like text, but takes no
    /// room when deciding layout, so comments never reflow code.
    Trailing(String),
    /// A space when flat, a newline when broken.
    Line,
    /// Nothing when flat, a newline when broken.
    SoftLine,
    /// Always a newline; breaks every enclosing group.
    HardLine,
    /// An extra empty line, only in break mode (preserved blank lines).
    BlankLine,
    IfBreak(Doc, Doc),
    /// Indents the lines inside by one level.
    Nest(Doc),
    Concat {
        parts: Vec<Doc>,
        hard: bool,
    },
    Group {
        doc: Doc,
        broken: bool,
    },
    /// Layouts in order of preference: `flat` printed flat if it fits, else
    /// the first of `alts` whose first line fits, printed in break mode.
    Choice {
        flat: Option<Doc>,
        alts: Vec<Doc>,
        hard: bool,
    },
}

pub const INDENT: usize = 2;

pub fn text(s: impl Into<String>) -> Doc {
    Doc(Rc::new(Node::Text(s.into())))
}

pub fn concat(parts: impl IntoIterator<Item = Doc>) -> Doc {
    let parts: Vec<Doc> = parts.into_iter().collect();
    let hard = parts.iter().any(Doc::hard);
    Doc(Rc::new(Node::Concat { parts, hard }))
}

pub fn nest(d: Doc) -> Doc {
    Doc(Rc::new(Node::Nest(d)))
}

/// A group; it is broken from the start when it holds a hard line.
pub fn group(d: Doc) -> Doc {
    let broken = d.hard();
    Doc(Rc::new(Node::Group { doc: d, broken }))
}

/// A group that always breaks (a container holding comments).
pub fn broken_group(d: Doc) -> Doc {
    Doc(Rc::new(Node::Group {
        doc: d,
        broken: true,
    }))
}

pub fn if_break(broken: Doc, flat: Doc) -> Doc {
    Doc(Rc::new(Node::IfBreak(broken, flat)))
}

/// `flat` on one line if it fits, else the first of `alts` whose first line
/// fits (the last one if none does).
pub fn choice(flat: Doc, alts: Vec<Doc>) -> Doc {
    make_choice(Some(flat), alts)
}

/// The first of `alts` whose first line fits (the last one if none does).
pub fn first_fit(alts: Vec<Doc>) -> Doc {
    make_choice(None, alts)
}

fn make_choice(flat: Option<Doc>, mut alts: Vec<Doc>) -> Doc {
    if alts.is_empty() {
        return flat.expect("a choice has a layout");
    }
    let flat = flat.filter(|f| !f.hard());
    if flat.is_none() && alts.len() == 1 {
        return alts.pop().expect("one layout");
    }
    let hard = flat.is_none() && alts.iter().all(Doc::hard);
    Doc(Rc::new(Node::Choice { flat, alts, hard }))
}

impl Doc {
    pub fn line() -> Doc {
        Doc(Rc::new(Node::Line))
    }
    pub fn soft_line() -> Doc {
        Doc(Rc::new(Node::SoftLine))
    }
    pub fn hard_line() -> Doc {
        Doc(Rc::new(Node::HardLine))
    }
    pub fn blank_line() -> Doc {
        Doc(Rc::new(Node::BlankLine))
    }
    pub fn trailing(s: impl Into<String>) -> Doc {
        Doc(Rc::new(Node::Trailing(s.into())))
    }

    /// Whether this document cannot print on one line.
    pub fn hard(&self) -> bool {
        match &*self.0 {
            Node::HardLine => true,
            // A raw literal spanning lines cannot print on one line.
            Node::Text(s) => s.contains('\n'),
            Node::Trailing(_)
            | Node::Line
            | Node::SoftLine
            | Node::BlankLine
            | Node::IfBreak(..) => false,
            Node::Nest(d) => d.hard(),
            Node::Concat { hard, .. } | Node::Choice { hard, .. } => *hard,
            Node::Group { broken, .. } => *broken,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Flat,
    Break,
}

type Cmd<'d> = (usize, Mode, &'d Doc);

/// Prints `doc` within `width` columns. Lines never end in spaces.
pub fn render(doc: &Doc, width: usize) -> String {
    let mut p = Printer {
        out: String::new(),
        col: 0,
        pending: None,
    };
    let mut stack: Vec<Cmd> = vec![(0, Mode::Break, doc)];
    while let Some((ind, mode, d)) = stack.pop() {
        match &*d.0 {
            Node::Text(s) | Node::Trailing(s) => p.write(s),
            Node::Line => match mode {
                Mode::Flat => p.write(" "),
                Mode::Break => p.newline(ind),
            },
            Node::SoftLine => {
                if mode == Mode::Break {
                    p.newline(ind)
                }
            }
            Node::HardLine => p.newline(ind),
            Node::BlankLine => {
                if mode == Mode::Break {
                    p.out.push('\n');
                    p.col = 0;
                    p.pending = None;
                }
            }
            Node::IfBreak(b, f) => stack.push((ind, mode, if mode == Mode::Break { b } else { f })),
            Node::Nest(inner) => stack.push((ind + INDENT, mode, inner)),
            Node::Concat { parts, .. } => stack.extend(parts.iter().rev().map(|x| (ind, mode, x))),
            Node::Group { doc, broken } => {
                let m = if mode == Mode::Flat
                    || (!broken && fits(doc, &stack, width as isize - p.col as isize))
                {
                    Mode::Flat
                } else {
                    Mode::Break
                };
                stack.push((ind, m, doc));
            }
            Node::Choice { flat, alts, .. } => {
                let left = width as isize - p.col as isize;
                if let Some(f) = flat
                    && (mode == Mode::Flat || fits(f, &stack, left))
                {
                    stack.push((ind, Mode::Flat, f));
                    continue;
                }
                let pick = alts
                    .iter()
                    .position(|a| first_line_fits(a, &stack, left))
                    .unwrap_or(alts.len() - 1);
                stack.push((ind, Mode::Break, &alts[pick]));
            }
        }
    }
    p.out
}

struct Printer {
    out: String,
    col: usize,
    /// Indentation owed to the current line, written with its first text so
    /// that empty lines stay empty.
    pending: Option<usize>,
}

impl Printer {
    fn write(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(ind) = self.pending.take() {
            self.out.extend(std::iter::repeat_n(' ', ind));
        }
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(i) => self.col = s[i + 1..].chars().count(),
            None => self.col += s.chars().count(),
        }
    }

    fn newline(&mut self, ind: usize) {
        self.out.push('\n');
        self.col = ind;
        self.pending = Some(ind);
    }
}

/// Whether `doc` printed flat, followed by what is still to print, fits in
/// `left` columns up to the next line break.
fn fits(doc: &Doc, rest: &[Cmd], left: isize) -> bool {
    measure(Mode::Flat, doc, rest, left)
}

/// Whether the first line of `doc` printed in break mode fits.
fn first_line_fits(doc: &Doc, rest: &[Cmd], left: isize) -> bool {
    measure(Mode::Break, doc, rest, left)
}

fn measure(mode: Mode, doc: &Doc, rest: &[Cmd], mut left: isize) -> bool {
    let mut stack: Vec<(Mode, &Doc)> = vec![(mode, doc)];
    let mut rest_at = rest.len();
    loop {
        let (m, d) = match stack.pop() {
            Some(x) => x,
            None => {
                if rest_at == 0 {
                    return true;
                }
                rest_at -= 1;
                (rest[rest_at].1, rest[rest_at].2)
            }
        };
        match &*d.0 {
            Node::Text(s) => match s.find('\n') {
                Some(i) => return left >= s[..i].chars().count() as isize,
                None => {
                    left -= s.chars().count() as isize;
                    if left < 0 {
                        return false;
                    }
                }
            },
            Node::Trailing(_) | Node::BlankLine => {}
            Node::Line => match m {
                Mode::Break => return true,
                Mode::Flat => {
                    left -= 1;
                    if left < 0 {
                        return false;
                    }
                }
            },
            Node::SoftLine => {
                if m == Mode::Break {
                    return true;
                }
            }
            Node::HardLine => return true,
            Node::IfBreak(b, f) => stack.push((m, if m == Mode::Break { b } else { f })),
            Node::Nest(inner) => stack.push((m, inner)),
            Node::Concat { parts, .. } => stack.extend(parts.iter().rev().map(|x| (m, x))),
            // Undecided groups are assumed flat: the strictest reading.
            Node::Group { doc, broken } => {
                stack.push((if *broken { Mode::Break } else { Mode::Flat }, doc))
            }
            Node::Choice { flat, alts, .. } => match flat {
                Some(f) => stack.push((Mode::Flat, f)),
                None => stack.push((Mode::Break, alts.last().expect("layouts"))),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> Doc {
        let mut inner = Vec::new();
        for (i, it) in items.iter().enumerate() {
            inner.push(Doc::line());
            inner.push(text(*it));
            if i + 1 < items.len() {
                inner.push(text(","));
            }
        }
        group(concat([
            text("["),
            nest(concat(inner)),
            Doc::line(),
            text("]"),
        ]))
    }

    #[test]
    fn group_flat_when_it_fits() {
        assert_eq!(render(&list(&["a", "b"]), 20), "[ a, b ]");
    }

    #[test]
    fn group_breaks_when_too_wide() {
        assert_eq!(
            render(&list(&["aaaa", "bbbb"]), 10),
            "[\n  aaaa,\n  bbbb\n]"
        );
    }

    #[test]
    fn hard_line_breaks_enclosing_group() {
        let d = group(concat([
            text("a"),
            Doc::line(),
            text("b"),
            Doc::hard_line(),
            text("c"),
        ]));
        assert_eq!(render(&d, 80), "a\nb\nc");
    }

    #[test]
    fn blank_lines_have_no_indentation() {
        let d = concat([
            text("x"),
            nest(concat([
                Doc::hard_line(),
                text("a"),
                Doc::blank_line(),
                Doc::hard_line(),
                text("b"),
            ])),
        ]);
        assert_eq!(render(&d, 80), "x\n  a\n\n  b");
    }

    #[test]
    fn choice_takes_first_layout_whose_first_line_fits() {
        let d = choice(
            text("aaaaaaaaaaaa"),
            vec![
                concat([text("aaaaaaaaaaaa"), Doc::line(), text("b")]),
                concat([text("a"), Doc::line(), text("c")]),
            ],
        );
        assert_eq!(render(&d, 5), "a\nc");
        assert_eq!(render(&d, 12), "aaaaaaaaaaaa");
    }

    #[test]
    fn trailing_text_takes_no_room() {
        let d = concat([list(&["a", "b"]), Doc::trailing(" # long comment")]);
        assert_eq!(render(&d, 10), "[ a, b ] # long comment");
    }
}
