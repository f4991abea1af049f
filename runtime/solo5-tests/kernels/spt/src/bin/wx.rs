//! Breaks W^X or reads page zero, as the command line says (`text`,
//! `rodata`, `exec-data`, `zero`); the tender must stop it. If it goes on,
//! it prints `FAILURE` and exits with 3.
#![no_std]
#![no_main]

use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! {}

/// In .rodata.
static RODATA: [u8; 8] = *b"rodata!\0";
/// In .data: a `ret` instruction.
static mut CODE: [u8; 8] = [0xc3, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3, 0xc3];

fn main(boot: &BootInfo) -> i32 {
    kprintln!("wx: {}", boot.cmdline);
    // SAFETY: none: each arm deliberately breaks the rules the tender
    // enforces; volatile keeps the accesses as written.
    unsafe {
        match boot.cmdline {
            "text" => core::ptr::write_volatile(main as *const () as *mut u8, 0x90),
            "rodata" => core::ptr::write_volatile(RODATA.as_ptr().cast_mut(), 0),
            "exec-data" => {
                let f: extern "C" fn() = core::mem::transmute((&raw const CODE).cast::<u8>());
                f();
            }
            "zero" => {
                let v = core::ptr::read_volatile(core::hint::black_box(8usize) as *const u64);
                kprintln!("read {v:#x}");
            }
            other => {
                kprintln!("unknown mode {other:?}");
                return 2;
            }
        }
    }
    kprintln!("FAILURE: the W^X violation went on");
    3
}
