#![no_std]
#![no_main]

use unik_virtio::{BootInfo, kprintln};

unik_virtio::entry!(main);

fn main(boot: &BootInfo) -> i32 {
    kprintln!("about to panic");
    let n = boot.cmdline.len() + 42;
    panic!("deliberate panic {n}");
}
