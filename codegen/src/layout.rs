//! Lays out generated calls the way rustfmt does (default settings), so a
//! generated `main.rs` reads like hand-written code and `rustfmt --check`
//! passes on it: a call stays on one line if the line fits in 100 columns
//! and its arguments in 60; a `let` moves its call to the next line when
//! that makes it fit; otherwise one argument per line.

/// An expression to lay out: opaque text, or a call (a tuple when the
/// function is empty).
#[derive(Debug, Clone)]
pub enum Expr {
    Atom(String),
    Call(String, Vec<Expr>),
}

const WIDTH: usize = 100;
const CALL_ARGS_WIDTH: usize = 60;

impl Expr {
    pub fn call(func: impl Into<String>, args: impl IntoIterator<Item = Expr>) -> Expr {
        Expr::Call(func.into(), args.into_iter().collect())
    }

    pub fn atom(s: impl Into<String>) -> Expr {
        Expr::Atom(s.into())
    }

    /// A rendered expression: a call `path(args…)` becomes a [`Expr::Call`]
    /// (recursively) so it can be laid out; anything else (method chains,
    /// closures, char literals) stays an atom.
    pub fn parse(s: &str) -> Expr {
        let atom = || Expr::Atom(s.to_string());
        let Some(open) = s.find('(') else {
            return atom();
        };
        let func = &s[..open];
        let is_path = !func.is_empty()
            && func
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
        if !is_path || !s.ends_with(')') || s.contains(['|', '\'']) {
            return atom();
        }
        let inner = &s[open + 1..s.len() - 1];
        let Some(parts) = split_args(inner) else {
            return atom();
        };
        Expr::Call(
            func.to_string(),
            parts.iter().map(|p| Expr::parse(p)).collect(),
        )
    }

    pub fn flat(&self) -> String {
        match self {
            Expr::Atom(s) => s.clone(),
            Expr::Call(f, args) => format!("{f}({})", flat_args(args)),
        }
    }

    /// Whether the call's own arguments are narrow enough for one line.
    /// A lone opaque argument is exempt: rustfmt lets it overflow.
    fn narrow(&self) -> bool {
        match self {
            Expr::Atom(_) => true,
            Expr::Call(_, args) if matches!(args.as_slice(), [Expr::Atom(_)]) => true,
            Expr::Call(_, args) => {
                flat_args(args).len() <= CALL_ARGS_WIDTH && args.iter().all(Expr::narrow)
            }
        }
    }
}

/// Splits call arguments at top-level commas; `None` if the brackets do
/// not balance (the call's `(` is not closed by the last `)`).
fn split_args(inner: &str) -> Option<Vec<String>> {
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                cur.push(c);
                while let Some(d) = chars.next() {
                    cur.push(d);
                    if d == '\\' {
                        cur.extend(chars.next());
                    } else if d == '"' {
                        break;
                    }
                }
                continue;
            }
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth < 0 {
                    return None;
                }
            }
            ',' if depth == 0 => {
                parts.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if depth != 0 {
        return None;
    }
    if !cur.trim().is_empty() {
        parts.push(cur.trim().to_string());
    }
    Some(parts)
}

fn flat_args(args: &[Expr]) -> String {
    args.iter().map(Expr::flat).collect::<Vec<_>>().join(", ")
}

/// `PREFIX EXPR SUFFIX` at `indent` columns, ending with a newline.
pub fn line(indent: usize, prefix: &str, e: &Expr, suffix: &str) -> String {
    let pad = " ".repeat(indent);
    let single = format!("{pad}{prefix}{}{suffix}", e.flat());
    if single.len() <= WIDTH && e.narrow() {
        return single + "\n";
    }
    if let Some(binding) = prefix.strip_suffix(' ').filter(|p| p.starts_with("let ")) {
        let next = format!("{pad}    {}{suffix}", e.flat());
        if next.len() <= WIDTH && e.narrow() {
            return format!("{pad}{binding}\n{next}\n");
        }
    }
    match e {
        Expr::Atom(_) => single + "\n",
        Expr::Call(f, args) => {
            let mut out = format!("{pad}{prefix}{f}(\n");
            // rustfmt adds no trailing comma inside a macro's brackets.
            for (i, a) in args.iter().enumerate() {
                let last = i + 1 == args.len();
                let comma = if last && f.ends_with('!') { "" } else { "," };
                out.push_str(&line(indent + 4, "", a, comma));
            }
            out.push_str(&format!("{pad}){suffix}\n"));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(name: &str, connect: &str) -> Expr {
        Expr::call(
            "unik_unix::boot::device",
            [Expr::atom(format!("{name:?}")), Expr::atom(connect)],
        )
    }

    #[test]
    fn parses_calls_and_keeps_the_rest() {
        let e = Expr::parse("m::connect(a, f(\"x, y\"), [1, 2])");
        assert_eq!(e.flat(), "m::connect(a, f(\"x, y\"), [1, 2])");
        let Expr::Call(f, args) = &e else {
            panic!("a call")
        };
        assert_eq!((f.as_str(), args.len()), ("m::connect", 3));
        assert!(matches!(Expr::parse("a.b(c).d()"), Expr::Atom(_)));
        assert!(matches!(Expr::parse("f(x).map(|e| e)"), Expr::Atom(_)));
        assert!(matches!(Expr::parse("f(a)(b)"), Expr::Atom(_)));
        assert!(matches!(Expr::parse("f()"), Expr::Call(_, a) if a.is_empty()));
    }

    #[test]
    fn short_calls_stay_on_one_line() {
        let e = device("default_time", "unik_unix::sleep::connect()");
        assert_eq!(
            line(4, "let t = ", &e, "?;"),
            "    let t = unik_unix::boot::device(\"default_time\", unik_unix::sleep::connect())?;\n"
        );
    }

    #[test]
    fn a_let_moves_its_call_to_the_next_line() {
        let e = device("default_console", "unik_unix::console::connect()");
        assert_eq!(
            line(4, "let default_console_0 = ", &e, "?;"),
            "    let default_console_0 =\n        unik_unix::boot::device(\"default_console\", unik_unix::console::connect())?;\n"
        );
    }

    #[test]
    fn wide_arguments_go_one_per_line() {
        let e = device(
            "block_of_file disk.img",
            "unik_unix::block::connect(\"disk.img\")",
        );
        assert_eq!(
            line(4, "let b = ", &e, "?;"),
            "    let b = unik_unix::boot::device(\n        \"block_of_file disk.img\",\n        unik_unix::block::connect(\"disk.img\"),\n    )?;\n"
        );
    }

    #[test]
    fn a_lone_argument_overflows_the_argument_width_but_not_the_line() {
        let path = format!("{:?}", format!("../{}/site.css", "d".repeat(60)));
        let e = Expr::call("include_bytes!", [Expr::atom(&path)]);
        assert_eq!(
            line(4, "", &e, ","),
            format!("    include_bytes!({path}),\n")
        );
        let long = format!("{:?}", format!("../{}/site.css", "d".repeat(90)));
        let e = Expr::call("include_bytes!", [Expr::atom(&long)]);
        assert_eq!(
            line(4, "", &e, ","),
            format!("    include_bytes!(\n        {long}\n    ),\n")
        );
    }
}
