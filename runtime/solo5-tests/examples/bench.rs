//! Figures for the Solo5 targets: spt boot to the first console line, hvt
//! (assembly guest) boot to the first console line, and image sizes.
//!
//! `cargo run --release --example bench [RUNS]` (needs root for the hvt
//! run's network namespace and /dev/kvm).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use unik_solo5_tests::{Kernels, Netns, disk, hvt, image, run, spt, tcp_echo_client, upstream};

/// Time from spawn to the first complete stdout line, and to exit.
fn first_line(mut cmd: Command) -> (Duration, Duration) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    out.read_line(&mut line).expect("first line");
    let first = start.elapsed();
    assert!(!line.is_empty(), "no console output");
    let mut rest = String::new();
    while out.read_line(&mut rest).unwrap_or(0) > 0 {}
    child.wait().expect("wait");
    (first, start.elapsed())
}

fn stats(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{name:<44} min {:7.2} ms  median {:7.2} ms  max {:7.2} ms  (n={})",
        ms(v[0]),
        ms(v[v.len() / 2]),
        ms(v[v.len() - 1]),
        v.len()
    );
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let (spt_bin, hvt_bin) = (spt(), hvt());

    let hello = image(Kernels::Spt, "hello");
    let mut first = Vec::new();
    let mut total = Vec::new();
    for _ in 0..runs {
        let mut c = Command::new(&spt_bin);
        c.arg("--mem=64").arg(&hello);
        let (f, t) = first_line(c);
        first.push(f);
        total.push(t);
    }
    stats("spt hello: spawn -> first console line", first);
    stats("spt hello: spawn -> exit (includes 100 ms yield)", total);

    let ns = Netns::new();
    let path = disk("bench-hvt", 16);
    let asm = image(Kernels::HvtAsm, "hvt-asm");
    let mut first = Vec::new();
    for _ in 0..runs.min(10) {
        let mut c = ns.command(&hvt_bin);
        c.arg("--mem=32")
            .arg("--net:service=tap0")
            .arg(format!("--block:storage={}", path.display()))
            .arg(&asm)
            .arg("x-bench");
        first.push(first_line(c).0);
    }
    stats("hvt asm guest: spawn -> first console line", first);
    let _ = std::fs::remove_file(path);

    // TCP echo through unik-net's direct stack on spt (Linux as the client).
    let ns = Netns::new();
    let mut c = ns.command(&spt_bin);
    c.arg("--net:service=tap0")
        .arg(image(Kernels::Spt, "tcp_echo"));
    let guest = std::thread::spawn(move || run(c, Duration::from_secs(120)));
    let size = 16usize << 20;
    let data: Vec<u8> = (0..size).map(|i| (i % 253) as u8).collect();
    let start = Instant::now();
    let back = ns
        .within(move || tcp_echo_client(data))
        .expect("echo client");
    let secs = start.elapsed().as_secs_f64();
    let r = guest.join().expect("guest");
    assert!(
        back.len() == size && r.status == Some(0),
        "echo failed: {r:?}"
    );
    println!(
        "{:<44} {:7.1} MB/s each way ({} MiB in {:.2} s, incl. connect)",
        "spt tcp_echo (direct stack) over a tap",
        size as f64 / secs / 1e6,
        size >> 20,
        secs
    );

    println!();
    println!(
        "{:<22} {:>10} {:>10} {:>10} {:>10}",
        "image", "file", "text", "rodata", "data+bss"
    );
    let images = [
        (Kernels::Spt, "hello", 2),
        (Kernels::Spt, "block", 2),
        (Kernels::Spt, "net", 2),
        (Kernels::Spt, "tcp_echo", 2),
        (Kernels::Hvt, "hello", 1),
        (Kernels::Hvt, "net", 1),
        (Kernels::HvtAsm, "hvt-asm", 1),
    ];
    for (k, name, target) in images {
        let path = image(k, name);
        let data = std::fs::read(&path).expect("image");
        let facts = upstream::check(&data, target).expect("valid image");
        let size = |flags: u32| -> u64 {
            facts
                .loads
                .iter()
                .filter(|l| l.2 == flags)
                .map(|l| l.1)
                .sum()
        };
        let target = if target == 2 { "spt" } else { "hvt" };
        println!(
            "{:<22} {:>10} {:>10} {:>10} {:>10}",
            format!("{target}/{name}"),
            data.len(),
            size(5),
            size(4),
            size(6)
        );
    }
}
