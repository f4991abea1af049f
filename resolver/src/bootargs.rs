//! Boot command lines with MirageOS 3.3 semantics: tenders join arguments
//! with spaces and the guest splits them again, so a space inside an
//! argument is written `\ ` and a backslash `\\`. The same rules as
//! `unik_rt::bootargs` (the runtime cannot be a dependency of the toolchain).

/// Escapes one argument.
pub fn escape(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len());
    for c in arg.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ' ' => out.push_str("\\ "),
            c => out.push(c),
        }
    }
    out
}

/// Joins arguments into one command line; empty arguments are dropped.
pub fn join<S: AsRef<str>>(args: &[S]) -> String {
    args.iter()
        .map(|a| a.as_ref())
        .filter(|a| !a.is_empty())
        .map(escape)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits a command line into arguments (the guest's side).
pub fn split(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => cur.push(n),
                None => cur.push('\\'),
            },
            ' ' => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_and_backslashes_survive_the_round_trip() {
        let args = ["--name=a b", "--path=c:\\d", "plain", "", "--x=\\ "];
        let line = join(&args);
        assert_eq!(line, "--name=a\\ b --path=c:\\\\d plain --x=\\\\\\ ");
        let back = split(&line);
        let expected: Vec<&str> = args.iter().copied().filter(|a| !a.is_empty()).collect();
        assert_eq!(back, expected);
    }

    #[test]
    fn repeated_spaces_separate_once() {
        assert_eq!(split("  a   b "), vec!["a", "b"]);
    }
}
