//! What unikc prints: diagnostics, summaries, `fmt` and `explain`.

use crate::driver::Checked;
use crate::{EXIT_ERRORS, EXIT_OK, EXIT_USAGE};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use unik_lang::diag::SourceMap;
use unik_lang::render::{self, HumanStyle};

fn style() -> HumanStyle {
    let tty = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    HumanStyle {
        color: tty,
        unicode: tty,
        width: 100,
    }
}

pub fn usage(message: &str) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

pub fn traces(traces: &[String]) {
    for t in traces {
        eprintln!("trace: {t}");
    }
}

pub fn diagnostics(checked: &Checked, json: bool) {
    print_all(&checked.diagnostics, &checked.sources, json);
}

pub fn print_all(diags: &[unik_lang::Diagnostic], sources: &SourceMap, json: bool) {
    if json {
        let mut out = std::io::stdout().lock();
        for d in diags {
            let _ = writeln!(out, "{}", render::json(d, sources));
        }
    } else {
        let style = style();
        let mut err = std::io::stderr().lock();
        for d in diags {
            let _ = write!(err, "{}", render::human(d, sources, style));
        }
    }
}

pub fn summary(path: &Path, targets: &[String], checked: &Checked) {
    let name = display(path);
    let which = if targets.len() == 1 {
        format!("target {}", targets[0])
    } else {
        format!("{} targets", targets.len())
    };
    let (e, w) = (checked.errors(), checked.warnings());
    if e == 0 && w == 0 {
        eprintln!("checked {name} for {which}: no problems");
    } else {
        eprintln!(
            "checked {name} for {which}: {e} error{}, {w} warning{}",
            if e == 1 { "" } else { "s" },
            if w == 1 { "" } else { "s" }
        );
    }
}

fn display(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| p.strip_prefix(cwd).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| p.display().to_string())
}

pub fn fmt(files: Vec<PathBuf>, check: bool) -> u8 {
    let files = if files.is_empty() {
        vec![PathBuf::from("config.unik")]
    } else {
        files
    };
    let mut failed = false;
    let mut changed = Vec::new();
    for f in &files {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", f.display());
                return EXIT_USAGE;
            }
        };
        match unik_lang::fmt::format(&text) {
            Ok(out) if out == text => {}
            Ok(out) => {
                changed.push(f.clone());
                if !check && let Err(e) = write_atomic(f, &out) {
                    eprintln!("error: cannot write {}: {e}", f.display());
                    return EXIT_USAGE;
                }
            }
            Err(diags) => {
                failed = true;
                let mut sources = SourceMap::new();
                let id = sources.add(f, text);
                let diags: Vec<_> = diags
                    .into_iter()
                    .map(|mut d| {
                        for l in &mut d.labels {
                            l.loc.file = id;
                        }
                        d
                    })
                    .collect();
                print_all(&diags, &sources, false);
                eprintln!(
                    "error: {} has syntax errors; it was not formatted",
                    f.display()
                );
            }
        }
    }
    for f in &changed {
        if check {
            println!("would reformat {}", f.display());
        } else {
            eprintln!("formatted {}", f.display());
        }
    }
    if failed || (check && !changed.is_empty()) {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

/// Writes through a temporary file in the same directory, then renames, so
/// a crash never leaves a half-written file.
fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn explain(code: &str) -> u8 {
    match unik_lang::codes::lookup(code) {
        Some(c) => {
            // The text starts with its own `# CODE: title` heading.
            println!("{}", c.text.trim_end());
            EXIT_OK
        }
        None => {
            eprintln!("error: `{code}` is not a unikc diagnostic code");
            let codes: Vec<&str> = unik_lang::codes::all().iter().map(|c| c.code).collect();
            eprintln!("known codes: {}", codes.join(" "));
            EXIT_USAGE
        }
    }
}
