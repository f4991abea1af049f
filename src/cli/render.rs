//! What the binary prints: progress as cargo prints it, diagnostics as
//! miette draws them (or JSON lines), and a failure once.

use std::io::{IsTerminal, Write};
use unik_lang::diag::{Diagnostic, SourceMap};
use unik_lang::render::{self, HumanStyle};
use unikc::ops::failure::Failure;
use unikc::ops::report::Reporter;

/// Whether stderr shows colours.
pub fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn style() -> HumanStyle {
    let tty = color();
    HumanStyle {
        color: tty,
        unicode: tty,
        width: 100,
    }
}

/// Diagnostics for people on stderr, or one JSON object a line on stdout.
pub fn diagnostics(diags: &[Diagnostic], sources: &SourceMap, json: bool) {
    if json {
        let mut out = std::io::stdout().lock();
        for d in diags {
            let _ = writeln!(out, "{}", render::json(d, sources));
        }
    } else {
        let style = style();
        let mut err = std::io::stderr().lock();
        for d in diags {
            let _ = write!(err, "{}", render::human(d, sources, style));
        }
    }
}

/// Prints a failure and gives the exit status.
pub fn failure(f: &Failure, json: bool) -> u8 {
    diagnostics(&f.diagnostics, &f.sources, json);
    f.exit.code()
}

/// The terminal: steps right-aligned like cargo's, on stderr.
pub struct Terminal {
    /// Diagnostics as JSON lines (`--message-format json`).
    pub json: bool,
}

impl Reporter for Terminal {
    fn status(&mut self, verb: &str, message: &str) {
        eprintln!("{verb:>12} {message}");
    }
    fn note(&mut self, message: &str) {
        eprintln!("note: {message}");
    }
    fn warning(&mut self, message: &str) {
        eprintln!("warning: {message}");
    }
    fn diagnostics(&mut self, diagnostics: &[Diagnostic], sources: &SourceMap) {
        self::diagnostics(diagnostics, sources, self.json);
    }
    fn traces(&mut self, traces: &[String]) {
        for t in traces {
            eprintln!("trace: {t}");
        }
    }
}
