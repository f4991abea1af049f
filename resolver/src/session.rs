//! The whole pipeline over a target matrix: load the catalogue as the
//! prelude, evaluate the configuration for each target, resolve it, and
//! gather diagnostics that say which targets they concern. `unikc check`,
//! `describe` and codegen's `configure` all go through [`run`].

use crate::model::Resolved;
use crate::resolve::{Input, Shared, resolve_shared};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use unik_lang::Target;
use unik_lang::diag::{self, Diagnostic, FileId, SourceMap};
use unik_lang::eval::{self, Evaluator, ModuleArena, Options, Stop, Value};

/// Which targets to evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matrix {
    /// Every target the configuration allows: a target on which the only
    /// errors are implementations it does not support (E0402) is skipped,
    /// unless that leaves none.
    Allowed,
    /// All seven targets; unsupported implementations are errors.
    All,
    /// Exactly these targets.
    Only(Vec<Target>),
}

pub struct Request<'r> {
    /// The root configuration file.
    pub file: &'r Path,
    pub matrix: Matrix,
    /// Configure keys from the command line (`--NAME=value`).
    pub keys: BTreeMap<String, String>,
    /// False for `unikc eval`: any value is fine and nothing is resolved.
    pub resolve: bool,
    /// Evaluation step limit per target.
    pub max_steps: u64,
    /// The root file's text when it is held in memory (an editor's buffer)
    /// rather than read from `file`.
    pub text: Option<&'r str>,
    /// Texts of imported files held in memory, by absolute path.
    pub overlays: BTreeMap<PathBuf, String>,
    /// Parses to reuse across requests (a language server keeps one);
    /// without it, each run parses every file once for all its targets.
    pub arena: Option<&'r ModuleArena>,
    /// Build each target's [`Resolved`] form (true by default). `unikc
    /// check` and the language server only report, so they leave it out.
    pub model: bool,
}

impl<'r> Request<'r> {
    pub fn new(file: &'r Path, matrix: Matrix) -> Request<'r> {
        Request {
            file,
            matrix,
            keys: BTreeMap::new(),
            resolve: true,
            max_steps: 20_000_000,
            text: None,
            overlays: BTreeMap::new(),
            arena: None,
            model: true,
        }
    }
}

/// What one target gave.
#[derive(Debug, Default)]
pub struct TargetRun {
    /// The evaluated value as JSON (only when not resolving: `unikc eval`).
    pub value: Option<serde_json::Value>,
    /// The resolved graph, when the target has no errors (and the request
    /// asked for it: [`Request::model`]).
    pub resolved: Option<Resolved>,
}

/// A target the default matrix left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub target: Target,
    /// The messages of its E0402 errors.
    pub reasons: Vec<String>,
}

pub struct Session {
    pub sources: SourceMap,
    /// Sorted, merged across targets; a diagnostic that concerns every
    /// checked target names none.
    pub diagnostics: Vec<Diagnostic>,
    /// The checked targets, in the order of [`Target::ALL`].
    pub targets: Vec<(Target, TargetRun)>,
    pub skipped: Vec<Skipped>,
    /// Messages of `trace`.
    pub traces: Vec<String>,
    /// How many times the configuration was evaluated: once when no
    /// evaluation looked at the target, else once per target.
    pub evaluations: usize,
}

impl Session {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
    /// The resolved graph of one checked target.
    pub fn resolved(&self, target: Target) -> Option<&Resolved> {
        self.targets
            .iter()
            .find(|(t, _)| *t == target)
            .and_then(|(_, r)| r.resolved.as_ref())
    }
}

/// Loads the catalogue into an evaluator, in file order.
pub fn load_catalogue(ev: &Evaluator) -> Result<(), Stop> {
    for (name, text) in unik_stdlib::FILES {
        ev.load_prelude(Path::new(&unik_stdlib::path_of(name)), text)?;
    }
    Ok(())
}

struct One {
    run: TargetRun,
    diagnostics: Vec<Diagnostic>,
    known_keys: Option<BTreeSet<String>>,
}

fn evaluator<'a>(
    req: &Request,
    arena: &'a ModuleArena,
    target: Target,
    sources: &mut SourceMap,
) -> Evaluator<'a> {
    let mut options = Options::new(target);
    options.keys = req.keys.clone();
    options.max_steps = req.max_steps;
    options.overlays = req.overlays.clone();
    Evaluator::with_sources(arena, options, std::mem::take(sources))
}

/// Loads the catalogue and evaluates the root file.
type Evaluated<'a> = (Option<FileId>, Result<Value<'a>, Stop>);

/// Loads the catalogue and evaluates the root file (whose id it gives).
fn evaluate<'a>(req: &Request, ev: &Evaluator<'a>, text: &str) -> Evaluated<'a> {
    match load_catalogue(ev) {
        Err(s) => (None, Err(s)),
        Ok(()) => {
            let (file, v) = ev.eval_root(req.file, text);
            (Some(file), v)
        }
    }
}

/// What one evaluation gives `target`: its value resolved (or printed),
/// and the evaluator's diagnostics. `shared` carries the typing and graphs
/// between the targets of one shared evaluation.
fn finish<'a>(
    req: &Request,
    ev: &Evaluator<'a>,
    (file, result): &Evaluated<'a>,
    target: Target,
    shared: &mut Option<Shared>,
) -> One {
    let mut one = One {
        run: TargetRun::default(),
        diagnostics: Vec::new(),
        known_keys: None,
    };
    let stop = |s: &Stop, diags: &mut Vec<Diagnostic>| {
        if let Stop::Error(d) = s {
            let mut d = (**d).clone();
            d.targets = vec![target.name().to_string()];
            diags.push(d);
        }
    };
    match result {
        // A syntax error poisoned the value: check the intact bindings.
        Err(Stop::Poison) if file.is_some() => {
            for d in ev.salvage(file.unwrap_or_default()) {
                one.diagnostics.push(d.target(target.name()));
            }
        }
        Err(s) => stop(s, &mut one.diagnostics),
        Ok(v) if req.resolve => match v {
            Value::Register(reg) => {
                let root_dir = req.file.parent().unwrap_or(Path::new("/")).to_path_buf();
                let sources_now = ev.sources.borrow();
                let keys_read = ev.keys_read();
                let input = Input {
                    register: reg,
                    target,
                    sources: &sources_now,
                    keys: &req.keys,
                    keys_read: &keys_read,
                    root_dir: &root_dir,
                    model: req.model,
                };
                let out = resolve_shared(&input, shared);
                one.diagnostics.extend(out.diagnostics);
                one.known_keys = Some(out.known_keys);
                one.run.resolved = out.resolved;
            }
            other => {
                let file = file.unwrap_or_default();
                let span = ev
                    .module(file)
                    .expr
                    .as_ref()
                    .map(|e| e.span)
                    .unwrap_or_default();
                one.diagnostics.push(
                    Diagnostic::error(
                        "E0304",
                        format!(
                            "the configuration evaluates to {}, not a register",
                            other.kind()
                        ),
                    )
                    .label(diag::Loc::new(file, span), "this is the file's value")
                    .help("a configuration ends with `register \"name\" [ main $ … ]`")
                    .target(target.name()),
                );
            }
        },
        // Only `eval` prints the value; devices nest deeply and their JSON
        // form is not needed to check them.
        Ok(v) => match eval::to_json(ev, v) {
            Ok(j) => one.run.value = Some(j),
            Err(s) => stop(&s, &mut one.diagnostics),
        },
    }
    one.diagnostics
        .extend(ev.diagnostics.borrow().iter().cloned());
    one
}

/// Evaluates and resolves every target. The first evaluation serves every
/// target when it never looked at the target (the usual case: choices by
/// target are `match_impl target`/`if_impl is_unix`, decided by the
/// resolver), so a matrix costs one evaluation and one typing.
fn run_matrix(
    req: &Request,
    arena: &ModuleArena,
    text: &str,
    targets: &[Target],
    sources: &mut SourceMap,
    traces: &mut Vec<String>,
) -> (Vec<(Target, One)>, usize) {
    let mut runs = Vec::new();
    let mut shared = false;
    let mut evaluations = 0;
    for (i, t) in targets.iter().enumerate() {
        evaluations += 1;
        let ev = evaluator(req, arena, *t, sources);
        let result = evaluate(req, &ev, text);
        let mut state = None;
        runs.push((*t, finish(req, &ev, &result, *t, &mut state)));
        // `eval` prints values, which may read the target; a poisoned file is
        // salvaged binding by binding, which may too.
        if i == 0 && req.resolve && !ev.target_seen() && !matches!(result.1, Err(Stop::Poison)) {
            for t in &targets[1..] {
                runs.push((*t, finish(req, &ev, &result, *t, &mut state)));
            }
            shared = true;
        }
        traces.extend(ev.traces.borrow().iter().cloned());
        *sources = ev.sources.borrow().clone();
        if shared {
            break;
        }
    }
    (runs, evaluations)
}

/// Evaluates and resolves a configuration for a matrix of targets.
pub fn run(req: &Request) -> Result<Session, String> {
    let text = match req.text {
        Some(t) => t.to_string(),
        None => std::fs::read_to_string(req.file)
            .map_err(|e| format!("cannot read {}: {e}", req.file.display()))?,
    };
    let targets: Vec<Target> = match &req.matrix {
        Matrix::Allowed | Matrix::All => Target::ALL.to_vec(),
        Matrix::Only(ts) => ts.clone(),
    };
    let mut sources = SourceMap::new();
    let mut traces = Vec::new();
    // One arena for the whole matrix: every file is parsed once, not once per target.
    // A language server passes its own, so its parses outlive one request.
    let local = ModuleArena::new();
    let arena = req.arena.unwrap_or(&local);
    let (mut runs, evaluations) =
        run_matrix(req, arena, &text, &targets, &mut sources, &mut traces);

    // The default matrix leaves out targets the devices do not support.
    let mut skipped = Vec::new();
    if req.matrix == Matrix::Allowed {
        let unsupported = |one: &One| {
            let errors: Vec<&Diagnostic> =
                one.diagnostics.iter().filter(|d| d.is_error()).collect();
            !errors.is_empty() && errors.iter().all(|d| d.code == "E0402")
        };
        if !runs.iter().all(|(_, o)| unsupported(o)) {
            runs.retain(|(t, o)| {
                if unsupported(o) {
                    skipped.push(Skipped {
                        target: *t,
                        reasons: o
                            .diagnostics
                            .iter()
                            .filter(|d| d.code == "E0402")
                            .map(|d| d.message.clone())
                            .collect(),
                    });
                    false
                } else {
                    true
                }
            });
        }
    }

    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    // Keys on the command line that no checked target knows.
    let known: Option<BTreeSet<String>> =
        runs.iter().try_fold(BTreeSet::new(), |mut acc, (_, o)| {
            acc.extend(o.known_keys.clone()?);
            Some(acc)
        });
    if let Some(known) = known
        && req.resolve
    {
        for name in req.keys.keys() {
            if !known.contains(name) {
                let mut d = Diagnostic::error(
                    "E0601",
                    format!("unknown key `--{name}` on the command line"),
                );
                d = match unik_lang::suggest::nearest(name, known.iter().map(|s| s.as_str())) {
                    Some(near) => d.help(format!("did you mean `--{near}`?")),
                    None if known.is_empty() => d.help("this configuration declares no keys"),
                    None => d.help(format!(
                        "the keys of this configuration are: {}",
                        known
                            .iter()
                            .map(|k| format!("--{k}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                diagnostics.push(d);
            }
        }
    }
    let checked = runs.len();
    let mut out_targets = Vec::new();
    for (t, one) in runs {
        diagnostics.extend(one.diagnostics);
        out_targets.push((t, one.run));
    }
    let mut diagnostics = diag::normalize(diagnostics);
    for d in &mut diagnostics {
        if checked > 1 && d.targets.len() == checked {
            d.targets.clear();
        }
    }
    traces.dedup();
    Ok(Session {
        sources,
        diagnostics,
        targets: out_targets,
        skipped,
        traces,
        evaluations,
    })
}

/// Where a configuration lives: a `.unik` file or a directory holding `config.unik`.
pub fn find_config(arg: Option<&Path>) -> Result<PathBuf, String> {
    let p = arg.unwrap_or(Path::new("."));
    let file = if p.is_dir() {
        p.join("config.unik")
    } else {
        p.to_path_buf()
    };
    if !file.is_file() {
        return Err(if arg.is_none() {
            "no config.unik in the current directory (pass a file or a project directory)".into()
        } else {
            format!(
                "{} is not a .unik file or a directory with a config.unik",
                p.display()
            )
        });
    }
    Ok(unik_lang::path::absolute(&file))
}
