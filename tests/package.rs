//! `unikc package`: OCI image layouts for urunc, checked with Debian's OCI
//! tools (`oci-image-tool`, `umoci`), and the same digest from two copies
//! of a project at different paths.

mod unikernel;

use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use unikernel::{Output, build_lock, copy_example, unikc};

/// Fails loudly when a tool the test needs is not installed.
fn need(tool: &str, package: &str) {
    assert!(
        which::which(tool).is_ok(),
        "`{tool}` is missing: install the Debian package {package} (see .ci/run)"
    );
}

/// `unikc package ARGS` in `dir` under the build lock; the digest it prints.
fn package(dir: &Path, args: &[&str]) -> String {
    let _g = build_lock();
    let mut all = vec!["package"];
    all.extend_from_slice(args);
    let out = unikc(dir, &all);
    assert_eq!(out.code, 0, "unikc {all:?}:\n{}", out.all());
    let digest = out.stdout.trim().to_string();
    assert!(
        digest.starts_with("sha256:") && digest.len() == 71,
        "{}",
        out.all()
    );
    digest
}

fn run(cmd: &mut Command) -> Output {
    let out = unikernel::output(std::mem::replace(cmd, Command::new("true")));
    assert_eq!(out.code, 0, "{cmd:?}\n{}", out.all());
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn urunc(hypervisor: &str, binary: &str) -> BTreeMap<String, String> {
    [
        ("com.urunc.unikernel.unikernelType", "mirage"),
        ("com.urunc.unikernel.hypervisor", hypervisor),
        ("com.urunc.unikernel.binary", binary),
        ("com.urunc.unikernel.mountRootfs", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The `com.urunc.unikernel.*` entries of a JSON object.
fn urunc_entries(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .iter()
        .filter(|(k, _)| k.starts_with("com.urunc.unikernel."))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

/// Unpacks `layout:latest` with umoci into a fresh bundle.
fn unpack(layout: &Path) -> (tempfile::TempDir, PathBuf) {
    need("umoci", "umoci");
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("bundle");
    run(Command::new("umoci").args([
        "unpack",
        "--image",
        &format!("{}:latest", layout.display()),
        bundle.to_str().unwrap(),
    ]));
    (tmp, bundle)
}

#[test]
fn spt_layout_validates_unpacks_for_urunc_and_is_the_same_at_another_path() {
    need("oci-image-tool", "oci-image-tool");
    let (_t1, one) = copy_example("hello-key");
    let (_t2, two) = copy_example("hello-key");
    let args = ["-t", "spt", "--hello=Bonjour", "--arg=--extra=1"];
    let d1 = package(&one, &args);
    let d2 = package(&two, &args);
    assert_eq!(d1, d2, "the same project at two paths");
    let layout = one.join("dist/hello-key.spt.oci");
    assert_eq!(
        unikernel::tree(&layout),
        unikernel::tree(&two.join("dist/hello-key.spt.oci")),
        "byte-identical layouts"
    );
    let index = json(&layout.join("index.json"));
    assert_eq!(index["manifests"][0]["digest"], d1.as_str());
    assert_eq!(index["manifests"][0]["platform"]["os"], "linux");

    run(Command::new("oci-image-tool").args([
        "validate",
        "--type",
        "image",
        "--ref",
        "name=latest",
        layout.to_str().unwrap(),
    ]));

    let manifest = json(&layout.join(format!("blobs/sha256/{}", &d1[7..])));
    let want = urunc("spt", "/unikernel/hello-key.spt");
    assert_eq!(urunc_entries(&manifest["annotations"]), want);
    assert_eq!(
        manifest["annotations"]["org.opencontainers.image.title"],
        "hello-key"
    );
    let config_digest = manifest["config"]["digest"].as_str().unwrap();
    let config = json(&layout.join(format!("blobs/sha256/{}", &config_digest[7..])));
    assert_eq!(config["os"], "linux");
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(urunc_entries(&config["config"]["Labels"]), want);
    assert_eq!(
        config["config"]["Cmd"],
        serde_json::json!(["--hello=Bonjour", "--extra=1"])
    );
    assert!(config.get("created").is_none(), "no SOURCE_DATE_EPOCH");

    let (_tmp, bundle) = unpack(&layout);
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read(rootfs.join("unikernel/hello-key.spt")).unwrap(),
        std::fs::read(one.join("dist/hello-key.spt")).unwrap()
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let decoded: BTreeMap<String, String> = urunc_entries(&json(&rootfs.join("urunc.json")))
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(b64.decode(v).unwrap()).unwrap()))
        .collect();
    assert_eq!(decoded, want);
    let runtime = json(&bundle.join("config.json"));
    assert_eq!(urunc_entries(&runtime["annotations"]), want);
    assert_eq!(
        runtime["process"]["args"],
        serde_json::json!(["--hello=Bonjour", "--extra=1"])
    );
}

#[test]
fn virtio_archive_carries_the_qemu_keys_and_the_creation_time() {
    need("skopeo", "skopeo");
    let (tmp, dir) = copy_example("hello");
    let archive = tmp.path().join("hello.tar");
    let digest = {
        let _g = build_lock();
        let mut c = unikernel::command(
            &dir,
            &[
                "package",
                "-t",
                "virtio",
                "--archive",
                archive.to_str().unwrap(),
            ],
        );
        c.env("SOURCE_DATE_EPOCH", "1700000000");
        let out = unikernel::output(c);
        assert_eq!(out.code, 0, "{}", out.all());
        out.stdout.trim().to_string()
    };
    assert!(!dir.join("dist/hello.virtio.oci").exists());
    let out = run(
        Command::new("skopeo").args(["inspect", &format!("oci-archive:{}", archive.display())])
    );
    let info: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(info["Digest"], digest.as_str());
    assert_eq!(info["Created"], "2023-11-14T22:13:20Z");
    assert_eq!(
        urunc_entries(&info["Labels"]),
        urunc("qemu", "/unikernel/hello.virtio")
    );
}

#[test]
fn targets_urunc_cannot_run_are_refused_before_building() {
    let (_tmp, dir) = copy_example("hello");
    let out = unikc(&dir, &["package", "-t", "unix"]);
    assert_eq!(out.code, 1, "{}", out.all());
    assert!(out.stderr.contains("E0708"), "{}", out.all());
    assert!(
        out.stderr
            .contains("urunc runs hvt (as hvt), spt (as spt), virtio (as qemu)"),
        "{}",
        out.all()
    );
    assert!(!dir.join("_build").exists(), "nothing configured");
}
