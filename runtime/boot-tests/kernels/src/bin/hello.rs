#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use unik_virtio::{BootInfo, clock, kprintln};

unik_virtio::entry!(main);

fn main(boot: &BootInfo) -> i32 {
    kprintln!("hello from unik-virtio");
    kprintln!("cmdline: {:?}", boot.cmdline);
    kprintln!("heap: {} bytes", boot.heap_bytes);
    kprintln!("clock: {:?} tsc_hz={}", clock::source(), clock::tsc_hz());
    kprintln!("boot_ns: {}", boot.boot_ns);
    kprintln!("wall_s: {}", clock::wall_ns() / 1_000_000_000);
    // Exercise the heap and SSE formatting.
    let v: Vec<u64> = (1..=1000).collect();
    let s = format!("{:.3}", v.iter().sum::<u64>() as f64 / 7.0);
    kprintln!("sum/7 = {s}");
    for d in unik_virtio::devices() {
        kprintln!(
            "device: {:?} at {} io={:#x} irq={}",
            d.kind,
            d.pci,
            d.io_base,
            d.irq
        );
    }
    boot.cmdline
        .split_whitespace()
        .find_map(|arg| arg.strip_prefix("exit="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
