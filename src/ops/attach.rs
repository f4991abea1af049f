//! The host devices of `unikc run` on the bootable targets: every device
//! of the graph (`unik_codegen::host_devices`, in the order the image
//! expects them) is backed by the tap interface or the file of its name,
//! unless `--net:NAME=IFACE` or `--block:NAME=PATH` says otherwise.

use std::path::{Path, PathBuf};
use unik_codegen::HostDev;
use unik_resolver::HostDeviceKind;

/// One `--net:NAME=IFACE` or `--block:NAME=PATH`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attach {
    pub kind: HostDeviceKind,
    pub name: String,
    pub value: String,
}

/// `--net:NAME=VALUE` / `--block:NAME=VALUE`, if `arg` is one.
pub fn parse_attach(arg: &str) -> Option<Result<Attach, String>> {
    let (kind, rest) = if let Some(r) = arg.strip_prefix("--net:") {
        (HostDeviceKind::Net, r)
    } else if let Some(r) = arg.strip_prefix("--block:") {
        (HostDeviceKind::Block, r)
    } else {
        return None;
    };
    Some(match rest.split_once('=') {
        Some((name, value)) if !name.is_empty() && !value.is_empty() => Ok(Attach {
            kind,
            name: name.to_string(),
            value: value.to_string(),
        }),
        _ => Err(format!(
            "{arg}: expected --net:NAME=IFACE or --block:NAME=PATH"
        )),
    })
}

/// A host device and what backs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attached {
    pub kind: HostDeviceKind,
    pub name: String,
    /// A tap interface, or an absolute file path.
    pub backing: String,
}

pub fn kind_name(k: HostDeviceKind) -> &'static str {
    match k {
        HostDeviceKind::Net => "net",
        HostDeviceKind::Block => "block",
    }
}

/// Backs every host device: an override when given, else the tap
/// interface named like the device (or `tapN` for the N-th network device)
/// and the file named like the device beside the configuration.
pub fn attach(
    devices: &[HostDev],
    overrides: &[Attach],
    project_dir: &Path,
    iface_exists: impl Fn(&str) -> bool,
) -> Result<Vec<Attached>, String> {
    for o in overrides {
        if !devices.iter().any(|d| d.kind == o.kind && d.name == o.name) {
            let known: Vec<String> = devices
                .iter()
                .map(|d| format!("{} `{}`", kind_name(d.kind), d.name))
                .collect();
            return Err(format!(
                "--{}:{}: the configuration has no {} device `{}` (its host devices: {})",
                kind_name(o.kind),
                o.name,
                kind_name(o.kind),
                o.name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut out = Vec::new();
    let mut nets = 0;
    for d in devices {
        let given = overrides
            .iter()
            .rev()
            .find(|o| o.kind == d.kind && o.name == d.name);
        let backing = match (d.kind, given) {
            (HostDeviceKind::Net, Some(o)) => o.value.clone(),
            (HostDeviceKind::Net, None) => {
                let fallback = format!("tap{nets}");
                if iface_exists(&d.name) {
                    d.name.clone()
                } else if iface_exists(&fallback) {
                    fallback
                } else {
                    return Err(format!(
                        "no network interface for the net device `{0}`: there is neither `{0}` nor `{fallback}`; \
                         create one (`ip tuntap add {fallback} mode tap && ip link set {fallback} up`) \
                         or attach another with --net:{0}=IFACE",
                        d.name
                    ));
                }
            }
            (HostDeviceKind::Block, Some(o)) => absolute(&cwd, &o.value),
            (HostDeviceKind::Block, None) => {
                let p = project_dir.join(&d.name);
                if !p.is_file() {
                    return Err(format!(
                        "no file for the block device `{0}`: create {1} (e.g. `truncate -s 1M {1}`) \
                         or attach one with --block:{0}=PATH",
                        d.name,
                        p.display()
                    ));
                }
                p.to_string_lossy().into_owned()
            }
        };
        if d.kind == HostDeviceKind::Net {
            nets += 1;
        }
        out.push(Attached {
            kind: d.kind,
            name: d.name.clone(),
            backing,
        });
    }
    Ok(out)
}

pub fn absolute(cwd: &Path, p: &str) -> String {
    let path = Path::new(p);
    if path.is_absolute() {
        p.to_string()
    } else {
        cwd.join(path).to_string_lossy().into_owned()
    }
}

fn iface_exists(name: &str) -> bool {
    !name.contains('/') && Path::new("/sys/class/net").join(name).exists()
}

/// Backs the devices with the host's interfaces and files.
pub fn attach_host(
    devices: &[HostDev],
    overrides: &[Attach],
    project_dir: &Path,
) -> Result<Vec<Attached>, String> {
    attach(devices, overrides, project_dir, iface_exists)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(kind: HostDeviceKind, name: &str) -> HostDev {
        HostDev {
            kind,
            name: name.into(),
            at: unik_lang::Loc::default(),
        }
    }

    #[test]
    fn attach_options_parse() {
        assert_eq!(
            parse_attach("--net:service=tap3"),
            Some(Ok(Attach {
                kind: HostDeviceKind::Net,
                name: "service".into(),
                value: "tap3".into()
            }))
        );
        assert!(matches!(parse_attach("--block:disk.img=/x=y"), Some(Ok(a)) if a.value == "/x=y"));
        assert!(matches!(parse_attach("--net:=tap0"), Some(Err(_))));
        assert!(matches!(parse_attach("--block:d"), Some(Err(_))));
        assert_eq!(parse_attach("--port=80"), None);
    }

    #[test]
    fn defaults_and_overrides() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("disk.img"), [0u8; 512]).unwrap();
        let devices = [
            dev(HostDeviceKind::Net, "service"),
            dev(HostDeviceKind::Block, "disk.img"),
            dev(HostDeviceKind::Net, "other"),
        ];
        let exists = |i: &str| i == "tap0" || i == "other";
        let got = attach(&devices, &[], dir.path(), exists).unwrap();
        assert_eq!(got[0].backing, "tap0");
        assert_eq!(
            got[1].backing,
            dir.path().join("disk.img").to_string_lossy()
        );
        assert_eq!(got[2].backing, "other");

        let over = [Attach {
            kind: HostDeviceKind::Block,
            name: "disk.img".into(),
            value: "/abs/d.img".into(),
        }];
        let got = attach(&devices, &over, dir.path(), exists).unwrap();
        assert_eq!(got[1].backing, "/abs/d.img");

        // Missing interface, missing file, unknown name: errors that say what to do.
        let e = attach(&devices[..1], &[], dir.path(), |_| false).unwrap_err();
        assert!(e.contains("ip tuntap add tap0"), "{e}");
        let e = attach(
            &[dev(HostDeviceKind::Block, "none")],
            &[],
            dir.path(),
            exists,
        )
        .unwrap_err();
        assert!(e.contains("--block:none=PATH"), "{e}");
        let wrong = [Attach {
            kind: HostDeviceKind::Net,
            name: "disk.img".into(),
            value: "tap0".into(),
        }];
        let e = attach(&devices, &wrong, dir.path(), exists).unwrap_err();
        assert!(e.contains("no net device `disk.img`"), "{e}");
    }
}
