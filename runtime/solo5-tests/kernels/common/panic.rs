#![no_std]
#![no_main]

use unik_solo5::BootInfo;

unik_solo5::entry!(main);
unik_solo5::manifest! {}

fn main(boot: &BootInfo) -> i32 {
    panic!("deliberate panic, cmdline {:?}", boot.cmdline);
}
