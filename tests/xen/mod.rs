//! The nested-Xen harness from Rust: `tests/xen/dom0.sh` boots Xen 4.17
//! with a PV Linux dom0 under QEMU (TCG) once and runs a list of guests,
//! each an image with its `.xl` file; this module prepares the guests,
//! runs the script and splits its log per guest. Debian packages are
//! downloaded once into `target/tmp/xen-dom0`. A missing tool fails the
//! test (the script says which), it never skips.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// One guest to run in dom0.
pub struct Guest {
    /// `NN-label`: guests run in this order; results are looked up by it.
    pub id: String,
    /// The built project (its `dist/` holds `BIN.xen` and `BIN.xl`).
    pub project: PathBuf,
    pub bin: String,
    /// The boot command line, joined as `unikc run` joins arguments.
    pub cmdline: String,
    /// A disk image put behind the `.xl` file's disk (through a loop device).
    pub disk: Option<PathBuf>,
    /// A dom0 shell script run while the guest runs: `sh check.sh DOMAIN LOG`.
    pub check: Option<String>,
    /// Create it with `xl create -F -c` (console on xl's stdout, as `unikc run`).
    pub attach: bool,
    /// Changes the `.xl` file before dom0 gets it (failure paths).
    pub edit_xl: Option<fn(&str) -> String>,
    /// A dom0 shell script run while the domain is created but still
    /// paused: `sh prep.sh DOMAIN DOMID` (failure paths).
    pub prep: Option<String>,
}

impl Guest {
    pub fn new(id: &str, project: &Path, bin: &str) -> Guest {
        Guest {
            id: id.into(),
            project: project.into(),
            bin: bin.into(),
            cmdline: String::new(),
            disk: None,
            check: None,
            attach: false,
            edit_xl: None,
            prep: None,
        }
    }
}

/// What dom0 saw of one guest.
#[derive(Debug, Default, Clone)]
pub struct GuestRun {
    /// The guest's PV console, as xenconsoled logged it.
    pub console: String,
    /// What `xl create -F -c` printed (guests with `attach`).
    pub attach: String,
    /// `xl create`'s own output until the domain existed.
    pub create: String,
    /// What xl (`create -F`, the domain's monitor) printed after that.
    pub xl: String,
    pub create_failed: bool,
    pub timed_out: bool,
    /// Output of the check script, and its status.
    pub check: String,
    pub check_status: Option<i32>,
    /// Output of the prep script.
    pub prep: String,
    /// `hexdump -C` of the disk after the guest ended.
    pub disk: String,
    /// dom0 uptime (s) at `xl create`, when it returned, and when the domain was gone.
    pub t_create: f64,
    pub t_created: f64,
    pub t_gone: f64,
    /// How many times the guest ran: 2 when the first run hung and was
    /// destroyed (its STUCK dump is in the log).
    pub runs: usize,
}

impl GuestRun {
    /// The exit status the guest printed last (`unik-xen: exit status N`).
    pub fn status(&self) -> Option<i32> {
        self.console
            .lines()
            .rev()
            .find_map(|l| l.trim_end().strip_prefix("unik-xen: exit status "))
            .and_then(|n| n.trim().parse().ok())
    }

    /// The disk's bytes, rebuilt from its `hexdump -C` (`*` = the line
    /// above, repeated up to the next offset).
    pub fn disk_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut last: Vec<u8> = Vec::new();
        let mut repeat = false;
        for line in self.disk.lines() {
            if line.trim() == "*" {
                repeat = true;
                continue;
            }
            let mut words = line.split_whitespace();
            let Some(offset) = words.next().and_then(|o| usize::from_str_radix(o, 16).ok()) else {
                continue;
            };
            if repeat {
                while out.len() < offset && !last.is_empty() {
                    out.extend_from_slice(&last);
                }
                repeat = false;
            }
            let hex = line.get(10..58).unwrap_or("");
            last = hex
                .split_whitespace()
                .filter_map(|b| u8::from_str_radix(b, 16).ok())
                .collect();
            out.extend_from_slice(&last);
        }
        out
    }

    /// The console without the status line and carriage returns.
    pub fn output(&self) -> String {
        self.console
            .replace('\r', "")
            .lines()
            .filter(|l| !l.starts_with("unik-xen: exit status "))
            .map(|l| format!("{l}\n"))
            .collect()
    }
}

/// The whole run: the serial log and each guest's part of it.
pub struct Dom0Run {
    pub log: String,
    pub stderr: String,
    pub guests: Vec<(String, GuestRun)>,
}

impl Dom0Run {
    /// What guest `id` wrote to Xen's debug console (hypervisor console
    /// writes, which Xen echoes on the serial line as `(dN) text`), while
    /// it ran.
    pub fn debug_console(&self, id: &str) -> String {
        let run = last_run(&self.log, id).0;
        let end = format!("=== GUEST {id} END");
        let run = run.find(&end).map_or(run, |at| &run[..at]);
        run.lines()
            .filter_map(|l| {
                l.trim_end_matches('\r')
                    .strip_prefix("(d")?
                    .split_once(") ")
            })
            .map(|(_, text)| format!("{text}\n"))
            .collect()
    }

    pub fn guest(&self, id: &str) -> &GuestRun {
        match self.guests.iter().find(|(g, _)| g == id) {
            Some((_, r)) => r,
            None => panic!(
                "guest {id} did not run in dom0\n--- log (tail)\n{}\n--- stderr\n{}",
                tail(&self.log, 80),
                self.stderr
            ),
        }
    }
}

pub fn tail(s: &str, lines: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// An xl string literal (double quotes; `\` and `"` escaped).
pub fn xl_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Where the harness keeps the Debian packages and derived files.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("xen-dom0")
}

/// Boots dom0 once and runs `guests` in it.
pub fn run_dom0(guests: &[Guest]) -> Dom0Run {
    let dir = tempfile::tempdir().expect("a temporary directory");
    for g in guests {
        let gdir = dir.path().join(&g.id);
        std::fs::create_dir_all(&gdir).unwrap();
        let dist = g.project.join("dist");
        for ext in ["xen", "xl"] {
            let name = format!("{}.{ext}", g.bin);
            std::fs::copy(dist.join(&name), gdir.join(&name))
                .unwrap_or_else(|e| panic!("{}: {e}", dist.join(&name).display()));
        }
        if let Some(edit) = g.edit_xl {
            let p = gdir.join(format!("{}.xl", g.bin));
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(&p, edit(&text)).unwrap();
        }
        if !g.cmdline.is_empty() {
            std::fs::write(
                gdir.join("args"),
                format!("cmdline = {}\n", xl_str(&g.cmdline)),
            )
            .unwrap();
        }
        if let Some(d) = &g.disk {
            std::fs::copy(d, gdir.join("disk.img")).unwrap();
        }
        if g.attach {
            std::fs::write(gdir.join("attach"), "").unwrap();
        }
        if let Some(c) = &g.check {
            std::fs::write(gdir.join("check.sh"), c).unwrap();
        }
        if let Some(c) = &g.prep {
            std::fs::write(gdir.join("prep.sh"), c).unwrap();
        }
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/xen/dom0.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg(cache_dir())
        .arg(dir.path())
        .output()
        .expect("running tests/xen/dom0.sh (bash)");
    let log = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // Kept for a look after the fact; every run replaces it.
    let _ = std::fs::write(cache_dir().join("last-run.log"), &log);
    assert!(
        out.status.success() && log.contains("=== DOM0 DONE"),
        "the nested Xen run failed (status {:?})\n--- log (tail)\n{}\n--- stderr\n{}",
        out.status.code(),
        tail(&log, 80),
        tail(&stderr, 40)
    );
    let guests = guests
        .iter()
        .map(|g| (g.id.clone(), parse(&log, &g.id)))
        .collect();
    Dom0Run {
        log,
        stderr,
        guests,
    }
}

/// The lines between `=== GUEST ID WHAT BEGIN` and `=== GUEST ID WHAT END`.
fn section(log: &str, id: &str, what: &str) -> String {
    let begin = format!("=== GUEST {id} {what} BEGIN");
    let end = format!("=== GUEST {id} {what} END");
    let mut out = String::new();
    let mut inside = false;
    for line in log.lines() {
        let l = line.trim_end_matches('\r');
        if l.starts_with(&begin) {
            inside = true;
        } else if let Some(at) = l.find(&end).filter(|_| inside) {
            // A console whose last line has no newline runs into the marker.
            out.push_str(&l[..at]);
            break;
        } else if inside && !l.starts_with("(XEN)") {
            // Xen's own messages share the serial line; they are not the guest's.
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

fn uptime(log: &str, marker: &str) -> f64 {
    log.lines()
        .find_map(|l| l.trim_end().strip_prefix(marker))
        .and_then(|rest| rest.trim().strip_prefix("up="))
        .and_then(|t| t.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The log from the last run of guest `id` on (the harness runs a guest
/// that hung once more; see init.sh), and how many runs it had.
fn last_run<'a>(log: &'a str, id: &str) -> (&'a str, usize) {
    let begin = format!("=== GUEST {id} BEGIN");
    let runs = log.matches(&begin).count();
    (log.rfind(&begin).map_or(log, |at| &log[at..]), runs)
}

fn parse(full: &str, id: &str) -> GuestRun {
    let (log, runs) = last_run(full, id);
    let mut r = GuestRun {
        runs,
        console: section(log, id, "CONSOLE"),
        disk: section(log, id, "DISK"),
        attach: section(log, id, "ATTACH"),
        check: section(log, id, "CHECK"),
        xl: section(log, id, "XL"),
        prep: section(log, id, "PREP"),
        create_failed: log.contains(&format!("=== GUEST {id} CREATE FAILED")),
        timed_out: log.contains(&format!("=== GUEST {id} TIMEOUT")),
        t_create: uptime(log, &format!("=== GUEST {id} CREATE")),
        t_created: uptime(log, &format!("=== GUEST {id} CREATED")),
        t_gone: uptime(log, &format!("=== GUEST {id} GONE")),
        ..GuestRun::default()
    };
    let check_end = format!("=== GUEST {id} CHECK END status=");
    r.check_status = log
        .lines()
        .find_map(|l| l.trim_end().strip_prefix(&check_end))
        .and_then(|s| s.parse().ok());
    let created = format!("=== GUEST {id} CREATE up=");
    let mut inside = false;
    for line in log.lines() {
        if line.starts_with(&created) {
            inside = true;
        } else if line.starts_with(&format!("=== GUEST {id} CREATED")) {
            break;
        } else if inside {
            r.create.push_str(line);
            r.create.push('\n');
        }
    }
    r
}

/// A dom0 script for a network guest: wait until its console has `ready`
/// (at most 60 s), forget stale neighbours (guests share 10.0.0.2), run
/// `body`, then destroy the domain (servers never exit by themselves).
pub fn net_check(ready: &str, body: &str) -> String {
    format!(
        "d=$1; log=$2; i=0\n\
         while ! grep -q '{ready}' $log 2>/dev/null; do\n\
         i=$((i+1)); if [ $i -gt 600 ]; then echo 'CHECK: the guest never got ready'; xl destroy $d; exit 1; fi\n\
         usleep 100000\n\
         done\n\
         ip neigh flush dev xenbr0\n\
         {body}\n\
         s=$?\n\
         xl destroy $d\n\
         exit $s\n"
    )
}
