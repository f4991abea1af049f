//! A UDP echo server: every datagram goes back to its sender.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;
use unik_rt::{JobError, Udp, UdpSocket};

pub struct Echo;

impl Echo {
    pub async fn start<U: Udp>(udp: &'static U) -> Result<(), JobError> {
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a UDP port")))?;
        let socket = udp.bind(port).await?;
        unik_rt::log::info!(target: "udp-echo", "echoing on UDP port {}", socket.local_port());
        // The largest datagram IPv4 carries.
        let mut buf = vec![0u8; 65535];
        loop {
            let (n, from) = socket.recv_from(&mut buf).await?;
            unik_rt::log::info!(target: "udp-echo", "{from}: {n} bytes");
            // A sender whose address no longer answers ARP is not a reason to stop.
            if let Err(e) = socket.send_to(&buf[..n], from).await {
                unik_rt::log::warn!(target: "udp-echo", "reply to {from}: {e}");
            }
        }
    }
}
