//! `unikc run -t spt|hvt`: the image under the bundled Solo5 tenders
//! (linked in, `unik_tender`).

use super::attach::{Attached, kind_name};
use super::failure::{Exit, Failure};
use super::qemu::show_args;
use super::report::Reporter;
use std::path::Path;
use unik_resolver::HostDeviceKind;

/// Runs an spt or hvt image under the bundled tender.
pub fn run_solo5(
    tender: &str,
    image: &Path,
    mem_mb: Option<u64>,
    attached: &[Attached],
    cmdline: &str,
    rep: &mut dyn Reporter,
) -> Result<u8, Failure> {
    use unik_tender::options::{BlockOpt, DEFAULT_MEM_MB, NetBacking, NetOpt};
    let o = unik_tender::Options {
        mem_mb: mem_mb.unwrap_or(DEFAULT_MEM_MB),
        nets: attached
            .iter()
            .filter(|a| a.kind == HostDeviceKind::Net)
            .map(|a| NetOpt {
                name: a.name.clone(),
                backing: NetBacking::Tap(a.backing.clone()),
            })
            .collect(),
        macs: Vec::new(),
        blocks: attached
            .iter()
            .filter(|a| a.kind == HostDeviceKind::Block)
            .map(|a| BlockOpt {
                name: a.name.clone(),
                path: a.backing.clone().into(),
            })
            .collect(),
        sector_sizes: Vec::new(),
        seccomp: true,
        dumpcore: false,
        log: Default::default(),
        image: image.to_path_buf(),
        // The tender joins its arguments with spaces: one argument keeps
        // the escaped command line as it is.
        args: if cmdline.is_empty() {
            Vec::new()
        } else {
            vec![cmdline.to_string()]
        },
    };
    let mut shown: Vec<String> = vec![format!("--mem={}", o.mem_mb)];
    for a in attached {
        shown.push(format!("--{}:{}={}", kind_name(a.kind), a.name, a.backing));
    }
    shown.push(image.display().to_string());
    if !cmdline.is_empty() {
        shown.push(cmdline.to_string());
    }
    let name = format!("unikc-{tender}");
    rep.status("Running", &format!("{name} {}", show_args(&shown)));
    let result = match tender {
        "spt" => unik_tender::spt::prepare(&o)
            .and_then(unik_tender::spt::run)
            .map(|outcome| {
                if let Some(line) = outcome.report() {
                    rep.note(&format!("{name}: {line}"));
                }
                outcome.status()
            }),
        _ => {
            unik_tender::hvt::prepare(&o, unik_tender::hvt::Stdout).and_then(unik_tender::hvt::run)
        }
    };
    match result {
        Ok(status) => Ok((status & 0xff) as u8),
        // The guest could not run (the tender said why): status 1, as for
        // any failed run of the image.
        Err(e) => Err(Failure::plain(Exit::Errors, format!("{name}: {e}"))),
    }
}
