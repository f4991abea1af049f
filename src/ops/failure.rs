//! How an operation fails: the diagnostics that say why, the sources they
//! point into, and the exit class of cli.md. Operations print nothing; the
//! caller renders a [`Failure`] once.

use unik_lang::diag::{Diagnostic, SourceMap};

/// The exit classes of cli.md (0 is success, not a failure).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The input has errors (1).
    Errors,
    /// The command line was wrong (2).
    Usage,
    /// An external tool is missing or failed (3).
    Tool,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Errors => 1,
            Exit::Usage => 2,
            Exit::Tool => 3,
        }
    }
}

#[derive(Debug)]
pub struct Failure {
    pub diagnostics: Vec<Diagnostic>,
    pub sources: SourceMap,
    pub exit: Exit,
}

impl Failure {
    /// Diagnostics, already reported to the caller (the check's own), that
    /// stop the operation: nothing more to print.
    pub fn reported(sources: SourceMap) -> Failure {
        Failure {
            diagnostics: Vec::new(),
            sources,
            exit: Exit::Errors,
        }
    }

    /// A command line the operation cannot carry out.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::plain(Exit::Usage, message)
    }

    /// A failure with a message and no place (a file, a tool).
    pub fn plain(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            diagnostics: vec![Diagnostic::error("", message)],
            sources: SourceMap::new(),
            exit,
        }
    }

    /// A codegen or build error, labelled in `sources` (the configuration's).
    pub fn codegen(e: &unik_codegen::Error, sources: &SourceMap) -> Failure {
        let all: Vec<&unik_codegen::Error> = std::iter::once(e).chain(&e.more).collect();
        let mut sources = if all.iter().any(|e| e.at.is_some()) {
            sources.clone()
        } else {
            SourceMap::new()
        };
        let mut diagnostics = Vec::new();
        for e in all {
            let mut d = e.diagnostic();
            // A place in the user's crate: its file joins the sources.
            if let Some((path, range, label)) = e.file_at.as_deref()
                && let Ok(text) = std::fs::read_to_string(path)
                && range.end <= text.len()
            {
                let id = match sources.find(path) {
                    Some(id) => id,
                    None => sources.add(path.clone(), text),
                };
                let span = unik_lang::diag::Span::new(range.start, range.end);
                d = d.label(unik_lang::diag::Loc::new(id, span), label.clone());
            }
            diagnostics.push(d);
        }
        Failure {
            diagnostics,
            sources,
            exit: match e.exit_code() {
                3 => Exit::Tool,
                _ => Exit::Errors,
            },
        }
    }

    /// One diagnostic with a code and no place.
    pub fn coded(exit: Exit, d: Diagnostic) -> Failure {
        Failure {
            diagnostics: vec![d],
            sources: SourceMap::new(),
            exit,
        }
    }
}

/// A codegen error without a place in the configuration.
impl From<unik_codegen::Error> for Failure {
    fn from(e: unik_codegen::Error) -> Failure {
        Failure::codegen(&e, &SourceMap::new())
    }
}
