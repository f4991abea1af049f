#![no_std]
#![no_main]

use core::arch::asm;
use unik_virtio::{BootInfo, kprintln};

unik_virtio::entry!(main);

/// Recursion the optimiser cannot flatten: each frame keeps a live buffer.
fn recurse(depth: u64) -> u64 {
    // Far deeper than a 1 MiB stack allows.
    if depth > 1 << 24 {
        return depth;
    }
    let mut frame = [0u8; 512];
    frame[(depth % 512) as usize] = depth as u8;
    let frame = core::hint::black_box(frame);
    recurse(depth + 1) + u64::from(frame[0])
}

fn main(boot: &BootInfo) -> i32 {
    let which = boot.cmdline.split_whitespace().next().unwrap_or("");
    kprintln!("triggering {which}");
    // SAFETY: each arm deliberately faults; the platform reports and exits.
    unsafe {
        match which {
            "pf" => asm!("mov rax, [0x10]", out("rax") _),
            "pf-high" => asm!("mov rax, 0x100000000", "shl rax, 4", "mov rax, [rax]", out("rax") _),
            "ud" => asm!("ud2"),
            "gp" => asm!("mov rax, 0x8000000000000000", "mov rax, [rax]", out("rax") _),
            "de" => {
                asm!("xor edx, edx", "xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _)
            }
            "overflow" => kprintln!("depth {}", recurse(0)),
            _ => {
                kprintln!("unknown fault {which:?}");
                return 3;
            }
        }
    }
    kprintln!("fault did not trap");
    4
}
