//! `unikc run -t xen`: boot `dist/NAME.xen` with `xl create -F -c` on a Xen
//! dom0, relay its PV console and return the guest's exit status, which a
//! Xen domain does not have: the image prints it as its last console line
//! (`unik-xen: exit status N`, see runtime/xen/src/exit.rs). Off dom0 the
//! error says what is missing.

use super::attach::{Attach, absolute};
use super::failure::{Exit, Failure};
use super::report::Reporter;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use unik_lang::Diagnostic;
use unik_resolver::HostDeviceKind;

/// The console line carrying the guest's exit status, before the number.
pub const STATUS_PREFIX: &str = "unik-xen: exit status ";

/// A `--net:NAME=BRIDGE` or `--block:NAME=PATH` override of the `.xl`
/// file's devices (named in the comment after each entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Override {
    Bridge { name: String, bridge: String },
    Disk { name: String, path: PathBuf },
}

/// What `unikc run -t xen` needs, or why it cannot run here.
pub fn check_dom0(proc_xen: &Path) -> Result<PathBuf, Failure> {
    let xl = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("xl"))
            .find(|p| p.is_file())
    });
    let mut missing = Vec::new();
    if xl.is_none() {
        missing.push("`xl` is not on PATH");
    }
    if !proc_xen.join("capabilities").exists() {
        missing.push("/proc/xen is not mounted: this system is not running on Xen");
    } else if !std::fs::read_to_string(proc_xen.join("capabilities"))
        .unwrap_or_default()
        .contains("control_d")
    {
        missing
            .push("this Linux is a Xen guest, not dom0 (/proc/xen/capabilities lacks control_d)");
    }
    match (xl, missing.is_empty()) {
        (Some(xl), true) => Ok(xl),
        _ => Err(Failure::coded(
            Exit::Tool,
            Diagnostic::error(
                "E0701",
                format!(
                    "`unikc run -t xen` needs a Xen dom0: {}",
                    missing.join("; ")
                ),
            )
            .note("the image is a Xen PVH guest; it is started with `xl create` from dom0")
            .help(
                "on a Xen host's dom0, install the toolstack (`apt-get install xen-utils`) and run \
                 `unikc run -t xen` there, or copy dist/NAME.xen and dist/NAME.xl to it and run \
                 `xl create -c NAME.xl`",
            ),
        )),
    }
}

/// An xl string literal: double-quoted, `\` and `"` escaped (xl's
/// parser reads C escapes in double-quoted strings).
pub fn xl_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The `.xl` text to create the domain with: `kernel` is `image`, `cmdline`
/// the boot command line, and each overridden device entry (recognised by
/// its `# NAME` comment) gets its bridge or disk path.
pub fn rewrite(
    xl: &str,
    image: &Path,
    cmdline: &str,
    overrides: &[Override],
) -> Result<String, Failure> {
    let mut out = String::new();
    let mut used = vec![false; overrides.len()];
    for line in xl.lines() {
        let t = line.trim_start();
        let new = if t.starts_with("kernel =") {
            format!("kernel = {}", xl_str(&image.to_string_lossy()))
        } else if t.starts_with("cmdline =") {
            format!("cmdline = {}", xl_str(cmdline))
        } else if let Some((entry, name)) = line.split_once("\", # ") {
            let mut entry = entry.to_string();
            for (i, o) in overrides.iter().enumerate() {
                match o {
                    Override::Bridge { name: n, bridge }
                        if n == name && entry.contains("bridge=") =>
                    {
                        let (head, rest) = entry.split_once("bridge=").expect("checked");
                        let tail = rest
                            .split_once(',')
                            .map(|(_, t)| format!(",{t}"))
                            .unwrap_or_default();
                        entry = format!("{head}bridge={bridge}{tail}");
                        used[i] = true;
                    }
                    Override::Disk { name: n, path } if n == name && entry.contains("target=") => {
                        let (head, _) = entry.split_once("target=").expect("checked");
                        entry = format!(
                            "{head}target={}",
                            path.to_string_lossy()
                                .replace('\\', "\\\\")
                                .replace('"', "\\\"")
                        );
                        used[i] = true;
                    }
                    _ => {}
                }
            }
            format!("{entry}\", # {name}")
        } else {
            line.to_string()
        };
        out.push_str(&new);
        out.push('\n');
    }
    if let Some(i) = used.iter().position(|u| !u) {
        let what = match &overrides[i] {
            Override::Bridge { name, .. } => format!("no network device `{name}`"),
            Override::Disk { name, .. } => format!("no block device `{name}`"),
        };
        return Err(Failure::usage(format!(
            "the image has {what} to attach (see its .xl file)"
        )));
    }
    Ok(out)
}

/// The domain's name in an `.xl` text.
pub fn domain_name(xl: &str) -> Option<String> {
    xl.lines().find_map(|l| {
        let v = l
            .trim()
            .strip_prefix("name")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        Some(
            v.strip_prefix('"')?
                .strip_suffix('"')?
                .replace("\\\"", "\"")
                .replace("\\\\", "\\"),
        )
    })
}

/// The exit status in the console output: its last status line.
pub fn parse_status(console: &str) -> Option<i32> {
    console
        .lines()
        .rev()
        .find_map(|l| l.trim_end_matches('\r').strip_prefix(STATUS_PREFIX))
        .and_then(|n| n.trim().parse().ok())
}

/// Creates the domain from `xl` (the generated `.xl` file) with `image`
/// and `cmdline`, relays its console to stdout (without the status line)
/// and returns the guest's exit status.
pub fn run(image: &Path, xl: &Path, cmdline: &str, overrides: &[Override]) -> Result<i32, Failure> {
    let tool = |m: String| Failure::plain(Exit::Tool, m);
    let xl_bin = check_dom0(Path::new("/proc/xen"))?;
    let text = std::fs::read_to_string(xl)
        .map_err(|e| tool(format!("cannot read {}: {e}", xl.display())))?;
    let image =
        std::path::absolute(image).map_err(|e| tool(format!("{}: {e}", image.display())))?;
    let cfg = rewrite(&text, &image, cmdline, overrides)?;
    let mut file = tempfile::Builder::new()
        .prefix("unikc-")
        .suffix(".xl")
        .tempfile()
        .map_err(|e| tool(format!("cannot write the domain's configuration: {e}")))?;
    file.write_all(cfg.as_bytes())
        .map_err(|e| tool(format!("cannot write the domain's configuration: {e}")))?;
    let name = domain_name(&cfg)
        .ok_or_else(|| tool("the .xl file has no `name = \"...\"` line".into()))?;
    let mut child = Command::new(&xl_bin)
        .arg("create")
        // In the foreground: xl monitors the domain itself (no daemon is
        // left behind) and exits once the domain is gone and cleaned up.
        .arg("-F")
        .arg("-c")
        .arg(file.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| tool(format!("cannot run {}: {e}", xl_bin.display())))?;
    // xenconsole (behind `xl create -F -c`) stops at the end of its input, not
    // when the domain is gone: keep its input open until the domain has
    // come and gone.
    let stdin = child.stdin.take();
    let watcher = {
        let xl_bin = xl_bin.clone();
        std::thread::spawn(move || {
            let exists = || {
                Command::new(&xl_bin)
                    .args(["domid", &name])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            };
            let pause = std::time::Duration::from_millis(200);
            let start = std::time::Instant::now();
            while !exists() && start.elapsed() < std::time::Duration::from_secs(60) {
                std::thread::sleep(pause);
            }
            while exists() {
                std::thread::sleep(pause);
            }
            std::thread::sleep(pause);
            drop(stdin);
        })
    };
    let mut console = String::new();
    let mut pending = Vec::new();
    let mut stdout = child.stdout.take().expect("piped");
    let mut buf = [0u8; 4096];
    let mut out = std::io::stdout();
    loop {
        let n = stdout.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        // Relay whole lines, holding back the status line.
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            let s = String::from_utf8_lossy(&line).into_owned();
            if !s.starts_with(STATUS_PREFIX) {
                let _ = out.write_all(&line);
                let _ = out.flush();
            }
            console.push_str(&s);
        }
    }
    let _ = out.write_all(&pending);
    console.push_str(&String::from_utf8_lossy(&pending));
    let status = child
        .wait()
        .map_err(|e| tool(format!("waiting for xl: {e}")))?;
    let _ = watcher.join();
    match parse_status(&console) {
        Some(code) => Ok(code),
        None if !status.success() => Err(tool(format!(
            "`xl create` failed ({status}); its messages are above"
        ))),
        None => Err(tool(
            "the domain ended without printing its exit status (it crashed before its console \
             came up, or was destroyed); see `xl dmesg`"
                .into(),
        )),
    }
}

/// `unikc run -t xen` for a built image: the boot arguments (the runtime
/// keys of the command line, then `args`) and the `--net:`/`--block:`
/// overrides applied to the `.xl` file beside the image.
pub fn launch(
    image: &Path,
    resolved: &unik_resolver::Resolved,
    attach: &[Attach],
    args: &[String],
    rep: &mut dyn Reporter,
) -> Result<u8, Failure> {
    let cmdline = [
        resolved.boot_cmdline.clone(),
        unik_resolver::bootargs::join(args),
    ]
    .into_iter()
    .filter(|p| !p.is_empty())
    .collect::<Vec<_>>()
    .join(" ");
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let overrides: Vec<Override> = attach
        .iter()
        .map(|a| match a.kind {
            HostDeviceKind::Net => Override::Bridge {
                name: a.name.clone(),
                bridge: a.value.clone(),
            },
            HostDeviceKind::Block => Override::Disk {
                name: a.name.clone(),
                path: PathBuf::from(absolute(&cwd, &a.value)),
            },
        })
        .collect();
    let xl = image.with_extension("xl");
    rep.status("Running", &format!("xl create -F -c {}", xl.display()));
    run(image, &xl, &cmdline, &overrides).map(|code| u8::try_from(code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_dom0_the_error_says_what_is_needed() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_dom0(&dir.path().join("xen")).unwrap_err();
        let d = &e.diagnostics[0];
        assert_eq!(d.code, "E0701");
        assert!(
            d.message.starts_with("`unikc run -t xen` needs a Xen dom0"),
            "{d:?}"
        );
        assert!(d.message.contains("/proc/xen is not mounted"), "{d:?}");
        assert!(
            d.help.iter().any(|h| h.contains("xl create -c NAME.xl")),
            "{d:?}"
        );
        // A domU's /proc/xen is not enough.
        std::fs::write(dir.path().join("capabilities"), "").unwrap();
        let e = check_dom0(dir.path()).unwrap_err();
        assert!(
            e.diagnostics[0].message.contains("not dom0"),
            "{:?}",
            e.diagnostics
        );
    }

    #[test]
    fn rewrite_sets_kernel_cmdline_and_devices() {
        let xl = "name = \"web\"\nkernel = \"/old/web.xen\"\ncmdline = \"\"\nvif = [\n    \"bridge=xenbr0,vifname=service\", # service\n]\ndisk = [\n    \"format=raw,vdev=xvda,access=rw,target=/p/disk.img\", # disk.img\n]\n";
        let out = rewrite(
            xl,
            Path::new("/new/web.xen"),
            "--hello=Bonjour\\ !",
            &[
                Override::Bridge {
                    name: "service".into(),
                    bridge: "br1".into(),
                },
                Override::Disk {
                    name: "disk.img".into(),
                    path: "/d/x.img".into(),
                },
            ],
        )
        .unwrap();
        assert!(out.contains("kernel = \"/new/web.xen\"\n"), "{out}");
        assert!(
            out.contains("cmdline = \"--hello=Bonjour\\\\ !\"\n"),
            "{out}"
        );
        assert!(
            out.contains("\"bridge=br1,vifname=service\", # service\n"),
            "{out}"
        );
        assert!(
            out.contains("\"format=raw,vdev=xvda,access=rw,target=/d/x.img\", # disk.img\n"),
            "{out}"
        );
        let e = rewrite(
            xl,
            Path::new("/i"),
            "",
            &[Override::Bridge {
                name: "nope".into(),
                bridge: "b".into(),
            }],
        )
        .unwrap_err();
        assert!(
            e.diagnostics[0]
                .message
                .contains("no network device `nope`"),
            "{:?}",
            e.diagnostics
        );
    }

    #[test]
    fn the_domain_name_is_read_back() {
        assert_eq!(
            domain_name("# x\nname = \"hello-key\"\ntype = \"pvh\"\n").as_deref(),
            Some("hello-key")
        );
        assert_eq!(domain_name("type = \"pvh\"\n"), None);
    }

    #[test]
    fn status_is_the_last_status_line() {
        assert_eq!(parse_status("a\nunik-xen: exit status 3\r\n"), Some(3));
        assert_eq!(
            parse_status("unik-xen: exit status 1\nunik-xen: exit status 101\n"),
            Some(101)
        );
        assert_eq!(parse_status("nothing\n"), None);
    }
}
