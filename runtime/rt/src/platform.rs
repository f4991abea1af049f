//! The one blocking primitive a target provides to the executor.

use alloc::vec::Vec;

/// A device handle: a file descriptor on unix, a Solo5 handle elsewhere.
pub type Handle = u64;

/// What the executor wants to hear about one handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interest {
    pub handle: Handle,
    pub read: bool,
    pub write: bool,
}

/// What happened to one handle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    pub read: bool,
    pub write: bool,
    /// Error or hang-up: wakes both readers and writers so they see it.
    pub error: bool,
}

/// Handles that became ready during one [`Platform::wait`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadySet {
    entries: Vec<(Handle, Readiness)>,
}

impl ReadySet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds the set from Solo5's `solo5_yield` bitmask: bit `h` set means
    /// handle `h` is readable (Solo5 only reports readable network devices).
    pub fn from_mask(mask: u64) -> Self {
        let entries = (0..64)
            .filter(|bit| mask & (1u64 << bit) != 0)
            .map(|bit| {
                let ready = Readiness {
                    read: true,
                    ..Readiness::default()
                };
                (bit as Handle, ready)
            })
            .collect();
        Self { entries }
    }

    pub fn push(&mut self, handle: Handle, readiness: Readiness) {
        self.entries.push((handle, readiness));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(Handle, Readiness)> {
        self.entries.iter()
    }
}

/// The target's blocking primitive: `poll(2)` on unix, `solo5_yield` on Solo5.
pub trait Platform {
    /// Monotonic time in nanoseconds, the clock every deadline is measured in.
    fn now_ns(&self) -> u64;

    /// Blocks until `deadline_ns` (absolute, monotonic; `None` = no deadline)
    /// passes or one of `interest` is ready. May return early and empty
    /// (e.g. on a signal); the executor just loops.
    fn wait(&self, deadline_ns: Option<u64>, interest: &[Interest]) -> ReadySet;
}
