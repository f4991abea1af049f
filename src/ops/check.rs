//! `check`, `eval` and `describe`, and the first step of every other
//! operation: find the configuration, then evaluate and resolve it with
//! the catalogue for each target of the matrix (`unik_resolver::session`).
//! The language server checks editors' buffers through [`run_in_memory`].

use super::failure::Failure;
use super::report::Reporter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_lang::Target;
use unik_lang::diag::{Diagnostic, SourceMap};
use unik_lang::eval::ModuleArena;
use unik_resolver::Resolved;
use unik_resolver::session::{self, Matrix, Skipped};

/// Where a configuration lives: a `.unik` file or a directory holding `config.unik`.
pub fn find_config(arg: Option<&Path>) -> Result<PathBuf, Failure> {
    session::find_config(arg).map_err(Failure::usage)
}

/// The outcome of evaluating one configuration for several targets.
pub struct Checked {
    /// The configuration file.
    pub path: PathBuf,
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// The JSON value per target that evaluated.
    pub values: BTreeMap<Target, serde_json::Value>,
    /// The device graph per target that resolved without errors.
    pub resolved: BTreeMap<Target, Resolved>,
    /// The targets checked, in matrix order.
    pub targets: Vec<Target>,
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

    /// For operations that go on only from a clean configuration: its
    /// errors as a failure; its warnings told to `rep`.
    pub fn require_clean(&self, rep: &mut dyn Reporter) -> Result<(), Failure> {
        if self.errors() > 0 {
            return Err(Failure {
                diagnostics: self.diagnostics.clone(),
                sources: self.sources.clone(),
                exit: super::failure::Exit::Errors,
            });
        }
        if !self.diagnostics.is_empty() {
            rep.diagnostics(&self.diagnostics, &self.sources);
        }
        Ok(())
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

/// Finds the configuration (`file`, or `config.unik` in the current
/// directory) and checks it; traces go to `rep`, diagnostics stay in the
/// result for the caller to show or to stop on.
pub fn check(
    file: Option<&Path>,
    matrix: Matrix,
    keys: BTreeMap<String, String>,
    want: Want,
    rep: &mut dyn Reporter,
) -> Result<Checked, Failure> {
    let path = find_config(file)?;
    let req = Request {
        file: &path,
        matrix,
        keys,
        want,
    };
    let checked = run(&req).map_err(Failure::usage)?;
    rep.traces(&checked.traces);
    Ok(checked)
}

/// [`check`] of one target for an operation that needs its graph: the
/// graph, or the configuration's errors as a failure.
pub fn graph(
    file: Option<&Path>,
    target: Target,
    keys: BTreeMap<String, String>,
    rep: &mut dyn Reporter,
) -> Result<(Checked, Resolved), Failure> {
    let mut checked = check(file, Matrix::Only(vec![target]), keys, Want::Graphs, rep)?;
    checked.require_clean(rep)?;
    match checked.resolved.remove(&target) {
        Some(r) => Ok((checked, r)),
        None => Err(Failure::reported(checked.sources)),
    }
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
        targets.push(t);
        if let Some(v) = run.value {
            values.insert(t, v);
        }
        if let Some(g) = run.resolved {
            resolved.insert(t, g);
        }
    }
    Ok(Checked {
        path: req.file.to_path_buf(),
        sources: s.sources,
        diagnostics: s.diagnostics,
        values,
        resolved,
        targets,
        skipped: s.skipped,
        traces: s.traces,
    })
}

/// How `describe` shows a graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    Text,
    Dot,
    Json,
}

/// `describe`: the graph of one target in a form, with the check it
/// came from (for its warnings). Errors leave no graph: a failure.
pub fn describe(
    file: Option<&Path>,
    target: Target,
    keys: BTreeMap<String, String>,
    form: Form,
    rep: &mut dyn Reporter,
) -> Result<(Checked, String), Failure> {
    let checked = check(file, Matrix::Only(vec![target]), keys, Want::Graphs, rep)?;
    let Some(graph) = checked.resolved.get(&target) else {
        return Err(Failure {
            diagnostics: checked.diagnostics,
            sources: checked.sources,
            exit: super::failure::Exit::Errors,
        });
    };
    let text = match form {
        Form::Text => unik_resolver::describe::text(graph),
        Form::Dot => unik_resolver::describe::dot(graph),
        Form::Json => unik_resolver::describe::json(graph),
    };
    Ok((checked, text))
}

/// `eval`: the configuration's value on one target, as JSON.
pub fn eval(
    file: Option<&Path>,
    target: Target,
    keys: BTreeMap<String, String>,
    rep: &mut dyn Reporter,
) -> Result<(Checked, serde_json::Value), Failure> {
    let checked = check(file, Matrix::Only(vec![target]), keys, Want::Value, rep)?;
    match checked.values.get(&target).cloned() {
        Some(v) if checked.errors() == 0 => Ok((checked, v)),
        _ => Err(Failure {
            diagnostics: checked.diagnostics,
            sources: checked.sources,
            exit: super::failure::Exit::Errors,
        }),
    }
}
