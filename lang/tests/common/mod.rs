//! Code shared by the language tests.

pub mod files;
pub mod programs;
