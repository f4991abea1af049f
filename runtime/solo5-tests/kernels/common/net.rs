//! Network through unik_rt's executor: ARP for the host (10.55.0.1) and an
//! ICMP echo request to it, answering the host's ARP requests meanwhile.
//! The guest is 10.55.0.2. Frames are built by hand: this tests the
//! platform (device, yield, ready sets), not a network stack.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use unik_rt::exec::now_ns;
use unik_rt::time::timeout_at;
use unik_rt::{ETHERNET_HEADER, Network};
use unik_solo5::rt::net::Net;
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! { net "service" }

const GUEST: [u8; 4] = [10, 55, 0, 2];
const HOST: [u8; 4] = [10, 55, 0, 1];

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for pair in data.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn arp(buf: &mut [u8], op: u16, src: [u8; 6], dst_mac: [u8; 6], target_ip: [u8; 4]) -> usize {
    let eth_dst = if op == 1 { [0xff; 6] } else { dst_mac };
    buf[0..6].copy_from_slice(&eth_dst);
    buf[6..12].copy_from_slice(&src);
    buf[12..14].copy_from_slice(&[0x08, 0x06]);
    buf[14..22].copy_from_slice(&[0, 1, 0x08, 0, 6, 4, 0, op as u8]);
    buf[22..28].copy_from_slice(&src);
    buf[28..32].copy_from_slice(&GUEST);
    buf[32..38].copy_from_slice(&dst_mac);
    buf[38..42].copy_from_slice(&target_ip);
    42
}

fn echo_request(buf: &mut [u8], src: [u8; 6], dst: [u8; 6], seq: u16) -> usize {
    let payload = b"unikc spt ping payload";
    let icmp_len = 8 + payload.len();
    let total = 20 + icmp_len;
    buf[0..6].copy_from_slice(&dst);
    buf[6..12].copy_from_slice(&src);
    buf[12..14].copy_from_slice(&[0x08, 0x00]);
    let ip = &mut buf[14..34];
    ip.copy_from_slice(&[
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip[12..16].copy_from_slice(&GUEST);
    ip[16..20].copy_from_slice(&HOST);
    let c = checksum(ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    let icmp = &mut buf[34..34 + icmp_len];
    icmp[0..8].copy_from_slice(&[8, 0, 0, 0, 0x55, 0x35, 0, 0]);
    icmp[6..8].copy_from_slice(&seq.to_be_bytes());
    icmp[8..].copy_from_slice(payload);
    let c = checksum(icmp);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    14 + total
}

fn is_arp(f: &[u8], op: u8) -> bool {
    f.len() >= 42 && f[12..14] == [0x08, 0x06] && f[21] == op
}

/// Sends ARP requests (and, once the host answered, echo requests) every
/// 500 ms until the echo reply arrives: the first frames may be lost while
/// the host brings the tap's carrier up.
async fn run(net: &Net) -> Result<(), &'static str> {
    let me = net.mac().0;
    let mut buf = vec![0u8; net.mtu() + ETHERNET_HEADER];
    let deadline = now_ns() + 10_000_000_000;
    let mut host: Option<[u8; 6]> = None;
    let mut frames = 0;
    let mut sent = 0;
    loop {
        match host {
            None => net.write(42, |b| arp(b, 1, me, [0; 6], HOST)).await,
            Some(mac) => net.write(64, |b| echo_request(b, me, mac, 1)).await,
        }
        .map_err(|_| "write")?;
        sent += 1;
        let resend = (now_ns() + 500_000_000).min(deadline);
        while let Some(r) = timeout_at(resend, net.recv(&mut buf)).await {
            let n = r.map_err(|_| "recv")?;
            frames += 1;
            let f = &buf[..n];
            if is_arp(f, 1) && f[38..42] == GUEST {
                let mac: [u8; 6] = f[22..28].try_into().unwrap();
                let ip: [u8; 4] = f[28..32].try_into().unwrap();
                net.write(42, |b| arp(b, 2, me, mac, ip))
                    .await
                    .map_err(|_| "arp reply")?;
                kprintln!("answered arp request from {}", unik_rt::Mac(mac));
            } else if is_arp(f, 2) && f[28..32] == HOST && host.is_none() {
                let mac: [u8; 6] = f[22..28].try_into().unwrap();
                kprintln!("arp reply: 10.55.0.1 is at {}", unik_rt::Mac(mac));
                host = Some(mac);
                break;
            } else if f.len() >= 42
                && f[12..14] == [0x08, 0]
                && f[23] == 1
                && f[34] == 0
                && f[26..30] == HOST
            {
                let seq = u16::from_be_bytes([f[40], f[41]]);
                kprintln!(
                    "ping: echo reply from 10.55.0.1 seq={seq} ttl={} bytes={}",
                    f[22],
                    n - 34
                );
                kprintln!("frames received: {frames}, sent: {sent}");
                return Ok(());
            }
        }
        if now_ns() >= deadline {
            return Err("timed out");
        }
    }
}

fn main(_: &BootInfo) -> i32 {
    let net = match unik_solo5::rt::net::connect("service") {
        Ok(n) => n,
        Err(e) => {
            kprintln!("connect: {e}");
            return 1;
        }
    };
    kprintln!("mac={} mtu={}", net.mac(), net.mtu());
    match unik_rt::block_on(&unik_solo5::rt::Solo5Platform, run(&net)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            kprintln!("net test failed: {e}");
            1
        }
        Err(e) => {
            kprintln!("executor: {e}");
            1
        }
    }
}
