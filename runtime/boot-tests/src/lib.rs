//! Helpers for booting the test kernels: build them, run QEMU with a
//! timeout, decode the exit status, and check ELF structure.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

pub mod elf;
pub mod linker;

/// `isa-debug-exit` as the platform expects it (see unik-virtio's exit module).
pub const DEBUG_EXIT: &str = "isa-debug-exit,iobase=0xf4,iosize=0x04";

/// QEMU's process status for a guest `exit(code)` through isa-debug-exit.
pub const fn qemu_status(code: i32) -> i32 {
    ((code << 1) | 1) & 0xff
}

/// Directory of the kernels workspace.
pub fn kernels_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels")
}

/// Build every test kernel once per process; returns the directory holding
/// the ELF images. Panics with cargo's output on failure.
pub fn kernel_dir(target_dir: &Path) -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = Command::new(cargo)
            .args(["build", "--release", "--locked", "--bins"])
            .current_dir(kernels_dir())
            .env("CARGO_TARGET_DIR", target_dir)
            // Any of these would override the kernels' .cargo/config.toml flags.
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_BUILD_TARGET")
            .output()
            .expect("cannot run cargo to build the test kernels");
        assert!(
            out.status.success(),
            "building the test kernels failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        target_dir.join("x86_64-unknown-linux-gnu").join("release")
    })
}

/// Path of qemu-system-x86_64. Panics (never skips) when it is missing.
pub fn qemu() -> PathBuf {
    let name = "qemu-system-x86_64";
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    });
    found.unwrap_or_else(|| {
        panic!("{name} not found in PATH: install it (apt-get install qemu-system-x86); boot tests cannot run without it")
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    Microvm,
    Pc,
    Q35,
}

impl Machine {
    fn arg(self) -> &'static str {
        match self {
            Self::Microvm => "microvm",
            Self::Pc => "pc",
            Self::Q35 => "q35",
        }
    }
}

/// One QEMU run.
#[derive(Debug)]
pub struct Run {
    /// QEMU's exit status; None if it was killed at the timeout.
    pub status: Option<i32>,
    /// Everything the guest printed on COM1 (plus firmware noise on `pc`).
    pub serial: String,
    pub stderr: String,
    pub wall: Duration,
}

impl Run {
    /// The guest's `exit` code, decoded from QEMU's status `(code << 1) | 1`.
    /// Only codes 0..=127 survive the 8-bit process status; 255 (abort)
    /// comes back as 127, which is why tests compare [`Run::exited_with`].
    pub fn guest_code(&self) -> Option<i32> {
        self.status.filter(|s| s & 1 == 1).map(|s| s >> 1)
    }

    /// Whether QEMU's status is what a guest `exit(code)` produces.
    pub fn exited_with(&self, code: i32) -> bool {
        self.status == Some(qemu_status(code))
    }

    /// The first serial line starting with `prefix`, without the prefix.
    pub fn line(&self, prefix: &str) -> Option<&str> {
        self.serial.lines().find_map(|l| {
            l.trim_end_matches('\r')
                .split_once(prefix)
                .map(|(_, rest)| rest)
        })
    }
}

/// `key=value` pairs from a line like `timer: a=1 b=2`.
pub fn field(line: &str, key: &str) -> Option<u64> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Boot `kernel` with `-kernel`, TCG, `-nographic -no-reboot`, the debug-exit
/// device, 128 MiB, plus `extra` arguments; kill it after `timeout`.
pub fn boot(
    kernel: &Path,
    machine: Machine,
    append: &str,
    extra: &[&str],
    timeout: Duration,
) -> Run {
    let mut cmd = Command::new(qemu());
    cmd.args([
        "-M",
        machine.arg(),
        "-accel",
        "tcg",
        "-m",
        "128",
        "-nographic",
        "-no-reboot",
    ])
    .args(["-device", DEBUG_EXIT, "-kernel"])
    .arg(kernel)
    .args(extra);
    if !append.is_empty() {
        cmd.args(["-append", append]);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("cannot start qemu-system-x86_64");
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let status = loop {
        match child.try_wait().expect("waiting for qemu") {
            Some(s) => break s.code(),
            None if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            None => thread::sleep(Duration::from_millis(5)),
        }
    };
    let wall = start.elapsed();
    let serial = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Run {
        status,
        serial,
        stderr,
        wall,
    }
}
