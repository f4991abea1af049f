//! hvt images under unikc-hvt (KVM). Needs /dev/kvm, root, /dev/net/tun
//! and iproute2; fails (never skips) without them.
//!
//! The assembly guest runs everywhere. The Rust images need a KVM that can
//! run SSE code in ring 0: the tests probe for it (the assembly guest's `s`
//! mode) and boot them when it can; on a paravirtual KVM that emulates
//! ring-0 code and fails on SSE they check that the failure is reported as
//! such (the images themselves are checked structurally in images.rs).

use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use unik_solo5_tests::{Kernels, Netns, Run, disk, host_ns, hvt, image, run};

const TIMEOUT: Duration = Duration::from_secs(120);

fn asm() -> std::path::PathBuf {
    image(Kernels::HvtAsm, "hvt-asm")
}

/// Run the assembly guest in a fresh namespace with a tap and a disk.
fn asm_run(mode: &str, disk_path: &std::path::Path) -> (Run, Netns) {
    asm_run_in(mode, disk_path, &[], None)
}

/// [`asm_run`] with more tender options, in directory `cwd`.
fn asm_run_in(
    mode: &str,
    disk_path: &std::path::Path,
    options: &[&str],
    cwd: Option<&std::path::Path>,
) -> (Run, Netns) {
    unik_solo5_tests::require("/dev/kvm", "the hvt tender needs KVM");
    let ns = Netns::new();
    let mut c = ns.command(&hvt());
    if let Some(dir) = cwd {
        c.current_dir(dir);
    }
    c.args(options)
        .arg("--mem=32")
        .arg("--net:service=tap0")
        .arg(format!("--block:storage={}", disk_path.display()))
        .arg(asm())
        .arg(mode);
    (run(c, TIMEOUT), ns)
}

#[test]
fn assembly_guest_uses_every_hypercall() {
    let path = disk("hvt-asm", 16);
    let mut sector0 = b"host-sector-0!!\n".to_vec();
    sector0.resize(512, 0);
    let mut data = std::fs::read(&path).unwrap();
    data[..512].copy_from_slice(&sector0);
    std::fs::write(&path, &data).unwrap();

    let (r, ns) = asm_run("normal run", &path);
    r.expect(r.status == Some(7), "HALT 7 is the exit status");
    r.expect(r.stdout.starts_with("hvt-asm: hello\n"), "PUTS");
    assert_eq!(r.hex("mem"), Some(32 << 20), "boot info mem_size");
    assert!(
        r.hex("freq").unwrap() >= 100_000_000,
        "cpu_cycle_freq from KVM_GET_TSC_KHZ"
    );
    let end = r.hex("kernel_end").unwrap();
    assert!(end > 0x10_0000 && end % 0x1000 == 0, "kernel_end {end:#x}");
    assert_eq!(r.line("cmdline="), Some("normal run"), "command line");
    let wall = r.hex("wall").unwrap();
    assert!(
        wall.abs_diff(host_ns()) < 10_000_000_000,
        "WALLTIME is the host's clock"
    );
    assert_eq!(r.hex("poll_ret"), Some(0), "POLL timed out");
    assert_eq!(r.hex("poll_ready"), Some(0));
    let slept = r.hex("wall2").unwrap() - wall;
    assert!(
        (50_000_000..2_000_000_000).contains(&slept),
        "POLL of 50 ms took {slept} ns"
    );
    assert_eq!(r.hex("blk_read"), Some(0));
    assert_eq!(
        r.line("sector0="),
        Some("host-sector-0!!"),
        "BLOCK_READ brought the host's bytes"
    );
    assert_eq!(r.hex("blk_write"), Some(0));
    assert_eq!(
        r.hex("blk_bad"),
        Some(2),
        "out-of-range BLOCK_READ is EINVAL"
    );
    assert_eq!(
        r.hex("net_empty"),
        Some(1),
        "NET_READ with nothing waiting is AGAIN"
    );
    assert_eq!(r.hex("net_write"), Some(0));
    let mac = r
        .hex("arp_reply")
        .expect("an ARP reply came back through NET_READ");
    let want = u64::from_str_radix(&ns.tap_mac().replace(':', ""), 16).unwrap();
    assert_eq!(mac, want, "the reply comes from the host's tap");
    let data = std::fs::read(&path).unwrap();
    assert_eq!(
        &data[512..532],
        b"written by hvt-asm!\n",
        "BLOCK_WRITE reached the file"
    );
    assert!(
        data[1024..1536].iter().all(|&b| b == 2),
        "nothing else written"
    );
    let _ = std::fs::remove_file(path);
}

#[test]
fn abi_violations_stop_the_guest_with_a_clear_error() {
    let path = disk("hvt-bad", 4);
    for (mode, expect) in [
        (
            "p",
            "guest: PUTS: 0x100 bytes at guest-physical 0xfffff000 are outside guest memory",
        ),
        (
            "x",
            "guest: write to I/O port 0x509, which is not a hypercall",
        ),
        (
            "h",
            "guest: the guest executed hlt instead of the HALT hypercall",
        ),
        ("w", "guest: triple fault"),
    ] {
        let (r, _ns) = asm_run(mode, &path);
        r.expect(r.status == Some(1), &format!("mode {mode}: status 1"));
        r.expect(r.stderr.contains(expect), expect);
        r.expect(r.stderr.contains("rip=0x"), "registers are reported");
    }
    let _ = std::fs::remove_file(path);
}

/// W^X and page zero: every violation stops the guest with the tender's
/// error before the guest can report `FAILURE` (its status 3). `T` and `R`
/// clear CR0.WP first, so only the host-side protection can stop them.
#[test]
fn wx_violations_stop_the_guest() {
    let path = disk("hvt-wx", 4);
    for (mode, expect) in [
        ("t", "last page fault at 0x100000:"),
        ("r", "last page fault at 0x10"),
        ("e", "last page fault at 0x10"),
        ("z", "last page fault at 0x8:"),
        ("T", "to read-only memory (the image's text or rodata)"),
        ("R", "to read-only memory (the image's text or rodata)"),
    ] {
        let (r, _ns) = asm_run(mode, &path);
        r.expect(
            r.status == Some(1),
            &format!("mode {mode}: the tender's status 1"),
        );
        r.expect(
            !r.stdout.contains("FAILURE"),
            &format!("mode {mode}: the guest went on"),
        );
        r.expect(
            r.stderr.contains("unikc-hvt: guest: "),
            "the tender's error",
        );
        r.expect(r.stderr.contains(expect), &format!("mode {mode}: {expect}"));
    }
    let _ = std::fs::remove_file(path);
}

/// `--dumpcore`: the guest stopped by the tender leaves a core that gdb
/// loads with the image: the registers the tender reported, the faulting
/// instruction, and memory as it was at the stop (a line the guest built
/// at run time, not in the file). Without the option there is no core.
#[test]
fn dumpcore_writes_a_core_gdb_loads() {
    unik_solo5_tests::require("/usr/bin/gdb", "the core file is checked with gdb");
    let path = disk("hvt-core", 4);
    let dir = std::env::temp_dir().join(format!("unikc-core-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (r, _ns) = asm_run_in("t", &path, &[], Some(&dir));
    r.expect(r.status == Some(1), "stopped");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "no core unasked"
    );

    let (r, _ns) = asm_run_in("t", &path, &["--dumpcore"], Some(&dir));
    r.expect(r.status == Some(1), "stopped");
    r.expect(
        r.stderr.contains("last page fault at 0x100000"),
        "the stop is reported",
    );
    let name = r
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("unikc-hvt: guest core dumped to "))
        .unwrap_or_else(|| panic!("no core reported: {}", r.stderr))
        .to_string();
    assert!(name.starts_with("core.unikc-hvt."), "{name}");
    let rip = r
        .stderr
        .split("rip=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap();
    let out = Command::new("gdb")
        .args(["-nx", "-batch", "-ex", "info registers rip rax"])
        .args(["-ex", "x/s &line", "-ex", "x/i $pc"])
        .arg(asm())
        .arg(dir.join(&name))
        .output()
        .expect("running gdb");
    let gdb = String::from_utf8_lossy(&out.stdout);
    assert!(gdb.contains("signal SIGSEGV"), "{gdb}");
    assert!(
        gdb.contains(&format!("rip            {rip}")),
        "rip {rip}: {gdb}"
    );
    assert!(gdb.contains("rax            0x100000"), "{gdb}");
    assert!(gdb.contains("\"kernel_end=0x"), "memory at the stop: {gdb}");
    assert!(gdb.contains("<mode_write_text+"), "{gdb}");
    assert!(gdb.contains("movb   $0x90,(%rax)"), "{gdb}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(path);
}

/// Whether this KVM runs SSE instructions in ring 0 (a hardware KVM does;
/// the paravirtual one of these machines emulates ring 0 and cannot).
fn kvm_runs_sse() -> bool {
    static PROBE: OnceLock<bool> = OnceLock::new();
    *PROBE.get_or_init(|| {
        let path = disk("hvt-probe", 4);
        let (r, _ns) = asm_run("s", &path);
        let _ = std::fs::remove_file(path);
        match r.status {
            Some(0) => true,
            Some(1) if r.stderr.contains("KVM internal error, suberror 1") => false,
            _ => panic!("SSE probe: unexpected result {r:?}"),
        }
    })
}

#[test]
fn rust_images_boot_where_kvm_can_run_them() {
    let mut c = Command::new(hvt());
    c.arg(image(Kernels::Hvt, "hello")).args(["a", "b"]);
    let r = run(c, TIMEOUT);
    if kvm_runs_sse() {
        eprintln!("hvt: hardware KVM (SSE runs in ring 0): booting the Rust images");
        r.expect(r.status == Some(0), "hello exits 0");
        r.expect(r.stdout.starts_with("hello from unik-solo5\n"), "greeting");
        assert_eq!(r.line("cmdline: "), Some("\"a b\""));
        assert_eq!(r.line("sum/7 = "), Some("71500.000"));

        let path = disk("hvt-block", 16);
        let mut c = Command::new(hvt());
        c.arg(format!("--block:storage={}", path.display()))
            .arg(image(Kernels::Hvt, "block"));
        let r = run(c, TIMEOUT);
        r.expect(r.status == Some(0), "block exits 0");
        assert_eq!(r.line("read_ok="), Some("8"));
        assert_eq!(r.line("write_ok="), Some("4"));
        assert_eq!(r.line("rt_read_ok="), Some("true"));
        let _ = std::fs::remove_file(path);

        let ns = Netns::new();
        let mut c = ns.command(&hvt());
        c.arg("--net:service=tap0").arg(image(Kernels::Hvt, "net"));
        let r = run(c, TIMEOUT);
        r.expect(r.status == Some(0), "net exits 0");
        assert_eq!(
            r.line("arp reply: 10.55.0.1 is at "),
            Some(ns.tap_mac().as_str())
        );

        let mut c = Command::new(hvt());
        c.arg(image(Kernels::Hvt, "panic"));
        let r = run(c, TIMEOUT);
        r.expect(r.status == Some(101), "panic exits 101");

        let mut c = Command::new(hvt());
        c.arg(image(Kernels::Hvt, "kv_ro"));
        let r = run(c, TIMEOUT);
        r.expect(r.status == Some(0), "kv_ro exits 0");
        assert_eq!(r.line("index.html: "), Some("<h1>hello from crunch</h1>"));

        let ns = Netns::new();
        let mut c = ns.command(&hvt());
        c.arg("--net:service=tap0")
            .arg(image(Kernels::Hvt, "tcp_echo"));
        let guest = std::thread::spawn(move || run(c, TIMEOUT));
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
        let sent = data.clone();
        let back = ns.within(move || unik_solo5_tests::tcp_echo_client(sent));
        let r = guest.join().unwrap();
        r.expect(
            back.is_ok_and(|b| b == data),
            "1 MiB echoed through the direct stack",
        );
        r.expect(r.status == Some(0), "tcp_echo exits 0");
    } else {
        eprintln!(
            "hvt: paravirtual KVM that cannot run SSE in ring 0: Rust images are checked \
             structurally (images.rs); here only that the failure is reported"
        );
        r.expect(r.status == Some(1), "the tender stops");
        r.expect(
            r.stderr.contains("KVM internal error, suberror 1")
                && r.stderr.contains("fails on SSE"),
            "the emulation failure is explained",
        );
    }
}

#[test]
fn hvt_refuses_what_it_cannot_run() {
    unik_solo5_tests::require("/dev/kvm", "the hvt tender needs KVM");
    for (args, img, expect) in [
        (
            &[][..],
            image(Kernels::Spt, "hello"),
            "built for the Solo5 spt target",
        ),
        (
            &["--mem=1"],
            image(Kernels::Hvt, "hello"),
            "below the 2 MiB minimum",
        ),
        (
            &["--mem=8192"],
            image(Kernels::Hvt, "hello"),
            "above the 4 GiB maximum",
        ),
        (
            &[],
            image(Kernels::Hvt, "block"),
            "not attached (use --block:storage=",
        ),
        (&[], asm(), "not attached"),
    ] {
        let mut c = Command::new(hvt());
        c.args(args).arg(&img);
        let r = run(c, TIMEOUT);
        r.expect(r.status == Some(1), expect);
        r.expect(r.stderr.contains(expect), expect);
    }
}
