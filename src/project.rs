//! `unikc configure`, `build`, `run`, `clean` and `new`: from a checked
//! configuration to a generated workspace (unik-codegen), an image in
//! `dist/`, and a running unikernel.

use crate::driver;
use crate::output;
use crate::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use unik_codegen as codegen;
use unik_lang::diag::{Diagnostic, Loc, SourceMap, Span};
use unik_resolver::Resolved;
use unik_resolver::session::Matrix;

/// What `configure`, `build` and `run` share.
pub struct Project {
    pub file: Option<PathBuf>,
    pub target: String,
    pub keys: BTreeMap<String, String>,
    pub force: bool,
}

/// A configured project, or the exit code to stop with.
pub(crate) struct Ready {
    pub resolved: Resolved,
    pub configured: codegen::Configured,
    /// The configuration file.
    pub config: PathBuf,
    /// The configuration files evaluated (path, text), without the catalogue.
    pub files: Vec<(PathBuf, String)>,
}

/// How `build` and `run` use `unik.lock`, the network and the target directory.
#[derive(Debug, Clone, Default)]
pub struct BuildFlags {
    /// `--locked`: build exactly what `unik.lock` records, never change it.
    pub locked: bool,
    /// `--offline`: cargo must not use the network.
    pub offline: bool,
    /// `--verify`: rebuild in a fresh directory and compare the images.
    pub verify: bool,
    /// cargo's target directory (`None`: cargo's default).
    pub target_dir: Option<PathBuf>,
}

pub fn configure(p: Project, out_dir: Option<PathBuf>) -> u8 {
    match prepare(&p, out_dir.as_deref()) {
        Ok(ready) => {
            boot_keys_note(&ready.resolved);
            EXIT_OK
        }
        Err(code) => code,
    }
}

pub fn build(p: Project, flags: BuildFlags) -> u8 {
    match build_image(&p, &flags) {
        Ok((ready, _)) => {
            boot_keys_note(&ready.resolved);
            EXIT_OK
        }
        Err(code) => code,
    }
}

/// Runtime keys on the command line only matter to `run`: say so.
fn boot_keys_note(r: &Resolved) {
    if !r.boot_cmdline.is_empty() {
        eprintln!(
            "note: runtime keys are boot arguments, not part of the image: start it with `{}`",
            r.boot_cmdline
        );
    }
}

/// Builds, then runs the image in the project's directory (relative device
/// paths in the configuration are relative to it) with the runtime keys of
/// the command line as boot arguments, then `args`. The exit status is the
/// unikernel's.
pub fn run(
    p: Project,
    flags: BuildFlags,
    args: Vec<String>,
    launch: crate::launch::RunOptions,
) -> u8 {
    let (ready, image) = match build_image(&p, &flags) {
        Ok(x) => x,
        Err(code) => return code,
    };
    if ready.configured.target != "unix" {
        // A bootable image: QEMU or a tender, with the graph's host devices.
        return crate::launch::run(
            &ready.configured.target,
            &image,
            &ready.resolved,
            &ready.configured.project_dir,
            &launch,
            &args,
        );
    }
    let mut boot = unik_resolver::bootargs::split(&ready.resolved.boot_cmdline);
    boot.extend(args);
    let mut cmd = std::process::Command::new(&image);
    cmd.args(&boot).current_dir(&ready.configured.project_dir);
    eprintln!(
        "     Running {}",
        [show(&image)]
            .into_iter()
            .chain(boot.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    );
    exec(cmd, &image)
}

#[cfg(unix)]
fn exec(mut cmd: std::process::Command, image: &Path) -> u8 {
    use std::os::unix::process::CommandExt;
    // Replace unikc, so signals and the exit status are the unikernel's own.
    let e = cmd.exec();
    eprintln!("error: cannot run {}: {e}", image.display());
    EXIT_ERRORS
}

#[cfg(not(unix))]
fn exec(mut cmd: std::process::Command, image: &Path) -> u8 {
    match cmd.status() {
        Ok(s) => s.code().map_or(EXIT_ERRORS, |c| c as u8),
        Err(e) => {
            eprintln!("error: cannot run {}: {e}", image.display());
            EXIT_ERRORS
        }
    }
}

/// Removes `_build/` and `dist/` beside the configuration.
pub fn clean(file: Option<PathBuf>) -> u8 {
    let path = match driver::find_config(file.as_deref()) {
        Ok(p) => p,
        Err(e) => return output::usage(&e),
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    for sub in ["_build", "dist"] {
        let d = dir.join(sub);
        match std::fs::remove_dir_all(&d) {
            Ok(()) => eprintln!("     Removed {}", show(&d)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                eprintln!("error: cannot remove {}: {e}", d.display());
                return EXIT_ERRORS;
            }
        }
    }
    EXIT_OK
}

pub(crate) fn build_image(p: &Project, flags: &BuildFlags) -> Result<(Ready, PathBuf), u8> {
    // Before anything is written: without cargo there is nothing to do.
    codegen::cargo::find_cargo().map_err(|e| report(&e, &SourceMap::new()))?;
    let ready = prepare(p, None)?;
    let locking =
        crate::lock::before_build(&ready, flags).map_err(|e| report(&e, &SourceMap::new()))?;
    let c = &ready.configured;
    eprintln!(
        "    Building {} for {} (cargo build --release in {})",
        c.name,
        c.target,
        show(&c.out_dir)
    );
    let opts = codegen::cargo::Options {
        offline: flags.offline,
        locked: locking.cargo_locked,
        target_dir: flags.target_dir.clone(),
        color: color(),
    };
    let started = std::time::Instant::now();
    match codegen::cargo::build(c, &ready.resolved, &opts) {
        Ok(built) => {
            eprintln!(
                "       Image {} ({}, built in {:.1?})",
                show(&built.image),
                size(built.size),
                started.elapsed()
            );
            let image = built.image.clone();
            crate::lock::after_build(&ready, &locking, flags, &image)
                .map_err(|e| report(&e, &SourceMap::new()))?;
            if flags.verify {
                crate::repro::verify(p, &ready, &image)?;
            }
            Ok((ready, image))
        }
        Err(e) => Err(report(&e, &SourceMap::new())),
    }
}

/// Checks the configuration for one target and writes its workspace.
pub(crate) fn prepare(p: &Project, out_dir: Option<&Path>) -> Result<Ready, u8> {
    let (path, mut checked) = driver::check_config(
        p.file.as_deref(),
        Matrix::Only(vec![p.target.clone()]),
        p.keys.clone(),
        driver::Want::Graphs,
        false,
    )?;
    let resolved = match checked.resolved.remove(&p.target) {
        Some(r) if checked.errors() == 0 => r,
        _ => return Err(EXIT_ERRORS),
    };
    let configured = codegen::configure(&codegen::Request {
        resolved: &resolved,
        config: &path,
        out_dir,
        force: p.force,
        cache_dir: None,
    })
    .map_err(|e| report(&e, &checked.sources))?;
    let r = &configured.report;
    eprintln!(
        "  Configured {} for {} in {} ({} written, {} unchanged{})",
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
        config: path,
        files,
    })
}

/// Prints a codegen error as a diagnostic and returns its exit code.
pub(crate) fn report(e: &codegen::Error, sources: &SourceMap) -> u8 {
    match e.code {
        Some(code) => {
            let mut d = Diagnostic::error(code, e.message.clone());
            if let Some(at) = &e.at {
                let (pos, label) = &**at;
                match locate(sources, pos) {
                    Some(loc) => d = d.label(loc, label.clone()),
                    None => {
                        d = d.note(format!("{label}: {}:{}:{}", pos.file, pos.line, pos.column))
                    }
                }
            }
            for n in &e.notes {
                d = d.note(n.clone());
            }
            if let Some(h) = &e.help {
                d = d.help(h.clone());
            }
            output::print_all(&[d], sources, false);
        }
        None => eprintln!("{e}"),
    }
    e.exit_code()
}

/// The span of a line/column position in a loaded source, to its line's end.
fn locate(sources: &SourceMap, pos: &unik_resolver::SourcePos) -> Option<Loc> {
    let (id, file) = sources.files().find(|(_, f)| f.name == pos.file)?;
    let mut offset = 0;
    for (i, line) in file.text.split_inclusive('\n').enumerate() {
        if i + 1 == pos.line {
            let col = line
                .char_indices()
                .nth(pos.column.saturating_sub(1))
                .map_or(0, |(b, _)| b);
            let end = line.trim_end().len().max(col + 1);
            return Some(Loc::new(id, Span::new(offset + col, offset + end)));
        }
        offset += line.len();
    }
    None
}

fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// A path relative to the current directory when it is below it.
pub(crate) fn show(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| p.display().to_string())
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else {
        format!("{} KiB", bytes.div_ceil(1024))
    }
}

/// `unikc new NAME`: a project that builds and runs as it is.
pub fn new(name: &Path, template: Option<&str>) -> u8 {
    let Some(base) = name.file_name().and_then(|n| n.to_str()) else {
        return output::usage(&format!("{} is not a project name", name.display()));
    };
    let valid = base.starts_with(|c: char| c.is_ascii_alphabetic())
        && base
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid {
        return output::usage(&format!(
            "`{base}` cannot name a project: use letters, digits, `-` and `_`, starting with a letter"
        ));
    }
    if name.exists() {
        return output::usage(&format!("{} already exists", name.display()));
    }
    let krate = base.replace('-', "_");
    let files: Vec<(String, Vec<u8>)> = match template {
        None => scaffold(base, &krate)
            .into_iter()
            .map(|(p, t)| (p.to_string(), t.into_bytes()))
            .collect(),
        Some(t) => match crate::templates::files(t, base, &krate) {
            Some(mut files) => {
                files.push((".gitignore".into(), GITIGNORE.as_bytes().to_vec()));
                files
            }
            None => return output::usage(&format!("no template named `{t}`")),
        },
    };
    let parent = match name.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(p) => p.to_path_buf(),
        None => PathBuf::from("."),
    };
    // Written under a temporary name, then renamed: all or nothing.
    let result = (|| -> std::io::Result<()> {
        let tmp = tempfile::Builder::new()
            .prefix(".unikc-new-")
            .tempdir_in(&parent)?;
        for (path, text) in &files {
            let p = tmp.path().join(path);
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d)?;
            }
            std::fs::write(p, text)?;
        }
        let kept = tmp.keep();
        std::fs::rename(&kept, name).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&kept);
        })
    })();
    match result {
        Ok(()) => {
            eprintln!("     Created {}", name.display());
            eprintln!("Next: unikc run {}", name.display());
            EXIT_OK
        }
        Err(e) => {
            eprintln!("error: cannot create {}: {e}", name.display());
            EXIT_USAGE
        }
    }
}

fn scaffold(name: &str, krate: &str) -> Vec<(&'static str, String)> {
    vec![
        (
            "config.unik",
            format!(
                r#"# The unikernel `{name}`: `unikc run` builds and runs it on unix;
# `unikc run -- --greeting=Hi` changes the greeting at boot.
let
  greeting = key "greeting" {{
    type = "string";
    default = "Hello from {name}!";
    stage = "runtime";
    doc = "What to print";
  }};
  main = foreign "{krate}::Main" {{ keys = [ greeting ]; }} (console @-> time @-> job);
in
register "{name}" [ main $ default_console $ default_time ]
"#
            ),
        ),
        (
            "Cargo.toml",
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"

[dependencies]
# The unikc runtime: device traits, keys, logging. `unikc build` uses the
# copy bundled with unikc.
unik-rt = "0.1"
"#
            ),
        ),
        (
            "src/lib.rs",
            format!(
                r#"//! The job of `{name}`; `config.unik` names it `{krate}::Main`.
//! `no_std` (with `alloc`), so the same crate builds for every target.

#![no_std]

use unik_rt::{{Console, JobError, Sleep}};

pub struct Main;

impl Main {{
    /// Runs at boot with one device per argument of its type in
    /// `config.unik`: `console @-> time @-> job`.
    pub async fn start(
        console: &'static impl Console,
        time: &'static impl Sleep,
    ) -> Result<(), JobError> {{
        let greeting = unik_rt::keys::string("greeting")?;
        for _ in 0..3 {{
            console.log(&greeting)?;
            time.sleep_ns(100_000_000).await;
        }}
        Ok(())
    }}
}}
"#
            ),
        ),
        (".gitignore", GITIGNORE.to_string()),
    ]
}

/// Build outputs a project's repository need not keep.
const GITIGNORE: &str = "_build/\ndist/\n";
