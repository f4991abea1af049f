//! The `.unik` language: syntax with error recovery, diagnostics, lazy
//! evaluation and the canonical formatter. See `shared/spec/language.md`.

pub mod diag;
pub mod render;
pub mod syntax;

pub use diag::{Diagnostic, FileId, Label, Loc, Severity, SourceMap, Span};
