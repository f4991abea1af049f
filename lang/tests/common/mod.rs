//! Code shared by the language tests.

pub mod programs;
