//! The `.unik` language: syntax with error recovery, diagnostics, lazy
//! evaluation and the canonical formatter. See `shared/spec/language.md`.

pub mod codes;
pub mod diag;
pub mod eval;
pub mod fmt;
pub mod path;
pub mod render;
pub mod suggest;
pub mod syntax;
pub mod target;

pub use diag::{Diagnostic, FileId, Label, Loc, Severity, SourceMap, Span};
pub use target::Target;
