//! The `xen` target: `dist/NAME.xen`, a static PVH ELF at 1 MiB (the
//! freestanding recipe of `crate::freestanding`, with unik-xen's entry and
//! its one `.note.Xen` PHYS32_ENTRY note, no multiboot header), and
//! `dist/NAME.xl`, the `xl create` configuration that boots it.

use crate::devices::HostDev;
use crate::error::Error;
use crate::freestanding::{ATTRIBUTES, DEV, RELEASE, common_files, or_comment, template};
use crate::target::{Context, Target};
use std::fmt::Write as _;
use std::path::Path;
use unik_resolver::HostDeviceKind;

/// Guest memory in MiB written to the `.xl` file.
pub const MEMORY_MB: u64 = 64;
/// The dom0 bridge each network device is put on unless `unikc run`
/// (`--net:NAME=BRIDGE`) or the user says otherwise.
pub const DEFAULT_BRIDGE: &str = "xenbr0";

/// Xen PVH guests: `unik-xen`.
pub struct Xen;

impl Target for Xen {
    fn name(&self) -> &'static str {
        "xen"
    }
    fn platform_crate(&self) -> &'static str {
        "unik_xen"
    }
    fn runtime_crates(&self) -> &'static [&'static str] {
        &["unik-rt", "unik-xen"]
    }
    fn platform_new(&self) -> &'static str {
        "unik_xen::XenPlatform::new()"
    }
    fn console_connect(&self) -> &'static str {
        "unik_xen::console::connect()"
    }
    fn main_attributes(&self) -> &'static [&'static str] {
        ATTRIBUTES
    }
    fn freestanding(&self) -> bool {
        true
    }
    fn entry(&self, devices: &[HostDev]) -> Result<String, Error> {
        let mut out = String::from("unik_xen::entry!(start);\n\n");
        out.push_str(
            "/// The host devices by name, in the order of the `.xl` file's `vif`\n\
             /// and `disk` lists (the n-th network device is `device/vif/n`).\n",
        );
        if devices.is_empty() {
            out.push_str("static DEVICES: &[(&str, unik_xen::DeviceKind)] = &[];\n");
        } else {
            out.push_str("static DEVICES: &[(&str, unik_xen::DeviceKind)] = &[\n");
            for d in devices {
                let kind = match d.kind {
                    HostDeviceKind::Net => "Net",
                    HostDeviceKind::Block => "Block",
                };
                writeln!(out, "    ({:?}, unik_xen::DeviceKind::{kind}),", d.name).unwrap();
            }
            out.push_str("];\n");
        }
        out.push_str(
            "\n/// The kernel's entry: its return value is the exit status.\n\
             fn start(_: &unik_xen::BootInfo) -> i32 {\n    \
             unik_xen::boot::devices(DEVICES);\n    \
             unik_xen::boot::exit(boot())\n}\n",
        );
        Ok(out)
    }
    fn image_name(&self, name: &str) -> String {
        format!("{name}.xen")
    }
    fn release_profile(&self) -> &'static [&'static str] {
        RELEASE
    }
    fn dev_profile(&self) -> &'static [&'static str] {
        DEV
    }
    fn files(&self, ctx: &Context) -> Vec<(String, String)> {
        let script = or_comment(template().map(|t| {
            t.replace("{{ENTRY}}", "unik_xen_start32")
                .replace("{{TEXT_BASE}}", "0x100000")
                .replace("{{NOTE_PHDRS}}", "note_xen PT_NOTE FLAGS(4);")
                .replace(
                    "{{NOTE_SECTIONS}}",
                    ".note.Xen : { KEEP(*(.note.Xen)) } :rodata :note_xen",
                )
        }));
        let mut files = common_files(ctx, script);
        files.push((
            xl_name(ctx.bin),
            render_xl(ctx.bin, ctx.image, ctx.project_dir, ctx.devices),
        ));
        files
    }
    fn dist_files(&self, bin: &str) -> Vec<(String, String)> {
        vec![(xl_name(bin), xl_name(bin))]
    }
}

fn xl_name(bin: &str) -> String {
    format!("{bin}.xl")
}

/// An `xl` string: double-quoted, with `\` and `"` escaped (xl's parser
/// takes C-style escapes in double-quoted strings).
fn xl_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
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

/// Whether `name` can be a dom0 interface name (`vifname`): 1 to 15
/// characters, none of them `/`, `:`, `,`, `=`, quotes or whitespace.
fn is_ifname(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_graphic() && !"/:,=\"'\\".contains(c))
}

/// `dist/NAME.xl`: a PVH domain booting `image`, with one `vif` per network
/// device (named after it, on [`DEFAULT_BRIDGE`]) and one raw `disk` per
/// block device (the file of its name beside the configuration), in the
/// order the image expects them. `cmdline` is empty: `unikc run` (or the
/// user, `xl create NAME.xl 'cmdline="--key=value"'`) gives boot arguments.
pub fn render_xl(bin: &str, image: &Path, project_dir: &Path, devices: &[HostDev]) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "# Generated by unikc for the xen image `{bin}`: `xl create {bin}.xl`.\n\
         name = {}\n\
         type = \"pvh\"\n\
         kernel = {}\n\
         memory = {MEMORY_MB}\n\
         vcpus = 1\n\
         # Boot arguments, joined as `unikc run` does (a space inside an argument is `\\ `).\n\
         cmdline = \"\"",
        xl_str(bin),
        xl_str(&image.to_string_lossy()),
    )
    .unwrap();
    let vifs: Vec<String> = devices
        .iter()
        .filter(|d| d.kind == HostDeviceKind::Net)
        .map(|d| {
            let mut spec = format!("bridge={DEFAULT_BRIDGE}");
            if is_ifname(&d.name) {
                write!(spec, ",vifname={}", d.name).unwrap();
            }
            format!("    {}, # {}", xl_str(&spec), d.name.replace('\n', " "))
        })
        .collect();
    if !vifs.is_empty() {
        writeln!(out, "vif = [\n{}\n]", vifs.join("\n")).unwrap();
    }
    let disks: Vec<String> = devices
        .iter()
        .filter(|d| d.kind == HostDeviceKind::Block)
        .enumerate()
        .map(|(i, d)| {
            // `target=` must come last: it takes the rest of the string.
            let spec = format!(
                "format=raw,vdev=xvd{},access=rw,target={}",
                disk_letter(i),
                project_dir.join(&d.name).to_string_lossy()
            );
            format!("    {}, # {}", xl_str(&spec), d.name.replace('\n', " "))
        })
        .collect();
    if !disks.is_empty() {
        writeln!(out, "disk = [\n{}\n]", disks.join("\n")).unwrap();
    }
    out.push_str(
        "# A normal exit powers off; a panic or a fault crashes the domain.\n\
         on_poweroff = \"destroy\"\n\
         on_reboot = \"destroy\"\n\
         on_crash = \"destroy\"\n",
    );
    out
}

/// `a`..`z`, then `aa`, `ab`, … as Linux names `xvd` disks.
fn disk_letter(i: usize) -> String {
    let mut n = i;
    let mut s = Vec::new();
    loop {
        s.push(b'a' + (n % 26) as u8);
        if n < 26 {
            break;
        }
        n = n / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).expect("ASCII letters")
}

#[cfg(test)]
mod tests {
    use super::*;
    use unik_resolver::SourcePos;

    fn dev(kind: HostDeviceKind, name: &str) -> HostDev {
        HostDev {
            kind,
            name: name.into(),
            at: SourcePos {
                file: "config.unik".into(),
                line: 1,
                column: 1,
            },
        }
    }

    #[test]
    fn xl_has_one_vif_and_disk_per_device_in_order() {
        let devices = [
            dev(HostDeviceKind::Block, "disk.img"),
            dev(HostDeviceKind::Net, "service"),
            dev(HostDeviceKind::Net, "a name, too long"),
            dev(HostDeviceKind::Block, "b\"c.img"),
        ];
        let xl = render_xl(
            "web",
            Path::new("/p/dist/web.xen"),
            Path::new("/p"),
            &devices,
        );
        assert!(xl.contains("name = \"web\"\n"), "{xl}");
        assert!(xl.contains("type = \"pvh\"\n"));
        assert!(xl.contains("kernel = \"/p/dist/web.xen\"\n"));
        assert!(xl.contains("memory = 64\n"));
        assert!(xl.contains("vcpus = 1\n"));
        assert!(xl.contains("cmdline = \"\"\n"));
        assert!(xl.contains("vif = [\n    \"bridge=xenbr0,vifname=service\", # service\n    \"bridge=xenbr0\", # a name, too long\n]\n"), "{xl}");
        assert!(xl.contains("\"format=raw,vdev=xvda,access=rw,target=/p/disk.img\", # disk.img\n"));
        assert!(
            xl.contains("\"format=raw,vdev=xvdb,access=rw,target=/p/b\\\"c.img\", # b\"c.img\n")
        );
        assert!(xl.contains("on_poweroff = \"destroy\"\n"));
        assert!(xl.contains("on_crash = \"destroy\"\n"));
        // Deterministic.
        assert_eq!(
            xl,
            render_xl(
                "web",
                Path::new("/p/dist/web.xen"),
                Path::new("/p"),
                &devices
            )
        );
    }

    #[test]
    fn no_devices_no_lists() {
        let xl = render_xl(
            "hello",
            Path::new("/h/dist/hello.xen"),
            Path::new("/h"),
            &[],
        );
        assert!(!xl.contains("vif"), "{xl}");
        assert!(!xl.contains("disk"), "{xl}");
    }

    #[test]
    fn disk_letters_follow_linux() {
        assert_eq!(disk_letter(0), "a");
        assert_eq!(disk_letter(25), "z");
        assert_eq!(disk_letter(26), "aa");
        assert_eq!(disk_letter(27), "ab");
    }

    #[test]
    fn entry_declares_devices_in_order() {
        let e = Xen
            .entry(&[
                dev(HostDeviceKind::Net, "service"),
                dev(HostDeviceKind::Block, "disk.img"),
            ])
            .unwrap();
        let net = e.find("(\"service\", unik_xen::DeviceKind::Net)").unwrap();
        let blk = e
            .find("(\"disk.img\", unik_xen::DeviceKind::Block)")
            .unwrap();
        assert!(net < blk, "{e}");
        assert!(e.contains("unik_xen::entry!(start);"));
    }
}
