//! Boot-time figures for the virtio platform: builds the hello kernel and
//! boots it N times (default 10) per machine type, printing QEMU process wall
//! time (spawn to exit) and the guest's own entry-to-main time.
//!
//! `cargo run --release --example boot_time [N]`

use std::path::PathBuf;
use std::time::Duration;

use unik_boot_tests::{Machine, boot, kernel_dir};

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("kernels");
    let hello = kernel_dir(&target).join("hello");
    let pc_args = ["-nodefaults", "-serial", "stdio"];
    for (machine, extra) in [
        (Machine::Microvm, &[][..]),
        (Machine::Pc, &pc_args[..]),
        (Machine::Q35, &pc_args[..]),
    ] {
        let mut walls = Vec::new();
        let mut guest = Vec::new();
        for _ in 0..runs {
            let run = boot(&hello, machine, "", extra, Duration::from_secs(60));
            if !run.exited_with(0) {
                eprintln!("{machine:?}: boot failed: {run:?}");
                std::process::exit(1);
            }
            walls.push(run.wall);
            let ns: u64 = run
                .line("boot_ns: ")
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or(0);
            guest.push(Duration::from_nanos(ns));
        }
        walls.sort();
        guest.sort();
        println!(
            "{machine:?}: runs={runs} qemu_wall_ms min={:.1} median={:.1} max={:.1} guest_entry_to_main_ms median={:.2}",
            ms(walls[0]),
            ms(walls[runs / 2]),
            ms(walls[runs - 1]),
            ms(guest[runs / 2]),
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
