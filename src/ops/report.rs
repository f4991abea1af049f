//! Progress and non-fatal news of a long operation. Operations print
//! nothing: they tell a [`Reporter`] the caller passes, which prints
//! (the command line), records (tests) or forwards (an editor).

use unik_lang::diag::{Diagnostic, SourceMap};

pub trait Reporter {
    /// A step, cargo-style: `verb` is one word (`Configured`, `Building`).
    fn status(&mut self, verb: &str, message: &str);
    /// Something the user should know; the operation goes on.
    fn note(&mut self, message: &str);
    fn warning(&mut self, message: &str);
    /// Diagnostics of a check that did not stop the operation (warnings),
    /// or that stop it (errors, before the [`Failure`](super::failure::Failure)).
    fn diagnostics(&mut self, diagnostics: &[Diagnostic], sources: &SourceMap);
    /// Messages of `trace` in the configuration.
    fn traces(&mut self, traces: &[String]);
}

/// Keeps everything, for tests and for callers that show it later.
#[derive(Debug, Default)]
pub struct Recorder {
    pub lines: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Reporter for Recorder {
    fn status(&mut self, verb: &str, message: &str) {
        self.lines.push(format!("{verb} {message}"));
    }
    fn note(&mut self, message: &str) {
        self.lines.push(format!("note: {message}"));
    }
    fn warning(&mut self, message: &str) {
        self.lines.push(format!("warning: {message}"));
    }
    fn diagnostics(&mut self, diagnostics: &[Diagnostic], _: &SourceMap) {
        self.diagnostics.extend(diagnostics.iter().cloned());
    }
    fn traces(&mut self, traces: &[String]) {
        self.lines
            .extend(traces.iter().map(|t| format!("trace: {t}")));
    }
}
