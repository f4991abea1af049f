//! A small lexical scan that finds an unterminated string or block comment
//! (E0102). The PEG parser only sees "no match"; this names the cause.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unterminated {
    String,
    IndentedString,
    Comment,
}

#[derive(Clone, Copy)]
enum Mode {
    Code,
    Str,
    IndStr,
}

/// Byte offset and kind of the first string or comment that never ends.
pub fn unterminated(src: &str) -> Option<(usize, Unterminated)> {
    let b = src.as_bytes();
    // A stack of open contexts; `${` inside a string pushes Code, whose
    // matching `}` pops back to the string.
    let mut stack: Vec<(Mode, usize, u32)> = vec![(Mode::Code, 0, 0)];
    let mut i = 0;
    while i < b.len() {
        let top = stack.len() - 1;
        match stack[top].0 {
            Mode::Code => match b[i] {
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                    continue;
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    match src[i + 2..].find("*/") {
                        Some(e) => i += e + 4,
                        None => return Some((i, Unterminated::Comment)),
                    }
                    continue;
                }
                b'"' => stack.push((Mode::Str, i, 0)),
                b'\'' if b.get(i + 1) == Some(&b'\'') => {
                    stack.push((Mode::IndStr, i, 0));
                    i += 2;
                    continue;
                }
                b'{' => stack[top].2 += 1,
                b'}' => {
                    if stack[top].2 == 0 && stack.len() > 1 {
                        stack.pop();
                    } else {
                        stack[top].2 = stack[top].2.saturating_sub(1);
                    }
                }
                _ => {}
            },
            Mode::Str => match b[i] {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if b.get(i + 1) == Some(&b'{') => {
                    stack.push((Mode::Code, i, 0));
                    i += 1;
                }
                _ => {}
            },
            Mode::IndStr => {
                if b[i] == b'\'' && b.get(i + 1) == Some(&b'\'') {
                    match b.get(i + 2) {
                        Some(b'$') | Some(b'\'') => i += 2,
                        Some(b'\\') => i += 3,
                        _ => {
                            stack.pop();
                            i += 1;
                        }
                    }
                } else if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
                    stack.push((Mode::Code, i, 0));
                    i += 1;
                }
            }
        }
        i += 1;
    }
    // The innermost open string is the one to blame.
    stack.iter().rev().find_map(|&(mode, at, _)| match mode {
        Mode::Str => Some((at, Unterminated::String)),
        Mode::IndStr => Some((at, Unterminated::IndentedString)),
        Mode::Code => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind() {
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
    }

    #[test]
    fn terminated_is_clean() {
        for ok in [
            r#""a\"b""#,
            "''a ''${x} '''b''",
            r#""${ { a = "}"; }.a }""#,
            "# \"not a string\n1",
            "/* \" */ 1",
        ] {
            assert_eq!(unterminated(ok), None, "{ok}");
        }
    }
}
