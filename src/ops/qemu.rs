//! `unikc run -t virtio`: the image under `qemu-system-x86_64 -kernel`,
//! its exit status through isa-debug-exit, QEMU stopped with unikc.

use super::attach::Attached;
use super::failure::{Exit, Failure};
use super::report::Reporter;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;
use unik_resolver::HostDeviceKind;

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

/// How QEMU runs the guest.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    pub accel: Accel,
    /// `None` = `microvm` without PCI devices, `pc` with them.
    pub machine: Option<Machine>,
    pub mem_mb: Option<u64>,
}

/// The QEMU command line (after the program name) for a virtio image.
pub fn qemu_args(
    image: &Path,
    opts: &Options,
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
pub fn run_virtio(
    image: &Path,
    opts: &Options,
    attached: &[Attached],
    cmdline: &str,
    rep: &mut dyn Reporter,
) -> Result<u8, Failure> {
    let Some(qemu) = find_program("qemu-system-x86_64") else {
        return Err(Failure::coded(
            Exit::Tool,
            unik_lang::Diagnostic::error(
                "E0701",
                "qemu-system-x86_64 is not installed (it is not on PATH)",
            )
            .note("`unikc run -t virtio` boots the image under QEMU")
            .help("install it: `apt-get install qemu-system-x86` (Debian, Ubuntu)"),
        ));
    };
    if opts.accel == Accel::Kvm && !Path::new("/dev/kvm").exists() {
        return Err(Failure::usage(
            "--accel kvm needs /dev/kvm, which this machine lacks; the default (TCG) works without it",
        ));
    }
    if opts.machine == Some(Machine::Microvm) && !attached.is_empty() {
        return Err(Failure::usage(
            "microvm has no PCI bus, so it cannot carry the image's virtio-pci net and block devices; use --machine pc or q35",
        ));
    }
    let args = qemu_args(image, opts, attached, cmdline);
    rep.status(
        "Running",
        &format!("{} {}", qemu.display(), show_args(&args)),
    );
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
    let mut child = cmd
        .spawn()
        .map_err(|e| Failure::plain(Exit::Tool, format!("cannot start {}: {e}", qemu.display())))?;
    // QEMU's own complaints (not the guest's console) come on stderr; they
    // are relayed as they are, like cargo's output.
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
                let _ = child.kill();
                return Err(Failure::plain(Exit::Tool, format!("waiting for QEMU: {e}")));
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
        rep.status("Stopped", &format!("QEMU (signal {sig})"));
        return Ok(128 + sig as u8);
    }
    let by = stopped_by.load(Ordering::SeqCst);
    if by != 0 && status.code() == Some(0) {
        // Stopped from outside (kill), not by the guest.
        return Ok(128u8.saturating_add(by as u8));
    }
    decode_qemu(status, complained.load(Ordering::SeqCst))
}

/// The signal of QEMU's "terminating on signal N" message.
fn terminated_by(line: &str) -> Option<i32> {
    let rest = line.split_once("terminating on signal ")?.1;
    rest.split_whitespace().next()?.parse().ok()
}

fn decode_qemu(status: std::process::ExitStatus, complained: bool) -> Result<u8, Failure> {
    use std::os::unix::process::ExitStatusExt;
    match status.code() {
        Some(1) if complained => Err(Failure::plain(
            Exit::Tool,
            "QEMU failed before the guest ran (its message is above)",
        )),
        Some(c) => match guest_code(c) {
            Some(code) => Ok(code as u8),
            None => Err(Failure::plain(
                Exit::Errors,
                format!(
                    "the guest stopped without an exit status (QEMU status {c}: a triple fault, or QEMU stopped it)"
                ),
            )),
        },
        None => Ok(128u8.saturating_add(status.signal().unwrap_or(0) as u8)),
    }
}

pub fn show_args(args: &[String]) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options {
            accel: Accel::Tcg,
            machine: None,
            mem_mb: None,
        }
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
