//! Device traits (MirageOS 3.5 interfaces) and one error type per family.
//!
//! Devices are created once by generated code and leaked to `&'static`, so
//! every method takes `&self`.

mod block;
mod console;
mod kv;
mod misc;
mod net;
pub mod stack;

pub use block::{Block, BlockError, BlockInfo};
pub use console::{Console, ConsoleError};
pub use kv::{EntryKind, Key, KvError, KvRo, KvRw, Op};
pub use misc::{Argv, Mclock, Pclock, Random, RandomError, Sleep};
pub use net::{ETHERNET_HEADER, Mac, NetError, Network, Offload, Received};
