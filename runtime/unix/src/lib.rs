//! The unix target of the unikc runtime: a `poll(2)` platform and devices
//! backed by the host (stdout, files, directories, tap, kernel sockets).
//!
//! Every device module has a `connect` function returning
//! `Result<Device, E>` with `E: Display`; generated code leaks the device
//! to `&'static`. All I/O is non-blocking where the host can block for
//! long (tap, sockets) and waits through the executor.
#![allow(async_fn_in_trait)]

pub mod argv;
pub mod block;
pub mod boot;
pub mod console;
pub mod crunch;
pub mod kv_mem;
pub mod kv_ro;
pub mod kv_rw;
pub mod mclock;
pub mod net;
pub mod pclock;
pub mod platform;
pub mod random;
pub mod sleep;
pub mod stack;
/// `socket_stackv4v6`: the host's dual-stack sockets (a module of its own:
/// one module stands for one catalogue device type).
pub mod stackv4v6 {
    pub use super::stack::connect_v4v6 as connect;
}

mod dir_kv;
mod sys;

pub use platform::{UnixPlatform, monotonic_ns};
