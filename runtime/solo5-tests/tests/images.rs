//! Every test image against Solo5 0.12's loader rules and the exact bytes
//! of its notes; the linker script against the freestanding template.

use std::fs;

use unik_solo5::manifest::{Kind, note_bytes};
use unik_solo5_tests::{Kernels, image, kernels_dir, upstream};

const SPT: u32 = 2;
const HVT: u32 = 1;

fn devices(names: &[(&str, Kind)]) -> Vec<(String, u32)> {
    names
        .iter()
        .map(|(n, k)| (n.to_string(), k.code()))
        .collect()
}

fn check(k: Kernels, name: &str, target: u32, declared: &[(&str, Kind)]) {
    let data = fs::read(image(k, name)).unwrap();
    let facts = upstream::check(&data, target).unwrap_or_else(|e| panic!("{k:?}/{name}: {e}"));
    assert_eq!(facts.abi, (target, 2));
    assert_eq!(facts.devices, devices(declared), "{k:?}/{name}");
    assert_eq!(
        facts.mft_note,
        note_bytes(declared).unwrap(),
        "{k:?}/{name}: MFT1 note differs from unik_solo5::manifest::note_bytes"
    );
    let (text, ..) = facts.loads[0];
    assert_eq!(text, 0x10_0000);
    assert!(facts.loads.len() >= 2, "text plus read-only data at least");
}

#[test]
fn spt_images_follow_the_solo5_rules() {
    check(Kernels::Spt, "hello", SPT, &[]);
    check(Kernels::Spt, "panic", SPT, &[]);
    check(Kernels::Spt, "forbidden", SPT, &[]);
    check(Kernels::Spt, "block", SPT, &[("storage", Kind::Block)]);
    check(Kernels::Spt, "net", SPT, &[("service", Kind::Net)]);
    check(Kernels::Spt, "tcp_echo", SPT, &[("service", Kind::Net)]);
    check(Kernels::Spt, "kv_ro", SPT, &[]);
}

#[test]
fn hvt_images_follow_the_solo5_rules() {
    check(Kernels::Hvt, "hello", HVT, &[]);
    check(Kernels::Hvt, "panic", HVT, &[]);
    check(Kernels::Hvt, "block", HVT, &[("storage", Kind::Block)]);
    check(Kernels::Hvt, "net", HVT, &[("service", Kind::Net)]);
    check(Kernels::Hvt, "tcp_echo", HVT, &[("service", Kind::Net)]);
    check(Kernels::Hvt, "kv_ro", HVT, &[]);
    check(
        Kernels::HvtAsm,
        "hvt-asm",
        HVT,
        &[("service", Kind::Net), ("storage", Kind::Block)],
    );
}

#[test]
fn a_target_is_not_accepted_for_the_other() {
    let spt = fs::read(image(Kernels::Spt, "hello")).unwrap();
    assert!(upstream::check(&spt, HVT).unwrap_err().contains("ABI1"));
    let hvt = fs::read(image(Kernels::Hvt, "hello")).unwrap();
    assert!(upstream::check(&hvt, SPT).unwrap_err().contains("ABI1"));
}

#[test]
fn the_checker_rejects_what_solo5_rejects() {
    let host = fs::read(std::env::current_exe().unwrap()).unwrap();
    assert!(
        upstream::check(&host, SPT).is_err(),
        "a host (PIE) executable"
    );
    let good = fs::read(image(Kernels::Spt, "block")).unwrap();
    let facts = upstream::check(&good, SPT).unwrap();
    let at = good
        .windows(facts.mft_note.len())
        .position(|w| w == facts.mft_note.as_slice())
        .expect("the MFT1 note is in the file");
    let entry1 = at + 24 + 8 + 104;
    let find = |needle: &[u8]| {
        good.windows(needle.len())
            .position(|w| w == needle)
            .expect("in the file")
    };
    let interp = find(b"/nonexistent/solo5/") + 1;
    let openbsd = find(b"OpenBSD\0") - 12;
    // (what, file offset, new byte)
    let mutations = [
        ("bad name", entry1, b'-'),
        ("attached", entry1 + 96, 1),
        ("version", at + 24, 2),
        ("type", entry1 + 68, 7),
        ("ET_DYN", 16, 3),
        ("interpreter", interp, b'/'),
        ("OpenBSD note", openbsd + 12, b'N'),
    ];
    for (what, offset, byte) in mutations {
        let mut d = good.clone();
        d[offset] = byte;
        assert!(upstream::check(&d, SPT).is_err(), "{what} accepted");
    }
}

#[test]
fn linker_script_is_the_rendered_template() {
    let template = fs::read_to_string(kernels_dir().join("../../freestanding/link.ld.in")).unwrap();
    let script = fs::read_to_string(kernels_dir().join("link.ld")).unwrap();
    assert_eq!(
        unik_solo5::link::render(&template),
        script,
        "regenerate kernels/link.ld with unik_solo5::link::render"
    );
}

/// Run directly, an image finds no interpreter: `execve` fails with ENOENT
/// (a shell says 127) and nothing of the image runs.
#[test]
fn the_host_refuses_to_run_an_image() {
    for (k, name) in [
        (Kernels::Spt, "hello"),
        (Kernels::Hvt, "hello"),
        (Kernels::HvtAsm, "hvt-asm"),
    ] {
        let path = image(k, name);
        let err = std::process::Command::new(&path)
            .output()
            .expect_err("the host ran a Solo5 image");
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{k:?}/{name}");
        let out = std::process::Command::new("sh")
            .args(["-c", "exec \"$0\""])
            .arg(&path)
            .output()
            .expect("running sh");
        assert_eq!(out.status.code(), Some(127), "{k:?}/{name}: {out:?}");
        assert!(out.stdout.is_empty(), "{k:?}/{name}: {out:?}");
    }
}
