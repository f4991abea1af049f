//! The muen and genode targets, which cannot run on this machine (Muen
//! needs VT-x and VT-d; Genode its own toolchain and system):
//!
//! - both images are read with binutils' `readelf`, an independent reader,
//!   and checked against what Solo5's tools and Genode's loader expect
//!   (type, entry, segments, notes, interpreter, needed library, symbols);
//! - genode images run: the host's dynamic linker loads them against a
//!   TEST DOUBLE of Genode's `solo5.lib.so` (`tests/genode/`, built here
//!   with `cc`), whose loader calls `solo5_app_main` as Genode's did;
//! - muen images run under QEMU TCG on a harness playing Muen's side
//!   (`tests/muen/harness.S`), their network channels bridged to a tap by
//!   the harness's peer subject (`tests/muen/peer.rs`) through the VM's
//!   RAM, shared as a file in /dev/shm.
//!
//! Needs binutils, a C compiler and qemu-system-x86_64; the network tests
//! need root, /dev/net/tun, iproute2 and iputils-ping. A missing tool fails
//! the test.

mod bootable;
#[path = "muen/peer.rs"]
mod muen_peer;
mod unikernel;

use bootable::{Ns, copy_fixture, ping_answers, stop, tcp_echoes};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use unikernel::{Running, copy_example, output};

fn readelf(args: &[&str], image: &Path) -> String {
    let out = Command::new("readelf")
        .args(["-W"])
        .args(args)
        .arg(image)
        .output()
        .expect("`readelf` is missing: install binutils");
    assert!(out.status.success(), "readelf {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `(type, flags)` of each program header, in order.
fn segments(image: &Path) -> Vec<(String, String)> {
    let text = readelf(&["-l"], image);
    let mut out = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        if line.trim_start().starts_with("Type") {
            in_table = true;
            continue;
        }
        if in_table {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.is_empty() || line.contains("Section to Segment") {
                break;
            }
            if f[0].starts_with('[') {
                continue;
            }
            // Type Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
            let flags = f[6..f.len() - 1].join("");
            out.push((f[0].to_string(), flags));
        }
    }
    out
}

fn header_field(image: &Path, field: &str) -> String {
    readelf(&["-h"], image)
        .lines()
        .find_map(|l| l.trim().strip_prefix(field).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no `{field}` in readelf -h"))
}

/// The bytes of a section, from `readelf -x`: each line is an address,
/// four 8-digit groups (36 columns, short on the last line), then ASCII.
fn section_bytes(image: &Path, section: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for line in readelf(&["-x", section], image).lines() {
        let line = line.trim_start();
        if !line.starts_with("0x") {
            continue;
        }
        let Some(at) = line.find(' ') else { continue };
        let hex: String = line[at + 1..]
            .chars()
            .take(36)
            .filter(|c| !c.is_whitespace())
            .collect();
        for i in (0..hex.len()).step_by(2) {
            out.push(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
        }
    }
    out
}

fn built(dir: &Path, target: &str, name: &str) -> PathBuf {
    unikernel::build(dir, &["-t", target]);
    let image = dir.join("dist").join(format!("{name}.{target}"));
    assert!(image.is_file(), "{} is missing", image.display());
    image
}

#[test]
fn muen_images_follow_the_solo5_muen_layout() {
    let (_tmp, dir) = copy_example("ping");
    let image = built(&dir, "muen", "ping");
    assert_eq!(header_field(&image, "Type:"), "EXEC (Executable file)");
    let entry = header_field(&image, "Entry point address:");
    let entry = u64::from_str_radix(entry.trim_start_matches("0x"), 16).unwrap();
    let start = readelf(&["-s"], &image)
        .lines()
        .find(|l| l.ends_with(" _start"))
        .map(|l| u64::from_str_radix(l.split_whitespace().nth(1).unwrap(), 16).unwrap())
        .expect("a _start symbol");
    assert_eq!(entry, start, "the entry is _start");
    assert!(
        (0x20_0000..0x20_1000).contains(&entry),
        "_start opens .text at 2 MiB: {entry:#x}"
    );
    let seg = segments(&image);
    let kinds: Vec<&str> = seg.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(kinds[0], "INTERP", "{seg:?}");
    let loads: Vec<&str> = seg
        .iter()
        .filter(|(t, _)| t == "LOAD")
        .map(|(_, f)| f.as_str())
        .collect();
    assert_eq!(
        &loads[..3],
        ["RE", "R", "RW"],
        "text, rodata, data: {seg:?}"
    );
    assert_eq!(loads.last(), Some(&"RW"), "bss: {seg:?}");
    assert!(kinds.contains(&"TLS"), "{seg:?}");
    assert_eq!(
        &kinds[kinds.len() - 3..],
        ["NOTE", "NOTE", "NOTE"],
        "{seg:?}"
    );
    assert!(
        !seg.iter().any(|(_, f)| f.contains('W') && f.contains('E')),
        "W^X: {seg:?}"
    );
    let l = readelf(&["-l"], &image);
    assert!(
        l.contains("[Requesting program interpreter: /nonexistent/solo5/]"),
        "{l}"
    );
    // Each note in its own PT_NOTE, in upstream's order. readelf cannot
    // decode MFT1 (an 8-aligned note with Solo5's 4-aligned header, as
    // upstream's), so its bytes are compared from the section dump.
    let n = readelf(&["-n"], &image);
    let sections: Vec<&str> = n
        .lines()
        .filter_map(|l| l.strip_prefix("Displaying notes found in: "))
        .collect();
    assert_eq!(
        sections,
        [
            ".note.solo5.not_openbsd",
            ".note.solo5.abi",
            ".note.solo5.manifest"
        ],
        "{n}"
    );
    assert!(n.contains("OpenBSD"), "{n}");
    assert!(n.contains("0x31494241"), "ABI1: {n}");
    assert!(
        n.contains("description data: 04 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00"),
        "ABI1 target 4 (muen), version 4: {n}"
    );
    let expected = unik_solo5::manifest::note_bytes(&[("service", unik_solo5::Kind::Net)]).unwrap();
    let bytes = section_bytes(&image, ".note.solo5.manifest");
    assert_eq!(bytes, expected, "MFT1 note bytes");
    // Linux refuses to run it (the interpreter does not exist).
    let run = Command::new(&image).stderr(Stdio::null()).status();
    assert!(run.is_err(), "the host executed a muen image: {run:?}");
}

#[test]
fn genode_images_are_shared_objects_importing_solo5() {
    let (_tmp, dir) = copy_example("ping");
    let image = built(&dir, "genode", "ping");
    assert_eq!(header_field(&image, "Type:"), "DYN (Shared object file)");
    assert_eq!(header_field(&image, "Entry point address:"), "0x0");
    let seg = segments(&image);
    let kinds: Vec<&str> = seg.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "PHDR",
            "INTERP",
            "LOAD",
            "LOAD",
            "DYNAMIC",
            "GNU_EH_FRAME",
            "NOTE"
        ],
        "Genode's dynamic layout plus the manifest note: {seg:?}"
    );
    assert!(
        !seg.iter().any(|(_, f)| f.contains('W') && f.contains('E')),
        "W^X: {seg:?}"
    );
    let l = readelf(&["-l"], &image);
    assert!(
        l.contains("[Requesting program interpreter: ld.lib.so]"),
        "{l}"
    );
    let d = readelf(&["-d"], &image);
    let needed: Vec<&str> = d.lines().filter(|l| l.contains("(NEEDED)")).collect();
    assert_eq!(needed.len(), 1, "{d}");
    assert!(needed[0].contains("[solo5.lib.so]"), "{d}");
    let n = readelf(&["-n"], &image);
    assert!(
        n.contains(".note.solo5.manifest") && !n.contains("0x31494241"),
        "MFT1, no ABI1: {n}"
    );
    let expected = unik_solo5::manifest::note_bytes(&[("service", unik_solo5::Kind::Net)]).unwrap();
    assert_eq!(section_bytes(&image, ".note.solo5.manifest"), expected);
    let syms = readelf(&["--dyn-syms"], &image);
    let undefined: Vec<&str> = syms
        .lines()
        .filter(|l| l.contains(" UND ") && l.split_whitespace().count() >= 8)
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    for f in [
        "solo5_console_write",
        "solo5_clock_monotonic",
        "solo5_yield",
        "solo5_net_acquire",
        "solo5_net_read",
        "solo5_net_write",
        "solo5_exit",
    ] {
        assert!(undefined.contains(&f), "{f} is not imported: {undefined:?}");
    }
    assert!(
        undefined.iter().all(|s| s.starts_with("solo5_")),
        "imports beyond solo5.h: {undefined:?}"
    );
    let exported: Vec<&str> = syms
        .lines()
        .filter(|l| l.contains(" GLOBAL ") && !l.contains(" UND "))
        .map(|l| l.split_whitespace().last().unwrap())
        .collect();
    assert!(exported.contains(&"solo5_app_main"), "{syms}");
    assert!(exported.contains(&"_ctors_start"), "{syms}");
}

// ----- genode images under the host's dynamic linker and the test double -----

/// The test double `solo5.lib.so` and its loader, compiled once.
fn double() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let src = unikernel::repo().join("tests/genode");
            let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("genode-double");
            std::fs::create_dir_all(&dir).unwrap();
            let cc = |args: &[&str]| {
                let out = Command::new("cc")
                    .args(args)
                    .current_dir(&dir)
                    .output()
                    .expect("`cc` is missing: install a C compiler");
                assert!(out.status.success(), "cc {args:?}: {out:?}");
            };
            let lib_src = src.join("solo5_test_double.c");
            let loader_src = src.join("genode_test_loader.c");
            cc(&[
                "-shared",
                "-fPIC",
                "-O2",
                "-Wall",
                "-Werror",
                "-Wl,-soname,solo5.lib.so",
                "-o",
                "solo5.lib.so",
                lib_src.to_str().unwrap(),
            ]);
            let rpath = format!("-Wl,-rpath,{}", dir.display());
            cc(&[
                "-O2",
                "-Wall",
                "-Werror",
                "-o",
                "genode_test_loader",
                loader_src.to_str().unwrap(),
                "-L.",
                "-l:solo5.lib.so",
                &rpath,
                "-ldl",
            ]);
            dir.join("genode_test_loader")
        })
        .clone()
}

fn load(image: &Path, args: &[&str]) -> unikernel::Output {
    let mut c = Command::new(double());
    c.arg(image).args(args).stdin(Stdio::null());
    output(c)
}

#[test]
fn genode_hello_prints_and_exits_0() {
    let (_tmp, dir) = copy_example("hello");
    let image = built(&dir, "genode", "hello");
    let out = load(&image, &[]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "hello\n".repeat(4), "{}", out.all());
}

#[test]
fn genode_boot_arguments_reach_the_image() {
    let (_tmp, dir) = copy_example("hello-key");
    let image = built(&dir, "genode", "hello-key");
    // The command line as Genode's config `<cmdline>` (or a tender) holds it.
    let line = unik_resolver::bootargs::join(&["--hello=Bonjour !"]);
    let out = load(&image, &[&line]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "Bonjour !\n".repeat(4), "{}", out.all());
    let out = load(&image, &["--nope=1"]);
    assert_eq!(out.code, 2, "an unknown key: {}", out.all());
}

#[test]
fn genode_panicking_image_exits_101_with_its_message() {
    let (_tmp, dir) = copy_fixture("panic");
    let image = built(&dir, "genode", "panics");
    let out = load(&image, &[]);
    assert_eq!(out.code, 101, "{}", out.all());
    assert!(
        out.stdout.contains("about to panic\n")
            && out.stdout.contains("the guest panics on purpose"),
        "{}",
        out.all()
    );
}

#[test]
fn genode_ping_answers_linux_over_a_tap() {
    let (_tmp, dir) = copy_example("ping");
    let image = built(&dir, "genode", "ping");
    let loader = double();
    let ns = Ns::new("gping");
    let child = ns
        .cmd(loader.to_str().unwrap())
        .arg("--net:service=tap0")
        .arg(&image)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the test loader");
    let mut server = Running(child);
    ping_answers(&ns, &mut server);
    let log = stop(server);
    assert_eq!(
        log.lines()
            .filter(|l| l.contains("echo request from 10.0.0.1") && l.ends_with("8000 bytes"))
            .count(),
        3,
        "{log}"
    );
}

#[test]
fn genode_tcp_echo_answers_linux_over_a_tap() {
    let (_tmp, dir) = copy_example("tcp-echo");
    let image = built(&dir, "genode", "tcp-echo");
    let ns = Ns::new("gtcp");
    let child = ns
        .cmd(double().to_str().unwrap())
        .arg("--net:service=tap0")
        .arg(&image)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the test loader");
    let mut server = Running(child);
    tcp_echoes(&ns, &mut server, 1 << 20);
    let log = stop(server);
    assert!(log.contains("echoed 1048576 bytes"), "{log}");
}

// ----- muen images under a harness playing Muen's side (QEMU TCG) -----

/// Where the harness maps the resources Muen would (sinfo first).
const MUEN_VA: u64 = 0xe_0000_0000;
/// Their physical address, above the subject's memory.
const BLOB_PHYS: u64 = 0x800_0000;
/// 2 MiB pages the harness maps from BLOB_PHYS at MUEN_VA.
const BLOB_PAGES: u64 = 2;
/// The subject's memory: everything below the blob.
const MEM_SIZE: u64 = BLOB_PHYS;
/// The VM's RAM (the blob and the channels lie above the subject's).
const VM_RAM: u64 = 0x1000_0000;
const SCHED_AT: u64 = 0x8000;
const TIME_AT: u64 = 0x9000;
const DEBUGLOG_AT: u64 = 0xa000;
const DEBUGLOG_SIZE: u64 = 0x1_0000;
/// The network channels `service|in` and `service|out`, past the blob
/// QEMU loads (so loading it never clears them), 691 frames each.
const NET_IN_AT: u64 = 0x20_0000;
const NET_OUT_AT: u64 = 0x30_0000;
const NET_SIZE: u64 = 0x10_0000;
const EXIT_EVENT: u8 = 31;
/// The boot information page (`rdi` at entry).
const BOOT_INFO: u64 = 0x1000;

/// The end of the image in memory (the last PT_LOAD's end).
fn image_end(image: &Path) -> u64 {
    let text = readelf(&["-l"], image);
    text.lines()
        .filter(|l| l.trim_start().starts_with("LOAD"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let hex = |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap();
            hex(f[2]) + hex(f[5])
        })
        .max()
        .expect("a PT_LOAD")
}

/// How the harness's Muen keeps time.
#[derive(Clone, Copy)]
enum Clock {
    /// The scheduling page never changes: the clock steps one tick per
    /// reading, and a 1 MHz TSC makes a tick a microsecond.
    Frozen,
    /// The peer subject steps the minor-frame start in nanoseconds (a
    /// 1 GHz TSC), as Muen's scheduler does at each frame.
    Scheduled,
}

/// The blob of Muen resources: sinfo v5, the scheduling page, time_info
/// and an empty debuglog channel (the image initialises it as writer);
/// sinfo also names the network channels when `net`.
fn muen_blob(clock: Clock, net: bool) -> Vec<u8> {
    use unik_solo5::muen::sinfo::build::{Res, page};
    use unik_solo5::muen::sinfo::{MEM_CHANNEL, Memory};
    let mut blob = vec![0u8; (DEBUGLOG_AT + DEBUGLOG_SIZE) as usize];
    let memory = |at: u64, size: u64, kind: u8, writable: bool| Memory {
        kind,
        writable,
        address: MUEN_VA + at,
        size,
    };
    let mut resources = vec![
        Res::Memory("time_info", memory(TIME_AT, 0x1000, 0, false)),
        Res::Memory(
            "debuglog",
            memory(DEBUGLOG_AT, DEBUGLOG_SIZE, MEM_CHANNEL, true),
        ),
        Res::Event("solo5_exit", EXIT_EVENT),
    ];
    if net {
        resources.push(Res::Memory(
            "service|in",
            memory(NET_IN_AT, NET_SIZE, MEM_CHANNEL, false),
        ));
        resources.push(Res::Memory(
            "service|out",
            memory(NET_OUT_AT, NET_SIZE, MEM_CHANNEL, true),
        ));
    }
    page(&mut blob, "unikernel", 1_000, &resources);
    blob[SCHED_AT as usize..][..16].fill(0);
    let rate: u64 = match clock {
        Clock::Frozen => 1_000_000,
        Clock::Scheduled => 1_000_000_000,
    };
    let t = TIME_AT as usize;
    blob[t..t + 8].copy_from_slice(&1_767_225_600_000_000u64.to_le_bytes());
    blob[t + 8..t + 16].copy_from_slice(&rate.to_le_bytes());
    blob
}

/// The boot information page as `mugensolo5` writes it.
fn boot_info(image: &Path, cmdline: &str) -> Vec<u8> {
    let mut page = vec![0u8; 0x1000];
    let fields = [MEM_SIZE, image_end(image), 0, BOOT_INFO + 40, 0];
    for (i, v) in fields.iter().enumerate() {
        page[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
    }
    page[40..40 + cmdline.len()].copy_from_slice(cmdline.as_bytes());
    page
}

/// The harness (tests/muen/harness.S) for this image, assembled and linked.
fn harness(dir: &Path, image: &Path) -> PathBuf {
    let entry = header_field(image, "Entry point address:");
    let src = unikernel::repo().join("tests/muen/harness.S");
    let obj = dir.join("harness.o");
    let out = dir.join("harness");
    let run = |c: &mut Command| {
        let o = c
            .output()
            .expect("`cc` and `ld` are needed (a C toolchain)");
        assert!(o.status.success(), "{c:?}: {o:?}");
    };
    run(Command::new("cc").arg("-c").arg("-o").arg(&obj).arg(&src));
    let defs = [
        format!("MUEN_ENTRY={entry}"),
        format!("BLOB_PHYS={BLOB_PHYS:#x}"),
        format!("BLOB_PAGES={BLOB_PAGES}"),
        format!("STACK_TOP={:#x}", MEM_SIZE - 16),
        format!("DEBUGLOG_VA={:#x}", MUEN_VA + DEBUGLOG_AT),
        format!("EXIT_EVENT={EXIT_EVENT}"),
    ];
    let mut ld = Command::new("ld");
    ld.args(["-nostdlib", "-static", "-Ttext=0x100000", "-e", "pvh_start"]);
    for d in &defs {
        ld.arg("--defsym").arg(d);
    }
    run(ld.arg("-o").arg(&out).arg(&obj));
    out
}

/// QEMU running the harness with `image`, its boot information and the
/// blob (written into `dir`); the VM's RAM is the file `ram` when given.
fn muen_qemu(dir: &Path, image: &Path, cmdline: &str, clock: Clock, ram: Option<&Path>) -> Command {
    let blob = dir.join("blob.bin");
    let info = dir.join("bootinfo.bin");
    std::fs::write(&blob, muen_blob(clock, ram.is_some())).unwrap();
    std::fs::write(&info, boot_info(image, cmdline)).unwrap();
    let harness = harness(dir, image);
    let mut c = Command::new("qemu-system-x86_64");
    c.args(["-accel", "tcg", "-cpu", "max"]);
    match ram {
        Some(file) => {
            c.arg("-object").arg(format!(
                "memory-backend-file,id=ram,size={VM_RAM},mem-path={},share=on",
                file.display()
            ));
            c.args(["-machine", "pc,memory-backend=ram"]);
        }
        None => {
            c.args(["-machine", "pc", "-m"])
                .arg(format!("{}M", VM_RAM >> 20));
        }
    }
    c.args(["-display", "none", "-no-reboot", "-serial", "stdio"])
        .args(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"])
        .arg("-kernel")
        .arg(&harness)
        .arg("-device")
        .arg(format!("loader,file={}", image.display()))
        .arg("-device")
        .arg(format!(
            "loader,file={},addr={BOOT_INFO:#x},force-raw=on",
            info.display()
        ))
        .arg("-device")
        .arg(format!(
            "loader,file={},addr={BLOB_PHYS:#x},force-raw=on",
            blob.display()
        ))
        .stdin(Stdio::null());
    c
}

const QEMU_MISSING: &str = "`qemu-system-x86_64` is missing: install qemu-system-x86";

/// Boots `image` under the harness; the debuglog (drained to the serial
/// port at exit) and the harness's verdict (0x10: the solo5_exit event was
/// raised; 0x20: any other fault).
fn muen_boot(image: &Path, cmdline: &str) -> (String, i32) {
    let tmp = tempfile::tempdir().unwrap();
    let out = muen_qemu(tmp.path(), image, cmdline, Clock::Frozen, None)
        .output()
        .expect(QEMU_MISSING);
    let code = out.status.code().unwrap_or(-1);
    // isa-debug-exit: QEMU exits with (value << 1) | 1.
    let verdict = if code & 1 == 1 { code >> 1 } else { -code };
    (String::from_utf8_lossy(&out.stdout).into_owned(), verdict)
}

#[test]
fn muen_network_devices_without_channels_are_reported() {
    let (_tmp, dir) = copy_example("ping");
    let image = built(&dir, "muen", "ping");
    // sinfo without `service|in` and `service|out`: the image says which
    // channels it lacks (before its heap exists), then stops.
    let (log, verdict) = muen_boot(&image, "");
    assert_eq!(verdict, 0x10, "{log}");
    // The harness prints each 56-character element on a line of its own.
    let text = log.replace('\n', "");
    assert!(
        text.starts_with(
            "muen: no channels `service|in` and `service|out` for network device `service`"
        ) && text.contains("manifest entry 1 is not attached")
            && log.ends_with("Solo5: Halted\n"),
        "{log}"
    );
}

/// A network image under the harness, its channels bridged by the peer
/// subject (tests/muen/peer.rs) to `tap0` of a namespace, where Linux is
/// the peer at 10.0.0.1.
struct MuenNet {
    qemu: Running,
    peer: muen_peer::Peer,
    _dir: tempfile::TempDir,
}

impl MuenNet {
    fn start(image: &Path, ns: &Ns) -> MuenNet {
        use muen_peer::{Chan, Layout, Peer, Ram};
        let ram = std::sync::Arc::new(Ram::new(&ns.name, VM_RAM as usize));
        let tap = ns.thread(|| muen_peer::open_tap("tap0"));
        let dir = tempfile::tempdir().unwrap();
        let child = muen_qemu(dir.path(), image, "", Clock::Scheduled, Some(ram.path()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect(QEMU_MISSING);
        let at = |off: u64| (BLOB_PHYS + off) as usize;
        let chan = |off: u64, len: u64| Chan {
            at: at(off),
            len: len as usize,
        };
        let layout = Layout {
            sched: at(SCHED_AT),
            debuglog: chan(DEBUGLOG_AT, DEBUGLOG_SIZE),
            net_in: chan(NET_IN_AT, NET_SIZE),
            net_out: chan(NET_OUT_AT, NET_SIZE),
        };
        MuenNet {
            qemu: Running(child),
            peer: Peer::start(ram, layout, tap),
            _dir: dir,
        }
    }

    /// Runs `f` on the image; if it fails, the image's log is shown first.
    fn check<T>(self, f: impl FnOnce(&mut Running) -> T) -> (Self, T) {
        let mut vm = self;
        let qemu = &mut vm.qemu;
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(qemu))) {
            Ok(v) => (vm, v),
            Err(e) => {
                let (seen, out) = vm.stop();
                eprintln!("the image's debuglog:\n{}\nQEMU:\n{out}", seen.log);
                std::panic::resume_unwind(e)
            }
        }
    }

    /// Stops QEMU and the peer: what the peer saw, and QEMU's own output.
    fn stop(self) -> (muen_peer::Seen, String) {
        use std::io::Read as _;
        let MuenNet {
            mut qemu,
            peer,
            _dir,
        } = self;
        let _ = qemu.0.kill();
        let _ = qemu.0.wait();
        let mut out = String::new();
        for pipe in [
            qemu.0
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read>),
            qemu.0
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read>),
        ]
        .into_iter()
        .flatten()
        {
            let _ = { pipe }.read_to_string(&mut out);
        }
        (peer.finish(), out)
    }
}

/// Linux's round-trip times to the image: `ping -c COUNT -s SIZE`'s
/// min/avg/max in milliseconds.
fn ping_rtt(ns: &Ns, size: &str, count: &str) -> String {
    let out = ns
        .cmd("ping")
        .args(["-n", "-q", "-c", count, "-i", "0.2", "-s", size, "10.0.0.2"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "ping -s {size}: {text}");
    text.lines()
        .find_map(|l| l.strip_prefix("rtt min/avg/max/mdev = "))
        .map(|v| v.split('/').take(3).collect::<Vec<_>>().join("/"))
        .unwrap_or_else(|| panic!("no rtt line: {text}"))
}

#[test]
fn muen_hello_prints_on_debuglog_and_raises_the_exit_event() {
    let (_tmp, dir) = copy_example("hello");
    let image = built(&dir, "muen", "hello");
    let (log, verdict) = muen_boot(&image, "");
    assert_eq!(verdict, 0x10, "{log}");
    assert_eq!(log, format!("{}Solo5: Halted\n", "hello\n".repeat(4)));
}

#[test]
fn muen_boot_arguments_come_from_the_boot_information() {
    let (_tmp, dir) = copy_example("hello-key");
    let image = built(&dir, "muen", "hello-key");
    let line = unik_resolver::bootargs::join(&["--hello=Bonjour !"]);
    let (log, verdict) = muen_boot(&image, &line);
    assert_eq!(verdict, 0x10, "{log}");
    assert_eq!(log, format!("{}Solo5: Halted\n", "Bonjour !\n".repeat(4)));
    let (log, verdict) = muen_boot(&image, "--nope=1");
    assert_eq!(verdict, 0x10, "{log}");
    assert!(
        log.contains("--nope") && log.ends_with("Solo5: Halted\n"),
        "{log}"
    );
}

#[test]
fn muen_panic_is_logged_then_halts_through_the_exit_event() {
    let (_tmp, dir) = copy_fixture("panic");
    let image = built(&dir, "muen", "panics");
    let (log, verdict) = muen_boot(&image, "");
    assert_eq!(verdict, 0x10, "{log}");
    assert!(
        log.starts_with("about to panic\n")
            && log.contains("the guest panics on purpose")
            && log.ends_with("Solo5: Halted\n"),
        "{log}"
    );
}

#[test]
fn muen_ping_answers_linux_through_the_channels() {
    let (_tmp, dir) = copy_example("ping");
    let image = built(&dir, "muen", "ping");
    let ns = Ns::new("mping");
    let vm = MuenNet::start(&image, &ns);
    let (vm, (small, large)) = vm.check(|qemu| {
        ping_answers(&ns, qemu);
        // Figures for benches/muen.sh (emulated: not comparable with hardware).
        (ping_rtt(&ns, "56", "20"), ping_rtt(&ns, "1472", "20"))
    });
    eprintln!("muen harness: ping rtt min/avg/max ms: 56 bytes {small}, 1472 bytes {large}");
    let (seen, out) = vm.stop();
    assert_eq!(seen.lost, 0, "the peer lost elements: {seen:?}");
    assert_eq!(
        seen.log
            .lines()
            .filter(|l| l.contains("echo request from 10.0.0.1") && l.ends_with("8000 bytes"))
            .count(),
        3,
        "{}\n{out}",
        seen.log
    );
    // Requests: 1 + 3 (1472) + 3 × 6 fragments (8000) + 40 (the figures).
    assert!(
        seen.frames_to_image >= 62 && seen.frames_from_image >= 62,
        "{seen:?}"
    );
}

#[test]
fn muen_tcp_echo_answers_linux_through_the_channels() {
    let (_tmp, dir) = copy_example("tcp-echo");
    let image = built(&dir, "muen", "tcp-echo");
    let ns = Ns::new("mtcp");
    let vm = MuenNet::start(&image, &ns);
    let (vm, secs) = vm.check(|qemu| {
        // The first connection waits for the image to listen.
        tcp_echoes(&ns, qemu, 1 << 10);
        let t = std::time::Instant::now();
        tcp_echoes(&ns, qemu, 1 << 20);
        t.elapsed().as_secs_f64()
    });
    eprintln!(
        "muen harness: TCP echo of 1 MiB in {secs:.2} s, {:.2} MB/s each way",
        1.048_576 / secs
    );
    let (seen, out) = vm.stop();
    assert_eq!(seen.lost, 0, "the peer lost elements: {seen:?}");
    assert!(
        seen.log.contains("echoed 1024 bytes") && seen.log.contains("echoed 1048576 bytes"),
        "{}\n{out}",
        seen.log
    );
}
