#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! {}

fn main(boot: &BootInfo) -> i32 {
    kprintln!("hello from unik-solo5");
    kprintln!("cmdline: {:?}", boot.cmdline);
    kprintln!("heap: {} bytes", boot.heap_bytes);
    kprintln!("wall_s: {}", unik_solo5::clock_wall() / 1_000_000_000);
    // Heap and SSE formatting.
    let v: Vec<u64> = (1..=1000).collect();
    let s = format!("{:.3}", v.iter().sum::<u64>() as f64 / 7.0);
    kprintln!("sum/7 = {s}");
    // A 100 ms yield with no devices: returns at the deadline, empty.
    let t0 = unik_solo5::clock_monotonic();
    let ready = unik_solo5::yield_until(t0 + 100_000_000);
    let slept = unik_solo5::clock_monotonic() - t0;
    kprintln!("yield: ready={ready} slept_ns={slept}");
    kprintln!("tls: {:?}", unik_solo5::set_tls_base(0x1234_5000));
    boot.cmdline
        .split_whitespace()
        .find_map(|arg| arg.strip_prefix("exit="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}
