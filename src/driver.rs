//! The pipeline behind `check` and `eval`: find the configuration, evaluate
//! it with the catalogue for each target of the matrix, gather diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_lang::diag::{self, Diagnostic, SourceMap};
use unik_lang::eval::{self, Evaluator, ModuleArena, Options, Stop, Value};

/// Where a configuration lives: a `.unik` file or a directory holding `config.unik`.
pub fn find_config(arg: Option<&Path>) -> Result<PathBuf, String> {
    let p = arg.unwrap_or(Path::new("."));
    let file = if p.is_dir() { p.join("config.unik") } else { p.to_path_buf() };
    if !file.is_file() {
        return Err(if arg.is_none() {
            "no config.unik in the current directory (pass a file or a project directory)".into()
        } else {
            format!("{} is not a .unik file or a directory with a config.unik", p.display())
        });
    }
    Ok(eval::absolute(&file))
}

/// The outcome of evaluating one configuration for several targets.
pub struct Checked {
    pub sources: SourceMap,
    pub diagnostics: Vec<Diagnostic>,
    /// The JSON value per target that evaluated.
    pub values: BTreeMap<String, serde_json::Value>,
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
    pub targets: Vec<String>,
    pub keys: BTreeMap<String, String>,
    /// `check` wants a register; `eval` prints whatever the file is.
    pub want_register: bool,
}

pub fn run(req: &Request) -> Result<Checked, String> {
    let text = std::fs::read_to_string(req.file)
        .map_err(|e| format!("cannot read {}: {e}", req.file.display()))?;
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    let mut values = BTreeMap::new();
    let mut sources = SourceMap::new();
    let mut traces = Vec::new();
    for target in &req.targets {
        let arena = ModuleArena::new();
        let mut options = Options::new(target);
        options.keys = req.keys.clone();
        options.max_steps = 20_000_000;
        let ev = Evaluator::with_sources(&arena, options, std::mem::take(&mut sources));
        let (file, result) = ev.eval_root(req.file, &text);
        let mut found: Vec<Diagnostic> = Vec::new();
        let outcome = result.and_then(|v| {
            if req.want_register && !matches!(v, Value::Register(_)) {
                let span = ev.module(file).expr.as_ref().map(|e| e.span).unwrap_or_default();
                return Err(Stop::from(
                    Diagnostic::error(
                        "E0304",
                        format!("the configuration evaluates to {}, not a register", v.kind()),
                    )
                    .label(diag::Loc::new(file, span), "this is the file's value")
                    .help("a configuration ends with `register \"name\" [ main $ … ]`"),
                ));
            }
            eval::to_json(&ev, &v)
        });
        match outcome {
            Ok(j) => {
                values.insert(target.clone(), j);
            }
            Err(Stop::Error(d)) => {
                let mut d = (*d).clone();
                d.targets = vec![target.clone()];
                found.push(d);
            }
            Err(Stop::Poison) => {}
        }
        found.extend(ev.diagnostics.borrow().iter().cloned());
        traces.extend(ev.traces.borrow().iter().cloned());
        diagnostics.extend(found);
        sources = ev.sources.borrow().clone();
    }
    let mut diagnostics = diag::normalize(diagnostics);
    // A diagnostic on every target of the matrix does not depend on the target.
    for d in &mut diagnostics {
        if req.targets.len() > 1 && d.targets.len() == req.targets.len() {
            d.targets.clear();
        }
    }
    traces.dedup();
    Ok(Checked {
        sources,
        diagnostics,
        values,
        traces,
    })
}
