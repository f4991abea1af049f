//! What resolving one evaluated register for one target needs.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use unik_lang::Target;
use unik_lang::diag::SourceMap;
use unik_lang::eval::{KeyDef, Register};

/// What [`crate::resolve::resolve`] needs besides the register.
pub struct Input<'r> {
    pub register: &'r Register,
    pub target: Target,
    pub sources: &'r SourceMap,
    /// Configure-key values from the command line (`--NAME=value`).
    pub keys: &'r BTreeMap<String, String>,
    /// Configure keys the configuration read with `key_value`.
    pub keys_read: &'r [Rc<KeyDef>],
    /// The directory of the root configuration file (for `embed`).
    pub root_dir: &'r Path,
    /// Whether to build the [`crate::Resolved`] form; a check that only reports
    /// leaves it out (as `cargo check` leaves out code generation).
    pub model: bool,
}
