//! unikc as a library: the operations behind every command ([`ops`]) and
//! the language server ([`lsp`]). The `unikc` binary is a thin layer over
//! them: it parses arguments, calls one operation and renders its result
//! or its failure once.

pub mod lsp;
pub mod ops;
