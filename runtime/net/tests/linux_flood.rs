//! The direct stack under floods of spoofed segments from the Linux side of a tap: SYN floods
//! (thousands from random addresses and ports), ACK floods and RST floods with random
//! sequence numbers. Throughout, legitimate connections from Linux complete (connect and one
//! echo round trip) within a second, again and again, and the stack's memory stays bounded.

mod linux;

use std::net::SocketAddrV4;
use std::time::Duration;

use linux::flood::{Flood, legitimate, rss_kib, summary};
use linux::{Lab, join, run, serial, sleep_ms};
use unik_net::Stats;
use unik_net::wire::tcp::Flags;
use unik_rt::{StackV4, Tcp, TcpFlow, TcpListener, spawn};

const PORT: u16 = 7;
/// Spoofed segments per second.
const RATE: u64 = 10_000;
const CLIENTS: usize = 10;

/// Largest values seen of the gauges that must stay bounded.
#[derive(Debug, Default)]
struct Peak {
    half_open: u64,
    connections: u64,
    buffers: u64,
    reassembly: u64,
}

fn flood_test(tag: &str, subnet: u8, flags: Flags) -> Stats {
    let _serial = serial();
    let lab = Lab::new(tag, subnet);
    let s = lab.stack();
    let backlog = s.tcp.config().backlog as u64;
    let dst = SocketAddrV4::new(lab.ours, PORT);
    let (results, peak, sent, rss) = run(120, async {
        let stack = s.stack;
        drop(spawn(async move {
            let l = stack.tcp().listen(PORT).await.unwrap();
            loop {
                let f = l.accept().await.unwrap();
                drop(spawn(async move {
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = f.read(&mut buf).await {
                        if n == 0 || f.write(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                    let _ = f.close().await;
                }));
            }
        }));
        // One connection before the flood (it also settles ARP both ways).
        let warm = lab
            .ns
            .thread(move || legitimate(dst, 1, Duration::ZERO, Duration::from_secs(5)));
        assert!(join(warm).await[0].is_ok(), "no echo before the flood");
        let rss_before = rss_kib();
        let flood = Flood::start(&lab.ns, dst, flags, RATE, u64::from(subnet) * 7919);
        // Let the flood fill whatever it can fill first.
        sleep_ms(1000).await;
        let client = lab.ns.thread(move || {
            legitimate(
                dst,
                CLIENTS,
                Duration::from_millis(200),
                Duration::from_secs(1),
            )
        });
        let mut peak = Peak::default();
        while !client.is_finished() {
            let st = s.eth.stats();
            peak.half_open = peak.half_open.max(st.tcp_half_open);
            peak.connections = peak.connections.max(st.tcp_connections);
            peak.buffers = peak.buffers.max(st.tcp_buffer_bytes);
            peak.reassembly = peak.reassembly.max(st.reassembly_bytes);
            sleep_ms(10).await;
        }
        let results = join(client).await;
        let sent = flood.stop();
        (results, peak, sent, (rss_before, rss_kib()))
    });
    let stats = s.eth.stats();
    let (median, max, failed) = summary(&results);
    eprintln!(
        "{flags:?} flood: {sent} segments; legitimate echo median {median:.1} ms, max {max:.1} \
         ms, {failed} failed; peak {peak:?}; RSS {} -> {} KiB; {stats:?}",
        rss.0, rss.1
    );
    for (i, r) in results.iter().enumerate() {
        assert!(
            r.is_ok(),
            "legitimate connection {i} during the flood: {r:?}"
        );
    }
    assert!(sent >= 10_000, "only {sent} spoofed segments were sent");
    assert!(peak.half_open <= backlog, "{peak:?}");
    // The listener's children, the echo connection and its predecessor closing.
    assert!(peak.connections <= backlog + 4, "{peak:?}");
    // At most a few connections with buffers (256 KiB each way by default).
    assert!(peak.buffers <= 4 << 20, "{peak:?}");
    assert_eq!(peak.reassembly, 0);
    assert!(
        rss.1 < rss.0 + 32 * 1024,
        "resident memory grew from {} to {} KiB",
        rss.0,
        rss.1
    );
    stats
}

#[test]
fn syn_flood_from_random_addresses() {
    let st = flood_test("sf", 72, Flags::SYN);
    assert!(st.syn_received >= 10_000, "{st:?}");
    assert!(st.syn_cookies_sent >= 5_000, "{st:?}");
    // The half-open table was full: the legitimate clients came in with cookies.
    assert!(st.syn_cookies_accepted >= 1, "{st:?}");
}

#[test]
fn ack_flood_with_random_numbers() {
    let st = flood_test("af", 73, Flags::ACK);
    assert_eq!(st.syn_cookies_accepted, 0, "{st:?}");
}

#[test]
fn rst_flood_with_random_numbers() {
    let st = flood_test("rf", 74, Flags::RST);
    assert_eq!(st.syn_cookies_accepted, 0, "{st:?}");
}
