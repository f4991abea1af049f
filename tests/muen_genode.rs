//! The muen and genode targets, which cannot run on this machine (Muen
//! needs VT-x and VT-d; Genode its own toolchain and system):
//!
//! - both images are read with binutils' `readelf`, an independent reader,
//!   and checked against what Solo5's tools and Genode's loader expect
//!   (type, entry, segments, notes, interpreter, needed library, symbols);
//! - genode images run: the host's dynamic linker loads them against a
//!   TEST DOUBLE of Genode's `solo5.lib.so` (`tests/genode/`, built here
//!   with `cc`), whose loader calls `solo5_app_main` as Genode's did.
//!
//! Needs binutils and a C compiler; the network test needs root,
//! /dev/net/tun, iproute2 and iputils-ping. A missing tool fails the test.

mod bootable;
mod unikernel;

use bootable::{Ns, copy_fixture, ping_answers, stop};
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
