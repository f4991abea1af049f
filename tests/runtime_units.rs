//! The freestanding runtime crates are outside the workspace (they build
//! for bare-metal images with their own flags), so `cargo test --workspace`
//! does not reach their unit tests: the pvclock arithmetic, ring and
//! descriptor layouts, start-info parsing. Run them here, on the host.

use std::path::Path;
use std::process::Command;

fn unit_tests(krate: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = root.join("runtime").join(krate).join("Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runtime-units");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        // Every feature: `pvh` (start info, CPU access) is a feature of
        // unik-freestanding.
        .args(["test", "--lib", "--all-features", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("running cargo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "unit tests of runtime/{krate} failed:\n{text}"
    );
    // Guard against a crate whose tests silently vanished.
    let ran: usize = text
        .lines()
        .filter_map(|l| l.strip_prefix("test result: ok. "))
        .filter_map(|l| l.split(' ').next()?.parse::<usize>().ok())
        .sum();
    assert!(ran > 0, "runtime/{krate} ran no unit tests:\n{text}");
}

#[test]
fn xen_runtime_unit_tests_pass() {
    unit_tests("xen");
}

#[test]
fn virtio_runtime_unit_tests_pass() {
    unit_tests("virtio");
}

#[test]
fn freestanding_runtime_unit_tests_pass() {
    unit_tests("freestanding");
}
