//! spt images under unikc-spt. Needs root, /dev/net/tun and iproute2 for
//! the network test; fails (never skips) without them.

use std::process::Command;
use std::time::Duration;

use unik_solo5_tests::{
    Kernels, Netns, Run, bulk_peer, bulk_peer_to, disk, host_ns, image, patched, run, spt,
    tcp_echo_client, upstream,
};

const TIMEOUT: Duration = Duration::from_secs(60);

fn spt_run(args: &[&str], name: &str, guest_args: &[&str]) -> Run {
    let mut c = Command::new(spt());
    c.args(args).arg(image(Kernels::Spt, name)).args(guest_args);
    run(c, TIMEOUT)
}

#[test]
fn hello_prints_and_exits_with_the_requested_code() {
    let r = spt_run(&[], "hello", &["a", "b", "exit=3"]);
    r.expect(r.status == Some(3), "exit=3 is the exit status");
    r.expect(
        r.stdout.starts_with("hello from unik-solo5\n"),
        "greeting first",
    );
    assert_eq!(r.line("cmdline: "), Some("\"a b exit=3\""));
    assert_eq!(
        r.line("sum/7 = "),
        Some("71500.000"),
        "heap and SSE formatting"
    );
    let heap: u64 = r
        .line("heap: ")
        .unwrap()
        .trim_end_matches(" bytes")
        .parse()
        .unwrap();
    assert!(
        (500 << 20..512 << 20).contains(&heap),
        "default 512 MiB: heap {heap}"
    );
    let wall: u64 = r.line("wall_s: ").unwrap().parse().unwrap();
    assert!(
        wall.abs_diff(host_ns() / 1_000_000_000) < 5,
        "wall clock is the host's"
    );
    let y = r.line("yield: ").unwrap();
    assert!(y.starts_with("ready=0 "), "{y}");
    let slept: u64 = y.rsplit('=').next().unwrap().parse().unwrap();
    assert!(
        (100_000_000..2_000_000_000).contains(&slept),
        "slept {slept} ns for a 100 ms yield"
    );
    assert_eq!(
        r.line("tls: "),
        Some("Ok(())"),
        "arch_prctl(SET_FS) is allowed"
    );
    assert_eq!(r.stderr, "");
}

#[test]
fn memory_size_comes_from_the_command_line() {
    let r = spt_run(&["--mem=16"], "hello", &[]);
    r.expect(r.status == Some(0), "exit 0");
    let heap: u64 = r
        .line("heap: ")
        .unwrap()
        .trim_end_matches(" bytes")
        .parse()
        .unwrap();
    assert!((12 << 20..16 << 20).contains(&heap), "16 MiB: heap {heap}");
}

#[test]
fn block_device_reads_host_data_and_writes_back() {
    let path = disk("spt-block", 16);
    let arg = format!("--block:storage={}", path.display());
    let r = spt_run(&[&arg], "block", &[]);
    r.expect(r.status == Some(0), "block test exits 0");
    assert_eq!(r.line("info: "), Some("capacity=8192 block_size=512"));
    assert_eq!(
        r.line("acquire again: "),
        Some("Some(Invalid)"),
        "acquire once per name"
    );
    assert_eq!(r.line("read_ok="), Some("8"));
    assert_eq!(r.line("write_ok="), Some("4"));
    for what in [
        "unaligned",
        "short",
        "two_blocks",
        "at_capacity",
        "overflow",
        "bad_handle",
    ] {
        assert_eq!(
            r.line(&format!("invalid {what}: ")),
            Some("Err(Invalid)"),
            "{what}"
        );
    }
    assert_eq!(r.line("last block: "), Some("Ok(())"));
    assert_eq!(
        r.line("rt_read_ok="),
        Some("true"),
        "unik_rt::Block over two blocks"
    );
    let data = std::fs::read(&path).unwrap();
    assert_eq!(data.len(), 8192, "the guest cannot grow the file");
    for i in 0..16usize {
        let want = if (8..12).contains(&i) {
            0xa0 + i as u8
        } else {
            i as u8
        };
        assert!(
            data[i * 512..(i + 1) * 512].iter().all(|&b| b == want),
            "block {i} should be {want:#x}"
        );
    }
    let _ = std::fs::remove_file(path);
}

#[test]
fn network_arp_and_ping_against_linux() {
    let ns = Netns::new();
    let mut c = ns.command(&spt());
    c.arg("--net:service=tap0").arg(image(Kernels::Spt, "net"));
    let r = run(c, TIMEOUT);
    r.expect(r.status == Some(0), "net test exits 0");
    let mac = r.line("arp reply: 10.55.0.1 is at ").unwrap();
    assert_eq!(mac, ns.tap_mac(), "the reply comes from the host's tap");
    let ping = r.line("ping: echo reply from 10.55.0.1 ").unwrap();
    assert!(ping.starts_with("seq=1 ttl=64 bytes=30"), "{ping}");
}

#[test]
fn tcp_echo_through_the_direct_stack() {
    let ns = Netns::new();
    let mut c = ns.command(&spt());
    c.arg("--net:service=tap0")
        .arg(image(Kernels::Spt, "tcp_echo"));
    let guest = std::thread::spawn(move || run(c, TIMEOUT));
    let data: Vec<u8> = (0..1u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let sent = data.clone();
    let back = ns.within(move || tcp_echo_client(sent));
    let r = guest.join().unwrap();
    let back = back.unwrap_or_else(|e| panic!("client: {e}\nguest: {r:?}"));
    assert!(
        back == data,
        "echoed {} of {} bytes, content differs",
        back.len(),
        data.len()
    );
    r.expect(r.status == Some(0), "the echo server exits 0");
    assert_eq!(r.line("echoed "), Some("1048576 bytes"));
}

#[test]
fn crunch_kv_ro_store() {
    use sha2::Digest;
    let r = spt_run(&[], "kv_ro", &[]);
    r.expect(r.status == Some(0), "kv_ro exits 0");
    assert_eq!(r.line("entry: /css "), Some("Dictionary"));
    assert_eq!(r.line("entry: /index.html "), Some("Value"));
    assert_eq!(r.line("index.html: "), Some("<h1>hello from crunch</h1>"));
    assert_eq!(r.line("css prefix: "), Some("body"));
    let sha = sha2::Sha256::digest(b"<h1>hello from crunch</h1>\n");
    assert_eq!(
        r.line("digest: "),
        Some(format!("{:02x?}", &sha[..4]).as_str())
    );
    assert_eq!(r.line("missing: "), Some("None"));
}

#[test]
fn forbidden_system_calls_kill_the_guest() {
    for (mode, nr, name) in [
        ("getpid", 39, "getpid"),
        ("open", 2, "open"),
        ("stderr", 1, "write"),
        ("fork", 57, "fork"),
    ] {
        let r = spt_run(&[], "forbidden", &[mode]);
        r.expect(r.status == Some(128 + 31), "killed by SIGSYS (status 159)");
        r.expect(
            r.stdout.contains(&format!("calling system call {nr}")),
            "the guest ran",
        );
        r.expect(
            !r.stdout.contains("still alive"),
            "nothing runs after the call",
        );
        let want = format!("unikc-spt: guest killed: forbidden system call {nr} ({name}) at 0x");
        r.expect(r.stderr.contains(&want), &want);
    }
}

/// W^X and page zero: each violation kills the guest with SIGSEGV, reported
/// by the tender, before the guest can print `FAILURE` (its status 3).
#[test]
fn wx_violations_kill_the_guest() {
    for mode in ["text", "rodata", "exec-data", "zero"] {
        let r = spt_run(&[], "wx", &[mode]);
        r.expect(
            r.status == Some(128 + 11),
            &format!("{mode}: SIGSEGV (139)"),
        );
        r.expect(r.stdout.contains(&format!("wx: {mode}")), "the guest ran");
        r.expect(
            !r.stdout.contains("FAILURE"),
            &format!("{mode}: the guest went on"),
        );
        r.expect(
            r.stderr
                .contains("unikc-spt: guest killed by signal 11 (SIGSEGV: invalid memory access)"),
            "the tender's report",
        );
    }
}

/// 100 MB each way between Linux and the direct stack in an spt guest,
/// every byte checked on the receiving side (the guest's sink, Linux for
/// the guest's source). Speed is benches/net.sh's business, not this test's.
#[test]
fn bulk_tcp_arrives_intact_both_ways() {
    const BYTES: u64 = 100 << 20;
    let ns = Netns::new();
    let mut c = ns.command(&spt());
    c.arg("--net:service=tap0")
        .arg(image(Kernels::Spt, "net_bench"))
        .arg(format!("bytes={BYTES}"));
    let guest = std::thread::spawn(move || run(c, Duration::from_secs(300)));
    let bulk = ns.within(move || bulk_peer(BYTES));
    let r = guest.join().unwrap();
    let bulk = bulk.unwrap_or_else(|e| panic!("Linux side: {e}\nguest: {r:?}"));
    r.expect(
        r.status == Some(0),
        "the guest exits 0 after both transfers",
    );
    r.expect(
        r.stdout
            .contains(&format!("sink: {BYTES} bytes, pattern intact")),
        "every byte Linux sent arrived in order",
    );
    r.expect(
        r.stdout.contains(&format!("source: {BYTES} bytes sent")),
        "the guest sent everything",
    );
    assert_eq!(bulk.received, BYTES, "Linux received everything");
    assert_eq!(bulk.broken_at, None, "and in order");
}

/// The same image with `ipv6=1` (its dual stack) and Linux on
/// 2001:db8:55::1: the transfers go over IPv6 (the bench's IPv6 figures)
/// and arrive intact.
#[test]
fn bulk_tcp_over_ipv6_arrives_intact_both_ways() {
    const BYTES: u64 = 16 << 20;
    let ns = Netns::new();
    ns.enable_ipv6();
    let mut c = ns.command(&spt());
    c.arg("--net:service=tap0")
        .arg(image(Kernels::Spt, "net_bench"))
        .arg(format!("bytes={BYTES}"))
        .arg("ipv6=1");
    let guest = std::thread::spawn(move || run(c, Duration::from_secs(300)));
    let addr = "2001:db8:55::2".parse().unwrap();
    let bulk = ns.within(move || bulk_peer_to(addr, BYTES));
    let r = guest.join().unwrap();
    let bulk = bulk.unwrap_or_else(|e| panic!("Linux side: {e}\nguest: {r:?}"));
    r.expect(r.status == Some(0), "the guest exits 0");
    r.expect(
        r.stdout.contains("listening on [2001:db8:55::2]:5001"),
        "the dual stack",
    );
    r.expect(
        r.stdout
            .contains(&format!("sink: {BYTES} bytes, pattern intact")),
        "intact into the guest",
    );
    assert_eq!((bulk.received, bulk.broken_at), (BYTES, None));
}

/// Without unikc's VNH1 note (as under any other tender) the same image
/// moves plain Solo5 frames: the transfer still arrives intact.
#[test]
fn bulk_tcp_without_the_vnet_note_uses_plain_frames() {
    const BYTES: u64 = 8 << 20;
    let img = image(Kernels::Spt, "net_bench");
    let plain = patched(&img, "spt-no-vnet", |d| {
        let at = d
            .windows(8)
            .position(|w| w == b"unikc\0\0\0")
            .expect("the VNH1 note");
        d[at] = b'U'; // another note name: not ours any more
    });
    let ns = Netns::new();
    let mut c = ns.command(&spt());
    c.arg("--net:service=tap0")
        .arg(&plain)
        .arg(format!("bytes={BYTES}"));
    let guest = std::thread::spawn(move || run(c, Duration::from_secs(300)));
    let bulk = ns.within(move || bulk_peer(BYTES));
    let r = guest.join().unwrap();
    let bulk = bulk.unwrap_or_else(|e| panic!("Linux side: {e}\nguest: {r:?}"));
    r.expect(r.status == Some(0), "the guest exits 0");
    r.expect(
        r.stdout.contains("vnet: off"),
        "plain frames (the guest says which)",
    );
    r.expect(
        r.stdout
            .contains(&format!("sink: {BYTES} bytes, pattern intact")),
        "intact into the guest",
    );
    assert_eq!((bulk.received, bulk.broken_at), (BYTES, None));
}

#[test]
fn panics_exit_101_with_the_message() {
    let r = spt_run(&[], "panic", &["x"]);
    r.expect(r.status == Some(101), "panic exits 101");
    assert!(r.stdout.contains("panic: panicked at"), "{}", r.stdout);
    assert!(
        r.stdout.contains("deliberate panic, cmdline \"x\""),
        "{}",
        r.stdout
    );
}

fn refused(args: &[&str], img: &std::path::Path, expect: &str) {
    let mut c = Command::new(spt());
    c.args(args).arg(img);
    let r = run(c, TIMEOUT);
    r.expect(
        r.status == Some(1),
        &format!("refused with status 1: {expect}"),
    );
    r.expect(r.stderr.contains(expect), expect);
    r.expect(r.stdout.is_empty(), "the guest never ran");
}

/// Offset of the MFT1 note in an image file.
fn mft_offset(data: &[u8], target: u32) -> usize {
    let note = upstream::check(data, target).unwrap().mft_note;
    data.windows(note.len())
        .position(|w| w == note.as_slice())
        .unwrap()
}

#[test]
fn malformed_images_and_devices_are_refused() {
    let hello = image(Kernels::Spt, "hello");
    let block = image(Kernels::Spt, "block");
    refused(
        &[],
        &image(Kernels::Hvt, "hello"),
        "built for the Solo5 hvt target",
    );
    refused(&[], &std::env::current_exe().unwrap(), "not ET_EXEC");
    refused(&["--mem=1"], &hello, "outside guest memory");
    refused(&["--dumpcore"], &hello, "--dumpcore is an hvt option");
    let d = std::fs::read(&block).unwrap();
    let at = mft_offset(&d, 2);
    let bad_name = patched(&block, "spt-bad-name", |d| d[at + 24 + 8 + 104] = b'-');
    refused(&[], &bad_name, "ASCII letters or digits");
    let bad_count = patched(&block, "spt-bad-count", |d| d[at + 28] = 3);
    refused(&[], &bad_count, "manifest");
    let no_reserved = patched(&block, "spt-no-reserved", |d| d[at + 24 + 8 + 68 + 3] = 0);
    refused(&[], &no_reserved, "reserved");
    let entry_in_data = patched(&hello, "spt-entry", |d| {
        let rodata = u64::from_le_bytes(d[64 + 56 + 16..64 + 56 + 24].try_into().unwrap());
        d[24..32].copy_from_slice(&rodata.to_le_bytes());
    });
    refused(&[], &entry_in_data, "not inside an executable segment");
    refused(&[], &block, "not attached (use --block:storage=");
    refused(
        &["--block:other=/dev/null"],
        &block,
        "not declared in manifest",
    );
    refused(&["--net:storage=tap0"], &block, "BLOCK_BASIC");
    let odd = disk("spt-odd", 1);
    std::fs::write(&odd, [0u8; 700]).unwrap();
    refused(
        &[&format!("--block:storage={}", odd.display())],
        &block,
        "multiple of the block size",
    );
    refused(&["--bogus"], &hello, "invalid option");
    let _ = std::fs::remove_file(odd);
}

#[test]
fn missing_tap_is_refused() {
    let ns = Netns::new();
    let mut c = ns.command(&spt());
    c.arg("--net:service=nosuch0")
        .arg(image(Kernels::Spt, "net"));
    let r = run(c, TIMEOUT);
    r.expect(r.status == Some(1), "refused");
    r.expect(
        r.stderr.contains("interface nosuch0 does not exist"),
        "clear error",
    );
}
