//! `unik-dns`: the DNS client and happy eyeballs of unikc unikernels, written sans-IO.
//!
//! [`wire`] builds queries and parses responses (never panicking), [`lookup`] is the
//! resolver's state machine for one name and record type (retries over the name servers,
//! TCP after a truncated UDP answer, CNAME chains), [`cache`] keeps answers for their TTL,
//! [`servers`] reads the `--dns-servers` boot key and [`he`] decides the connection attempts
//! of happy eyeballs (RFC 8305). With the `devices` feature, [`devices`] drives them over a
//! [`devices::Transport`], which a `unik_rt::StackV4V6` (the dual stack, mirage 4's shape)
//! or an IPv4-only `unik_rt::StackV4` provides, as the catalogue's `generic_dns_client` and
//! `generic_happy_eyeballs`.
//!
//! ```
//! use unik_dns::lookup::{Config, Lookup, Step, Via};
//! use unik_dns::wire::{Name, Qtype, Rdata, build};
//!
//! let servers = unik_dns::servers::parse("udp:10.0.0.1").unwrap();
//! let name = Name::parse("example.org").unwrap();
//! let mut lookup = Lookup::new(name.clone(), Qtype::A, servers, Config::default());
//! let Step::Send(req) = lookup.start(0, 0x1234) else { unreachable!() };
//! assert_eq!(req.via, Via::Udp);
//! // Send req.message to req.server; here the answer is made up.
//! let addr = core::net::Ipv4Addr::new(192, 0, 2, 1);
//! let reply = build::response(&req.message, 0, false, &[(name, 60, Rdata::A(addr))]);
//! let Some(Step::Done(Ok(answer))) = lookup.on_reply(&reply, 1, 0x5678) else { unreachable!() };
//! assert_eq!(answer.addrs, [core::net::IpAddr::V4(addr)]);
//! ```
#![no_std]
// Async trait methods are used generically on a single thread, as in unik-rt.
#![allow(async_fn_in_trait)]
extern crate alloc;

pub mod cache;
#[cfg(feature = "devices")]
pub mod devices;
pub mod he;
pub mod lookup;
pub mod servers;
pub mod wire;
