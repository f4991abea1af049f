//! Bulk TCP on 10.55.0.2 through unik-net's direct stack over the Solo5
//! network device, for the throughput benchmark and the 100 MB transfer
//! test. Port 5001 is a sink that checks every byte against the pattern
//! `byte(i) = i % 251`; port 5002 is a source that sends `bytes=N` bytes of
//! it (`buf_kb=K` sets the TCP buffers, 1024 KiB by default). One
//! connection each (in any order), then it reports and exits 0. With `ipv6=1`
//! the stack is the dual stack and also 2001:db8:55::2/64: the peer may come
//! over either family.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use core::cell::Cell;
use unik_net::devices::{arp, ethernet, icmpv4, ipv4, ipv4v6, ipv6, stack, tcp, udp};
use unik_rt::{Tcp, TcpFlow, TcpListener, leak, spawn};
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! { net "service" }

const SINK: u16 = 5001;
const SOURCE: u16 = 5002;

fn pattern(buf: &mut [u8], at: u64) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b = ((at + i as u64) % 251) as u8;
    }
}

/// (bytes, first offset that broke the pattern)
async fn sink<A, T: Tcp<A>>(tcp: &T) -> Result<(u64, Option<u64>), unik_rt::TcpError> {
    let flow = tcp.listen(SINK).await?.accept().await?;
    let mut buf = vec![0u8; 1 << 16];
    // The pattern from any phase is a slice of this: compare, don't compute.
    let mut want = vec![0u8; buf.len() + 251];
    pattern(&mut want, 0);
    let (mut total, mut bad) = (0u64, None);
    loop {
        let n = flow.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        let phase = (total % 251) as usize;
        if bad.is_none() && buf[..n] != want[phase..phase + n] {
            let i = (0..n).find(|&i| buf[i] != want[phase + i]).unwrap_or(0);
            bad = Some(total + i as u64);
        }
        total += n as u64;
    }
    flow.close().await?;
    Ok((total, bad))
}

async fn source<A, T: Tcp<A>>(tcp: &T, bytes: u64) -> Result<u64, unik_rt::TcpError> {
    let flow = tcp.listen(SOURCE).await?.accept().await?;
    // 251 * 261 bytes: the pattern continues seamlessly from chunk to chunk.
    let mut chunk = vec![0u8; 251 * 261];
    pattern(&mut chunk, 0);
    let mut sent = 0u64;
    while sent < bytes {
        let n = (bytes - sent).min(chunk.len() as u64) as usize;
        flow.write(&chunk[..n]).await?;
        sent += n as u64;
    }
    flow.close().await?;
    Ok(sent)
}

/// The sink and the source on `tcp`, counting into `done`.
fn serve<A: 'static, T: Tcp<A> + 'static>(
    tcp: &'static T,
    bytes: u64,
    done: &'static Cell<u32>,
    failed: &'static Cell<bool>,
) where
    T::Listener: 'static,
    T::Flow: 'static,
{
    drop(spawn(async move {
        match sink(tcp).await {
            Ok((n, None)) => kprintln!("sink: {n} bytes, pattern intact"),
            Ok((n, Some(at))) => {
                kprintln!("sink: {n} bytes, pattern broken at {at}");
                failed.set(true);
            }
            Err(e) => {
                kprintln!("sink: {e}");
                failed.set(true);
            }
        }
        done.set(done.get() + 1);
    }));
    drop(spawn(async move {
        match source(tcp, bytes).await {
            Ok(n) => kprintln!("source: {n} bytes sent"),
            Err(e) => {
                kprintln!("source: {e}");
                failed.set(true);
            }
        }
        done.set(done.get() + 1);
    }));
}

fn main(boot: &BootInfo) -> i32 {
    let bytes: u64 = boot
        .cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix("bytes="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(100 << 20);
    // TCP buffers (KiB), 1 MiB by default as in the unix target's bench.
    let buf_kb: usize = boot
        .cmdline
        .split_whitespace()
        .find_map(|a| a.strip_prefix("buf_kb="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let v6 = boot.cmdline.split_whitespace().any(|a| a == "ipv6=1");
    let done: &'static Cell<u32> = leak(Cell::new(0));
    let failed: &'static Cell<bool> = leak(Cell::new(false));
    let setup = || -> Result<(), alloc::string::String> {
        use alloc::string::ToString;
        let net = leak(unik_solo5::net::connect("service").map_err(|e| e.to_string())?);
        kprintln!("vnet: {}", if net.offloaded() { "on" } else { "off" });
        let random = leak(unik_solo5::random::connect().map_err(|e| e.to_string())?);
        let eth = leak(ethernet::connect(net).map_err(|e| e.to_string())?);
        let arp = leak(arp::connect(eth).map_err(|e| e.to_string())?);
        let ip = leak(ipv4::connect(eth, arp, "10.55.0.2/24", "").map_err(|e| e.to_string())?);
        let icmp = leak(icmpv4::connect(ip).map_err(|e| e.to_string())?);
        if v6 {
            let ip6 = leak(
                ipv6::connect(net, eth, "2001:db8:55::2/64", "", false)
                    .map_err(|e| e.to_string())?,
            );
            let ip = leak(ipv4v6::connect(ip, ip6, false, false).map_err(|e| e.to_string())?);
            let udp = leak(udp::connect_v4v6(ip).map_err(|e| e.to_string())?);
            let tcp = leak(tcp::connect_v4v6(ip, random).map_err(|e| e.to_string())?);
            let mut cfg = tcp.tcpv4().config();
            cfg.send_buffer = buf_kb << 10;
            cfg.recv_buffer = buf_kb << 10;
            tcp.tcpv4().set_config(cfg);
            let stack = leak(
                stack::connect_v4v6(net, eth, arp, ip, icmp, udp, tcp)
                    .map_err(|e| e.to_string())?,
            );
            serve(unik_rt::StackV4V6::tcp(stack), bytes, done, failed);
            kprintln!("listening on [2001:db8:55::2]:{SINK} and :{SOURCE} too");
        } else {
            let udp = leak(udp::connect(ip).map_err(|e| e.to_string())?);
            let tcp = leak(tcp::connect(ip, random).map_err(|e| e.to_string())?);
            let mut cfg = tcp.config();
            cfg.send_buffer = buf_kb << 10;
            cfg.recv_buffer = buf_kb << 10;
            tcp.set_config(cfg);
            let stack =
                leak(stack::connect(net, eth, arp, ip, icmp, udp, tcp).map_err(|e| e.to_string())?);
            serve(unik_rt::StackV4::tcp(stack), bytes, done, failed);
        }
        Ok(())
    };
    if let Err(e) = setup() {
        kprintln!("setup failed: {e}");
        return 1;
    }
    kprintln!("listening on 10.55.0.2:{SINK} and :{SOURCE}");
    let wait = async move {
        while done.get() < 2 {
            unik_rt::time::sleep_until(unik_rt::exec::now_ns() + 20_000_000).await;
        }
        // Let the stack finish what it still has queued before exiting.
        unik_rt::time::sleep_until(unik_rt::exec::now_ns() + 500_000_000).await;
    };
    match unik_rt::block_on(&unik_solo5::Solo5Platform::new(), wait) {
        Ok(()) if !failed.get() => 0,
        Ok(()) => 1,
        Err(e) => {
            kprintln!("executor: {e}");
            1
        }
    }
}
