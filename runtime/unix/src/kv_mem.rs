//! Read-write key-value store in memory (MirageOS `kv_rw_mem`).

use std::convert::Infallible;

pub use unik_rt::kv::MemKv;

/// An empty store whose `last_modified` uses the wall clock.
pub fn connect() -> Result<MemKv, Infallible> {
    Ok(MemKv::new(crate::pclock::now_ns))
}
