use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Monotonic clock (MirageOS `Mirage_clock.MCLOCK`).
pub trait Mclock {
    /// Nanoseconds since an arbitrary fixed point; never goes back.
    fn elapsed_ns(&self) -> u64;
}

/// Wall clock (MirageOS `Mirage_clock.PCLOCK`).
pub trait Pclock {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    fn now_ns(&self) -> u64;

    /// Local time zone offset in seconds, when known.
    fn tz_offset_s(&self) -> Option<i32> {
        None
    }
}

/// Timers (MirageOS `Mirage_time.S`).
pub trait Sleep {
    async fn sleep_ns(&self, ns: u64);
}

/// Errors of a [`Random`] source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RandomError {
    /// No entropy source is available (OS error code where there is one).
    Unavailable(i32),
}

impl fmt::Display for RandomError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RandomError::Unavailable(code) => write!(f, "no entropy available (os error {code})"),
        }
    }
}

/// Random bytes.
pub trait Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

/// The unikernel's boot arguments, program name excluded.
pub trait Argv {
    fn args(&self) -> Vec<String>;
}
