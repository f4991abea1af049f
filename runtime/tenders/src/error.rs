//! Errors of the tenders: each one says which side is at fault.

use std::fmt;

#[derive(Debug)]
pub enum Error {
    /// Bad command line.
    Usage(String),
    /// The image is not a valid Solo5 image for this tender.
    Image(String),
    /// A device named on the command line cannot be attached.
    Device(String),
    /// The host refused something (KVM, mmap, seccomp, ...).
    Host(String),
    /// The guest broke the ABI (bad hypercall, pointer out of bounds, fault).
    Guest(String),
    /// Already reported on stderr; only the failure status remains.
    Reported,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "usage: {m}"),
            Self::Image(m) => write!(f, "invalid image: {m}"),
            Self::Device(m) => write!(f, "device: {m}"),
            Self::Host(m) => write!(f, "host: {m}"),
            Self::Guest(m) => write!(f, "guest: {m}"),
            Self::Reported => write!(f, "stopped (reported above)"),
        }
    }
}

impl std::error::Error for Error {}

/// `Host` error from the last OS error, with context.
pub fn os(what: &str) -> Error {
    Error::Host(format!("{what}: {}", std::io::Error::last_os_error()))
}
