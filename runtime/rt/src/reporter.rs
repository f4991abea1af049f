//! The log reporter (MirageOS `default_reporter`): the `log` facade's
//! records are written through the console, one line each, as
//! `[TIME ]LVL [target] message` where TIME (RFC 3339, UTC) appears when a
//! wall clock is given and LVL is ERR, WRN, INF or DBG.
//!
//! Levels come from the `logs` runtime key (`--logs=SPEC`): SPEC is a comma
//! list of `LEVEL` (the default for every source) and `SRC:LEVEL` (sources
//! whose target starts with SRC; the longest match wins; `*:LEVEL` is the
//! default too). LEVEL is quiet, error, warning (or warn), info or debug.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::devices::{Console, Pclock};

/// Errors of [`init`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReporterError {
    /// A `--logs` spec that does not parse.
    BadSpec(String),
    /// A reporter (or another `log` logger) is already installed.
    AlreadySet,
}

impl fmt::Display for ReporterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReporterError::BadSpec(s) => {
                write!(f, "invalid log spec {s:?}: expected LEVEL or SRC:LEVEL,...")
            }
            ReporterError::AlreadySet => f.write_str("a log reporter is already installed"),
        }
    }
}

/// A parsed `--logs` spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogSpec {
    pub default: LevelFilter,
    /// `(source prefix, level)`, longest prefix first.
    pub sources: Vec<(String, LevelFilter)>,
}

impl LogSpec {
    /// The level in force for records whose target is `target`.
    pub fn level_for(&self, target: &str) -> LevelFilter {
        self.sources
            .iter()
            .find(|(src, _)| target.starts_with(src.as_str()))
            .map_or(self.default, |(_, l)| *l)
    }

    fn max(&self) -> LevelFilter {
        self.sources
            .iter()
            .map(|(_, l)| *l)
            .fold(self.default, core::cmp::max)
    }
}

fn parse_level(text: &str) -> Option<LevelFilter> {
    Some(match text {
        "quiet" => LevelFilter::Off,
        "error" => LevelFilter::Error,
        "warning" | "warn" => LevelFilter::Warn,
        "info" => LevelFilter::Info,
        "debug" => LevelFilter::Debug,
        _ => return None,
    })
}

/// Parses a `--logs` spec (see the module docs).
pub fn parse_spec(spec: &str) -> Result<LogSpec, ReporterError> {
    let bad = || ReporterError::BadSpec(spec.to_string());
    let mut out = LogSpec {
        default: LevelFilter::Info,
        sources: Vec::new(),
    };
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.split_once(':') {
            None | Some(("*", _)) => {
                let level = item.rsplit(':').next().unwrap_or(item);
                out.default = parse_level(level).ok_or_else(bad)?;
            }
            Some((src, level)) if !src.is_empty() => {
                out.sources
                    .push((src.to_string(), parse_level(level).ok_or_else(bad)?));
            }
            Some(_) => return Err(bad()),
        }
    }
    out.sources
        .sort_by_key(|(src, _)| core::cmp::Reverse(src.len()));
    Ok(out)
}

struct Reporter {
    console: &'static (dyn Console + Sync),
    clock: Option<&'static (dyn Pclock + Sync)>,
    spec: LogSpec,
}

impl Log for Reporter {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.spec.level_for(metadata.target())
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let time = self
            .clock
            .map(|c| format!("{} ", rfc3339(c.now_ns())))
            .unwrap_or_default();
        let level = match record.level() {
            Level::Error => "ERR",
            Level::Warn => "WRN",
            Level::Info => "INF",
            Level::Debug | Level::Trace => "DBG",
        };
        let line = format!("{time}{level} [{}] {}", record.target(), record.args());
        // A failing console has nowhere to report its own failure.
        let _ = self.console.log(&line);
    }

    fn flush(&self) {}
}

/// Installs the reporter for the whole program, writing through `console`
/// at the levels of `spec` (the value of the `logs` key).
pub fn init(
    console: &'static (dyn Console + Sync),
    clock: Option<&'static (dyn Pclock + Sync)>,
    spec: &str,
) -> Result<(), ReporterError> {
    let spec = parse_spec(spec)?;
    let max = spec.max();
    let reporter = crate::leak(Reporter {
        console,
        clock,
        spec,
    });
    log::set_logger(reporter).map_err(|_| ReporterError::AlreadySet)?;
    log::set_max_level(max);
    Ok(())
}

/// `console_reporter`'s connect: [`init`] at the levels of the `logs` key.
/// (Written here, not in the catalogue's template: generated code has no
/// `ToString` in scope on the freestanding targets.)
pub fn connect(
    console: &'static (dyn Console + Sync),
    clock: &'static (dyn Pclock + Sync),
) -> Result<(), String> {
    let spec = crate::keys::string("logs").map_err(|e| e.to_string())?;
    init(console, Some(clock), &spec).map_err(|e| e.to_string())
}

/// `YYYY-MM-DDTHH:MM:SSZ` for nanoseconds since the Unix epoch.
pub fn rfc3339(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil-from-days (proleptic Gregorian), days counted from 1970-01-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
