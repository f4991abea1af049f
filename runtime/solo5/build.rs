//! For genode images only (feature `genode`): the link-time stand-in for
//! Genode's `solo5.lib.so`. The image links against it so that the linker
//! records `DT_NEEDED solo5.lib.so` and leaves every `solo5_*` function
//! an undefined dynamic symbol, which the real library (or a test double)
//! provides at load time. Its functions trap; it is never loaded.

use std::path::PathBuf;
use std::process::Command;

/// The `solo5.h` functions of Solo5 0.6 an image may import.
const API: &[&str] = &[
    "solo5_console_write",
    "solo5_clock_monotonic",
    "solo5_clock_wall",
    "solo5_yield",
    "solo5_exit",
    "solo5_abort",
    "solo5_set_tls_base",
    "solo5_net_acquire",
    "solo5_net_write",
    "solo5_net_read",
    "solo5_block_acquire",
    "solo5_block_write",
    "solo5_block_read",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_GENODE").is_none() {
        return;
    }
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut asm = String::from(".text\n");
    for f in API {
        asm.push_str(&format!(
            ".globl {f}\n.type {f}, @function\n{f}:\n    ud2\n"
        ));
    }
    let src = out.join("solo5_stub.s");
    std::fs::write(&src, asm).expect("write the stub source");
    let lib = out.join("solo5.lib.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-shared", "-nostdlib", "-Wl,-soname,solo5.lib.so", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("running `{cc}` to link the solo5.lib.so stub: {e}"));
    assert!(
        status.success(),
        "`{cc}` failed to link the solo5.lib.so stub"
    );
    println!("cargo:rustc-link-search=native={}", out.display());
    println!("cargo:rustc-link-lib=dylib:+verbatim=solo5.lib.so");
}
