//! `configure`: from a checked configuration to the generated workspace
//! of one target (unik-codegen). Every later step (lock, build, run)
//! starts from the [`Ready`] project this gives.

use super::check;
use super::failure::Failure;
use super::report::Reporter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unik_codegen as codegen;
use unik_lang::Target;
use unik_lang::diag::SourceMap;
use unik_resolver::Resolved;

/// What `configure`, `build` and `run` are asked for.
#[derive(Debug, Clone)]
pub struct Project {
    /// The configuration, or a directory holding `config.unik`.
    pub file: Option<PathBuf>,
    pub target: Target,
    /// Configure keys (`--NAME=VALUE`).
    pub keys: BTreeMap<String, String>,
    /// Overwrite generated files even if they were edited by hand.
    pub force: bool,
}

/// A configured project.
pub struct Ready {
    pub resolved: Resolved,
    pub configured: codegen::Configured,
    /// The configuration file.
    pub config: PathBuf,
    /// The configuration files evaluated (path, text), without the catalogue.
    pub files: Vec<(PathBuf, String)>,
    /// The sources the configuration was checked with: every later
    /// diagnostic about it is labelled in them.
    pub sources: SourceMap,
}

impl Ready {
    /// A codegen or build error about this project, labelled in its sources.
    pub fn fail(&self, e: &codegen::Error) -> Failure {
        Failure::codegen(e, &self.sources)
    }
}

/// Checks the configuration for one target and writes its workspace
/// (`out_dir`, or `_build/NAME-TARGET/` beside the configuration).
pub fn configure(
    p: &Project,
    out_dir: Option<&Path>,
    rep: &mut dyn Reporter,
) -> Result<Ready, Failure> {
    let (checked, resolved) = check::graph(p.file.as_deref(), p.target, p.keys.clone(), rep)?;
    let configured = codegen::configure(&codegen::Request {
        resolved: &resolved,
        config: &checked.path,
        out_dir,
        force: p.force,
        cache_dir: None,
    })
    .map_err(|e| Failure::codegen(&e, &checked.sources))?;
    let r = &configured.report;
    rep.status(
        "Configured",
        &format!(
            "{} for {} in {} ({} written, {} unchanged{})",
            configured.name,
            configured.target,
            show(&configured.out_dir),
            r.written.len(),
            r.unchanged.len(),
            if r.removed.is_empty() {
                String::new()
            } else {
                format!(", {} removed", r.removed.len())
            }
        ),
    );
    let files = checked
        .sources
        .files()
        .filter(|(_, f)| f.path.is_absolute())
        .map(|(_, f)| (f.path.clone(), f.text.clone()))
        .collect();
    Ok(Ready {
        resolved,
        configured,
        config: checked.path,
        files,
        sources: checked.sources,
    })
}

/// Runtime keys on the command line only matter to `run`: the note that
/// says so, when there are any.
pub fn boot_keys_note(r: &Resolved) -> Option<String> {
    (!r.boot_cmdline.is_empty()).then(|| {
        format!(
            "runtime keys are boot arguments, not part of the image: start it with `{}`",
            r.boot_cmdline
        )
    })
}

/// A path relative to the current directory when it is below it.
pub fn show(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| p.display().to_string())
}
