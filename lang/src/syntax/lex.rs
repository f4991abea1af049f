//! The language's tokens, for readers that need them without a tree: the
//! language server's completion (the text before the cursor is usually
//! unfinished) and E0102 (which string or comment never ends).
//!
//! The lexical rules are the grammar's (`unik.pest`, "tokens"): the same
//! identifier characters, keywords, comments, path characters and string
//! escapes, shared with the hand-written parser ([`comment_at`],
//! [`ident_start`], [`ident_char`], [`KEYWORDS`]). It never fails: any
//! other character is one [`TokenKind::Unknown`] token, and a string or
//! comment the text ends inside is the last token, marked not closed.
//!
//! A string is one token, interpolations included: its end is found by
//! following `${ … }` (nested strings, braces and comments) to the quote
//! that closes it.

use crate::diag::Span;

/// The keywords (`keyword` in the grammar).
pub const KEYWORDS: &[&str] = &[
    "let", "in", "if", "then", "else", "assert", "import", "rec", "inherit", "or", "true", "false",
    "null",
];

/// Operators and separators, longest first so that a prefix never wins.
const PUNCTS: &[&str] = &[
    "@->", "...", "==", "!=", "<=", ">=", "&&", "||", "++", "//", "$", "=", ";", ",", ".", ":",
    "?", "@", "+", "-", "*", "/", "<", ">", "!",
];

pub fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

pub fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'\''
}

pub fn path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'+' | b'/')
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A name that is not a keyword.
    Ident,
    Keyword,
    Int,
    /// `./x` or `../x`.
    Path,
    /// `"…"`, or `''…''` when `indented`; `closed` is false when the text
    /// ends inside it.
    Str {
        indented: bool,
        closed: bool,
    },
    /// `# …` or `/* … */` (`block`); `closed` is false when the text ends
    /// inside it (for a line comment: before its newline).
    Comment {
        block: bool,
        closed: bool,
    },
    Open(u8),
    Close(u8),
    /// `$ @-> = ; , . : == != …`
    Punct(&'static str),
    /// A character no token starts with.
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

impl Token {
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        &src[self.span.range()]
    }

    pub fn is_comment(&self) -> bool {
        matches!(self.kind, TokenKind::Comment { .. })
    }
}

/// What never ends, for E0102.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unterminated {
    String,
    IndentedString,
    Comment,
}

/// The comment starting at `pos`: its end and whether it is a block
/// comment; `None` when no comment starts there. An unterminated block
/// comment ends at the end of the text.
pub fn comment_at(src: &str, pos: usize) -> Option<(usize, bool, bool)> {
    let rest = src.get(pos..)?;
    if rest.starts_with('#') {
        let end = rest.find('\n');
        Some((end.map_or(src.len(), |k| pos + k), false, end.is_some()))
    } else if let Some(body) = rest.strip_prefix("/*") {
        let end = body.find("*/");
        Some((
            end.map_or(src.len(), |k| pos + 2 + k + 2),
            true,
            end.is_some(),
        ))
    } else {
        None
    }
}

/// The first byte at or after `from` that is neither blank nor comment.
pub fn skip_trivia(src: &str, mut from: usize) -> usize {
    let b = src.as_bytes();
    loop {
        while from < b.len() && b[from].is_ascii_whitespace() {
            from += 1;
        }
        match comment_at(src, from) {
            Some((end, _, _)) => from = end,
            None => return from,
        }
    }
}

/// Every token of `src`, comments included, in order.
pub fn tokens(src: &str) -> Vec<Token> {
    Lexer::new(src).collect()
}

/// Byte offset and kind of the string or block comment that never ends:
/// for a string, the innermost one open at the end of the text.
pub fn unterminated(src: &str) -> Option<(usize, Unterminated)> {
    // The tokenizer's rules, without building tokens: only strings and
    // comments matter here, and every parse runs this first.
    let mut lx = Lexer::new(src);
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if ident_start(c) {
            // A name may hold `''` (`a''`): it starts no string.
            i += b[i..].iter().take_while(|&&ch| ident_char(ch)).count();
        } else if c == b'"' || (c == b'\'' && b.get(i + 1) == Some(&b'\'')) {
            i = lx.string_end(i, c != b'"').0;
        } else if let Some((end, block, closed)) = (c == b'#' || c == b'/')
            .then(|| comment_at(src, i))
            .flatten()
        {
            if block && !closed {
                return Some((i, Unterminated::Comment));
            }
            i = end;
        } else {
            i += 1;
        }
    }
    lx.unterminated
}

pub struct Lexer<'s> {
    src: &'s str,
    pos: usize,
    /// The first string or comment found never to end.
    pub unterminated: Option<(usize, Unterminated)>,
}

impl<'s> Lexer<'s> {
    pub fn new(src: &'s str) -> Lexer<'s> {
        Lexer {
            src,
            pos: 0,
            unterminated: None,
        }
    }

    fn open(&mut self, at: usize, what: Unterminated) {
        self.unterminated.get_or_insert((at, what));
    }

    /// The end of the string opening at `start` (after its closing quote,
    /// or the end of the text), following interpolations. A stack, not
    /// recursion: nesting depth is the input's to choose.
    fn string_end(&mut self, start: usize, indented: bool) -> (usize, bool) {
        if let Some(end) = plain_string_end(self.src.as_bytes(), start, indented) {
            return (end, true);
        }
        #[derive(Clone, Copy)]
        enum Frame {
            Str(usize),
            IndStr(usize),
            /// Inside `${ … }`, with the braces opened there.
            Code(u32),
        }
        let b = self.src.as_bytes();
        let mut stack = vec![if indented {
            Frame::IndStr(start)
        } else {
            Frame::Str(start)
        }];
        let mut i = start + if indented { 2 } else { 1 };
        while i < b.len() {
            let top = stack.len() - 1;
            match stack[top] {
                Frame::Code(braces) => {
                    if let Some((end, block, closed)) = comment_at(self.src, i) {
                        if block && !closed {
                            self.open(i, Unterminated::Comment);
                        }
                        i = end;
                        continue;
                    }
                    match b[i] {
                        b'"' => stack.push(Frame::Str(i)),
                        b'\'' if b.get(i + 1) == Some(&b'\'') => {
                            stack.push(Frame::IndStr(i));
                            i += 1;
                        }
                        b'{' => stack[top] = Frame::Code(braces + 1),
                        b'}' if braces == 0 => {
                            stack.pop();
                        }
                        b'}' => stack[top] = Frame::Code(braces - 1),
                        _ => {}
                    }
                    i += 1;
                }
                Frame::Str(_) => match b[i] {
                    b'\\' => i += 2,
                    b'"' => {
                        stack.pop();
                        i += 1;
                        if stack.is_empty() {
                            return (i, true);
                        }
                    }
                    b'$' if b.get(i + 1) == Some(&b'{') => {
                        stack.push(Frame::Code(0));
                        i += 2;
                    }
                    _ => i += 1,
                },
                Frame::IndStr(_) => {
                    if b[i] == b'\'' && b.get(i + 1) == Some(&b'\'') {
                        match b.get(i + 2) {
                            // `''$` and `'''` escape; `''\x` escapes x.
                            Some(b'$' | b'\'') => i += 3,
                            Some(b'\\') => i += 4,
                            _ => {
                                stack.pop();
                                i += 2;
                                if stack.is_empty() {
                                    return (i, true);
                                }
                            }
                        }
                    } else if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
                        stack.push(Frame::Code(0));
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
            }
        }
        // The innermost string still open is the one to blame.
        let blame = stack.iter().rev().find_map(|f| match *f {
            Frame::Str(at) => Some((at, Unterminated::String)),
            Frame::IndStr(at) => Some((at, Unterminated::IndentedString)),
            Frame::Code(_) => None,
        });
        if let Some((at, what)) = blame {
            self.open(at, what);
        }
        (b.len(), false)
    }
}

/// The end of a string without interpolation, the common case, found
/// without the stack; `None` when it has `${` or never ends.
fn plain_string_end(b: &[u8], start: usize, indented: bool) -> Option<usize> {
    let mut i = start + if indented { 2 } else { 1 };
    while i < b.len() {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'{') => return None,
            b'\\' if !indented => i += 2,
            b'"' if !indented => return Some(i + 1),
            b'\'' if indented && b.get(i + 1) == Some(&b'\'') => match b.get(i + 2) {
                Some(b'$' | b'\'') => i += 3,
                Some(b'\\') => i += 4,
                _ => return Some(i + 2),
            },
            _ => i += 1,
        }
    }
    None
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let src = self.src;
        let b = src.as_bytes();
        while self.pos < b.len() && b[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        if start >= b.len() {
            return None;
        }
        let rest = &src[start..];
        let c = b[start];
        let (kind, end) = if let Some((end, block, closed)) = comment_at(src, start) {
            if block && !closed {
                self.open(start, Unterminated::Comment);
            }
            (TokenKind::Comment { block, closed }, end)
        } else if c == b'"' || rest.starts_with("''") {
            let indented = c != b'"';
            let (end, closed) = self.string_end(start, indented);
            (TokenKind::Str { indented, closed }, end)
        } else if let Some(lead) = ["./", "../"].iter().find(|l| rest.starts_with(**l))
            && rest
                .as_bytes()
                .get(lead.len())
                .is_some_and(|&ch| path_char(ch))
        {
            let len = rest.bytes().take_while(|&ch| path_char(ch)).count();
            (TokenKind::Path, start + len)
        } else if c.is_ascii_digit() {
            let len = rest.bytes().take_while(u8::is_ascii_digit).count();
            (TokenKind::Int, start + len)
        } else if ident_start(c) {
            let len = rest.bytes().take_while(|&ch| ident_char(ch)).count();
            let word = &rest[..len];
            let kind = if KEYWORDS.contains(&word) {
                TokenKind::Keyword
            } else {
                TokenKind::Ident
            };
            (kind, start + len)
        } else if b"([{".contains(&c) {
            (TokenKind::Open(c), start + 1)
        } else if b")]}".contains(&c) {
            (TokenKind::Close(c), start + 1)
        } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            (TokenKind::Punct(p), start + p.len())
        } else {
            // Anything else (non-ASCII outside strings) is one token.
            let len = rest.chars().next().map_or(1, char::len_utf8);
            (TokenKind::Unknown, start + len)
        };
        self.pos = end;
        Some(Token {
            kind,
            span: Span::new(start, end),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(TokenKind, &str)> {
        tokens(src).iter().map(|t| (t.kind, t.text(src))).collect()
    }

    #[test]
    fn tokens_of_an_unfinished_line() {
        use TokenKind::*;
        let closed = |indented| Str {
            indented,
            closed: true,
        };
        assert_eq!(
            kinds("let a = key \"x\" { # c\n type = \"in"),
            [
                (Keyword, "let"),
                (Ident, "a"),
                (Punct("="), "="),
                (Ident, "key"),
                (closed(false), "\"x\""),
                (Open(b'{'), "{"),
                (
                    Comment {
                        block: false,
                        closed: true
                    },
                    "# c"
                ),
                (Ident, "type"),
                (Punct("="), "="),
                (
                    Str {
                        indented: false,
                        closed: false
                    },
                    "\"in"
                ),
            ]
        );
        assert_eq!(
            kinds("m $ c @-> d ./x.unik /* z */ \"a\\\"${b \"}\"}\" ''i''"),
            [
                (Ident, "m"),
                (Punct("$"), "$"),
                (Ident, "c"),
                (Punct("@->"), "@->"),
                (Ident, "d"),
                (Path, "./x.unik"),
                (
                    Comment {
                        block: true,
                        closed: true
                    },
                    "/* z */"
                ),
                (closed(false), "\"a\\\"${b \"}\"}\""),
                (closed(true), "''i''"),
            ]
        );
        assert_eq!(
            kinds("a.b ... 12 ü"),
            [
                (Ident, "a"),
                (Punct("."), "."),
                (Ident, "b"),
                (Punct("..."), "..."),
                (Int, "12"),
                (Unknown, "ü"),
            ]
        );
        assert_eq!(
            kinds("a # b"),
            [
                (Ident, "a"),
                (
                    Comment {
                        block: false,
                        closed: false
                    },
                    "# b"
                )
            ]
        );
    }

    #[test]
    fn finds_each_unterminated_kind() {
        assert_eq!(
            unterminated(r#"let a = "x; in a"#),
            Some((8, Unterminated::String))
        );
        assert_eq!(unterminated("a /* b"), Some((2, Unterminated::Comment)));
        assert_eq!(
            unterminated("x ''abc"),
            Some((2, Unterminated::IndentedString))
        );
        assert_eq!(
            unterminated(r#""a ${ "b" } c"#),
            Some((0, Unterminated::String))
        );
        assert_eq!(
            unterminated(r#""a ${ "b } c"#),
            Some((6, Unterminated::String))
        );
        assert_eq!(
            unterminated(r#""a ${ /* b"#),
            Some((6, Unterminated::Comment))
        );
    }

    #[test]
    fn terminated_is_clean() {
        for ok in [
            r#""a\"b""#,
            "''a ''${x} '''b''",
            "''a ''\\n''",
            r#""${ { a = "}"; }.a }""#,
            "# \"not a string\n1",
            "/* \" */ 1",
            "a # open line comment",
        ] {
            assert_eq!(unterminated(ok), None, "{ok}");
        }
    }

    #[test]
    fn quotes_in_names_start_no_string() {
        assert_eq!(unterminated("let a'' = 1; in a''"), None);
        assert_eq!(
            kinds("a'' b"),
            [(TokenKind::Ident, "a''"), (TokenKind::Ident, "b")]
        );
    }

    #[test]
    fn deep_interpolation_needs_no_stack() {
        let src = "\"${".repeat(100_000);
        assert_eq!(
            unterminated(&src),
            Some((src.len() - 3, Unterminated::String))
        );
    }
}
