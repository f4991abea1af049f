//! unikc runtime core, shared by every target.
//!
//! Device traits follow the MirageOS 3.5 interfaces; one single-threaded
//! executor runs on every target and blocks only through [`Platform::wait`].
#![no_std]
// Async trait methods are used generically on a single thread, so the
// missing `Send` bound on their futures is intended.
#![allow(async_fn_in_trait)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod bootargs;
pub mod conduit;
pub mod devices;
pub mod exec;
pub mod job;
pub mod keys;
pub mod kv;
pub mod platform;
pub mod ramdisk;
pub mod reporter;
pub mod time;

/// `tcpv4v6_of_stackv4v6`: a dual stack's TCP (one module per catalogue
/// device type).
pub mod tcpv4v6_of_stack {
    pub use crate::devices::stack::tcp_of_stack as connect;
}
/// `udpv4v6_of_stackv4v6`: a dual stack's UDP.
pub mod udpv4v6_of_stack {
    pub use crate::devices::stack::udp_of_stack as connect;
}

mod local;

pub use conduit::{Conduit, ConduitFlow, TlsClientConfig, TlsServerConfig};
pub use devices::Op;
pub use devices::stack::{
    StackStats, StackV4, StackV4V6, Tcp, TcpError, TcpFlow, TcpListener, TcpOfStack, Udp, UdpError,
    UdpOfStack, UdpSocket, WireStats, tcp_of_stack, udp_of_stack,
};
pub use devices::{
    Argv, Block, BlockError, BlockInfo, Console, ConsoleError, ETHERNET_HEADER, EntryKind, Key,
    KvError, KvRo, KvRw, Mac, Mclock, NetError, Network, Offload, Pclock, Random, RandomError,
    Received, Sleep,
};
pub use exec::{ExecError, JoinHandle, block_on, spawn};
pub use job::{ExitStatus, Job, JobError, job, run_jobs};
pub use platform::{Handle, Interest, Platform, Readiness, ReadySet};

/// Re-exported so user code can write `unik_rt::log::info!(...)`.
pub use log;

/// Gives a device the `'static` lifetime the generated code passes around.
pub fn leak<T>(value: T) -> &'static T {
    alloc::boxed::Box::leak(alloc::boxed::Box::new(value))
}
