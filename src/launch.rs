//! `unikc run` for the bootable targets: a virtio image under QEMU, an spt
//! or hvt image under the bundled tenders (linked in, `unik_tender`). Host
//! devices come from the graph, in the order the image expects them
//! (`unik_codegen::host_devices`), attached by default to the tap interface
//! or the file of the device's name, and overridable with
//! `--net:NAME=IFACE` and `--block:NAME=PATH`.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use unik_codegen::HostDev;
use unik_resolver::HostDeviceKind;

use crate::{EXIT_ERRORS, EXIT_USAGE};

/// Guest memory (MiB) on virtio unless `--mem` says otherwise; the Solo5
/// tenders default to 512 as upstream.
pub const VIRTIO_MEM_MB: u64 = 256;

/// The isa-debug-exit device the virtio image leaves through.
pub const DEBUG_EXIT: &str = "isa-debug-exit,iobase=0xf4,iosize=0x04";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Accel {
    Tcg,
    Kvm,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Machine {
    Microvm,
    Pc,
    Q35,
}

impl Machine {
    fn name(self) -> &'static str {
        match self {
            Machine::Microvm => "microvm",
            Machine::Pc => "pc",
            Machine::Q35 => "q35",
        }
    }
}

/// One `--net:NAME=IFACE` or `--block:NAME=PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attach {
    pub kind: HostDeviceKind,
    pub name: String,
    pub value: String,
}

/// `--net:NAME=VALUE` / `--block:NAME=VALUE`, if `arg` is one.
pub fn parse_attach(arg: &str) -> Option<Result<Attach, String>> {
    let (kind, rest) = if let Some(r) = arg.strip_prefix("--net:") {
        (HostDeviceKind::Net, r)
    } else if let Some(r) = arg.strip_prefix("--block:") {
        (HostDeviceKind::Block, r)
    } else {
        return None;
    };
    Some(match rest.split_once('=') {
        Some((name, value)) if !name.is_empty() && !value.is_empty() => Ok(Attach {
            kind,
            name: name.to_string(),
            value: value.to_string(),
        }),
        _ => Err(format!(
            "{arg}: expected --net:NAME=IFACE or --block:NAME=PATH"
        )),
    })
}

/// What `unikc run` was asked for besides the image.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub accel: Accel,
    /// virtio: `None` = `microvm` without PCI devices, `pc` with them.
    pub machine: Option<Machine>,
    pub mem_mb: Option<u64>,
    pub attach: Vec<Attach>,
}

/// A host device and what backs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    pub kind: HostDeviceKind,
    pub name: String,
    /// A tap interface, or an absolute file path.
    pub backing: String,
}

fn kind_name(k: HostDeviceKind) -> &'static str {
    match k {
        HostDeviceKind::Net => "net",
        HostDeviceKind::Block => "block",
    }
}

/// Backs every host device: an override when given, else the tap
/// interface named like the device (or `tapN` for the N-th network device)
/// and the file named like the device beside the configuration.
pub fn attach(
    devices: &[HostDev],
    overrides: &[Attach],
    project_dir: &Path,
    iface_exists: impl Fn(&str) -> bool,
) -> Result<Vec<Attached>, String> {
    for o in overrides {
        if !devices.iter().any(|d| d.kind == o.kind && d.name == o.name) {
            let known: Vec<String> = devices
                .iter()
                .map(|d| format!("{} `{}`", kind_name(d.kind), d.name))
                .collect();
            return Err(format!(
                "--{}:{}: the configuration has no {} device `{}` (its host devices: {})",
                kind_name(o.kind),
                o.name,
                kind_name(o.kind),
                o.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut out = Vec::new();
    let mut nets = 0;
    for d in devices {
        let given = overrides
            .iter()
            .rev()
            .find(|o| o.kind == d.kind && o.name == d.name);
        let backing = match (d.kind, given) {
            (HostDeviceKind::Net, Some(o)) => o.value.clone(),
            (HostDeviceKind::Net, None) => {
                let fallback = format!("tap{nets}");
                if iface_exists(&d.name) {
                    d.name.clone()
                } else if iface_exists(&fallback) {
                    fallback
                } else {
                    return Err(format!(
                        "no network interface for the net device `{0}`: there is neither `{0}` nor `{fallback}`; \
                         create one (`ip tuntap add {fallback} mode tap && ip link set {fallback} up`) \
                         or attach another with --net:{0}=IFACE",
                        d.name
                    ));
                }
            }
            (HostDeviceKind::Block, Some(o)) => absolute(&cwd, &o.value),
            (HostDeviceKind::Block, None) => {
                let p = project_dir.join(&d.name);
                if !p.is_file() {
                    return Err(format!(
                        "no file for the block device `{0}`: create {1} (e.g. `truncate -s 1M {1}`) \
                         or attach one with --block:{0}=PATH",
                        d.name,
                        p.display()
                    ));
                }
                p.to_string_lossy().into_owned()
            }
        };
        if d.kind == HostDeviceKind::Net {
            nets += 1;
        }
        out.push(Attached {
            kind: d.kind,
            name: d.name.clone(),
            backing,
        });
    }
    Ok(out)
}

fn absolute(cwd: &Path, p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        p.to_string()
    } else {
        cwd.join(path).to_string_lossy().into_owned()
    }
}

fn iface_exists(name: &str) -> bool {
    !name.contains('/') && Path::new("/sys/class/net").join(name).exists()
}

/// The QEMU command line (after the program name) for a virtio image.
pub fn qemu_args(
    image: &Path,
    opts: &RunOptions,
    attached: &[Attached],
    cmdline: &str,
) -> Vec<String> {
    let machine = opts.machine.unwrap_or(if attached.is_empty() {
        Machine::Microvm
    } else {
        Machine::Pc
    });
    let (accel, cpu) = match opts.accel {
        Accel::Tcg => ("tcg", "max"),
        Accel::Kvm => ("kvm", "host"),
    };
    let mem = opts.mem_mb.unwrap_or(VIRTIO_MEM_MB);
    let mut a: Vec<String> = [
        "-M",
        machine.name(),
        "-accel",
        accel,
        // RDRAND (the `random` device) needs more than TCG's default CPU.
        "-cpu",
        cpu,
        "-m",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.push(mem.to_string());
    for s in [
        "-nodefaults",
        "-no-reboot",
        "-display",
        "none",
        // COM1 is the console; a stdio chardev turns Ctrl-C into SIGINT.
        "-serial",
        "stdio",
        "-device",
        DEBUG_EXIT,
        "-kernel",
    ] {
        a.push(s.to_string());
    }
    a.push(image.to_string_lossy().into_owned());
    if !cmdline.is_empty() {
        a.push("-append".into());
        a.push(cmdline.into());
    }
    let (mut n, mut b) = (0, 0);
    for d in attached {
        match d.kind {
            HostDeviceKind::Net => {
                a.push("-netdev".into());
                a.push(format!(
                    "tap,id=net{n},ifname={},script=no,downscript=no",
                    d.backing
                ));
                a.push("-device".into());
                // No option ROM: nothing boots from the NIC.
                a.push(format!("virtio-net-pci,netdev=net{n},romfile="));
                n += 1;
            }
            HostDeviceKind::Block => {
                a.push("-drive".into());
                // QEMU's -drive splits on commas; a comma in a path is doubled.
                a.push(format!(
                    "file={},if=none,id=blk{b},format=raw",
                    d.backing.replace(',', ",,")
                ));
                a.push("-device".into());
                a.push(format!("virtio-blk-pci,drive=blk{b}"));
                b += 1;
            }
        }
    }
    a
}

/// The guest's exit code from QEMU's process status: `exit(code)` through
/// isa-debug-exit makes QEMU exit with `(code << 1) | 1`.
pub fn guest_code(qemu_status: i32) -> Option<i32> {
    (qemu_status & 1 == 1).then_some((qemu_status - 1) / 2)
}

static SIGNALLED: AtomicI32 = AtomicI32::new(0);

extern "C" fn note_signal(sig: libc::c_int) {
    SIGNALLED.store(sig, Ordering::SeqCst);
}

/// SIGINT and SIGTERM are noted instead of killing unikc, which stops its
/// child and reports; returns the signal seen, if any.
fn catch_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installs an async-signal-safe handler (one atomic store).
        unsafe {
            libc::signal(sig, note_signal as *const () as libc::sighandler_t);
        }
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Runs a virtio image under QEMU; returns unikc's exit status (the
/// guest's exit code, 130 when interrupted).
pub fn run_virtio(image: &Path, opts: &RunOptions, attached: &[Attached], cmdline: &str) -> u8 {
    let Some(qemu) = find_program("qemu-system-x86_64") else {
        eprintln!(
            "error[E0701]: qemu-system-x86_64 is not installed (it is not on PATH)\n  \
             = note: `unikc run -t virtio` boots the image under QEMU\n  \
             = help: install it: `apt-get install qemu-system-x86` (Debian, Ubuntu)"
        );
        return EXIT_ERRORS;
    };
    if opts.accel == Accel::Kvm && !Path::new("/dev/kvm").exists() {
        eprintln!(
            "error: --accel kvm needs /dev/kvm, which this machine lacks; the default (TCG) works without it"
        );
        return EXIT_USAGE;
    }
    if opts.machine == Some(Machine::Microvm) && !attached.is_empty() {
        eprintln!(
            "error: microvm has no PCI bus, so it cannot carry the image's virtio-pci net and block devices; use --machine pc or q35"
        );
        return EXIT_USAGE;
    }
    let args = qemu_args(image, opts, attached, cmdline);
    eprintln!("     Running {} {}", qemu.display(), show_args(&args));
    let mut cmd = Command::new(&qemu);
    cmd.args(&args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped());
    // QEMU must not outlive unikc.
    // SAFETY: prctl is async-signal-safe; nothing else runs in the child.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    catch_signals();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot start {}: {e}", qemu.display());
            return EXIT_ERRORS;
        }
    };
    // QEMU's own complaints (not the guest's console) come on stderr.
    let complained = std::sync::Arc::new(AtomicBool::new(false));
    let stopped_by = std::sync::Arc::new(AtomicI32::new(0));
    let relay = {
        let (complained, stopped_by) = (complained.clone(), stopped_by.clone());
        let stderr = child.stderr.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(sig) = terminated_by(&line) {
                    stopped_by.store(sig, Ordering::SeqCst);
                } else if !line.contains("warning:") {
                    complained.store(true, Ordering::SeqCst);
                }
                let _ = writeln!(std::io::stderr(), "{line}");
            }
        })
    };
    let mut forwarded = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) => {}
            Err(e) => {
                eprintln!("error: waiting for QEMU: {e}");
                let _ = child.kill();
                return EXIT_ERRORS;
            }
        }
        let sig = SIGNALLED.load(Ordering::SeqCst);
        if sig != 0 && !forwarded {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            forwarded = true;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = relay.join();
    let sig = SIGNALLED.load(Ordering::SeqCst);
    if sig != 0 {
        eprintln!("     Stopped QEMU (signal {sig})");
        return 128 + sig as u8;
    }
    let by = stopped_by.load(Ordering::SeqCst);
    if by != 0 && status.code() == Some(0) {
        // Stopped from outside (kill), not by the guest.
        return 128u8.saturating_add(by as u8);
    }
    decode_qemu(status, complained.load(Ordering::SeqCst))
}

/// The signal of QEMU's "terminating on signal N" message.
fn terminated_by(line: &str) -> Option<i32> {
    let rest = line.split_once("terminating on signal ")?.1;
    rest.split_whitespace().next()?.parse().ok()
}

fn decode_qemu(status: std::process::ExitStatus, complained: bool) -> u8 {
    use std::os::unix::process::ExitStatusExt;
    match status.code() {
        Some(1) if complained => {
            eprintln!("error: QEMU failed before the guest ran (its message is above)");
            EXIT_ERRORS
        }
        Some(c) => match guest_code(c) {
            Some(code) => code as u8,
            None => {
                eprintln!(
                    "error: the guest stopped without an exit status (QEMU status {c}: a triple fault, or QEMU stopped it)"
                );
                EXIT_ERRORS
            }
        },
        None => 128u8.saturating_add(status.signal().unwrap_or(0) as u8),
    }
}

fn show_args(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'', '\\']) {
                format!("'{}'", a.replace('\'', "'\\''"))
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs an spt or hvt image under the bundled tender.
pub fn run_solo5(
    target: &str,
    image: &Path,
    opts: &RunOptions,
    attached: &[Attached],
    cmdline: &str,
) -> u8 {
    use unik_tender::options::{BlockOpt, DEFAULT_MEM_MB, NetBacking, NetOpt};
    let o = unik_tender::Options {
        mem_mb: opts.mem_mb.unwrap_or(DEFAULT_MEM_MB),
        nets: attached
            .iter()
            .filter(|a| a.kind == HostDeviceKind::Net)
            .map(|a| NetOpt {
                name: a.name.clone(),
                backing: NetBacking::Tap(a.backing.clone()),
            })
            .collect(),
        macs: Vec::new(),
        blocks: attached
            .iter()
            .filter(|a| a.kind == HostDeviceKind::Block)
            .map(|a| BlockOpt {
                name: a.name.clone(),
                path: a.backing.clone().into(),
            })
            .collect(),
        sector_sizes: Vec::new(),
        seccomp: true,
        image: image.to_path_buf(),
        // The tender joins its arguments with spaces: one argument keeps
        // the escaped command line as it is.
        args: if cmdline.is_empty() {
            Vec::new()
        } else {
            vec![cmdline.to_string()]
        },
    };
    let mut shown: Vec<String> = vec![format!("--mem={}", o.mem_mb)];
    for a in attached {
        shown.push(format!("--{}:{}={}", kind_name(a.kind), a.name, a.backing));
    }
    shown.push(image.display().to_string());
    if !cmdline.is_empty() {
        shown.push(cmdline.to_string());
    }
    let tender = format!("unikc-{target}");
    eprintln!("     Running {tender} {}", show_args(&shown));
    let result = match target {
        "spt" => unik_tender::spt::prepare(&o)
            .and_then(unik_tender::spt::run)
            .map(|outcome| {
                if let Some(line) = outcome.report() {
                    eprintln!("{tender}: {line}");
                }
                outcome.status()
            }),
        _ => {
            unik_tender::hvt::prepare(&o, unik_tender::hvt::Stdout).and_then(unik_tender::hvt::run)
        }
    };
    match result {
        Ok(status) => (status & 0xff) as u8,
        Err(e) => {
            eprintln!("{tender}: {e}");
            EXIT_ERRORS
        }
    }
}

/// Runs a built image of a bootable target with the graph's host devices
/// and the boot arguments (the runtime keys of the command line, then
/// `args`) as its command line; returns unikc's exit status.
pub fn run(
    target: &str,
    image: &Path,
    resolved: &unik_resolver::Resolved,
    project_dir: &Path,
    opts: &RunOptions,
    args: &[String],
) -> u8 {
    if target == "xen" {
        return run_xen(image, resolved, opts, args);
    }
    let devices = unik_codegen::host_devices(resolved);
    let attached = match attach_host(&devices, &opts.attach, project_dir) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mut parts = Vec::new();
    if !resolved.boot_cmdline.is_empty() {
        parts.push(resolved.boot_cmdline.clone());
    }
    let extra = unik_resolver::bootargs::join(args);
    if !extra.is_empty() {
        parts.push(extra);
    }
    let cmdline = parts.join(" ");
    match target {
        "virtio" => run_virtio(image, opts, &attached, &cmdline),
        "spt" | "hvt" => run_solo5(target, image, opts, &attached, &cmdline),
        other => {
            eprintln!("error: unikc cannot run {other} images");
            EXIT_ERRORS
        }
    }
}

/// A xen image with `xl create` on dom0 (`crate::xen_run`): network
/// devices go on bridges and block devices on files, as the `.xl` file
/// beside the image says unless `--net:NAME=BRIDGE`/`--block:NAME=PATH`.
fn run_xen(
    image: &Path,
    resolved: &unik_resolver::Resolved,
    opts: &RunOptions,
    args: &[String],
) -> u8 {
    let cmdline = [
        resolved.boot_cmdline.clone(),
        unik_resolver::bootargs::join(args),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let overrides: Vec<crate::xen_run::Override> = opts
        .attach
        .iter()
        .map(|a| match a.kind {
            HostDeviceKind::Net => crate::xen_run::Override::Bridge {
                name: a.name.clone(),
                bridge: a.value.clone(),
            },
            HostDeviceKind::Block => crate::xen_run::Override::Disk {
                name: a.name.clone(),
                path: PathBuf::from(absolute(&cwd, &a.value)),
            },
        })
        .collect();
    match crate::xen_run::run(image, &image.with_extension("xl"), &cmdline, &overrides) {
        Ok(code) => u8::try_from(code).unwrap_or(EXIT_ERRORS),
        Err(e) => {
            eprintln!("{e}");
            EXIT_ERRORS
        }
    }
}

/// Backs the devices with the host's interfaces and files.
pub fn attach_host(
    devices: &[HostDev],
    overrides: &[Attach],
    project_dir: &Path,
) -> Result<Vec<Attached>, String> {
    attach(devices, overrides, project_dir, iface_exists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use unik_resolver::SourcePos;

    fn dev(kind: HostDeviceKind, name: &str) -> HostDev {
        HostDev {
            kind,
            name: name.into(),
            at: SourcePos {
                file: "config.unik".into(),
                line: 1,
                column: 1,
            },
        }
    }

    fn opts() -> RunOptions {
        RunOptions {
            accel: Accel::Tcg,
            machine: None,
            mem_mb: None,
            attach: Vec::new(),
        }
    }

    #[test]
    fn attach_options_parse() {
        assert_eq!(
            parse_attach("--net:service=tap3"),
            Some(Ok(Attach {
                kind: HostDeviceKind::Net,
                name: "service".into(),
                value: "tap3".into()
            }))
        );
        assert!(matches!(parse_attach("--block:disk.img=/x=y"), Some(Ok(a)) if a.value == "/x=y"));
        assert!(matches!(parse_attach("--net:=tap0"), Some(Err(_))));
        assert!(matches!(parse_attach("--block:d"), Some(Err(_))));
        assert_eq!(parse_attach("--port=80"), None);
    }

    #[test]
    fn defaults_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("disk.img"), [0u8; 512]).unwrap();
        let devices = [
            dev(HostDeviceKind::Net, "service"),
            dev(HostDeviceKind::Block, "disk.img"),
            dev(HostDeviceKind::Net, "other"),
        ];
        let exists = |i: &str| i == "tap0" || i == "other";
        let got = attach(&devices, &[], dir.path(), exists).unwrap();
        assert_eq!(got[0].backing, "tap0");
        assert_eq!(
            got[1].backing,
            dir.path().join("disk.img").to_string_lossy()
        );
        assert_eq!(got[2].backing, "other");

        let over = [Attach {
            kind: HostDeviceKind::Block,
            name: "disk.img".into(),
            value: "/abs/d.img".into(),
        }];
        let got = attach(&devices, &over, dir.path(), exists).unwrap();
        assert_eq!(got[1].backing, "/abs/d.img");

        // Missing interface, missing file, unknown name: errors that say what to do.
        let e = attach(&devices[..1], &[], dir.path(), |_| false).unwrap_err();
        assert!(e.contains("ip tuntap add tap0"), "{e}");
        let e = attach(
            &[dev(HostDeviceKind::Block, "none")],
            &[],
            dir.path(),
            exists,
        )
        .unwrap_err();
        assert!(e.contains("--block:none=PATH"), "{e}");
        let wrong = [Attach {
            kind: HostDeviceKind::Net,
            name: "disk.img".into(),
            value: "tap0".into(),
        }];
        let e = attach(&devices, &wrong, dir.path(), exists).unwrap_err();
        assert!(e.contains("no net device `disk.img`"), "{e}");
    }

    #[test]
    fn qemu_lines() {
        let img = Path::new("/p/dist/x.virtio");
        let plain = qemu_args(img, &opts(), &[], "");
        let s = plain.join(" ");
        assert!(
            s.starts_with("-M microvm -accel tcg -cpu max -m 256 "),
            "{s}"
        );
        assert!(s.ends_with("-kernel /p/dist/x.virtio"), "{s}");
        assert!(!s.contains("-append"));

        let attached = [
            Attached {
                kind: HostDeviceKind::Net,
                name: "service".into(),
                backing: "tap0".into(),
            },
            Attached {
                kind: HostDeviceKind::Block,
                name: "disk".into(),
                backing: "/d/a,b.img".into(),
            },
        ];
        let mut o = opts();
        o.accel = Accel::Kvm;
        o.mem_mb = Some(64);
        let a = qemu_args(img, &o, &attached, "--port=7 --msg=a\\ b");
        let s = a.join(" ");
        assert!(s.starts_with("-M pc -accel kvm -cpu host -m 64 "), "{s}");
        assert!(
            a.windows(2)
                .any(|w| w[0] == "-append" && w[1] == "--port=7 --msg=a\\ b")
        );
        assert!(s.contains(
            "-netdev tap,id=net0,ifname=tap0,script=no,downscript=no -device virtio-net-pci,netdev=net0,romfile="
        ));
        assert!(s.contains(
            "-drive file=/d/a,,b.img,if=none,id=blk0,format=raw -device virtio-blk-pci,drive=blk0"
        ));
        assert!(s.find("net0").unwrap() < s.find("blk0").unwrap());
    }

    #[test]
    fn qemu_stop_message() {
        assert_eq!(
            terminated_by("qemu-system-x86_64: terminating on signal 15 from pid 7 (bash)"),
            Some(15)
        );
        assert_eq!(
            terminated_by("qemu-system-x86_64: terminating on signal 2"),
            Some(2)
        );
        assert_eq!(
            terminated_by("qemu-system-x86_64: -drive x: No such file"),
            None
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(guest_code(1), Some(0));
        assert_eq!(guest_code(85), Some(42));
        assert_eq!(guest_code(203), Some(101));
        assert_eq!(guest_code(255), Some(127));
        assert_eq!(guest_code(0), None);
        assert_eq!(guest_code(2), None);
    }
}
