//! A forgiving tokenizer for completion: it reads the text before the
//! cursor, which is usually unfinished, so it never fails. An unclosed
//! string or comment is the last token.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Ident(String),
    /// A string literal; `closed` is false when the text ends inside it.
    Str {
        text: String,
        closed: bool,
    },
    Int,
    Path,
    Open(char),
    Close(char),
    /// Operators and separators: `$ @-> = ; , . : == != …`
    Punct(&'static str),
    /// A comment; `open` when the text ends inside it.
    Comment {
        open: bool,
    },
}

pub fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '\''
}

const PUNCTS: &[&str] = &[
    "@->", "...", "==", "!=", "<=", ">=", "&&", "||", "++", "//", "$", "=", ";", ",", ".", ":",
    "?", "@", "+", "-", "*", "/", "<", ">", "!",
];

pub fn tokens(src: &str) -> Vec<Tok> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let rest = &src[i..];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'#' {
            let end = rest.find('\n');
            out.push(Tok::Comment {
                open: end.is_none(),
            });
            i += end.unwrap_or(rest.len());
        } else if let Some(body) = rest.strip_prefix("/*") {
            let end = body.find("*/");
            out.push(Tok::Comment {
                open: end.is_none(),
            });
            i += end.map(|e| e + 4).unwrap_or(rest.len());
        } else if c == b'"' {
            let (text, len, closed) = string(&rest[1..], "\"");
            out.push(Tok::Str { text, closed });
            i += 1 + len;
        } else if let Some(body) = rest.strip_prefix("''") {
            let (text, len, closed) = string(body, "''");
            out.push(Tok::Str { text, closed });
            i += 2 + len;
        } else if rest.starts_with("./") || rest.starts_with("../") {
            let len = rest
                .find(|ch: char| !(ident_char(ch) || "./-+".contains(ch)))
                .unwrap_or(rest.len());
            out.push(Tok::Path);
            i += len;
        } else if c.is_ascii_digit() {
            let len = rest
                .find(|ch: char| !ch.is_ascii_digit())
                .unwrap_or(rest.len());
            out.push(Tok::Int);
            i += len;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let len = rest.find(|ch: char| !ident_char(ch)).unwrap_or(rest.len());
            out.push(Tok::Ident(rest[..len].to_string()));
            i += len;
        } else if b"([{".contains(&c) {
            out.push(Tok::Open(c as char));
            i += 1;
        } else if b")]}".contains(&c) {
            out.push(Tok::Close(c as char));
            i += 1;
        } else if let Some(p) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            out.push(Tok::Punct(p));
            i += p.len();
        } else {
            // Anything else (non-ASCII outside strings) is skipped whole.
            i += rest.chars().next().map(char::len_utf8).unwrap_or(1);
        }
    }
    out
}

/// A string body up to `close` (escapes and `${…}` skipped over): its
/// text, the bytes consumed including the closing quote, and whether it
/// closed.
fn string(s: &str, close: &str) -> (String, usize, bool) {
    let b = s.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    while i < b.len() {
        let rest = &s[i..];
        if depth == 0 && rest.starts_with(close) {
            // `'''` and `''$` are escapes inside indented strings.
            if close == "''" && (rest.starts_with("'''") || rest.starts_with("''$")) {
                i += 3;
                continue;
            }
            return (s[..i].to_string(), i + close.len(), true);
        }
        if close == "\"" && b[i] == b'\\' {
            i += 2;
            continue;
        }
        if rest.starts_with("${") {
            depth += 1;
            i += 2;
            continue;
        }
        if depth > 0 && b[i] == b'}' {
            depth -= 1;
        }
        i += rest.chars().next().map(char::len_utf8).unwrap_or(1);
    }
    (s.to_string(), s.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_of_an_unfinished_line() {
        let t = tokens("let a = key \"x\" { # c\n type = \"in");
        assert_eq!(
            t,
            [
                Tok::Ident("let".into()),
                Tok::Ident("a".into()),
                Tok::Punct("="),
                Tok::Ident("key".into()),
                Tok::Str {
                    text: "x".into(),
                    closed: true
                },
                Tok::Open('{'),
                Tok::Comment { open: false },
                Tok::Ident("type".into()),
                Tok::Punct("="),
                Tok::Str {
                    text: "in".into(),
                    closed: false
                },
            ]
        );
        assert_eq!(
            tokens("m $ c @-> d ./x.unik /* z */ \"a\\\"${b}\""),
            [
                Tok::Ident("m".into()),
                Tok::Punct("$"),
                Tok::Ident("c".into()),
                Tok::Punct("@->"),
                Tok::Ident("d".into()),
                Tok::Path,
                Tok::Comment { open: false },
                Tok::Str {
                    text: "a\\\"${b}".into(),
                    closed: true
                },
            ]
        );
        assert_eq!(
            tokens("a # b"),
            [Tok::Ident("a".into()), Tok::Comment { open: true }]
        );
        assert_eq!(tokens("/* b"), [Tok::Comment { open: true }]);
    }
}
