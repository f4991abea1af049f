#![no_std]
#![no_main]

use unik_virtio::{BootInfo, irq, kprintln, now_ns, wait};

unik_virtio::entry!(main);

fn main(boot: &BootInfo) -> i32 {
    let ms: u64 = boot
        .cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix("sleep_ms="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let irqs_before = irq::count(irq::TIMER_IRQ);
    let start = now_ns();
    let ready = wait(start + ms * 1_000_000, 0);
    let elapsed = now_ns() - start;
    let irqs = irq::count(irq::TIMER_IRQ) - irqs_before;
    kprintln!(
        "timer: requested_ns={} elapsed_ns={elapsed} timer_irqs={irqs} ready={ready}",
        ms * 1_000_000
    );
    0
}
