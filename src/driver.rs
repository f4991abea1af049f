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
    pub want: Want,
}

/// What a command needs of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Its value, whatever it is (`eval`).
    Value,
    /// A register, checked on every target: diagnostics only (`check`, the
    /// language server).
    Diagnostics,
    /// A register and each target's resolved graph (`describe`, `lock`, `build`).
    Graphs,
}

/// What every command does first: finds the configuration (`file`, or
/// `config.unik` in the current directory), checks it, and prints its traces
/// and diagnostics. An `Err` is the exit status, already reported.
pub fn check_config(
    file: Option<&Path>,
    matrix: Matrix,
    keys: BTreeMap<String, String>,
    want: Want,
    json_diagnostics: bool,
) -> Result<(PathBuf, Checked), u8> {
    let path = find_config(file).map_err(|e| crate::output::usage(&e))?;
    let req = Request {
        file: &path,
        matrix,
        keys,
        want,
    };
    let checked = run(&req).map_err(|e| crate::output::usage(&e))?;
    crate::output::traces(&checked.traces);
    crate::output::diagnostics(&checked, json_diagnostics);
    Ok((path, checked))
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
    r.resolve = req.want != Want::Value;
    r.model = req.want == Want::Graphs;
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
