//! The command line of both tenders, compatible with solo5-spt/solo5-hvt:
//! `[--mem=MB] [--net:NAME=IFACE|@FD] [--net-mac:NAME=HWADDR]
//! [--block:NAME=PATH] [--block-sector-size:NAME=N]
//! [--solo5:quiet|error|warn|info|debug] [--] IMAGE [ARGS...]`, and
//! `--version`, which albatross reads for the ABI version.

use std::path::PathBuf;

use crate::error::Error;

/// Default guest memory (MiB), as Solo5.
pub const DEFAULT_MEM_MB: u64 = 512;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetBacking {
    Tap(String),
    /// An already open tap descriptor (`@NN`).
    Fd(i32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetOpt {
    pub name: String,
    pub backing: NetBacking,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockOpt {
    pub name: String,
    pub path: PathBuf,
}

/// `--solo5:LEVEL`: how much the tender itself prints on stderr.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Nothing but the errors that stop it from starting the guest.
    Quiet,
    Error,
    Warn,
    #[default]
    Info,
    Debug,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub mem_mb: u64,
    pub nets: Vec<NetOpt>,
    pub macs: Vec<(String, [u8; 6])>,
    pub blocks: Vec<BlockOpt>,
    pub sector_sizes: Vec<(String, u16)>,
    /// hvt: install the tender's own seccomp allowlist (default on).
    pub seccomp: bool,
    /// hvt: write a core file when the guest is stopped or aborts.
    pub dumpcore: bool,
    /// `--solo5:LEVEL`; at `quiet` the tender does not report how the guest stopped.
    pub log: LogLevel,
    pub image: PathBuf,
    pub args: Vec<String>,
}

pub const USAGE: &str = "[--mem=MB] [--net:NAME=IFACE|@FD] [--net-mac:NAME=HWADDR] \
[--block:NAME=PATH] [--block-sector-size:NAME=N] [--solo5:quiet|error|warn|info|debug] \
[--dumpcore (hvt)] [--x-no-seccomp (hvt)] [--] IMAGE [ARGS...]\n       --version";

/// The Solo5 ABI version of the images both tenders run.
pub const ABI_VERSION: u32 = 2;

/// Whether `--version` is among the options (before IMAGE).
pub fn wants_version<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter()
        .map(AsRef::as_ref)
        .take_while(|a| a.starts_with('-') && *a != "--")
        .any(|a| a == "--version")
}

/// What `--version` prints: albatross requires `ABI version N` in it.
pub fn version(tender: &str) -> String {
    format!(
        "{tender} {} (unikc's Solo5-compatible tender)\nABI version {ABI_VERSION}",
        env!("CARGO_PKG_VERSION")
    )
}

fn device_name(s: &str, opt: &str) -> Result<String, Error> {
    if s.is_empty() || s.len() > 67 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::Usage(format!(
            "{opt}: device name {s:?} is not 1 to 67 ASCII letters or digits"
        )));
    }
    Ok(s.to_string())
}

fn split<'a>(rest: &'a str, opt: &str) -> Result<(String, &'a str), Error> {
    let (name, value) = rest
        .split_once('=')
        .ok_or_else(|| Error::Usage(format!("{opt}NAME=VALUE expected, got {opt}{rest}")))?;
    Ok((device_name(name, opt)?, value))
}

pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        let p = parts.next()?;
        if p.len() != 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Whether `--help` or `-h` is among the options (before IMAGE).
pub fn wants_help<S: AsRef<str>>(args: &[S]) -> bool {
    args.iter()
        .map(AsRef::as_ref)
        .take_while(|a| a.starts_with('-') && *a != "--")
        .any(|a| a == "--help" || a == "-h")
}

impl Options {
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, Error> {
        let mut o = Options {
            mem_mb: DEFAULT_MEM_MB,
            nets: Vec::new(),
            macs: Vec::new(),
            blocks: Vec::new(),
            sector_sizes: Vec::new(),
            seccomp: true,
            dumpcore: false,
            log: LogLevel::default(),
            image: PathBuf::new(),
            args: Vec::new(),
        };
        let mut rest = args.iter().map(AsRef::as_ref);
        let image = loop {
            let Some(arg) = rest.next() else {
                return Err(Error::Usage("missing IMAGE operand".into()));
            };
            if arg == "--" {
                break rest
                    .next()
                    .ok_or_else(|| Error::Usage("missing IMAGE operand".into()))?;
            }
            if !arg.starts_with('-') {
                break arg;
            }
            if let Some(mb) = arg.strip_prefix("--mem=") {
                o.mem_mb =
                    mb.parse().ok().filter(|&m| m > 0).ok_or_else(|| {
                        Error::Usage(format!("malformed argument to --mem: {mb:?}"))
                    })?;
            } else if let Some(r) = arg.strip_prefix("--net:") {
                let (name, value) = split(r, "--net:")?;
                let backing = match value.strip_prefix('@') {
                    Some(fd) => NetBacking::Fd(fd.parse().map_err(|_| {
                        Error::Usage(format!("--net:{name}=@{fd}: not a descriptor"))
                    })?),
                    None if !value.is_empty() && value.len() < 16 => NetBacking::Tap(value.into()),
                    None => {
                        return Err(Error::Usage(format!(
                            "--net:{name}: bad interface name {value:?}"
                        )));
                    }
                };
                o.nets.push(NetOpt { name, backing });
            } else if let Some(r) = arg.strip_prefix("--net-mac:") {
                let (name, value) = split(r, "--net-mac:")?;
                let mac = parse_mac(value).ok_or_else(|| {
                    Error::Usage(format!("--net-mac:{name}: malformed address {value:?}"))
                })?;
                o.macs.push((name, mac));
            } else if let Some(r) = arg.strip_prefix("--block:") {
                let (name, value) = split(r, "--block:")?;
                if value.is_empty() {
                    return Err(Error::Usage(format!("--block:{name}: empty path")));
                }
                o.blocks.push(BlockOpt {
                    name,
                    path: value.into(),
                });
            } else if let Some(r) = arg.strip_prefix("--block-sector-size:") {
                let (name, value) = split(r, "--block-sector-size:")?;
                let size = value
                    .parse::<u16>()
                    .ok()
                    .filter(|s| *s >= 512 && s.is_power_of_two())
                    .ok_or_else(|| {
                        Error::Usage(format!(
                            "--block-sector-size:{name}: {value:?} is not a power of two from 512 to 32768"
                        ))
                    })?;
                o.sector_sizes.push((name, size));
            } else if let Some(level) = arg.strip_prefix("--solo5:") {
                o.log = match level {
                    "quiet" => LogLevel::Quiet,
                    "error" => LogLevel::Error,
                    "warn" => LogLevel::Warn,
                    "info" => LogLevel::Info,
                    "debug" => LogLevel::Debug,
                    _ => {
                        return Err(Error::Usage(format!(
                            "{arg}: the levels are quiet, error, warn, info and debug"
                        )));
                    }
                };
            } else if arg == "--x-no-seccomp" {
                o.seccomp = false;
            } else if arg == "--dumpcore" {
                o.dumpcore = true;
            } else {
                return Err(Error::Usage(format!("invalid option: {arg:?}")));
            }
        };
        o.image = image.into();
        o.args = rest.map(String::from).collect();
        for (i, n) in o.nets.iter().enumerate() {
            if o.nets[..i].iter().any(|m| m.name == n.name)
                || o.blocks.iter().any(|b| b.name == n.name)
            {
                return Err(Error::Usage(format!("device {:?} attached twice", n.name)));
            }
        }
        for (i, b) in o.blocks.iter().enumerate() {
            if o.blocks[..i].iter().any(|c| c.name == b.name) {
                return Err(Error::Usage(format!("device {:?} attached twice", b.name)));
            }
        }
        Ok(o)
    }

    pub fn mem_bytes(&self) -> Result<u64, Error> {
        self.mem_mb
            .checked_mul(1 << 20)
            .ok_or_else(|| Error::Usage(format!("--mem={} is too large", self.mem_mb)))
    }
}

/// The guest command line: ARGS joined with spaces, at most `size - 1` bytes.
pub fn cmdline(args: &[String], size: usize) -> Result<Vec<u8>, Error> {
    let line = args.join(" ");
    if line.len() >= size || line.as_bytes().contains(&0) {
        return Err(Error::Usage(format!(
            "guest command line too long or contains NUL (max {} bytes)",
            size - 1
        )));
    }
    Ok(line.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_solo5_options() {
        let o = Options::parse(&[
            "--mem=64",
            "--net:service=tap0",
            "--net-mac:service=02:00:00:00:00:01",
            "--block:storage=/tmp/disk.img",
            "--block-sector-size:storage=4096",
            "--",
            "image.spt",
            "--key=1",
            "x",
        ])
        .unwrap();
        assert_eq!(o.mem_mb, 64);
        assert_eq!(o.mem_bytes().unwrap(), 64 << 20);
        assert_eq!(o.nets[0].backing, NetBacking::Tap("tap0".into()));
        assert_eq!(o.macs, vec![("service".into(), [2, 0, 0, 0, 0, 1])]);
        assert_eq!(o.blocks[0].path, PathBuf::from("/tmp/disk.img"));
        assert_eq!(o.sector_sizes, vec![("storage".into(), 4096)]);
        assert_eq!(o.image, PathBuf::from("image.spt"));
        assert_eq!(o.args, vec!["--key=1", "x"]);
        let o = Options::parse(&["img", "--mem=1"]).unwrap();
        assert_eq!(
            o.mem_mb, DEFAULT_MEM_MB,
            "options after IMAGE are guest arguments"
        );
        assert_eq!(o.args, vec!["--mem=1"]);
        let o = Options::parse(&["--net:n=@5", "img"]).unwrap();
        assert_eq!(o.nets[0].backing, NetBacking::Fd(5));
        assert!(!o.dumpcore);
        assert!(Options::parse(&["--dumpcore", "img"]).unwrap().dumpcore);
        assert_eq!(o.log, LogLevel::Info);
        let o = Options::parse(&["--solo5:quiet", "--mem=2", "img"]).unwrap();
        assert_eq!((o.log, o.mem_mb), (LogLevel::Quiet, 2));
    }

    #[test]
    fn version_names_the_abi() {
        assert!(wants_version(&["--mem=2", "--version"]));
        assert!(!wants_version(&["img", "--version"]), "a guest argument");
        assert!(version("unikc-spt").ends_with("\nABI version 2"));
        assert_eq!(crate::image::Target::Spt.abi().1, ABI_VERSION);
        assert_eq!(crate::image::Target::Hvt.abi().1, ABI_VERSION);
    }

    #[test]
    fn rejects_bad_options() {
        for bad in [
            &["--mem=0", "img"][..],
            &["--mem=x", "img"],
            &["--net:bad-name=tap0", "img"],
            &["--net:n", "img"],
            &["--net:n=", "img"],
            &["--net-mac:n=02:00:00:00:00", "img"],
            &["--net-mac:n=02:00:00:00:00:0g", "img"],
            &["--block-sector-size:b=1000", "img"],
            &["--block-sector-size:b=256", "img"],
            &["--bogus", "img"],
            &["--solo5:loud", "img"],
            &["--net:a=t0", "--net:a=t1", "img"],
            &["--net:a=t0", "--block:a=/x", "img"],
            &[],
            &["--mem=8"],
            &["--"],
        ] {
            assert!(Options::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn joins_the_command_line() {
        let args = vec!["a".to_string(), "b c".to_string()];
        assert_eq!(cmdline(&args, 8192).unwrap(), b"a b c");
        assert!(cmdline(&["x".repeat(8192)], 8192).is_err());
        assert!(cmdline(&["x".repeat(8191)], 8192).is_ok());
        assert!(cmdline(&["a\0".to_string()], 8192).is_err());
    }
}
