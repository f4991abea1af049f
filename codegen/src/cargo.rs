//! Building a configured workspace with cargo: cargo is found on `PATH`
//! (E0701 if missing), its diagnostics are shown as they come, a failure
//! (E0702) says which device pulled the failing crate where it can, and
//! the image is copied atomically to `dist/`.

use crate::Configured;
use crate::error::Error;
use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{Message, TargetKind};
use std::collections::BTreeSet;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use unik_resolver::Resolved;

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `cargo --offline`.
    pub offline: bool,
    /// `cargo --locked`: the workspace's `Cargo.lock` must not change.
    pub locked: bool,
    /// `cargo --target-dir`; `None` is cargo's choice (`CARGO_TARGET_DIR`, …).
    pub target_dir: Option<PathBuf>,
    /// Colour cargo's and rustc's output.
    pub color: bool,
}

#[derive(Debug, Clone)]
pub struct Built {
    /// The image in `dist/`.
    pub image: PathBuf,
    /// Its size in bytes.
    pub size: u64,
}

/// The `cargo` on `PATH`.
pub fn find_cargo() -> Result<PathBuf, Error> {
    which::which("cargo").map_err(|_| {
        Error::new("E0701", "cargo is not installed (it is not on PATH)")
            .note("`unikc build` and `unikc run` compile the generated workspace with cargo")
            .help("install Rust with rustup (https://rustup.rs), stable 1.95 or newer, and put ~/.cargo/bin on PATH")
    })
}

/// Runs `cargo build --release` in the workspace and copies the image to
/// `cfg.image`. Nothing is copied when the build fails.
pub fn build(cfg: &Configured, resolved: &Resolved, opts: &Options) -> Result<Built, Error> {
    let cargo = find_cargo()?;
    let format = if opts.color {
        "json-diagnostic-rendered-ansi"
    } else {
        "json"
    };
    // A relocatable workspace builds from its copy (see `crate::stage`).
    let entered = cfg
        .stage
        .as_ref()
        .map(|s| s.enter(&cfg.out_dir))
        .transpose()?;
    let dir = entered.as_ref().map_or(&cfg.out_dir, |e| &e.dir);
    let mut cmd = Command::new(&cargo);
    // In the workspace, so its `.cargo/config.toml` applies.
    cmd.current_dir(dir)
        .args([
            "build",
            "--release",
            "--bin",
            &cfg.bin,
            "--message-format",
            format,
        ])
        .arg(if opts.color {
            "--color=always"
        } else {
            "--color=never"
        })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if opts.offline {
        cmd.arg("--offline");
    }
    if opts.locked {
        cmd.arg("--locked");
    }
    // The target directory stays the project's when cargo runs in the
    // copy, and is given as an argument: compiler caches hash the
    // `CARGO_*` variables, not the arguments naming output paths.
    let env_dir = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .iter()
        .find_map(|v| std::env::var_os(v).filter(|d| !d.is_empty()))
        .map(PathBuf::from);
    let target_dir = opts
        .target_dir
        .clone()
        .or(env_dir)
        .or_else(|| entered.as_ref().map(|_| cfg.out_dir.join("target")));
    if let Some(dir) = &target_dir {
        // Relative to the workspace, as cargo took it there.
        cmd.arg("--target-dir")
            .arg(cfg.out_dir.join(dir))
            .env_remove("CARGO_TARGET_DIR")
            .env_remove("CARGO_BUILD_TARGET_DIR");
    }
    if entered.is_some() {
        // Checkouts of one project build the same copy with the same
        // flags: sharing a target directory, cargo would take one's crates
        // as fresh for the other's when their times allow. A flag naming
        // this checkout keeps their fingerprints apart; `-L` changes no
        // output, and compiler caches leave it out of their keys.
        let here = crate::toml_str(&format!("native={}", cfg.out_dir.display()));
        cmd.arg("--config")
            .arg(format!("build.rustflags = [\"-L\", {here}]"));
    }
    let backend = crate::backends::lookup(cfg.target)?;
    if backend.freestanding() {
        // Any of these would replace the bare-metal flags of the
        // workspace's .cargo/config.toml (and `CARGO_BUILD_TARGET` its target).
        for var in [
            "RUSTFLAGS",
            "CARGO_ENCODED_RUSTFLAGS",
            "CARGO_BUILD_RUSTFLAGS",
            "CARGO_BUILD_TARGET",
        ] {
            cmd.env_remove(var);
        }
    }
    let mut child = cmd.spawn().map_err(|e| {
        Error::new("E0701", format!("cannot run {}: {e}", cargo.display()))
            .help("check that the Rust toolchain is installed correctly (`cargo --version`)")
    })?;
    let stdout = child.stdout.take().expect("stdout is piped");
    // Failing targets: (crate name, is the generated binary).
    let mut failing: BTreeSet<(String, bool)> = BTreeSet::new();
    let mut executable: Option<PathBuf> = None;
    let mut mapped: Vec<(unik_resolver::NodeId, Error)> = Vec::new();
    let stderr = std::io::stderr();
    for msg in Message::parse_stream(BufReader::new(stdout)) {
        let Ok(msg) = msg else { break };
        match msg {
            Message::CompilerMessage(m) => {
                let error = matches!(
                    m.message.level,
                    DiagnosticLevel::Error | DiagnosticLevel::Ice
                );
                let generated = m.target.is_kind(TargetKind::Bin) && m.target.name == cfg.bin;
                // An error in generated code is the configuration's: shown
                // at the declaration that produced the line, not in main.rs.
                if error
                    && generated
                    && let Some((id, e)) = in_generated(cfg, resolved, &m.message)
                {
                    // One mismatch, one diagnostic (rustc may report it
                    // once per bound it breaks).
                    if !mapped.iter().any(|(i, _)| *i == id) {
                        mapped.push((id, e));
                    }
                    continue;
                }
                if let Some(text) = &m.message.rendered {
                    let _ = write!(stderr.lock(), "{text}");
                }
                if error {
                    failing.insert((m.target.name.replace('-', "_"), generated));
                }
            }
            Message::CompilerArtifact(a) => {
                if a.target.name == cfg.bin
                    && let Some(exe) = a.executable
                {
                    executable = Some(exe.into_std_path_buf());
                }
            }
            Message::TextLine(line) => {
                let _ = writeln!(stderr.lock(), "{line}");
            }
            _ => {}
        }
    }
    let status = child
        .wait()
        .map_err(|e| Error::plain(format!("waiting for cargo: {e}")))?;
    if let (Some(e), Some(stage)) = (&entered, &cfg.stage) {
        e.leave(stage, &cfg.out_dir)?;
    }
    if !status.success() {
        let mut mapped: Vec<Error> = mapped.into_iter().map(|(_, e)| e).collect();
        if failing.is_empty() && !mapped.is_empty() {
            let mut first = mapped.remove(0);
            first.more = mapped.into();
            return Err(first);
        }
        let mut e = failure(cfg, resolved, &failing, status.code());
        e.more = mapped.into();
        return Err(e);
    }
    let exe = executable.ok_or_else(|| {
        Error::new("E0702", "cargo succeeded but reported no executable")
            .note(format!("expected the binary `{}`", cfg.bin))
    })?;
    let size = install(&exe, &cfg.image)?;
    let dist = cfg.image.parent().unwrap_or(Path::new("."));
    for (from, to) in backend.dist_files(&cfg.bin) {
        install(&cfg.out_dir.join(from), &dist.join(to))?;
    }
    Ok(Built {
        image: cfg.image.clone(),
        size,
    })
}

/// Resolves the workspace's crate versions into its `Cargo.lock` without
/// building (`cargo update --workspace`): versions already in the
/// `Cargo.lock` are kept where they still satisfy the manifest, and only
/// missing or unsatisfied ones are chosen anew (the latest that fits).
pub fn update_lockfile(out_dir: &Path, offline: bool) -> Result<(), Error> {
    let cargo = find_cargo()?;
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(out_dir)
        .args(["update", "--workspace", "--color=never"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if offline {
        cmd.arg("--offline");
    }
    let status = cmd.status().map_err(|e| {
        Error::new("E0701", format!("cannot run {}: {e}", cargo.display()))
            .help("check that the Rust toolchain is installed correctly (`cargo --version`)")
    })?;
    if !status.success() {
        return Err(Error::new(
            "E0702",
            format!(
                "cargo could not resolve the crate versions of {}",
                out_dir.display()
            ),
        )
        .note("cargo's message is above")
        .help(if offline {
            "without --offline, cargo may fetch the crate index it needs"
        } else {
            "check the crate bounds in the configuration and the user crate's Cargo.toml"
        }));
    }
    Ok(())
}

/// An error rustc found in the generated `src/main.rs`, told about the
/// job or device whose code is on that line: E0703 at a job's declaration
/// (its `start` does not match the declared type), with the user's `start`
/// as a second place, or E0702 where a device is used; rustc's text as notes.
fn in_generated(
    cfg: &Configured,
    r: &Resolved,
    msg: &cargo_metadata::diagnostic::Diagnostic,
) -> Option<(unik_resolver::NodeId, Error)> {
    let primary = msg.spans.iter().find(|s| s.is_primary)?;
    if Path::new(&primary.file_name) != Path::new("src/main.rs") {
        return None;
    }
    let line = primary.line_start as u32;
    let (_, _, id) = cfg
        .main_lines
        .iter()
        .find(|(a, b, _)| *a <= line && line <= *b)?;
    let n = &r.nodes[id.0];
    let mut e = if n.foreign {
        Error::new(
            "E0703",
            format!(
                "`{}::start` does not match the declared type `{}`",
                n.module, n.impl_type
            ),
        )
        .at(
            n.defined_loc,
            format!("`{}` is declared here as `{}`", n.impl_name, n.impl_type),
        )
        .help(format!(
            "`start` takes one `&'static` device per parameter of `{}`, in order, each implementing that device's trait; change `start` or the declared type",
            n.impl_type
        ))
    } else {
        Error::new(
            "E0702",
            format!("the connect code of `{}` does not compile", n.impl_name),
        )
        .at(n.used_loc, format!("`{}` is used here", n.impl_name))
        .help("the implementation's `connect` template or module does not fit its runtime crate")
    };
    e = e.note(match &msg.code {
        Some(c) => format!("rustc: error[{}]: {}", c.code, msg.message),
        None => format!("rustc: error: {}", msg.message),
    });
    for c in &msg.children {
        if !c.message.is_empty() {
            e = e.note(format!("rustc: {}", c.message));
        }
    }
    // The user's `start` (rustc points at it in a note or a second span).
    if let Some(user) = &cfg.user_crate {
        let dir = user.dir.canonicalize().unwrap_or(user.dir.clone());
        // The workspace may lie inside the project (`_build/`).
        let out = cfg.out_dir.canonicalize().unwrap_or(cfg.out_dir.clone());
        let spans = msg
            .spans
            .iter()
            .chain(msg.children.iter().flat_map(|c| c.spans.iter()));
        for s in spans {
            let p = cfg.out_dir.join(&s.file_name);
            if let Ok(p) = p.canonicalize()
                && p.starts_with(&dir)
                && !p.starts_with(&out)
            {
                e.file_at = Some(Box::new((
                    p,
                    s.byte_start as usize..s.byte_end as usize,
                    format!("`{}::start` is defined here", n.module),
                )));
                break;
            }
        }
    }
    Some((*id, e))
}

/// E0702, with what is known about the failing crates.
fn failure(
    cfg: &Configured,
    r: &Resolved,
    failing: &BTreeSet<(String, bool)>,
    code: Option<i32>,
) -> Error {
    let status = code.map_or("was killed".to_string(), |c| {
        format!("exited with status {c}")
    });
    let mut e = Error::new(
        "E0702",
        format!("the generated workspace failed to build (cargo {status})"),
    );
    let user_lib = cfg.user_crate.as_ref().map(|u| u.lib.clone());
    let shown = |p: &Path| p.display().to_string();
    for (name, generated) in failing {
        if *generated {
            e = e.note(format!(
                "the error is in the generated {}: a job's `start` must take one `&'static` device per argument of its declared type",
                shown(&cfg.out_dir.join("src/main.rs"))
            ));
            for id in &r.jobs {
                let n = &r.nodes[id.0];
                e = e.note(format!(
                    "`{}::start` is declared as `{}`",
                    n.module, n.impl_type
                ));
            }
        } else if Some(name) == user_lib.as_ref() {
            let user = cfg.user_crate.as_ref().expect("user_lib is set");
            let provides: Vec<String> = r
                .nodes
                .iter()
                .filter(|n| n.foreign && n.module.split("::").next() == Some(name.as_str()))
                .map(|n| {
                    format!(
                        "{} ({}:{})",
                        n.impl_name, n.defined_at.file, n.defined_at.line
                    )
                })
                .collect();
            let mut note = format!(
                "the failing crate is yours: `{}` in {}",
                user.package,
                shown(&user.dir)
            );
            if !provides.is_empty() {
                note.push_str(&format!(", which provides {}", provides.join(", ")));
            }
            e = e.note(note);
        } else if let Some(c) = r.crates.iter().find(|c| c.name.replace('-', "_") == *name) {
            let devices: Vec<String> = c.sources.iter().map(|s| s.chain.join(" > ")).collect();
            e = e.note(format!(
                "the failing crate `{}` ({}) was pulled in by {}",
                c.name,
                c.req,
                devices.join("; ")
            ));
        } else {
            e = e.note(format!(
                "the failing crate is `{name}`, a dependency of the workspace"
            ));
        }
    }
    e.help(format!(
        "fix the first error above; `cargo build --release` in {} rebuilds the same workspace",
        shown(&cfg.out_dir)
    ))
}

/// Copies the executable to `dest` atomically, executable by everyone.
fn install(exe: &Path, dest: &Path) -> Result<u64, Error> {
    let io = |e: std::io::Error| Error::plain(format!("cannot write {}: {e}", dest.display()));
    let dir = dest.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut src = std::fs::File::open(exe)
        .map_err(|e| Error::plain(format!("cannot read {}: {e}", exe.display())))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".unikc-")
        .tempfile_in(dir)
        .map_err(io)?;
    let size = std::io::copy(&mut src, &mut tmp).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    crate::output::set_mode(tmp.as_file(), 0o755).map_err(io)?;
    tmp.persist(dest).map_err(|e| io(e.error))?;
    Ok(size)
}
