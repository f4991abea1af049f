//! mirage-skeleton tutorial/noop: a unikernel with no jobs. It boots,
//! parses its boot arguments and stops with success; the crate exists so
//! the project has the same shape as every other.

#![no_std]
