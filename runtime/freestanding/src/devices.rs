//! The devices every freestanding platform implements alike (feature `rt`),
//! over the registered console and [`crate::sources`]. Platform crates
//! re-export these modules where the device catalogue names them
//! (`unik_virtio::sleep::connect()`); they implement only network and block
//! devices themselves. Constructors return `Result<Device, E: Display>`, as
//! on unix.

use core::convert::Infallible;

pub mod netdev;
pub mod random;

/// The registered console (COM1, `solo5_console_write`, ...).
pub mod console {
    use super::Infallible;
    use unik_rt::ConsoleError;

    #[derive(Debug, Default)]
    pub struct Console;

    pub fn connect() -> Result<Console, Infallible> {
        Ok(Console)
    }

    impl unik_rt::Console for Console {
        fn write(&self, bytes: &[u8]) -> Result<(), ConsoleError> {
            crate::console_write(bytes);
            Ok(())
        }
    }
}

/// The platform's monotonic clock.
pub mod mclock {
    use super::Infallible;

    #[derive(Debug, Default)]
    pub struct Mclock;

    pub fn connect() -> Result<Mclock, Infallible> {
        Ok(Mclock)
    }

    impl unik_rt::Mclock for Mclock {
        fn elapsed_ns(&self) -> u64 {
            crate::sources::monotonic_ns()
        }
    }
}

/// The platform's wall clock.
pub mod pclock {
    use super::Infallible;

    #[derive(Debug, Default)]
    pub struct Pclock;

    pub fn connect() -> Result<Pclock, Infallible> {
        Ok(Pclock)
    }

    impl unik_rt::Pclock for Pclock {
        fn now_ns(&self) -> u64 {
            crate::sources::wall_ns()
        }
    }
}

/// Sleeping on the executor's timers, measured on the monotonic clock.
pub mod sleep {
    use super::Infallible;

    #[derive(Debug, Default)]
    pub struct Sleep;

    pub fn connect() -> Result<Sleep, Infallible> {
        Ok(Sleep)
    }

    impl unik_rt::Sleep for Sleep {
        async fn sleep_ns(&self, ns: u64) {
            let deadline = crate::sources::monotonic_ns().saturating_add(ns);
            unik_rt::time::sleep_until(deadline).await
        }
    }
}

/// The boot arguments from the platform's command line.
pub mod argv {
    use super::Infallible;
    use alloc::string::String;
    use alloc::vec::Vec;

    #[derive(Debug, Default)]
    pub struct Argv;

    pub fn connect() -> Result<Argv, Infallible> {
        Ok(Argv)
    }

    impl unik_rt::Argv for Argv {
        /// The command line split as `unikc run` (or the tender) joined it.
        fn args(&self) -> Vec<String> {
            unik_rt::bootargs::split(crate::sources::cmdline())
        }
    }
}

/// The in-memory read-write store (`kv_rw_mem`).
pub mod kv_mem {
    use super::Infallible;

    pub use unik_rt::kv::MemKv;

    /// An empty store whose `last_modified` uses the wall clock.
    pub fn connect() -> Result<MemKv, Infallible> {
        Ok(MemKv::new(crate::sources::wall_ns))
    }
}

#[cfg(test)]
mod tests;
