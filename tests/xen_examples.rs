//! The examples on the xen target: `unikc build -t xen` makes a PVH image
//! and its `.xl` file; the nested-Xen harness (tests/xen: Xen 4.17 and a
//! Debian dom0 under QEMU TCG, from Debian packages) boots dom0 once for
//! this whole test binary and runs every image with `xl create`. Needs
//! qemu-system-x86_64, apt-get/dpkg (network access to Debian the first
//! time), xz and cpio: a missing one fails the tests, they never skip.

// Its network helpers (re-exported for the QEMU tests) are not used here.
#[allow(unused_imports)]
mod bootable;
mod unikernel;
mod xen;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use unikernel::messages;
use xen::{Dom0Run, Guest, GuestRun};

/// Projects built once and kept for the whole binary.
struct Projects {
    _tmp: Vec<tempfile::TempDir>,
    dirs: Vec<(String, PathBuf)>,
}

impl Projects {
    fn dir(&self, name: &str) -> &Path {
        &self.dirs.iter().find(|(n, _)| n == name).unwrap().1
    }
}

fn projects() -> &'static Projects {
    static P: OnceLock<Projects> = OnceLock::new();
    P.get_or_init(|| {
        let mut tmp = Vec::new();
        let mut dirs = Vec::new();
        for name in [
            "hello",
            "hello-key",
            "noop",
            "kv_ro",
            "clock",
            "ping",
            "tcp-echo",
            "block",
        ] {
            let (t, dir) = unikernel::copy_example(name);
            unikernel::build(&dir, &["-t", "xen"]);
            tmp.push(t);
            dirs.push((name.to_string(), dir));
        }
        let (t, dir) = bootable::copy_fixture("panic");
        unikernel::build(&dir, &["-t", "xen"]);
        tmp.push(t);
        dirs.push(("panic".into(), dir));
        Projects { _tmp: tmp, dirs }
    })
}

/// One boot of dom0 for every test of this binary.
fn dom0() -> &'static Dom0Run {
    static RUN: OnceLock<Dom0Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let p = projects();
        let mut key = Guest::new("02-hello-key", p.dir("hello-key"), "hello-key");
        key.cmdline = "--hello=Bonjour\\ !".into();
        let mut bad = Guest::new("03-hello-key-usage", p.dir("hello-key"), "hello-key");
        bad.cmdline = "--nope=1".into();
        let mut attach = Guest::new("08-hello-attach", p.dir("hello"), "hello");
        attach.attach = true;
        let mut ping = Guest::new("09-ping", p.dir("ping"), "ping");
        ping.check = Some(xen::net_check(
            "answering pings",
            // The first answer may take the bridge a moment; then every one.
            "i=0; while ! ping -c 1 -W 1 10.0.0.2 >/dev/null && [ $i -lt 15 ]; do i=$((i+1)); done\n\
             ping -c 3 -W 5 10.0.0.2 && ping -c 2 -s 1472 -W 5 10.0.0.2",
        ));
        let mut echo = Guest::new("10-tcp-echo", p.dir("tcp-echo"), "tcp-echo");
        echo.check = Some(xen::net_check("listening on", ECHO_CHECK));
        let mut novif = Guest::new("11-no-vif", p.dir("ping"), "ping");
        novif.edit_xl = Some(without_vifs);
        let mut block = Guest::new("12-block", p.dir("block"), "block");
        let disk = p.dir("block").join("disk.img");
        std::fs::write(&disk, vec![0xa5u8; 1 << 20]).unwrap();
        block.disk = Some(disk);
        // Failure paths. The console backend stops reading before the
        // guest starts: four greetings of 701 bytes overflow the 2 KiB ring.
        let mut full = Guest::new("13-console-full", p.dir("hello-key"), "hello-key");
        full.cmdline = format!("--hello={}", "x".repeat(700));
        full.prep = Some("kill -STOP $(pidof xenconsoled)\n".into());
        full.check = Some(
            "i=0; while xl domid $1 >/dev/null 2>&1 && [ $i -lt 450 ]; do usleep 100000; i=$((i+1)); done\n\
             kill -CONT $(pidof xenconsoled)\n"
                .into(),
        );
        // xenstored refuses the guest its own vif nodes.
        let mut refused = Guest::new("14-xenstore-error", p.dir("ping"), "ping");
        refused.prep = Some("xenstore-chmod -r /local/domain/$2/device/vif n0\n".into());
        // The vif's backend is a directory the guest may read whose
        // state stays Initialising (1): no backend driver ever takes it.
        let mut orphan = Guest::new("15-no-backend", p.dir("ping"), "ping");
        orphan.prep = Some(
            "b=/local/domain/0/backend/vif/$2/9\n\
             xenstore-write $b/state 1\n\
             xenstore-chmod $b n0 r$2\n\
             xenstore-chmod $b/state n0 r$2\n\
             xenstore-write /local/domain/$2/device/vif/0/backend $b\n"
                .into(),
        );
        let guests = [
            Guest::new("01-hello", p.dir("hello"), "hello"),
            key,
            bad,
            Guest::new("04-noop", p.dir("noop"), "noop"),
            Guest::new("05-panic", p.dir("panic"), "panics"),
            Guest::new("06-kv_ro", p.dir("kv_ro"), "kv_ro"),
            Guest::new("07-clock", p.dir("clock"), "clock"),
            attach,
            ping,
            echo,
            novif,
            block,
            full,
            refused,
            orphan,
        ];
        xen::run_dom0(&guests)
    })
}

/// dom0's side of the TCP echo: a line, then 1 MiB timed until all of it
/// is back (busybox nc does not half-close, so it is stopped by hand). The
/// output file exists before nc starts, so the first size check never
/// races nc's redirection.
const ECHO_CHECK: &str = "printf 'hello over netfront\\n' > /tmp/in
nc -w 3 10.0.0.2 7 < /tmp/in > /tmp/out
cmp /tmp/in /tmp/out && echo ECHO-LINE-OK
dd if=/dev/urandom of=/tmp/big bs=1024 count=1024 2>/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
: > /tmp/bigout
nc -w 30 10.0.0.2 7 < /tmp/big >> /tmp/bigout &
pid=$!
i=0
while [ $(wc -c < /tmp/bigout) -lt 1048576 ] && [ $i -lt 600 ]; do usleep 100000; i=$((i+1)); done
t1=$(cut -d' ' -f1 /proc/uptime)
kill $pid 2>/dev/null
echo \"ECHO-BIG bytes=$(wc -c < /tmp/bigout) t0=$t0 t1=$t1\"
cmp /tmp/big /tmp/bigout && echo ECHO-BIG-OK";

/// The `.xl` file without its `vif` list: the image's network device has
/// no Xen device behind it.
fn without_vifs(xl: &str) -> String {
    let mut out = String::new();
    let mut skip = false;
    for l in xl.lines() {
        if l.starts_with("vif = [") {
            skip = true;
        } else if skip && l == "]" {
            skip = false;
        } else if !skip {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

fn ok(g: &GuestRun) {
    if g.runs > 1 {
        // Visible in the test's output; the first run's STUCK dump is in
        // target/tmp/xen-dom0/last-run.log.
        eprintln!("warning: the guest hung on its first run and was run again");
    }
    assert!(!g.create_failed, "xl create failed:\n{}", g.create);
    assert!(!g.timed_out, "the guest never went away:\n{}", g.console);
}

#[test]
fn hello_prints_on_the_pv_console_and_powers_off_with_0() {
    let g = dom0().guest("01-hello");
    ok(g);
    assert_eq!(g.output(), "hello\n".repeat(4), "{g:?}");
    assert_eq!(g.status(), Some(0), "{g:?}");
}

#[test]
fn boot_arguments_come_from_the_xl_cmdline() {
    let g = dom0().guest("02-hello-key");
    ok(g);
    // `Bonjour !` crossed xl's cmdline as one argument (`\ `).
    assert_eq!(g.output(), "Bonjour !\n".repeat(4), "{g:?}");
    assert_eq!(g.status(), Some(0), "{g:?}");
    // A usage error is the guest's exit status 2, on a powered-off domain.
    let g = dom0().guest("03-hello-key-usage");
    ok(g);
    assert_eq!(g.status(), Some(2), "{g:?}");
    assert!(g.output().contains("--nope"), "{g:?}");
    // Only this domain's output, though the previous one had the same name.
    assert!(!g.output().contains("Bonjour"), "{g:?}");
}

#[test]
fn noop_exits_0() {
    let g = dom0().guest("04-noop");
    ok(g);
    assert_eq!(g.status(), Some(0), "{g:?}");
    assert_eq!(g.output(), "", "{g:?}");
}

#[test]
fn a_panicking_guest_crashes_with_101_and_its_message() {
    let g = dom0().guest("05-panic");
    ok(g);
    assert_eq!(g.status(), Some(101), "{g:?}");
    let out = g.output();
    assert!(out.starts_with("about to panic\n"), "{g:?}");
    assert!(
        out.contains("panic: ") && out.contains("the guest panics on purpose"),
        "{g:?}"
    );
}

#[test]
fn kv_ro_serves_its_embedded_files() {
    let g = dom0().guest("06-kv_ro");
    ok(g);
    assert_eq!(g.status(), Some(0), "{g:?}");
    let lines = messages(&g.output());
    assert!(
        lines.iter().any(|l| l == "[kv_ro] secret: foo bar"),
        "{g:?}"
    );
    assert!(
        lines.iter().any(|l| l
            == "[kv_ro] /dir/hello.txt: 21 bytes, sha256 a1ac1cb68d2634329c3a0f53abebad8310402dc5002c41c5ac06314cd38658a5"),
        "{g:?}"
    );
}

/// `wall clock N ns (…), monotonic clock M ns` lines of the clock example.
fn clock_lines(out: &str) -> Vec<(u64, u64)> {
    out.lines()
        .filter_map(|l| {
            let rest = l.split("wall clock ").nth(1)?;
            let wall = rest.split(' ').next()?.parse().ok()?;
            let mono = rest.split("monotonic clock ").nth(1)?;
            let mono = mono.split(' ').next()?.parse().ok()?;
            Some((wall, mono))
        })
        .collect()
}

#[test]
fn clocks_come_from_pvclock_and_sleep_waits() {
    let g = dom0().guest("07-clock");
    ok(g);
    assert_eq!(g.status(), Some(0), "{g:?}");
    let lines = clock_lines(&g.output());
    assert_eq!(lines.len(), 3, "{g:?}");
    let host = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    for (wall, _) in &lines {
        // Xen's wall clock is dom0's, which is QEMU's RTC: the host's time.
        let day = 86_400 * 1_000_000_000u64;
        assert!(wall.abs_diff(host) < day, "wall {wall} vs host {host}");
    }
    for w in lines.windows(2) {
        // Each line follows a 100 ms sleep on the monotonic clock.
        assert!(w[1].1 >= w[0].1 + 100_000_000, "{:?}", lines);
        assert!(w[1].0 > w[0].0, "{:?}", lines);
    }
}

#[test]
fn the_image_is_a_static_pvh_elf_without_multiboot() {
    let dir = projects().dir("hello");
    let data = std::fs::read(dir.join("dist/hello.xen")).unwrap();
    let facts = unik_boot_tests::elf::check_pvh_image(&data).unwrap();
    assert_eq!(facts.text.0, 0x10_0000);
    // QEMU and GRUB prefer a multiboot header when one exists; there is none.
    let mb1 = 0x1bad_b002u32.to_le_bytes();
    let mb2 = 0xe852_50d6u32.to_le_bytes();
    let head = &data[..data.len().min(32 * 1024)];
    assert!(
        !head.chunks(4).any(|c| c == mb1 || c == mb2),
        "a multiboot magic is in the image's first 32 KiB"
    );
    // readelf agrees: one PT_NOTE with the Xen PHYS32_ENTRY note, three
    // PT_LOADs (R X, R, RW), no writable and executable segment.
    let out = std::process::Command::new("readelf")
        .args(["-lnW"])
        .arg(dir.join("dist/hello.xen"))
        .output()
        .expect("readelf (binutils) is needed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Unknown note type: (0x00000012)") || text.contains("PHYS32_ENTRY"),
        "{text}"
    );
    let loads: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("LOAD"))
        .collect();
    assert_eq!(loads.len(), 3, "{text}");
    assert!(loads[0].contains(" R E "), "{text}");
    assert!(loads[1].contains(" R "), "{text}");
    assert!(loads[2].contains(" RW "), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("NOTE"))
            .count(),
        1
    );
    assert!(
        !text.contains("INTERP") && !text.contains("DYNAMIC"),
        "{text}"
    );
}

#[test]
fn the_xl_file_boots_the_image_as_pvh() {
    let dir = projects().dir("hello");
    let xl = std::fs::read_to_string(dir.join("dist/hello.xl")).unwrap();
    let kernel = format!("kernel = \"{}\"\n", dir.join("dist/hello.xen").display());
    for line in [
        "name = \"hello\"\n",
        "type = \"pvh\"\n",
        kernel.as_str(),
        "memory = 64\n",
        "vcpus = 1\n",
        "cmdline = \"\"\n",
        "on_poweroff = \"destroy\"\n",
        "on_crash = \"destroy\"\n",
    ] {
        assert!(xl.contains(line), "`{line}` missing:\n{xl}");
    }
    assert!(!xl.contains("vif") && !xl.contains("disk ="), "{xl}");
    // Deterministic: building again writes the same file (after dom0 has
    // taken its copies of the images).
    dom0();
    unikernel::build(dir, &["-t", "xen"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("dist/hello.xl")).unwrap(),
        xl
    );
}

/// `xl create -F -c`'s output without xl's "Waiting for domain … to die [pid N]" line,
/// which it writes to the same pipe as the relayed console, so it can land inside a
/// console line (seen: `helloWaiting for domain hello (domid 8) to die [pid 470]`, then
/// the console's newline).
fn without_xl_waiting(attach: &str) -> String {
    let mut s = attach.to_string();
    while let Some(i) = s.find("Waiting for domain ") {
        let end = s[i..].find("]\n").map_or(s.len(), |j| i + j + 2);
        s.replace_range(i..end, "");
    }
    s
}

#[test]
fn xl_waiting_is_taken_out_of_the_console_wherever_it_lands() {
    let glued = "Parsing config from x.xl\nhelloWaiting for domain hello (domid 8) to die [pid 470]\n\nhello\nhe";
    assert_eq!(
        without_xl_waiting(&format!("{glued}llo\nhello\n")),
        "Parsing config from x.xl\nhello\nhello\nhello\nhello\n"
    );
    let between = "hello\nWaiting for domain hello (domid 8) to die [pid 1]\nhello\n";
    assert_eq!(without_xl_waiting(between), "hello\nhello\n");
}

#[test]
fn the_console_can_be_attached_without_a_terminal() {
    // `unikc run -t xen` runs `xl create -F -c` with its output on a pipe.
    let g = dom0().guest("08-hello-attach");
    ok(g);
    let console = without_xl_waiting(&g.attach);
    let relayed: Vec<&str> = console.lines().filter(|l| *l == "hello").collect();
    assert_eq!(relayed.len(), 4, "{g:?}");
    assert!(g.attach.contains("unik-xen: exit status 0"), "{g:?}");
}

#[test]
fn run_off_xen_says_a_dom0_is_needed() {
    let dir = projects().dir("noop");
    let out = unikernel::run(dir, &["-t", "xen"]);
    // A missing tool: exit status 3 (cli.md), E0701.
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("E0701"), "{}", out.all());
    assert!(
        out.stderr.contains("`unikc run -t xen` needs a Xen dom0"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("/proc/xen"), "{}", out.all());
}

#[test]
fn ping_answers_dom0_over_netfront() {
    let g = dom0().guest("09-ping");
    assert!(!g.create_failed, "xl create failed:\n{}", g.create);
    assert_eq!(g.check_status, Some(0), "{g:?}");
    assert!(
        g.check
            .contains("3 packets transmitted, 3 packets received"),
        "{g:?}"
    );
    assert!(
        g.check
            .contains("2 packets transmitted, 2 packets received"),
        "{g:?}"
    );
    let lines = messages(&g.output());
    assert!(
        lines.iter().any(|l| l.starts_with("[ping] 10.0.0.2/24 on ")
            && l.ends_with("(MTU 1500), answering pings")),
        "{g:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[ping] echo request from 10.0.0.1")),
        "{g:?}"
    );
}

#[test]
fn tcp_echo_serves_dom0_over_netfront() {
    let g = dom0().guest("10-tcp-echo");
    assert!(!g.create_failed, "xl create failed:\n{}", g.create);
    assert!(g.check.contains("ECHO-LINE-OK"), "{g:?}");
    assert!(g.check.contains("ECHO-BIG bytes=1048576 "), "{g:?}");
    assert!(g.check.contains("ECHO-BIG-OK"), "{g:?}");
    let lines = messages(&g.output());
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("[tcp-echo] 10.0.0.1:") && l.contains("echoed")),
        "{g:?}"
    );
}

#[test]
fn a_network_device_without_a_vif_is_a_clear_error() {
    let g = dom0().guest("11-no-vif");
    ok(g);
    // ExitStatus::Device, after the reason: xenstore has no device/vif/0.
    assert_eq!(g.status(), Some(3), "{g:?}");
    let out = g.output();
    assert!(
        out.contains(
            "unik-xen: net service: no Xen network device device/vif/0 (xenstored answered ENOENT)"
        ),
        "{g:?}"
    );
    assert!(out.contains("error: device "), "{g:?}");
}

#[test]
fn block_writes_reach_the_disk_in_dom0() {
    let g = dom0().guest("12-block");
    ok(g);
    assert_eq!(g.status(), Some(0), "{g:?}");
    let lines = messages(&g.output());
    for l in [
        "[block] 2048 sectors of 512 bytes, read-write",
        "[block] verified 8 sectors",
    ] {
        assert!(lines.iter().any(|m| m == l), "`{l}` missing: {g:?}");
    }
    // dom0 dumped the disk after the domain was gone: blkback wrote what
    // the guest wrote, and nothing else.
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk.img");
    std::fs::write(&disk, g.disk_bytes()).unwrap();
    bootable::check_block_pattern(&disk);
}

#[test]
fn a_console_backend_that_stops_reading_is_reported_and_the_guest_still_ends() {
    let run = dom0();
    let g = run.guest("13-console-full");
    ok(g);
    assert!(g.prep.trim().is_empty(), "prep: {}", g.prep);
    // After 5 s of a full ring the rest goes to Xen's debug console, the
    // exit status with it, and the domain powers off.
    let debug = run.debug_console("13-console-full");
    assert!(
        debug.contains(
            "unik-xen: console ring full for 5 s: the console backend (xenconsoled) is not reading"
        ),
        "{debug}\n{g:?}"
    );
    assert!(debug.contains("unik-xen: exit status 0"), "{debug}\n{g:?}");
    // Nothing lost or repeated: the ring holds 2048 bytes (two greetings
    // of 701 and 646 `x` of the third); the debug console (which Xen cuts
    // into lines of its own) has exactly the rest. xenconsoled logs the
    // ring's part only if it reads again before the domain is gone.
    let xs = |text: &str| -> usize {
        text.lines()
            .filter(|l| !l.is_empty() && l.bytes().all(|b| b == b'x'))
            .map(str::len)
            .sum()
    };
    let in_ring = 2048 - 2;
    assert_eq!(xs(&debug), 4 * 700 - in_ring, "{debug}\n{g:?}");
    assert!([0, in_ring].contains(&xs(&g.console)), "{debug}\n{g:?}");
}

#[test]
fn a_xenstore_error_is_named_and_the_guest_stops_with_the_device_status() {
    let g = dom0().guest("14-xenstore-error");
    ok(g);
    assert!(g.prep.trim().is_empty(), "prep: {}", g.prep);
    let out = g.output();
    assert!(
        out.contains(
            "unik-xen: net service: xenstore read device/vif/0/backend: xenstored answered EACCES"
        ),
        "{g:?}"
    );
    // Not mistaken for a missing vif.
    assert!(!out.contains("the .xl file needs one vif"), "{g:?}");
    assert!(out.contains("error: device "), "{g:?}");
    assert_eq!(g.status(), Some(3), "{g:?}");
}

#[test]
fn a_backend_that_never_answers_is_named_and_the_guest_stops_with_the_device_status() {
    let g = dom0().guest("15-no-backend");
    ok(g);
    assert!(g.prep.trim().is_empty(), "prep: {}", g.prep);
    let out = g.output();
    assert!(
        out.contains("unik-xen: net service: the network backend /local/domain/0/backend/vif/"),
        "{g:?}"
    );
    assert!(
        out.contains("/9 never reached InitWait (state \"1\" after 10 s)"),
        "{g:?}"
    );
    assert!(out.contains("is netback (xen-netback) loaded"), "{g:?}");
    assert_eq!(g.status(), Some(3), "{g:?}");
}
