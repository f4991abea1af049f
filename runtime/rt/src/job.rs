//! Jobs: the user's `start` functions, run by generated code.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::Poll;

use crate::exec::{self, ExecError, JoinHandle};
use crate::platform::Platform;

/// The error a job's `start` returns; every device error converts into it
/// with `?`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobError {
    message: String,
}

impl JobError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

macro_rules! job_error_from {
    ($($ty:ty),*) => {$(
        impl From<$ty> for JobError {
            fn from(e: $ty) -> Self {
                JobError::new(e.to_string())
            }
        }
    )*};
}

job_error_from!(
    crate::devices::ConsoleError,
    crate::devices::NetError,
    crate::devices::BlockError,
    crate::devices::KvError,
    crate::devices::RandomError,
    crate::devices::stack::TcpError,
    crate::devices::stack::UdpError,
    crate::keys::KeyError,
    crate::reporter::ReporterError,
    ExecError
);

/// How the program ends; `code()` is the process exit status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// A job returned an error.
    JobFailed,
    /// Bad boot arguments (unknown key, bad value, missing key).
    Usage,
    /// A device could not be connected.
    Device,
    /// The executor stalled (nothing left that could wake the jobs).
    Stalled,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::JobFailed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Device => 3,
            ExitStatus::Stalled => 4,
        }
    }
}

/// A named job future, as built by [`job`].
pub struct Job {
    name: &'static str,
    future: Pin<Box<dyn Future<Output = Result<(), JobError>>>>,
}

/// Wraps a job's `start(...)` future with the job's name for error reports.
pub fn job(
    name: &'static str,
    future: impl Future<Output = Result<(), JobError>> + 'static,
) -> Job {
    Job {
        name,
        future: Box::pin(future),
    }
}

/// Runs every job concurrently until all succeed, or until the first one
/// fails (logged at error level with the job's name).
pub fn run_jobs<P: Platform + ?Sized>(platform: &P, jobs: Vec<Job>) -> ExitStatus {
    type Running = Option<JoinHandle<Result<(), JobError>>>;
    let mut running: Vec<(&'static str, Running)> = jobs
        .into_iter()
        .map(|j| (j.name, Some(exec::spawn(j.future))))
        .collect();
    let all = core::future::poll_fn(move |cx| {
        for (name, slot) in running.iter_mut() {
            let Some(handle) = slot else { continue };
            if let Poll::Ready(result) = Pin::new(handle).poll(cx) {
                *slot = None;
                if let Err(e) = result {
                    log::error!(target: "unik", "job {name} failed: {e}");
                    return Poll::Ready(ExitStatus::JobFailed);
                }
            }
        }
        if running.iter().all(|(_, s)| s.is_none()) {
            Poll::Ready(ExitStatus::Success)
        } else {
            Poll::Pending
        }
    });
    match exec::block_on(platform, all) {
        Ok(status) => status,
        Err(e) => {
            log::error!(target: "unik", "{e}");
            ExitStatus::Stalled
        }
    }
}

macro_rules! error_impl {
    ($($ty:ty),*) => {$( impl core::error::Error for $ty {} )*};
}

error_impl!(
    JobError,
    crate::devices::ConsoleError,
    crate::devices::NetError,
    crate::devices::BlockError,
    crate::devices::KvError,
    crate::devices::RandomError,
    crate::devices::stack::TcpError,
    crate::devices::stack::UdpError,
    crate::keys::KeyError,
    crate::reporter::ReporterError,
    ExecError
);
