//! `unikc`: compose unikernels from a typed device graph. The binary parses
//! arguments, calls one operation of the library (`unikc::ops`) and
//! renders its result or its failure once.

mod cli;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};
use cli::render::{self, Terminal};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use unik_lang::Target;
use unik_resolver::session::Matrix;
use unikc::ops::attach::{self, Attach};
use unikc::ops::build::BuildFlags;
use unikc::ops::check::{self, Form, Want};
use unikc::ops::configure::{self, Project};
use unikc::ops::failure::Failure;
use unikc::ops::lock::{LockRequest, Which};
use unikc::ops::package::{Destination, PackageOptions};
use unikc::ops::push::PushOptions;
use unikc::ops::run::{Ran, RunOptions};
use unikc::ops::{qemu, templates};

// See the workspace Cargo.toml: the checker allocates many small values.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_OK: u8 = 0;
const EXIT_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// `-t TARGET`: one of [`Target::NAMES`], as a [`Target`].
fn target_parser() -> impl TypedValueParser<Value = Target> {
    PossibleValuesParser::new(Target::NAMES)
        .map(|name| name.parse().expect("clap admits only the listed names"))
}

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
        #[arg(short, long, value_parser = target_parser(), conflicts_with = "all_targets")]
        target: Option<Target>,
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
        #[arg(short, long, value_parser = target_parser(), default_value = "unix")]
        target: Target,
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
        #[arg(short, long, value_parser = target_parser(), default_value = "unix")]
        target: Target,
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
        #[arg(short, long, value_parser = target_parser(), default_value = "unix")]
        target: Target,
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
        #[arg(short, long, value_parser = target_parser(), conflicts_with = "all_targets")]
        target: Option<Target>,
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
        #[arg(short, long, value_parser = target_parser(), default_value = "unix")]
        target: Target,
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
        #[arg(short, long, value_parser = target_parser(), default_value = "unix")]
        target: Target,
        /// Overwrite generated files even if they were edited by hand.
        #[arg(long)]
        force: bool,
        /// Build without network access (`cargo --offline`).
        #[arg(long)]
        offline: bool,
        /// virtio: how QEMU runs the guest (`tcg` emulates it; `kvm` needs /dev/kvm).
        #[arg(long, value_enum, default_value = "tcg")]
        accel: qemu::Accel,
        /// virtio: the QEMU machine [default: microvm, or pc when the image has
        /// network or block devices, which are PCI].
        #[arg(long, value_enum)]
        machine: Option<qemu::Machine>,
        /// Guest memory in MiB [default: 256 on virtio, 512 on spt and hvt].
        #[arg(long)]
        mem: Option<u64>,
        /// Boot arguments, after `--`. Host devices are attached with
        /// `--net:NAME=IFACE` and `--block:NAME=PATH` (default: the tap
        /// interface NAME or tapN, the file NAME beside the configuration).
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Build, then package the image as an OCI image that urunc runs
    /// (`dist/NAME.TARGET.oci/`).
    ///
    /// The image is `/unikernel/NAME.TARGET`; urunc's keys are in the
    /// manifest annotations, the config labels and `/urunc.json`. Runtime
    /// keys given as --NAME=VALUE and --arg values become the config's Cmd.
    /// The creation time comes from SOURCE_DATE_EPOCH.
    Package {
        /// A .unik file, or a directory holding config.unik.
        file: Option<PathBuf>,
        /// The target to package: hvt, spt or virtio.
        #[arg(short, long, value_parser = target_parser())]
        target: Target,
        /// Write the image layout to this directory.
        #[arg(long, value_name = "DIR", conflicts_with = "archive")]
        oci: Option<PathBuf>,
        /// Write an oci-archive tarball instead of a directory.
        #[arg(long, value_name = "FILE")]
        archive: Option<PathBuf>,
        /// A boot argument for the config's Cmd (repeatable).
        #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
        args: Vec<String>,
        /// The tag in the layout's index.
        #[arg(long, default_value = "latest")]
        tag: String,
        /// Overwrite generated files even if they were edited by hand.
        #[arg(long)]
        force: bool,
        /// Build without network access (`cargo --offline`).
        #[arg(long)]
        offline: bool,
        /// Build exactly what `unik.lock` records.
        #[arg(long)]
        locked: bool,
        /// Then push the image to this registry reference
        /// (REGISTRY/REPOSITORY[:TAG]).
        #[arg(long, value_name = "REF")]
        push: Option<String>,
        /// Push over plain HTTP (only to a registry on a loopback address).
        #[arg(long, requires = "push")]
        insecure: bool,
    },
    /// Package the image (as `unikc package`), then push it to an OCI
    /// registry and print its digest.
    ///
    /// Credentials come from ~/.docker/config.json ($DOCKER_CONFIG), as
    /// `docker login` writes them.
    Push {
        /// [FILE] REF: a .unik file or a directory holding config.unik
        /// (default: ./config.unik), then the image reference,
        /// REGISTRY/REPOSITORY[:TAG].
        #[arg(value_name = "FILE", num_args = 1..=2, required = true)]
        operands: Vec<PathBuf>,
        /// The target to package: hvt, spt or virtio.
        #[arg(short, long, value_parser = target_parser())]
        target: Target,
        /// A boot argument for the config's Cmd (repeatable).
        #[arg(long = "arg", value_name = "ARG", allow_hyphen_values = true)]
        args: Vec<String>,
        /// Speak plain HTTP (only to a registry on a loopback address).
        #[arg(long)]
        insecure: bool,
        /// Build without network access (`cargo --offline`).
        #[arg(long)]
        offline: bool,
        /// Build exactly what `unik.lock` records.
        #[arg(long)]
        locked: bool,
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
fn take_attach(args: Vec<String>) -> Result<(Vec<String>, Vec<Attach>), String> {
    let mut rest = Vec::new();
    let mut found = Vec::new();
    let mut args = args.into_iter();
    while let Some(a) = args.next() {
        if a == "--" {
            rest.push(a);
            rest.extend(args.by_ref());
            break;
        }
        match attach::parse_attach(&a) {
            Some(parsed) => found.push(parsed?),
            None => rest.push(a),
        }
    }
    if !found.is_empty() && rest.get(1).is_none_or(|c| c != "run") {
        return Err("--net: and --block: attach host devices for `unikc run`".into());
    }
    Ok((rest, found))
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
        "oci",
        "archive",
        "arg",
        "tag",
        "push",
        "insecure",
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
        Err(e) => return render::failure(&Failure::usage(e), false),
    };
    let (args, keys) = split_keys(args);
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    let json = matches!(
        cli.command,
        Command::Check {
            message_format: MessageFormat::Json,
            ..
        } | Command::Eval {
            message_format: MessageFormat::Json,
            ..
        } | Command::Describe {
            message_format: MessageFormat::Json,
            ..
        }
    );
    let mut term = Terminal { json };
    match command(cli.command, keys, attach, &mut term) {
        Ok(code) => code,
        Err(f) => render::failure(&f, json),
    }
}

/// Runs one command; `Ok` is the exit status of a command that ran.
fn command(
    command: Command,
    keys: BTreeMap<String, String>,
    attach: Vec<Attach>,
    term: &mut Terminal,
) -> Result<u8, Failure> {
    match command {
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
            let checked = check::check(file.as_deref(), matrix, keys, Want::Diagnostics, term)?;
            render::diagnostics(&checked.diagnostics, &checked.sources, term.json);
            if message_format == MessageFormat::Human {
                for s in &checked.skipped {
                    let mut reasons = s.reasons.clone();
                    reasons.dedup();
                    eprintln!("note: skipped target {}: {}", s.target, reasons.join("; "));
                }
                summary(&checked);
            }
            Ok(if checked.errors() > 0 {
                EXIT_ERRORS
            } else {
                EXIT_OK
            })
        }
        Command::Describe {
            file,
            target,
            dot,
            json,
            catalogue,
            ..
        } => {
            if catalogue {
                let text = unik_resolver::catalogue::reference().map_err(|e| {
                    Failure::plain(
                        unikc::ops::failure::Exit::Errors,
                        format!("the catalogue reference cannot be generated: {e}"),
                    )
                })?;
                print!("{text}");
                return Ok(EXIT_OK);
            }
            let form = if dot {
                Form::Dot
            } else if json {
                Form::Json
            } else {
                Form::Text
            };
            let (checked, text) = check::describe(file.as_deref(), target, keys, form, term)?;
            render::diagnostics(&checked.diagnostics, &checked.sources, term.json);
            print!("{text}");
            Ok(EXIT_OK)
        }
        Command::Eval {
            file, target, json, ..
        } => {
            let (checked, value) = check::eval(file.as_deref(), target, keys, term)?;
            render::diagnostics(&checked.diagnostics, &checked.sources, term.json);
            let text = if json {
                serde_json::to_string(&value)
            } else {
                serde_json::to_string_pretty(&value)
            };
            println!("{}", text.expect("JSON values serialise"));
            Ok(EXIT_OK)
        }
        Command::Fmt { files, check } => {
            let done = unikc::ops::fmt::fmt(&files, check)?;
            for f in &done.broken {
                render::failure(f, false);
            }
            for f in &done.changed {
                if check {
                    println!("would reformat {}", f.display());
                } else {
                    eprintln!("formatted {}", f.display());
                }
            }
            let failed = !done.broken.is_empty() || (check && !done.changed.is_empty());
            Ok(if failed { EXIT_ERRORS } else { EXIT_OK })
        }
        Command::Explain { code } => explain(&code),
        Command::Configure {
            file,
            target,
            output,
            force,
        } => {
            let p = Project {
                file,
                target,
                keys,
                force,
            };
            let ready = configure::configure(&p, output.as_deref(), term)?;
            if let Some(n) = configure::boot_keys_note(&ready.resolved) {
                eprintln!("note: {n}");
            }
            Ok(EXIT_OK)
        }
        Command::Lock {
            file,
            target,
            all_targets,
            offline,
            update,
        } => {
            let which = match (target, all_targets) {
                (Some(t), _) => Which::One(t),
                (None, true) => Which::All,
                (None, false) => Which::Allowed,
            };
            let req = LockRequest {
                file,
                which,
                keys,
                offline,
                update,
            };
            unikc::ops::lock::lock(&req, term)?;
            Ok(EXIT_OK)
        }
        Command::Build {
            file,
            target,
            force,
            offline,
            locked,
            frozen,
            verify,
        } => {
            let p = Project {
                file,
                target,
                keys,
                force,
            };
            let flags = BuildFlags {
                locked: locked || frozen,
                offline: offline || frozen,
                target_dir: None,
                color: render::color(),
            };
            let built = unikc::ops::build::build(&p, &flags, term)?;
            if verify {
                unikc::ops::verify::verify(&p, &built, term)?;
            }
            if let Some(n) = configure::boot_keys_note(&built.ready.resolved) {
                eprintln!("note: {n}");
            }
            Ok(EXIT_OK)
        }
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
            let p = Project {
                file,
                target,
                keys,
                force,
            };
            let flags = BuildFlags {
                offline,
                color: render::color(),
                ..Default::default()
            };
            let opts = RunOptions {
                accel,
                machine,
                mem_mb: mem,
                attach,
            };
            match unikc::ops::run::run(&p, &flags, &args, &opts, term)? {
                Ran::Exited(status) => Ok(status),
                Ran::Exec(cmd) => Ok(exec(cmd)),
            }
        }
        Command::Package {
            file,
            target,
            oci,
            archive,
            args,
            tag,
            force,
            offline,
            locked,
            push,
            insecure,
        } => {
            let p = Project {
                file,
                target,
                keys,
                force,
            };
            let flags = BuildFlags {
                locked,
                offline,
                color: render::color(),
                ..Default::default()
            };
            let to = match (oci, archive) {
                (Some(d), _) => Destination::Dir(d),
                (None, Some(f)) => Destination::Archive(f),
                (None, None) => Destination::Dist,
            };
            let opts = PackageOptions { to, args, tag };
            if let Some(r) = &push {
                unikc::ops::push::check_reference(r, &PushOptions { insecure })?;
            }
            let packaged = unikc::ops::package::package(&p, &flags, &opts, term)?;
            if let Some(r) = push {
                let o = PushOptions { insecure };
                unikc::ops::push::push(&packaged.layout, &r, &o, term)?;
            }
            println!("{}", packaged.digest());
            Ok(EXIT_OK)
        }
        Command::Push {
            mut operands,
            target,
            args,
            insecure,
            offline,
            locked,
        } => {
            let reference = operands.pop().expect("clap requires REF");
            let reference = reference.to_string_lossy().into_owned();
            let p = Project {
                file: operands.pop(),
                target,
                keys,
                force: false,
            };
            let flags = BuildFlags {
                locked,
                offline,
                color: render::color(),
                ..Default::default()
            };
            let opts = PackageOptions {
                args,
                ..Default::default()
            };
            // Refuse a non-loopback --insecure before building.
            let push = PushOptions { insecure };
            unikc::ops::push::check_reference(&reference, &push)?;
            let packaged = unikc::ops::package::package(&p, &flags, &opts, term)?;
            let digest = unikc::ops::push::push(&packaged.layout, &reference, &push, term)?;
            println!("{digest}");
            Ok(EXIT_OK)
        }
        Command::Clean { file } => {
            unikc::ops::clean::clean(file.as_deref(), term)?;
            Ok(EXIT_OK)
        }
        Command::New { name, template } => {
            unikc::ops::new::new(&name, template.as_deref(), term)?;
            eprintln!("Next: unikc run {}", name.display());
            Ok(EXIT_OK)
        }
        Command::Lsp => Ok(if unikc::lsp::serve() {
            EXIT_OK
        } else {
            EXIT_ERRORS
        }),
    }
}

/// Replaces unikc with the unikernel's process, so signals and the exit
/// status are its own.
fn exec(mut cmd: std::process::Command) -> u8 {
    use std::os::unix::process::CommandExt;
    let e = cmd.exec();
    eprintln!(
        "error: cannot run {}: {e}",
        cmd.get_program().to_string_lossy()
    );
    EXIT_ERRORS
}

/// `checked config.unik for 7 targets: no problems`.
fn summary(checked: &check::Checked) {
    let name = configure::show(&checked.path);
    let which = if checked.targets.len() == 1 {
        format!("target {}", checked.targets[0])
    } else {
        format!("{} targets", checked.targets.len())
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

fn explain(code: &str) -> Result<u8, Failure> {
    match unik_lang::codes::lookup(code) {
        Some(c) => {
            // The text starts with its own `# CODE: title` heading. Fence
            // markers after a comma are for the book's tests, not readers.
            for line in c.text.trim_end().lines() {
                match line.strip_prefix("```") {
                    Some(info) => println!("```{}", info.split(',').next().unwrap_or("")),
                    None => println!("{line}"),
                }
            }
            Ok(EXIT_OK)
        }
        None => {
            let codes: Vec<&str> = unik_lang::codes::all().iter().map(|c| c.code).collect();
            Err(Failure::coded(
                unikc::ops::failure::Exit::Usage,
                unik_lang::Diagnostic::error(
                    "",
                    format!("`{code}` is not a unikc diagnostic code"),
                )
                .note(format!("known codes: {}", codes.join(" "))),
            ))
        }
    }
}
