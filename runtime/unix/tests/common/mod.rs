use unik_rt::block_on;
use unik_unix::{UnixPlatform, monotonic_ns};

/// Runs `f` on the unix executor; a test that would hang fails instead.
pub fn run<T>(f: impl Future<Output = T>) -> T {
    const SECS: u64 = 20;
    let deadline = monotonic_ns() + SECS * 1_000_000_000;
    match block_on(&UnixPlatform::new(), unik_rt::time::timeout_at(deadline, f)) {
        Ok(Some(value)) => value,
        Ok(None) => panic!("timed out after {SECS} s"),
        Err(e) => panic!("executor: {e}"),
    }
}
