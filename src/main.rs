//! `unikc`: compose unikernels from a typed device graph.

mod describe;
mod driver;
mod launch;
mod lock;
mod lsp;
mod output;
mod project;
mod repro;
mod templates;
mod xen_run;

use clap::{Parser, Subcommand, ValueEnum};

// See the workspace Cargo.toml: the checker allocates many small values.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use unik_lang::eval::TARGETS;
use unik_resolver::session::Matrix;

/// Exit codes of cli.md.
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERRORS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser)]
#[command(
    name = "unikc",
    version,
    about = "Compose unikernels from a typed device graph",
    long_about = "unikc reads a `.unik` configuration (a small, lazy, Nix-like language) that \
describes a unikernel as a graph of devices, checks it for every target, and builds it.\n\n\
The default input is `config.unik` in the current directory; every command also takes a \
file or a directory holding one.",
    after_help = "Examples:\n  unikc check                    check ./config.unik on every target\n  \
unikc check -t hvt app/        check app/config.unik for hvt only\n  \
unikc eval --json              print the evaluated configuration as JSON\n  \
unikc describe --dot -t hvt    the device graph for hvt, for Graphviz\n  \
unikc fmt --check              fail if any file is not formatted\n  \
unikc explain E0301            explain a diagnostic code"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum MessageFormat {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, evaluate and check the configuration for each target.
    ///
    /// Without -t, every target the configuration allows is checked and
    /// each diagnostic says which targets it concerns. Configure keys are
    /// given as --NAME=VALUE after the other options.
    Check {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// Check one target only.
        #[arg(short, long, value_parser = TARGETS, conflicts_with = "all_targets")]
        target: Option<String>,
        /// Check all seven targets, even those the devices do not support
        /// (by default such targets are skipped, with a note).
        #[arg(long)]
        all_targets: bool,
        /// How to print diagnostics: for people, or one JSON object per line.
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
    /// Print the evaluated value of a configuration (a debugging aid).
    Eval {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// The target to evaluate for.
        #[arg(short, long, value_parser = TARGETS, default_value = "unix")]
        target: String,
        /// Print compact JSON on one line.
        #[arg(long)]
        json: bool,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
    /// Print the device graph of one target: a tree, Graphviz dot, or JSON.
    ///
    /// The JSON form is the resolver's model (documented in the book's
    /// "Devices and targets" chapter); all forms are deterministic.
    Describe {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// The target to describe.
        #[arg(short, long, value_parser = TARGETS, default_value = "unix")]
        target: String,
        /// Print a Graphviz digraph (devices as boxes, applications as edges).
        #[arg(long, conflicts_with_all = ["json", "catalogue"])]
        dot: bool,
        /// Print the resolved graph as JSON.
        #[arg(long, conflicts_with = "catalogue")]
        json: bool,
        /// Print the device catalogue reference (Markdown) instead.
        #[arg(long)]
        catalogue: bool,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value = "human")]
        message_format: MessageFormat,
    },
    /// Format .unik files canonically (comments kept; idempotent).
    Fmt {
        /// Files to format (default: ./config.unik).
        files: Vec<PathBuf>,
        /// Change nothing; exit 1 and list the files that would change.
        #[arg(long)]
        check: bool,
    },
    /// Explain a diagnostic code at length, with examples.
    Explain {
        /// A code such as E0301 or W0101.
        code: String,
    },
    /// Write the generated Cargo workspace (default `_build/NAME-TARGET/`).
    ///
    /// Configure keys are given as --NAME=VALUE after the other options.
    Configure {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// The target to generate for.
        #[arg(short, long, value_parser = TARGETS, default_value = "unix")]
        target: String,
        /// The output directory.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Overwrite generated files even if they were edited by hand.
        #[arg(long)]
        force: bool,
    },
    /// Resolve crate versions and write `unik.lock` beside the configuration.
    ///
    /// Versions already locked are kept while they satisfy the bounds;
    /// --update chooses every version anew. Without -t, every target the
    /// configuration allows and unikc can build is locked.
    Lock {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// Lock one target only (other targets' entries are kept).
        #[arg(short, long, value_parser = TARGETS, conflicts_with = "all_targets")]
        target: Option<String>,
        /// Lock every target unikc can build; each must be supported by the
        /// configuration.
        #[arg(long)]
        all_targets: bool,
        /// Resolve without network access (`cargo --offline`).
        #[arg(long)]
        offline: bool,
        /// Choose the latest versions that fit, not the locked ones.
        #[arg(long)]
        update: bool,
    },
    /// Configure, then build the image with cargo (unix: `dist/NAME`).
    ///
    /// The versions come from `unik.lock`, which the build creates or
    /// updates for what changed; with --locked it must be up to date.
    /// Every build writes `dist/NAME.TARGET.build.json`.
    Build {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// The target to build for.
        #[arg(short, long, value_parser = TARGETS, default_value = "unix")]
        target: String,
        /// Overwrite generated files even if they were edited by hand.
        #[arg(long)]
        force: bool,
        /// Build without network access (`cargo --offline`).
        #[arg(long)]
        offline: bool,
        /// Build exactly what `unik.lock` records: fail if it is missing
        /// or out of date, never write it.
        #[arg(long)]
        locked: bool,
        /// --locked and --offline.
        #[arg(long)]
        frozen: bool,
        /// Rebuild in a fresh temporary directory and check that the image
        /// is byte-identical.
        #[arg(long)]
        verify: bool,
    },
    /// Build, then run the image; boot arguments follow `--`.
    ///
    /// Runtime keys given as --NAME=VALUE before `--` become boot arguments
    /// too. The unikernel runs in the configuration's directory and unikc
    /// exits with its status.
    Run {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// The target to run.
        #[arg(short, long, value_parser = TARGETS, default_value = "unix")]
        target: String,
        /// Overwrite generated files even if they were edited by hand.
        #[arg(long)]
        force: bool,
        /// Build without network access (`cargo --offline`).
        #[arg(long)]
        offline: bool,
        /// virtio: how QEMU runs the guest (`tcg` emulates it; `kvm` needs /dev/kvm).
        #[arg(long, value_enum, default_value = "tcg")]
        accel: launch::Accel,
        /// virtio: the QEMU machine [default: microvm, or pc when the image has
        /// network or block devices, which are PCI].
        #[arg(long, value_enum)]
        machine: Option<launch::Machine>,
        /// Guest memory in MiB [default: 256 on virtio, 512 on spt and hvt].
        #[arg(long)]
        mem: Option<u64>,
        /// Boot arguments, after `--`. Host devices are attached with
        /// `--net:NAME=IFACE` and `--block:NAME=PATH` (default: the tap
        /// interface NAME or tapN, the file NAME beside the configuration).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Remove `_build/` and `dist/` beside the configuration.
    Clean {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
    },
    /// Create a unikernel project (config.unik and its crate) that builds as it is.
    ///
    /// Without --template: a job that prints a greeting taken from a boot
    /// key. With --template NAME: a copy of the example NAME (see the book's
    /// examples), its crate and register renamed after the project.
    New {
        /// The project's directory; its last component names it.
        name: PathBuf,
        /// Start from this example.
        #[arg(long, value_parser = templates::NAMES)]
        template: Option<String>,
    },
    /// Run the language server on stdin/stdout (for editors).
    Lsp,
}

/// `--net:NAME=IFACE` and `--block:NAME=PATH` before `--` (host devices of
/// `unikc run`), taken out of the arguments.
fn take_attach(args: Vec<String>) -> Result<(Vec<String>, Vec<launch::Attach>), String> {
    let mut rest = Vec::new();
    let mut attach = Vec::new();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--" {
            rest.push(a);
            rest.extend(args.by_ref());
            break;
        }
        match launch::parse_attach(&a) {
            Some(parsed) => attach.push(parsed?),
            None => rest.push(a),
        }
    }
    if !attach.is_empty() && rest.get(1).is_none_or(|c| c != "run") {
        return Err("--net: and --block: attach host devices for `unikc run`".into());
    }
    Ok((rest, attach))
}

/// `--NAME=VALUE` arguments that are not unikc's own options are configure keys.
fn split_keys(args: Vec<String>) -> (Vec<String>, BTreeMap<String, String>) {
    const OWN: &[&str] = &[
        "target",
        "message-format",
        "all-targets",
        "json",
        "check",
        "dot",
        "catalogue",
        "output",
        "force",
        "offline",
        "locked",
        "frozen",
        "verify",
        "update",
        "accel",
        "machine",
        "mem",
    ];
    let mut rest = Vec::new();
    let mut keys = BTreeMap::new();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        // Boot arguments of `unikc run` follow `--`; they are not keys.
        if a == "--" {
            rest.push(a);
            rest.extend(args.by_ref());
            break;
        }
        if let Some(kv) = a.strip_prefix("--")
            && let Some((k, v)) = kv.split_once('=')
            && !OWN.contains(&k)
        {
            keys.insert(k.to_string(), v.to_string());
            continue;
        }
        rest.push(a);
    }
    (rest, keys)
}

fn main() -> ExitCode {
    // Evaluation is recursive; give it room, bounded by the evaluator's own
    // depth limit, instead of the main thread's 8 MiB.
    let worker = std::thread::Builder::new()
        .name("unikc".into())
        .stack_size(512 << 20)
        .spawn(real_main)
        .expect("spawning the main thread");
    match worker.join() {
        Ok(code) => ExitCode::from(code),
        Err(_) => ExitCode::from(101),
    }
}

fn real_main() -> u8 {
    let (args, attach) = match take_attach(std::env::args().collect()) {
        Ok(x) => x,
        Err(e) => return output::usage(&e),
    };
    let (args, keys) = split_keys(args);
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    match cli.command {
        Command::Check {
            file,
            target,
            all_targets,
            message_format,
        } => {
            let matrix = match (target, all_targets) {
                (Some(t), _) => Matrix::Only(vec![t]),
                (None, true) => Matrix::All,
                (None, false) => Matrix::Allowed,
            };
            check(file, matrix, keys, message_format)
        }
        Command::Describe {
            file,
            target,
            dot,
            json,
            catalogue,
            message_format,
        } => {
            let form = if catalogue {
                describe::Form::Catalogue
            } else if dot {
                describe::Form::Dot
            } else if json {
                describe::Form::Json
            } else {
                describe::Form::Text
            };
            describe::run(
                file,
                target,
                keys,
                form,
                message_format == MessageFormat::Json,
            )
        }
        Command::Eval {
            file,
            target,
            json,
            message_format,
        } => eval(file, target, keys, json, message_format),
        Command::Fmt { files, check } => output::fmt(files, check),
        Command::Explain { code } => output::explain(&code),
        Command::Configure {
            file,
            target,
            output,
            force,
        } => project::configure(
            project::Project {
                file,
                target,
                keys,
                force,
            },
            output,
        ),
        Command::Lock {
            file,
            target,
            all_targets,
            offline,
            update,
        } => {
            let which = match (target, all_targets) {
                (Some(t), _) => lock::Which::One(t),
                (None, true) => lock::Which::All,
                (None, false) => lock::Which::Allowed,
            };
            lock::run(file, which, keys, offline, update)
        }
        Command::Build {
            file,
            target,
            force,
            offline,
            locked,
            frozen,
            verify,
        } => project::build(
            project::Project {
                file,
                target,
                keys,
                force,
            },
            project::BuildFlags {
                locked: locked || frozen,
                offline: offline || frozen,
                verify,
                target_dir: None,
            },
        ),
        Command::Run {
            file,
            target,
            force,
            offline,
            accel,
            machine,
            mem,
            args,
        } => {
            let bootable = target != "unix";
            if !bootable
                && (!attach.is_empty()
                    || accel != launch::Accel::Tcg
                    || machine.is_some()
                    || mem.is_some())
            {
                return output::usage(
                    "--net:, --block:, --accel, --machine and --mem are for the virtio, spt and hvt targets",
                );
            }
            let launch = launch::RunOptions {
                accel,
                machine,
                mem_mb: mem,
                attach,
            };
            project::run(
                project::Project {
                    file,
                    target,
                    keys,
                    force,
                },
                project::BuildFlags {
                    offline,
                    ..Default::default()
                },
                args,
                launch,
            )
        }
        Command::Clean { file } => project::clean(file),
        Command::New { name, template } => project::new(&name, template.as_deref()),
        Command::Lsp => lsp::serve(),
    }
}

fn check(
    file: Option<PathBuf>,
    matrix: Matrix,
    keys: BTreeMap<String, String>,
    format: MessageFormat,
) -> u8 {
    let json = format == MessageFormat::Json;
    let (path, checked) = match driver::check_config(
        file.as_deref(),
        matrix,
        keys,
        driver::Want::Diagnostics,
        json,
    ) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if format == MessageFormat::Human {
        describe::skipped(&checked);
        output::summary(&path, &checked.targets, &checked);
    }
    if checked.errors() > 0 {
        EXIT_ERRORS
    } else {
        EXIT_OK
    }
}

fn eval(
    file: Option<PathBuf>,
    target: String,
    keys: BTreeMap<String, String>,
    json: bool,
    format: MessageFormat,
) -> u8 {
    let (_, checked) = match driver::check_config(
        file.as_deref(),
        Matrix::Only(vec![target.clone()]),
        keys,
        driver::Want::Value,
        format == MessageFormat::Json,
    ) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if checked.errors() > 0 {
        return EXIT_ERRORS;
    }
    let Some(value) = checked.values.get(&target) else {
        return EXIT_ERRORS;
    };
    let text = if json {
        serde_json::to_string(value)
    } else {
        serde_json::to_string_pretty(value)
    };
    println!("{}", text.expect("JSON values serialise"));
    EXIT_OK
}
