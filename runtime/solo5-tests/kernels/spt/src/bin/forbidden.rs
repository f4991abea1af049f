//! Makes a system call outside the spt allowlist, chosen on the command line.
#![no_std]
#![no_main]

use unik_solo5::spt::sys::syscall6;
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! {}

fn main(boot: &BootInfo) -> i32 {
    let path = c"/etc/passwd";
    let msg = b"to stderr\n";
    let (nr, args): (u64, [u64; 6]) = match boot.cmdline {
        "getpid" => (39, [0; 6]),
        "open" => (2, [path.as_ptr() as u64, 0, 0, 0, 0, 0]),
        "stderr" => (1, [2, msg.as_ptr() as u64, msg.len() as u64, 0, 0, 0]),
        "fork" => (57, [0; 6]),
        other => {
            kprintln!("unknown mode {other:?}");
            return 2;
        }
    };
    kprintln!("calling system call {nr}");
    // SAFETY: the tender's filter stops this call; the arguments are valid anyway.
    let r = unsafe { syscall6(nr, args) };
    kprintln!("still alive after system call {nr}: {r}");
    0
}
