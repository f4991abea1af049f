//! The examples on the virtio target: `unikc build -t virtio` makes a PVH
//! image and `unikc run -t virtio` boots it under QEMU with TCG (these
//! machines' KVM cannot run ring-0 SSE code). Networking uses a tap device
//! in a network namespace whose Linux side is the peer. Needs
//! qemu-system-x86_64, root, /dev/net/tun, iproute2 and iputils-ping: a
//! missing one fails the test, it never skips.

mod bootable;
mod unikernel;

use bootable::{Ns, check_block_pattern, copy_fixture, ping_answers, stop, tcp_echoes};
use std::path::Path;
use unikernel::{copy_example, messages, run};

fn qemu_installed() {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("qemu-system-x86_64").is_file())
    });
    assert!(
        found,
        "qemu-system-x86_64 is missing: apt-get install qemu-system-x86"
    );
}

#[test]
fn hello_prints_and_exits_0() {
    qemu_installed();
    let (_tmp, dir) = copy_example("hello");
    let out = run(&dir, &["-t", "virtio"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "hello\n".repeat(4), "{}", out.all());
    // No devices: the PCI-less microvm machine.
    assert!(
        out.stderr.contains("-M microvm -accel tcg"),
        "{}",
        out.all()
    );
    assert!(dir.join("dist/hello.virtio").is_file());
    let xml = std::fs::read_to_string(dir.join("dist/hello_libvirt.xml")).unwrap();
    assert!(
        xml.contains(&format!(
            "<kernel>{}</kernel>",
            dir.join("dist/hello.virtio").display()
        )),
        "{xml}"
    );
}

#[test]
fn boot_arguments_go_on_the_kernel_command_line() {
    qemu_installed();
    let (_tmp, dir) = copy_example("hello-key");
    let out = run(&dir, &["-t", "virtio", "--hello=Bonjour !"]);
    assert_eq!(out.code, 0, "{}", out.all());
    assert_eq!(out.stdout, "Bonjour !\n".repeat(4), "{}", out.all());
    let out = run(&dir, &["-t", "virtio", "--", "--hello=Hola"]);
    assert_eq!(out.stdout, "Hola\n".repeat(4), "{}", out.all());
    // The guest's usage error (status 2) comes back through isa-debug-exit.
    let out = run(&dir, &["-t", "virtio", "--", "--nope=1"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stdout.contains("--nope"), "{}", out.all());
}

#[test]
fn a_panicking_guest_exits_101_with_its_message() {
    qemu_installed();
    let (_tmp, dir) = copy_fixture("panic");
    let out = run(&dir, &["-t", "virtio"]);
    assert_eq!(out.code, 101, "{}", out.all());
    assert!(out.stdout.starts_with("about to panic\n"), "{}", out.all());
    assert!(
        out.stdout.contains("panic: ") && out.stdout.contains("the guest panics on purpose"),
        "{}",
        out.all()
    );
}

#[test]
fn block_on_a_ramdisk() {
    qemu_installed();
    let (_tmp, dir) = copy_example("block");
    std::fs::write(dir.join("config.unik"), unikernel::RAMDISK_CONFIG).unwrap();
    let out = run(&dir, &["-t", "virtio"]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.assert_logged(&[
        "[block] 64 sectors of 512 bytes, read-write",
        "[block] verified 8 sectors",
    ]);
    // In memory: no disk on QEMU's command line.
    assert!(!out.stderr.contains("virtio-blk"), "{}", out.all());
}

#[test]
fn block_reads_and_writes_the_disk() {
    qemu_installed();
    let (_tmp, dir) = copy_example("block");
    // `block_of_file "storage"` on the Solo5 family (virtio included).
    let disk = dir.join("storage");
    std::fs::write(&disk, vec![0xa5u8; 1 << 20]).unwrap();
    let out = run(&dir, &["-t", "virtio"]);
    assert_eq!(out.code, 0, "{}", out.all());
    out.assert_logged(&[
        "[block] 2048 sectors of 512 bytes, read-write",
        "[block] verified 8 sectors",
    ]);
    // A PCI device: the pc machine.
    assert!(out.stderr.contains("-M pc "), "{}", out.all());
    check_block_pattern(&disk);

    // Another file by --block:NAME=PATH; a missing one is a usage error
    // that says how to attach it.
    let other = dir.join("other.img");
    std::fs::write(&other, vec![0xa5u8; 1 << 20]).unwrap();
    let arg = format!("--block:storage={}", other.display());
    let out = run(&dir, &["-t", "virtio", &arg]);
    assert_eq!(out.code, 0, "{}", out.all());
    check_block_pattern(&other);
    std::fs::remove_file(&disk).unwrap();
    let out = run(&dir, &["-t", "virtio"]);
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(out.stderr.contains("--block:storage=PATH"), "{}", out.all());
}

#[test]
fn kv_ro_serves_its_embedded_files() {
    qemu_installed();
    let (_tmp, dir) = copy_example("kv_ro");
    let out = run(&dir, &["-t", "virtio"]);
    assert_eq!(out.code, 0, "{}", out.all());
    let lines = messages(&out.stdout);
    out.assert_logged(&["[kv_ro] secret: foo bar"]);
    // The same digests as on unix (the files are the same).
    assert!(
        lines.iter().any(|l| l
            == "[kv_ro] /dir/hello.txt: 21 bytes, sha256 a1ac1cb68d2634329c3a0f53abebad8310402dc5002c41c5ac06314cd38658a5"),
        "{}",
        out.all()
    );
}

#[test]
fn ping_answers_linux_over_a_tap() {
    qemu_installed();
    let (_tmp, dir) = copy_example("ping");
    unikernel::build(&dir, &["-t", "virtio"]);
    let ns = Ns::new("vping");
    let mut server = ns.unikernel(&dir, &["-t", "virtio"]);
    ping_answers(&ns, &mut server);
    let log = stop(server);
    assert!(
        log.contains("netdev tap,id=net0,ifname=tap0"),
        "the default tap: {log}"
    );
    for len in [1472, 8000] {
        let seen = log
            .lines()
            .filter(|l| {
                l.contains("echo request from 10.0.0.1") && l.ends_with(&format!("{len} bytes"))
            })
            .count();
        assert_eq!(seen, 3, "{len}-byte requests logged:\n{log}");
    }
}

#[test]
fn tcp_echo_answers_linux_over_a_tap() {
    qemu_installed();
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &["-t", "virtio"]);
    let ns = Ns::new("vtcp");
    let mut server = ns.unikernel(&dir, &["-t", "virtio", "--net:service=tap0"]);
    tcp_echoes(&ns, &mut server, 256 << 10);
    let log = stop(server);
    assert!(log.contains("echoed 262144 bytes"), "{log}");
    // SIGTERM to unikc stops QEMU and says so.
    assert!(log.contains("Stopped QEMU (signal 15)"), "{log}");
}

#[test]
fn ping6_both_ways_including_fragments() {
    qemu_installed();
    let (_tmp, dir) = copy_example("ping6");
    unikernel::build(&dir, &["-t", "virtio"]);
    let log = bootable::ping6_both_ways("v6b-vping6", &dir, &["-t", "virtio"]);
    assert!(log.contains("netdev tap,id=net0,ifname=tap0"), "{log}");
}

/// SLAAC under QEMU: radvd advertises `2001:db8:1::/64`, the guest forms its
/// address and Linux pings it there.
#[test]
fn ping6_gets_a_slaac_address_from_radvd() {
    qemu_installed();
    let (_tmp, dir) = copy_example("ping6");
    unikernel::build(&dir, &["-t", "virtio"]);
    bootable::slaac_from_radvd("v6b-vslaac", &dir, &["-t", "virtio"]);
}

#[test]
fn network_v6_echoes_tcp_and_udp_over_both_families() {
    qemu_installed();
    let (_tmp, dir) = copy_example("network-v6");
    unikernel::build(&dir, &["-t", "virtio"]);
    // Under TCG: a quarter of the megabyte the spt test echoes.
    bootable::network_v6_echoes("v6b-vnet6", &dir, &["-t", "virtio"], 256 << 10);
}

#[test]
fn the_image_is_a_pvh_kernel_without_the_unix_runtime() {
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &["-t", "virtio"]);
    let image = std::fs::read(dir.join("dist/tcp-echo.virtio")).unwrap();
    // ELF64 x86_64 ET_EXEC, text at 1 MiB, a Xen PHYS32_ENTRY note in its
    // own PT_NOTE, e_entry and the PVH entry in text, no PT_INTERP or
    // PT_DYNAMIC, no W+X segment, no undefined symbols.
    let facts = unik_boot_tests::elf::check_pvh_image(&image).unwrap();
    assert_eq!(facts.text.0, 0x10_0000);
    // The linker map of the image: the freestanding runtime, never the
    // unix one.
    let map = std::fs::read_to_string(dir.join("_build/tcp-echo-virtio/link.map")).unwrap();
    assert!(map.contains("unik_virtio"), "not the map of the image");
    assert!(map.contains("unik_net"), "not the map of the image");
    for unwanted in ["unik_unix", "libstd-", "libc.a"] {
        assert!(!map.contains(unwanted), "the image links {unwanted}");
    }
    let config =
        std::fs::read_to_string(dir.join("_build/tcp-echo-virtio/.cargo/config.toml")).unwrap();
    for flag in [
        "target = \"x86_64-unknown-linux-gnu\"",
        "\"-Crelocation-model=static\"",
        "\"-Clink-arg=-Wl,-T,link.ld\"",
        "\"--cfg\",\n  \"unik_kernel\"",
    ] {
        assert!(config.contains(flag), "{flag} missing:\n{config}");
    }
    let manifest = std::fs::read_to_string(dir.join("_build/tcp-echo-virtio/Cargo.toml")).unwrap();
    assert!(
        manifest.contains("[profile.dev]\npanic = \"abort\"")
            && manifest.contains("[profile.release]\npanic = \"abort\""),
        "{manifest}"
    );
}

#[test]
fn without_qemu_run_says_how_to_install_it() {
    let (_tmp, dir) = copy_example("noop");
    unikernel::build(&dir, &["-t", "virtio"]);
    // Only cargo's directory on PATH: the build is up to date, QEMU is gone.
    let cargo_dir = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).find(|d| d.join("cargo").is_file()))
        .expect("cargo on PATH");
    assert!(!cargo_dir.join("qemu-system-x86_64").exists());
    let _g = unikernel::build_lock();
    let mut c = unikernel::command(&dir, &["run", "-t", "virtio"]);
    c.env("PATH", &cargo_dir);
    let out = unikernel::output(c);
    // A missing tool is exit status 3 (cli.md), as for a missing cargo.
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("E0701"), "{}", out.all());
    assert!(
        out.stderr.contains("apt-get install qemu-system-x86"),
        "{}",
        out.all()
    );
    assert!(Path::new(&dir.join("dist/noop.virtio")).is_file());
}

/// static-website on virtio, over a tap: the HTTP checks of `unikernel::http` with curl.
#[test]
fn static_website_answers_curl() {
    unikernel::require(&["ip", "curl"]);
    let (_tmp, dir) = unikernel::copy_example("static-website");
    unikernel::build(&dir, &["-t", "virtio"]);
    let ns = unikernel::Ns::new("vweb");
    let mut server = ns.unikernel(&dir, &["-t", "virtio", "--net:service=tap0", "--port=80"]);
    let base = format!("http://{}", unikernel::OURS);
    unikernel::eventually(&mut server, || {
        let (code, _, err) = unikernel::http::run(&|| ns.cmd("curl"), &["-o", "/dev/null", &base]);
        if code == 0 { Ok(()) } else { Err(err) }
    });
    let index = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    unikernel::http::checks(&|| ns.cmd("curl"), &base, &index);
    drop(unikernel::stop(server));
}
