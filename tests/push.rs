//! `unikc push` and `unikc package --push` against Debian's `docker-registry`
//! on 127.0.0.1: the registry reports the layout's digest and urunc's keys
//! to `skopeo inspect`, `skopeo copy` of the layout agrees, and containerd's
//! `ctr` pulls (fetches and unpacks) the image.

mod unikernel;

use serde_json::Value;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use unikernel::{Output, build_lock, copy_example, free_port, unikc};

fn need(tool: &str, package: &str) {
    assert!(
        which::which(tool).is_ok(),
        "`{tool}` is missing: install the Debian package {package} (see .ci/run)"
    );
}

fn ok(mut cmd: Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = unikernel::output(std::mem::replace(&mut cmd, Command::new("true")));
    assert_eq!(out.code, 0, "{shown}\n{}", out.all());
    out
}

/// Waits until something listens on 127.0.0.1:`port`.
fn listening(port: u16, child: &mut Child, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} stopped: {status}");
        }
        assert!(Instant::now() < deadline, "{what} never listened on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A `docker-registry` serving from a temporary directory on 127.0.0.1.
struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    fn start() -> Registry {
        need("docker-registry", "docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry");
        listening(port, &mut child, "docker-registry");
        Registry {
            child,
            port,
            _dir: dir,
        }
    }

    fn at(&self, repo: &str) -> String {
        format!("127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn inspect(reference: &str, raw: bool) -> Value {
    let mut c = Command::new("skopeo");
    c.args(["inspect", "--tls-verify=false"]);
    if raw {
        c.arg("--raw");
    }
    c.arg(format!("docker://{reference}"));
    serde_json::from_str(&ok(c).stdout).unwrap()
}

fn urunc_labels(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .iter()
        .filter(|(k, _)| k.starts_with("com.urunc.unikernel."))
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

fn unikc_ok(dir: &Path, args: &[&str]) -> String {
    let _g = build_lock();
    let out = unikc(dir, args);
    assert_eq!(out.code, 0, "unikc {args:?}\n{}", out.all());
    out.stdout.trim().to_string()
}

#[test]
fn push_and_skopeo_copy_give_the_layout_digest_and_ctr_fetches_it() {
    need("skopeo", "skopeo");
    let reg = Registry::start();
    let (_tmp, dir) = copy_example("hello");
    let packaged = unikc_ok(&dir, &["package", "-t", "spt"]);
    let pushed = unikc_ok(
        &dir,
        &["push", "-t", "spt", &reg.at("hello:unikc"), "--insecure"],
    );
    assert_eq!(pushed, packaged);
    let both = unikc_ok(
        &dir,
        &[
            "package",
            "-t",
            "spt",
            "--push",
            &reg.at("hello:again"),
            "--insecure",
        ],
    );
    assert_eq!(both, packaged);

    let layout = dir.join("dist/hello.spt.oci");
    let mut copy = Command::new("skopeo");
    copy.args(["copy", "--preserve-digests", "--dest-tls-verify=false"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("docker://{}", reg.at("hello:skopeo")));
    ok(copy);

    let want = vec![
        (
            "com.urunc.unikernel.binary".into(),
            "/unikernel/hello.spt".into(),
        ),
        ("com.urunc.unikernel.hypervisor".into(), "spt".into()),
        ("com.urunc.unikernel.mountRootfs".into(), "false".into()),
        ("com.urunc.unikernel.unikernelType".into(), "mirage".into()),
    ];
    for tag in ["hello:unikc", "hello:again", "hello:skopeo"] {
        let info = inspect(&reg.at(tag), false);
        assert_eq!(info["Digest"], packaged.as_str(), "{tag}");
        assert_eq!(info["Os"], "linux");
        assert_eq!(urunc_labels(&info["Labels"]), want, "{tag}");
        let manifest = inspect(&reg.at(tag), true);
        assert_eq!(urunc_labels(&manifest["annotations"]), want, "{tag}");
    }

    ctr_fetches(&reg.at("hello:unikc"), &packaged);
}

/// containerd (a private daemon in a temporary directory) fetches the
/// image from the registry and lists it with the same digest.
fn ctr_fetches(reference: &str, digest: &str) {
    need("containerd", "containerd");
    need("ctr", "containerd");
    let tmp = tempfile::tempdir().unwrap();
    let sock = tmp.path().join("containerd.sock");
    let config = tmp.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "version = 2\nroot = \"{0}/root\"\nstate = \"{0}/state\"\n[grpc]\n  address = \"{1}\"\n",
            tmp.path().display(),
            sock.display()
        ),
    )
    .unwrap();
    let mut daemon = Command::new("containerd")
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("containerd");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sock.exists() {
        assert!(
            Instant::now() < deadline,
            "containerd never made its socket"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let ctr = |args: &[&str]| {
        let mut c = Command::new("ctr");
        c.arg("--address").arg(&sock).args(args);
        unikernel::output(c)
    };
    let fetched = ctr(&["images", "pull", "--plain-http", reference]);
    let listed = ctr(&["images", "ls"]);
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(fetched.code, 0, "{}", fetched.all());
    assert!(
        listed
            .stdout
            .lines()
            .any(|l| l.starts_with(reference) && l.contains(digest)),
        "{}",
        listed.all()
    );
}

#[test]
fn insecure_is_only_for_loopback_and_a_dead_registry_is_e0802() {
    let (_tmp, dir) = copy_example("hello");
    let out = unikc(
        &dir,
        &[
            "push",
            "-t",
            "spt",
            "registry.example:5000/hello",
            "--insecure",
        ],
    );
    assert_eq!(out.code, 2, "{}", out.all());
    assert!(
        out.stderr.contains("not a loopback address"),
        "{}",
        out.all()
    );
    assert!(!dir.join("_build").exists(), "refused before building");

    let port = free_port();
    let _g = build_lock();
    let out = unikc(
        &dir,
        &[
            "push",
            "-t",
            "spt",
            &format!("127.0.0.1:{port}/hello:spt"),
            "--insecure",
        ],
    );
    assert_eq!(out.code, 3, "{}", out.all());
    assert!(out.stderr.contains("E0709"), "{}", out.all());
}
