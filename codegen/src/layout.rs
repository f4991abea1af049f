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

    fn flat(&self) -> String {
        match self {
            Expr::Atom(s) => s.clone(),
            Expr::Call(f, args) => format!("{f}({})", flat_args(args)),
        }
    }

    /// Whether the call's own arguments are narrow enough for one line.
    fn narrow(&self) -> bool {
        match self {
            Expr::Atom(_) => true,
            Expr::Call(_, args) => {
                flat_args(args).len() <= CALL_ARGS_WIDTH && args.iter().all(Expr::narrow)
            }
        }
    }
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
            for a in args {
                out.push_str(&line(indent + 4, "", a, ","));
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
}
