//! The operations behind every command, as cargo keeps its `ops` out of
//! its `main`: each takes what the command was asked for and a
//! [`report::Reporter`] for progress, prints nothing, and returns its result
//! or a [`failure::Failure`] that carries the diagnostics and the exit
//! class. The `unikc` binary parses arguments, calls one, and renders once;
//! the language server calls [`check`].
//!
//! Files depend one way: `failure` and `report` at the bottom, then
//! `check`, `configure`, `lockfile`, `build`, and the commands on top
//! (`lock`, `verify`, `run` with `attach`, `qemu` and `tender`, `package`
//! with `oci`, `push`). No file
//! imports this one.

pub mod attach;
pub mod build;
pub mod check;
pub mod clean;
pub mod configure;
pub mod failure;
pub mod fmt;
pub mod lock;
pub mod lockfile;
pub mod new;
pub mod oci;
pub mod package;
pub mod push;
pub mod qemu;
pub mod report;
pub mod run;
pub mod templates;
pub mod tender;
pub mod verify;
pub mod xen;
