//! Packaged images run the way urunc runs them: the spt image unpacked by
//! umoci, started with exactly the command line urunc builds for Solo5
//! (tender, `--mem`, `--net:service=TAP`, `--net-mac:service=`, image,
//! `--ipv4=`, `--ipv4-gateway=`, then the config's Cmd), answers ping
//! from Linux at the address urunc gave it.

mod unikernel;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use unikernel::{Ns, Running, build_lock, copy_example, eventually, require, stop, unikc};

fn need(tool: &str, package: &str) {
    assert!(
        which::which(tool).is_ok(),
        "`{tool}` is missing: install the Debian package {package} (see .ci/run)"
    );
}

/// The standalone tenders, built once (release, like `unikc run`'s).
fn tender(name: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| {
        let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tenders");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let out = Command::new(cargo)
            .args([
                "build",
                "--release",
                "--locked",
                "-p",
                "unik-tender",
                "--bins",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("CARGO_TARGET_DIR", &target)
            .output()
            .expect("cargo");
        assert!(
            out.status.success(),
            "building the tenders: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        target.join("release")
    });
    dir.join(name)
}

/// Packages `dir` for `target` and unpacks the layout with umoci; returns
/// the bundle's runtime config (`config.json`) and its rootfs.
fn package_and_unpack(dir: &Path, target: &str, scratch: &Path) -> (Value, PathBuf) {
    need("umoci", "umoci");
    {
        let _g = build_lock();
        let out = unikc(dir, &["package", "-t", target]);
        assert_eq!(out.code, 0, "{}", out.all());
    }
    let name = dir.file_name().unwrap().to_str().unwrap();
    let layout = dir.join(format!("dist/{name}.{target}.oci"));
    let bundle = scratch.join("bundle");
    let out = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:latest", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config: Value =
        serde_json::from_slice(&std::fs::read(bundle.join("config.json")).unwrap()).unwrap();
    (config, bundle.join("rootfs"))
}

/// What urunc reads from the bundle: the binary's path in the rootfs and
/// the boot arguments (the image's Cmd; umoci writes `sh` for none).
fn urunc_view(config: &Value, rootfs: &Path) -> (PathBuf, Vec<String>) {
    let binary = config["annotations"]["com.urunc.unikernel.binary"]
        .as_str()
        .expect("the binary annotation");
    let args: Vec<String> = config["process"]["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .filter(|a| a != "sh")
        .collect();
    (rootfs.join(binary.trim_start_matches('/')), args)
}

#[test]
fn spt_image_under_uruncs_solo5_command_line_answers_ping() {
    require(&["ip", "ping"]);
    let (tmp, dir) = copy_example("tcp-echo");
    let (config, rootfs) = package_and_unpack(&dir, "spt", tmp.path());
    assert_eq!(
        config["annotations"]["com.urunc.unikernel.hypervisor"],
        "spt"
    );
    let (image, cmd) = urunc_view(&config, &rootfs);
    let ns = Ns::new("urunc");
    // Not the catalogue's default address: the one urunc passes must win.
    let ours = "10.0.0.9";
    let mut c = ns.cmd(tender("unikc-spt").to_str().unwrap());
    c.args([
        "--mem=256",
        "--net:service=tap0",
        "--net-mac:service=02:75:72:75:6e:63",
    ])
    .arg(&image)
    .args([&format!("--ipv4={ours}/24"), "--ipv4-gateway=10.0.0.1"])
    .args(&cmd)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut server = Running(c.spawn().expect("the tender"));
    eventually(&mut server, || {
        let out = ns
            .cmd("ping")
            .args(["-n", "-c", "1", "-W", "1", ours])
            .output()
            .unwrap();
        if out.status.success() {
            Ok(())
        } else {
            Err(out.status)
        }
    });
    let log = stop(server);
    assert!(log.contains(ours), "{log}");
}

/// Waits for `child` for at most `secs`; kills it and fails if it is
/// still running then (an image that reboots instead of stopping).
fn wait_or_kill(mut child: std::process::Child, secs: u64) -> (i32, String) {
    use std::io::Read;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut out = String::new();
    let _ = child.stdout.take().unwrap().read_to_string(&mut out);
    let _ = child.stderr.take().unwrap().read_to_string(&mut out);
    match status {
        Some(s) => (s.code().unwrap_or(-1), out),
        None => panic!("QEMU was still running after {secs} s (rebooting?):\n{out}"),
    }
}

#[test]
fn virtio_image_under_uruncs_qemu_line_powers_off() {
    need("qemu-system-x86_64", "qemu-system-x86");
    let (tmp, dir) = copy_example("hello");
    let (config, rootfs) = package_and_unpack(&dir, "virtio", tmp.path());
    assert_eq!(
        config["annotations"]["com.urunc.unikernel.hypervisor"],
        "qemu"
    );
    let (image, cmd) = urunc_view(&config, &rootfs);
    // urunc's line (no isa-debug-exit, no -no-reboot), with TCG instead
    // of `-cpu host -enable-kvm`, which this machine's nested KVM cannot run.
    let child = Command::new("qemu-system-x86_64")
        .args(["-m", "256", "-cpu", "max", "-accel", "tcg"])
        .args(["-display", "none", "-vga", "none", "-serial", "stdio"])
        .arg("-kernel")
        .arg(&image)
        .arg("-append")
        .arg(cmd.join(" "))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("qemu-system-x86_64");
    let (code, out) = wait_or_kill(child, 240);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.trim_end() == "hello").count(),
        4,
        "{out}"
    );
}

#[test]
fn tenders_answer_version_with_the_abi_albatross_checks() {
    for name in ["unikc-spt", "unikc-hvt"] {
        let out = Command::new(tender(name))
            .arg("--version")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name} --version");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(&format!("{name} 0.")), "{text}");
        assert!(text.lines().any(|l| l == "ABI version 2"), "{text}");
    }
}
