use core::fmt;

/// Errors of a [`Console`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsoleError {
    /// The underlying channel failed (OS error code where there is one).
    Io(i32),
    Closed,
}

impl fmt::Display for ConsoleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsoleError::Io(code) => write!(f, "console write failed (os error {code})"),
            ConsoleError::Closed => f.write_str("console is closed"),
        }
    }
}

/// A byte sink for text output. Writes are synchronous on every target
/// (stdout on unix, `solo5_console_write` on Solo5), which also lets the
/// reporter use it as a `dyn Console`.
pub trait Console {
    fn write(&self, bytes: &[u8]) -> Result<(), ConsoleError>;

    /// Writes `line` followed by a newline.
    fn log(&self, line: &str) -> Result<(), ConsoleError> {
        self.write(line.as_bytes())?;
        self.write(b"\n")
    }
}
