//! `package`: build, then wrap the image in an OCI image that urunc runs
//! (Kubernetes/containerd pods): `/unikernel/NAME.EXT`, urunc's keys in the
//! manifest annotations, the config labels and `/urunc.json`, the boot
//! arguments as the config's `Cmd`. The layout is written as a directory
//! (`dist/NAME.TARGET.oci/` or `--oci DIR`) or an `oci-archive` tarball.

use super::build::{self, BuildFlags, Built};
use super::configure::{Project, show};
use super::failure::{Exit, Failure};
use super::oci::{self, Layout};
use super::report::Reporter;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use unik_lang::target::Run;
use unik_lang::{Diagnostic, Target};
use unik_resolver::HostDeviceKind;

/// Where the layout goes.
#[derive(Debug, Clone, Default)]
pub enum Destination {
    /// `dist/NAME.TARGET.oci/` beside the image.
    #[default]
    Dist,
    /// An image layout directory.
    Dir(PathBuf),
    /// An `oci-archive` tarball (a layout in one file).
    Archive(PathBuf),
}

#[derive(Debug, Clone)]
pub struct PackageOptions {
    pub to: Destination,
    /// Boot arguments for `Cmd`, after the runtime keys of the command line.
    pub args: Vec<String>,
    /// The index's `org.opencontainers.image.ref.name`.
    pub tag: String,
}

impl Default for PackageOptions {
    fn default() -> PackageOptions {
        PackageOptions {
            to: Destination::Dist,
            args: Vec::new(),
            tag: "latest".into(),
        }
    }
}

pub struct Packaged {
    pub built: Built,
    pub layout: Layout,
    /// Where it was written.
    pub path: PathBuf,
}

impl Packaged {
    /// The manifest's digest, which a registry reports for the image.
    pub fn digest(&self) -> &str {
        &self.layout.manifest.digest
    }
}

/// E0708 unless urunc runs `target`'s images; names the targets it runs.
pub fn urunc_hypervisor(target: Target) -> Result<&'static str, Failure> {
    target.urunc_hypervisor().ok_or_else(|| {
        let can: Vec<String> = Target::ALL
            .iter()
            .filter_map(|t| t.urunc_hypervisor().map(|h| format!("{t} (as {h})")))
            .collect();
        Failure::coded(
            Exit::Errors,
            Diagnostic::error(
                "E0708",
                format!("urunc cannot run {target} images, so they are not packaged as OCI images"),
            )
            .note(format!("urunc runs {}", can.join(", ")))
            .help("package for one of those targets, e.g. `unikc package -t spt`"),
        )
    })
}

pub fn package(
    p: &Project,
    flags: &BuildFlags,
    opts: &PackageOptions,
    rep: &mut dyn Reporter,
) -> Result<Packaged, Failure> {
    let hypervisor = urunc_hypervisor(p.target)?;
    let built = build::build(p, flags, rep)?;
    let (layout, path) = {
        let c = &built.ready.configured;
        let file_name = c.target.image_file(&c.name);
        let image = std::fs::read(&built.image).map_err(|e| {
            Failure::plain(
                Exit::Errors,
                format!("cannot read {}: {e}", built.image.display()),
            )
        })?;
        let urunc = urunc_keys(&built, hypervisor, &file_name, rep);
        let mut cmd = unik_resolver::bootargs::split(&built.ready.resolved.boot_cmdline);
        cmd.extend(opts.args.iter().cloned());
        if cmd
            .iter()
            .any(|a| a.starts_with("--ipv4=") || a.starts_with("--ipv4-gateway="))
        {
            rep.warning(
                "urunc passes --ipv4 and --ipv4-gateway from the pod's network before Cmd; \
                 the ones in Cmd override them",
            );
        }
        let spec = oci::Spec {
            file_name: &file_name,
            image: &image,
            urunc,
            cmd,
            annotations: standard_annotations(&c.name, &c.project_dir),
            created: created()?,
            tag: &opts.tag,
        };
        let layout = oci::build(&spec);
        let path = match &opts.to {
            Destination::Dist => built
                .image
                .with_file_name(format!("{}.{}.oci", c.name, c.target)),
            Destination::Dir(d) | Destination::Archive(d) => d.clone(),
        };
        (layout, path)
    };
    let written = match &opts.to {
        Destination::Archive(f) => {
            unik_codegen::output::atomic_write(f, &layout.archive()).map_err(Failure::from)
        }
        Destination::Dist | Destination::Dir(_) => layout.write_dir(&path).map_err(|e| {
            Failure::plain(
                Exit::Errors,
                format!("cannot write the image layout {}: {e}", path.display()),
            )
        }),
    };
    written?;
    let size: usize = [&layout.layer, &layout.config, &layout.manifest]
        .iter()
        .map(|b| b.data.len())
        .sum();
    rep.status(
        "Packaged",
        &format!(
            "{} for urunc ({hypervisor}) in {} ({}, {} KiB)",
            built.ready.configured.name,
            show(&path),
            layout.manifest.digest,
            size.div_ceil(1024)
        ),
    );
    Ok(Packaged {
        built,
        layout,
        path,
    })
}

/// urunc's keys for the image, with the graph's device names.
fn urunc_keys(
    built: &Built,
    hypervisor: &str,
    file_name: &str,
    rep: &mut dyn Reporter,
) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::from([
        ("unikernelType".to_string(), "mirage".to_string()),
        ("hypervisor".to_string(), hypervisor.to_string()),
        ("binary".to_string(), format!("/unikernel/{file_name}")),
        ("mountRootfs".to_string(), "false".to_string()),
    ]);
    let devices = unik_codegen::host_devices(&built.ready.resolved);
    let nets: Vec<_> = devices
        .iter()
        .filter(|d| d.kind == HostDeviceKind::Net)
        .collect();
    let blocks: Vec<_> = devices
        .iter()
        .filter(|d| d.kind == HostDeviceKind::Block)
        .collect();
    if nets.len() > 1 {
        rep.warning(&format!(
            "urunc attaches one network device, and the image declares {}",
            nets.len()
        ));
    }
    if blocks.len() > 1 {
        rep.warning(&format!(
            "urunc attaches one block device, and the image declares {}",
            blocks.len()
        ));
    }
    // The names matter to the Solo5 tenders (manifest entries); on QEMU the
    // devices are PCI functions in order.
    if matches!(built.ready.configured.target.run(), Run::Tender(_)) {
        if let Some(n) = nets.first() {
            keys.insert("solo5NetDev".into(), n.name.clone());
            if n.name != "service" {
                rep.warning(&format!(
                    "urunc versions without solo5NetDev attach the pod network as `service`, \
                     and the image names it `{}`",
                    n.name
                ));
            }
        }
        if let Some(b) = blocks.first() {
            keys.insert("solo5BlkDev".into(), b.name.clone());
        }
    }
    keys
}

/// The `org.opencontainers.image.*` annotations: the title, and where the
/// project is a git checkout, its origin and commit.
fn standard_annotations(name: &str, project: &Path) -> BTreeMap<String, String> {
    let mut a = BTreeMap::from([(
        "org.opencontainers.image.title".to_string(),
        name.to_string(),
    )]);
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(project)
            .args(args)
            .output()
            .ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    if let Some(rev) = git(&["rev-parse", "HEAD"]) {
        a.insert("org.opencontainers.image.revision".into(), rev);
        if let Some(url) = git(&["config", "--get", "remote.origin.url"]) {
            a.insert("org.opencontainers.image.source".into(), url);
        }
    }
    if let Ok(t) = std::env::var("SOURCE_DATE_EPOCH")
        && let Ok(secs) = t.trim().parse::<u64>()
    {
        a.insert("org.opencontainers.image.created".into(), rfc3339(secs));
    }
    a
}

/// The creation time from `SOURCE_DATE_EPOCH`; without it the image has
/// none, so that packaging twice gives the same digest.
fn created() -> Result<Option<String>, Failure> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(_) => Ok(None),
        Ok(t) => t.trim().parse::<u64>().map(|s| Some(rfc3339(s))).map_err(|_| {
            Failure::coded(
                Exit::Usage,
                Diagnostic::error("", format!("SOURCE_DATE_EPOCH={t:?} is not a number of seconds"))
                    .help("set it to a Unix time, e.g. `SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)`"),
            )
        }),
    }
}

/// `1970-01-01T00:00:00Z` for a Unix time (days to civil date as in
/// proleptic Gregorian arithmetic).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn unix_is_refused_naming_what_urunc_runs() {
        let f = match urunc_hypervisor(Target::Unix) {
            Err(f) => f,
            Ok(h) => panic!("unix packaged as {h}"),
        };
        let d = &f.diagnostics[0];
        assert_eq!(d.code, "E0708");
        assert_eq!(
            d.notes[0],
            "urunc runs hvt (as hvt), spt (as spt), virtio (as qemu)"
        );
    }
}
