//! `unik-net`: the direct IPv4 network stack of unikc unikernels, written sans-IO.
//!
//! The stack never touches a device or a clock. An embedder feeds received Ethernet frames to
//! [`Interface::receive`], lets [`Interface::transmit`] write frames through a [`Device`]
//! (which lends a buffer that the stack fills in place), and sleeps until
//! [`Interface::poll_at`]. Applications use the TCP, UDP and ICMP calls on [`Interface`].
//!
//! Layers are usable on their own: [`wire`] (zero-copy packet views), [`ethernet`], [`arp`],
//! [`ipv4`] (fragmentation and reassembly), [`tcp`] (the connection state machine) and
//! [`dhcp`] (the client state machine).
//!
//! ```
//! use unik_net::{Config, FrameQueue, Instant, Interface, Ipv4Config, MacAddr};
//!
//! let mut dev = FrameQueue::new();
//! let mut cfg = Config::for_device(MacAddr([2, 0, 0, 0, 0, 1]), &dev);
//! cfg.ipv4 = Some(Ipv4Config::from_cidr("10.0.0.2/24", None).unwrap());
//! let mut iface = Interface::new(cfg);
//! let listener = iface.tcp_listen(80).unwrap();
//! let now = Instant::from_secs(1);
//! // For every frame the device received: iface.receive(now, &frame);
//! iface.transmit(now, &mut dev);
//! assert_eq!(dev.frames.len(), 1); // the gratuitous ARP announcing 10.0.0.2
//! // Then sleep until iface.poll_at() or the next received frame, and repeat.
//! assert!(iface.tcp_accept(listener).is_err());
//! ```
#![no_std]
extern crate alloc;

pub mod arp;
pub mod device;
#[cfg(feature = "devices")]
pub mod devices;
pub mod dhcp;
pub mod ethernet;
pub mod iface;
pub mod ipv4;
pub mod ipv6;
pub mod rng;
pub mod tcp;
pub mod time;
pub mod wire;

pub use device::{Device, FrameQueue, TxError};
pub use iface::{
    Config, Error, IcmpEvent, Icmpv6Event, Interface, Ip6Write, IpWrite, Stats, TcpHandle,
    TcpListener, UdpHandle,
};
pub use ipv4::Ipv4Config;
pub use ipv6::{InterfaceId, Ipv6Config};
pub use tcp::{Keepalive, State as TcpState, TcpConfig};
pub use time::{Duration, Instant};
pub use wire::{IpAddr, Ipv4Addr, Ipv6Addr, MacAddr};
