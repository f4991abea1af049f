//! Codegen errors: a diagnostic code (cli.md), a message, and where in the
//! configuration it comes from when that is known, as a span in the
//! session's sources (the caller, which owns them, renders it).

use std::fmt;
use unik_lang::Loc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// `E0701`…; `None` for plain I/O failures.
    pub code: Option<&'static str>,
    pub message: String,
    /// A place in the configuration, with a label.
    pub at: Option<Box<(Loc, String)>>,
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// A place in a file the configuration was not checked with (the
    /// user's crate): its path, byte range and label.
    pub file_at: Option<Box<(std::path::PathBuf, std::ops::Range<usize>, String)>>,
    /// Further errors of the same failure (one per job whose `start` does
    /// not match, …), each reported on its own.
    pub more: Box<[Error]>,
}

impl Error {
    pub fn new(code: &'static str, message: impl Into<String>) -> Error {
        Error {
            code: Some(code),
            message: message.into(),
            at: None,
            help: None,
            notes: Vec::new(),
            file_at: None,
            more: Box::new([]),
        }
    }

    /// A failure without a code: the file system, an unsupported request.
    pub fn plain(message: impl Into<String>) -> Error {
        Error {
            code: None,
            ..Error::new("", message)
        }
    }

    pub fn at(mut self, loc: Loc, label: impl Into<String>) -> Error {
        self.at = Some(Box::new((loc, label.into())));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Error {
        self.help = Some(help.into());
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Error {
        self.notes.push(note.into());
        self
    }

    /// The exit status of cli.md: 3 when an external tool is missing or
    /// failed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self.code {
            Some("E0701" | "E0702") => 3,
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(c) => write!(f, "error[{c}]: {}", self.message)?,
            None => write!(f, "error: {}", self.message)?,
        }
        for n in &self.notes {
            write!(f, "\n  = note: {n}")?;
        }
        if let Some(h) = &self.help {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

impl Error {
    /// The diagnostic of this error, labelled in the sources its place
    /// refers to (those the configuration was checked with).
    pub fn diagnostic(&self) -> unik_lang::Diagnostic {
        let mut d = unik_lang::Diagnostic::error(self.code.unwrap_or(""), self.message.clone());
        if let Some(at) = &self.at {
            d = d.label(at.0, at.1.clone());
        }
        for n in &self.notes {
            d = d.note(n.clone());
        }
        if let Some(h) = &self.help {
            d = d.help(h.clone());
        }
        d
    }
}
