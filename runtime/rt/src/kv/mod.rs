//! Target-independent key-value stores: [`Crunch`] (read-only, compiled in)
//! and [`MemKv`] (read-write, in memory).

mod crunch;
mod mem;
mod tree;

pub use crunch::Crunch;
pub use mem::MemKv;
