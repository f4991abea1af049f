#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::vec::Vec;
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! { net "service", block "storage" }

fn main(boot: &BootInfo) -> i32 {
    kprintln!("hello from unik-solo5 on hvt");
    kprintln!("cmdline: {:?}", boot.cmdline);
    kprintln!("heap: {} bytes", boot.heap_bytes);
    let v: Vec<u64> = (1..=1000).collect();
    kprintln!("sum/7 = {}", format!("{:.3}", v.iter().sum::<u64>() as f64 / 7.0));
    let t0 = unik_solo5::clock_monotonic();
    let ready = unik_solo5::yield_until(t0 + 10_000_000);
    kprintln!("yield: ready={ready}");
    0
}
