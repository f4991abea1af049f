//! The examples on the Solo5-ABI targets. spt images run under the spt
//! tender linked into unikc (`unikc run -t spt`); networking uses a tap in
//! a network namespace whose Linux side is the peer. hvt images are built
//! and checked against the Solo5 contract (notes, manifest bytes, segments)
//! and run where `/dev/kvm` runs ring-0 SSE code; on the paravirtual KVM of
//! the development machines the run must fail with the tender's
//! explanation. Needs root, /dev/net/tun, iproute2, iputils-ping and radvd.

mod bootable;
mod unikernel;

use bootable::{Ns, check_block_pattern, copy_fixture, ping_answers, stop, tcp_echoes};
use std::path::Path;
use unik_solo5::manifest::{Kind, note_bytes};
use unik_tender::image::{Image, Target};
use unikernel::{copy_example, messages, run};

#[test]
fn spt_hello_prints_and_exits_0() {
    let (_tmp, dir) = copy_example("hello");
    let out = run(&dir, &["-t", "spt"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "hello\n".repeat(4), "{}", out.all());
    assert!(out.stderr.contains("Running unikc-spt"), "{}", out.all());
}

#[test]
fn spt_boot_arguments_reach_the_guest() {
    let (_tmp, dir) = copy_example("hello-key");
    let out = run(&dir, &["-t", "spt", "--hello=Bonjour !"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "Bonjour !\n".repeat(4), "{}", out.all());
    let out = run(&dir, &["-t", "spt", "--", "--nope=1"]);
    assert_eq!(out.code, 2, "{}", out.all());
}

#[test]
fn spt_panicking_guest_exits_101_with_its_message() {
    let (_tmp, dir) = copy_fixture("panic");
    let out = run(&dir, &["-t", "spt"]);
    assert_eq!(out.code, 101, "{}", out.all());
    assert!(
        out.stdout.contains("about to panic\n")
            && out.stdout.contains("panic: ")
            && out.stdout.contains("the guest panics on purpose"),
        "{}",
        out.all()
    );
}

#[test]
fn spt_block_reads_and_writes_the_file() {
    let (_tmp, dir) = copy_example("block");
    let disk = dir.join("storage");
    std::fs::write(&disk, vec![0xa5u8; 1 << 20]).unwrap();
    let out = run(&dir, &["-t", "spt"]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.assert_logged(&["[block] verified 8 sectors"]);
    assert!(
        out.stderr
            .contains(&format!("--block:storage={}", disk.display())),
        "{}",
        out.all()
    );
    check_block_pattern(&disk);
}

#[test]
fn spt_kv_ro_serves_its_embedded_files() {
    let (_tmp, dir) = copy_example("kv_ro");
    let out = run(&dir, &["-t", "spt"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let lines = messages(&out.stdout);
    out.assert_logged(&["[kv_ro] secret: foo bar"]);
    assert_eq!(lines.len(), 4, "{}", out.all());
}

#[test]
fn spt_ping_answers_linux_over_a_tap() {
    let (_tmp, dir) = copy_example("ping");
    unikernel::build(&dir, &["-t", "spt"]);
    let ns = Ns::new("sping");
    let mut server = ns.unikernel(&dir, &["-t", "spt"]);
    ping_answers(&ns, &mut server);
    let log = stop(server);
    assert!(log.contains("--net:service=tap0"), "{log}");
    assert!(
        log.lines()
            .filter(|l| l.contains("echo request from 10.0.0.1") && l.ends_with("8000 bytes"))
            .count()
            == 3,
        "{log}"
    );
}

#[test]
fn spt_tcp_echo_answers_linux_over_a_tap() {
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &["-t", "spt"]);
    let ns = Ns::new("stcp");
    let mut server = ns.unikernel(&dir, &["-t", "spt", "--net:service=tap0"]);
    tcp_echoes(&ns, &mut server, 1 << 20);
    let log = stop(server);
    assert!(log.contains("echoed 1048576 bytes"), "{log}");
}

#[test]
fn spt_ping6_both_ways_including_fragments() {
    let (_tmp, dir) = copy_example("ping6");
    unikernel::build(&dir, &["-t", "spt"]);
    let log = bootable::ping6_both_ways("v6b-sping6", &dir, &["-t", "spt"]);
    assert!(log.contains("--net:service=tap0"), "{log}");
}

#[test]
fn spt_network_v6_echoes_tcp_and_udp_over_both_families() {
    let (_tmp, dir) = copy_example("network-v6");
    unikernel::build(&dir, &["-t", "spt"]);
    bootable::network_v6_echoes("v6b-snet6", &dir, &["-t", "spt"], 1 << 20);
}

/// `ping6` with no static address on a link where radvd advertises `2001:db8:1::/64`:
/// the unikernel forms its address by SLAAC and Linux pings it there.
#[test]
fn spt_ping6_gets_a_slaac_address_from_radvd() {
    let (_tmp, dir) = copy_example("ping6");
    unikernel::build(&dir, &["-t", "spt"]);
    bootable::slaac_from_radvd("v6b-sslaac", &dir, &["-t", "spt"]);
}

/// The raw bytes of the first note of each PT_NOTE.
fn notes(image: &[u8]) -> Vec<Vec<u8>> {
    let elf = unik_tender::elf::parse(image).unwrap();
    elf.phdrs
        .iter()
        .filter(|p| p.p_type == 4)
        .map(|p| image[p.offset as usize..(p.offset + p.filesz) as usize].to_vec())
        .collect()
}

/// Checks an image against the contract: ELF and segment rules, the ABI1
/// note of `target`, and exactly the manifest `devices` give.
fn check_solo5_image(path: &Path, target: Target, devices: &[(&str, Kind)]) {
    let bytes = std::fs::read(path).unwrap();
    let image = Image::from_bytes(bytes.clone(), target)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // Segments fit 512 MiB at or above 1 MiB, entry in text.
    let (segments, end) = image.plan(512 << 20).unwrap();
    assert!(segments.iter().all(|s| s.vaddr >= 0x10_0000));
    assert!(end > 0x10_0000);
    let names: Vec<(&str, &str)> = image
        .manifest
        .devices
        .iter()
        .map(|d| (d.name.as_str(), d.kind.name()))
        .collect();
    let expected: Vec<(&str, &str)> = devices
        .iter()
        .map(|(n, k)| {
            (
                *n,
                match k {
                    Kind::Net => "NET_BASIC",
                    Kind::Block => "BLOCK_BASIC",
                },
            )
        })
        .collect();
    assert_eq!(names, expected, "{}", path.display());
    let notes = notes(&bytes);
    assert_eq!(
        notes.len(),
        4,
        "one PT_NOTE per note: OpenBSD, ABI1, MFT1, unikc's VNH1"
    );
    assert_eq!(&notes[0][12..20], b"OpenBSD\0", "the OpenBSD note first");
    assert!(image.vnet, "the VNH1 note");
    // Upstream's no-exec marker: an interpreter that does not exist.
    let interp = image
        .elf
        .phdrs
        .iter()
        .find(|p| p.p_type == 3)
        .expect("PT_INTERP");
    assert_eq!(
        &bytes[interp.offset as usize..][..20],
        b"/nonexistent/solo5/\0"
    );
    let err = std::process::Command::new(path)
        .output()
        .expect_err("the host ran the image");
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    let (abi_target, abi_version) = target.abi();
    let mut abi = vec![6, 0, 0, 0, 16, 0, 0, 0];
    abi.extend_from_slice(&0x3149_4241u32.to_le_bytes());
    abi.extend_from_slice(b"Solo5\0\0\0");
    abi.extend_from_slice(&abi_target.to_le_bytes());
    abi.extend_from_slice(&abi_version.to_le_bytes());
    abi.extend_from_slice(&[0; 8]);
    assert!(notes.contains(&abi), "ABI1 note of {}", target.name());
    let mft = note_bytes(devices).unwrap();
    assert!(
        notes.contains(&mft),
        "MFT1 note bytes of {}",
        path.display()
    );
}

#[test]
fn spt_and_hvt_images_follow_the_solo5_contract() {
    for (example, devices) in [
        ("hello", &[][..]),
        ("block", &[("storage", Kind::Block)][..]),
        ("tcp-echo", &[("service", Kind::Net)][..]),
    ] {
        let (_tmp, dir) = copy_example(example);
        for (t, target) in [("spt", Target::Spt), ("hvt", Target::Hvt)] {
            unikernel::build(&dir, &["-t", t]);
            check_solo5_image(&dir.join(format!("dist/{example}.{t}")), target, devices);
            // The spt tender refuses the hvt image and the other way round.
            let other = if target == Target::Spt {
                Target::Hvt
            } else {
                Target::Spt
            };
            let bytes = std::fs::read(dir.join(format!("dist/{example}.{t}"))).unwrap();
            assert!(Image::from_bytes(bytes, other).is_err());
        }
    }
}

#[test]
fn bad_manifest_names_are_refused_when_configuring() {
    let (_tmp, dir) = copy_example("block");
    let config = dir.join("config.unik");
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("block_of_file \"storage\"", "block_of_file \"disk.img\"");
    std::fs::write(&config, text).unwrap();
    for t in ["spt", "hvt"] {
        let out = unikernel::unikc(&dir, &["configure", "-t", t]);
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.stderr.contains("E0707"), "{}", out.all());
        assert!(out.stderr.contains("`disk.img` cannot name a Solo5 device"));
        assert!(!dir.join(format!("_build/block-{t}")).exists());
    }
    // virtio names are labels, not manifest entries.
    let out = unikernel::unikc(&dir, &["configure", "-t", "virtio"]);
    assert_eq!(out.code, 0, "{}", out.all());
}

#[test]
fn hvt_runs_where_kvm_can_and_explains_itself_where_not() {
    let (_tmp, dir) = copy_example("hello");
    let out = run(&dir, &["-t", "hvt"]);
    if out.code == 0 {
        // Hardware KVM: the image booted.
        eprintln!("hvt: /dev/kvm ran the Rust image");
        assert_eq!(out.stdout, "hello\n".repeat(4), "{}", out.all());
    } else {
        // The paravirtual KVM of the development machines (or none).
        eprintln!("hvt: /dev/kvm cannot run the Rust image here; checked the report");
        assert_eq!(out.code, 1, "{}", out.all());
        assert!(out.stderr.contains("unikc-hvt: "), "{}", out.all());
        assert!(
            out.stderr.contains("KVM") || out.stderr.contains("/dev/kvm"),
            "{}",
            out.all()
        );
    }
}

/// static-website on spt, over a tap: the HTTP checks of `unikernel::http` with curl.
#[test]
fn spt_static_website_answers_curl() {
    unikernel::require(&["ip", "curl"]);
    let (_tmp, dir) = unikernel::copy_example("static-website");
    unikernel::build(&dir, &["-t", "spt"]);
    let ns = unikernel::Ns::new("sweb");
    let mut server = ns.unikernel(&dir, &["-t", "spt", "--net:service=tap0", "--port=80"]);
    let base = format!("http://{}", unikernel::OURS);
    unikernel::eventually(&mut server, || {
        let (code, _, err) = unikernel::http::run(&|| ns.cmd("curl"), &["-o", "/dev/null", &base]);
        if code == 0 { Ok(()) } else { Err(err) }
    });
    let index = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    unikernel::http::checks(&|| ns.cmd("curl"), &base, &index);
    drop(unikernel::stop(server));
}
