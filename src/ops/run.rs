//! `run`: build, then run the image the way its target runs
//! ([`Target::run`]): a host process, QEMU, or a bundled tender, with the
//! graph's host devices and the boot arguments.

use super::attach::{self, Attach};
use super::build::{self, BuildFlags, Built};
use super::configure::{Project, show};
use super::failure::{Exit, Failure};
use super::qemu;
use super::report::Reporter;
use super::tender;
use std::process::Command;
use unik_lang::target::Run;

/// What `run` was asked for besides the image.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub accel: qemu::Accel,
    /// virtio: `None` = `microvm` without PCI devices, `pc` with them.
    pub machine: Option<qemu::Machine>,
    pub mem_mb: Option<u64>,
    pub attach: Vec<Attach>,
}

/// How the run went.
#[derive(Debug)]
pub enum Ran {
    /// A host process to replace unikc with (unix), so that signals and the
    /// exit status are the unikernel's own.
    Exec(Command),
    /// The image ran and stopped with this status.
    Exited(u8),
}

/// Builds, then runs the image in the project's directory (relative device
/// paths in the configuration are relative to it) with the runtime keys of
/// the command line as boot arguments, then `args`.
pub fn run(
    p: &Project,
    flags: &BuildFlags,
    args: &[String],
    opts: &RunOptions,
    rep: &mut dyn Reporter,
) -> Result<Ran, Failure> {
    let how = p.target.run();
    if let Run::Unsupported(why) = how {
        return Err(Failure::plain(
            Exit::Errors,
            format!("unikc cannot run {} images here: {why}", p.target),
        ));
    }
    if how == Run::Process
        && (!opts.attach.is_empty()
            || opts.accel != qemu::Accel::Tcg
            || opts.machine.is_some()
            || opts.mem_mb.is_some())
    {
        let bootable: Vec<&str> = unik_lang::Target::ALL
            .iter()
            .filter(|t| matches!(t.run(), Run::Qemu | Run::Tender(_) | Run::Xl))
            .map(|t| t.name())
            .collect();
        return Err(Failure::usage(format!(
            "--net:, --block:, --accel, --machine and --mem are for the {} targets",
            bootable.join(", ")
        )));
    }
    let Built { ready, image } = build::build(p, flags, rep)?;
    let mut parts = Vec::new();
    if !ready.resolved.boot_cmdline.is_empty() {
        parts.push(ready.resolved.boot_cmdline.clone());
    }
    if how == Run::Process {
        let mut boot = unik_resolver::bootargs::split(&ready.resolved.boot_cmdline);
        boot.extend(args.iter().cloned());
        let mut cmd = Command::new(&image);
        cmd.args(&boot).current_dir(&ready.configured.project_dir);
        rep.status(
            "Running",
            &[show(&image)]
                .into_iter()
                .chain(boot.iter().cloned())
                .collect::<Vec<_>>()
                .join(" "),
        );
        return Ok(Ran::Exec(cmd));
    }
    if how == Run::Xl {
        return super::xen::launch(&image, &ready.resolved, &opts.attach, args, rep)
            .map(Ran::Exited);
    }
    let devices = unik_codegen::host_devices(&ready.resolved);
    let attached = attach::attach_host(&devices, &opts.attach, &ready.configured.project_dir)
        .map_err(Failure::usage)?;
    let extra = unik_resolver::bootargs::join(args);
    if !extra.is_empty() {
        parts.push(extra);
    }
    let cmdline = parts.join(" ");
    let status = match how {
        Run::Qemu => {
            let q = qemu::Options {
                accel: opts.accel,
                machine: opts.machine,
                mem_mb: opts.mem_mb,
            };
            qemu::run_virtio(&image, &q, &attached, &cmdline, rep)?
        }
        Run::Tender(t) => tender::run_solo5(t, &image, opts.mem_mb, &attached, &cmdline, rep)?,
        Run::Process | Run::Xl | Run::Unsupported(_) => unreachable!("handled above"),
    };
    Ok(Ran::Exited(status))
}
