//! The pipeline behind `check`, `eval` and `describe`: find the
//! configuration, then evaluate and resolve it with the catalogue for each
//! target of the matrix (`unik_resolver::session`), gathering diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_lang::diag::{Diagnostic, SourceMap};
use unik_lang::eval::ModuleArena;
use unik_resolver::Resolved;
use unik_resolver::session::{self, Matrix, Skipped};

/// Where a configuration lives: a `.unik` file or a directory holding `config.unik`.
pub fn find_config(arg: Option<&Path>) -> Result<PathBuf, String> {
    session::find_config(arg)
}

/// The outcome of evaluating one configuration for several targets.
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// The JSON value per target that evaluated.
    pub values: BTreeMap<String, serde_json::Value>,
    /// The device graph per target that resolved without errors.
    pub resolved: BTreeMap<String, Resolved>,
    /// The targets checked, in matrix order.
    pub targets: Vec<String>,
    /// Targets the default matrix left out (their devices do not support them).
    pub skipped: Vec<Skipped>,
    pub traces: Vec<String>,
}

impl Checked {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

pub struct Request<'r> {
    pub file: &'r Path,
    pub matrix: Matrix,
    pub keys: BTreeMap<String, String>,
    /// `check` and `describe` want a register; `eval` prints whatever the file is.
    pub want_register: bool,
    /// Whether the resolved graphs are needed (`describe`, `build`, `lock`),
    /// or only the diagnostics (`check`, the language server).
    pub want_graphs: bool,
}

pub fn run(req: &Request) -> Result<Checked, String> {
    run_with(req, None, BTreeMap::new(), None)
}

/// [`run`] with the root file's text taken from memory, and `overlays`
/// (absolute path → text) read instead of the disk for imported files:
/// the language server checks an editor's unsaved buffers this way, with
/// an `arena` kept across checks so unchanged files are not parsed again.
pub fn run_in_memory(
    req: &Request,
    text: &str,
    overlays: BTreeMap<PathBuf, String>,
    arena: &ModuleArena,
) -> Result<Checked, String> {
    run_with(req, Some(text), overlays, Some(arena))
}

fn run_with(
    req: &Request,
    text: Option<&str>,
    overlays: BTreeMap<PathBuf, String>,
    arena: Option<&ModuleArena>,
) -> Result<Checked, String> {
    let mut r = session::Request::new(req.file, req.matrix.clone());
    r.keys = req.keys.clone();
    r.resolve = req.want_register;
    r.model = req.want_graphs;
    r.text = text;
    r.overlays = overlays;
    r.arena = arena;
    let s = session::run(&r)?;
    let mut values = BTreeMap::new();
    let mut resolved = BTreeMap::new();
    let mut targets = Vec::new();
    for (t, run) in s.targets {
        targets.push(t.clone());
        if let Some(v) = run.value {
            values.insert(t.clone(), v);
        }
        if let Some(g) = run.resolved {
            resolved.insert(t, g);
        }
    }
    Ok(Checked {
        sources: s.sources,
        diagnostics: s.diagnostics,
        values,
        resolved,
        targets,
        skipped: s.skipped,
        traces: s.traces,
    })
}
