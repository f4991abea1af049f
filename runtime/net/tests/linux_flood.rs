//! The direct stack under floods of spoofed segments from the Linux side of a tap: SYN floods
//! (thousands from random addresses and ports), ACK floods and RST floods with random
//! sequence numbers. Throughout, legitimate connections from Linux complete (connect and one
//! echo round trip) within a second, again and again, and the stack's memory stays bounded.
//! A blind attack on a live connection (SYNs and RSTs with its own addresses and ports and
//! random sequence numbers) leaves it working, its challenge ACKs held to the limit.

mod linux;

use std::net::SocketAddrV4;
use std::time::Duration;

use std::io::{Read, Write};
use std::net::TcpStream;

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
    // The generic counters (`StackV4::stats`, what the examples print) agree with the
    // interface's: every legitimate connection and the warm-up one were accepted.
    let generic = s.stack.stats();
    assert_eq!(
        generic.tcp_accepted,
        results.len() as u64 + 1,
        "{generic:?}"
    );
    assert_eq!(generic.tcp_connected, 0, "{generic:?}");
    let wire = generic.wire.expect("the direct stack counts on the wire");
    assert_eq!(wire.syn_received, stats.syn_received);
    assert_eq!(wire.syn_cookies_sent, stats.syn_cookies_sent);
    assert_eq!(wire.syn_cookies_accepted, stats.syn_cookies_accepted);
    assert_eq!(wire.challenge_acks, stats.challenge_acks);
    assert_eq!(wire.tcp_buffer_bytes, stats.tcp_buffer_bytes);
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

#[test]
fn blind_syn_and_rst_floods_on_a_live_connection() {
    let _serial = serial();
    let lab = Lab::new("bl", 77);
    let s = lab.stack();
    let cfg = s.tcp.config();
    let dst = SocketAddrV4::new(lab.ours, PORT);
    // Linux holds one connection open through both floods, echoing before and after.
    let (to_client, from_test) = std::sync::mpsc::channel::<()>();
    let (to_test, from_client) = std::sync::mpsc::channel::<SocketAddrV4>();
    let client = lab.ns.thread(move || {
        let mut c = TcpStream::connect_timeout(&dst.into(), Duration::from_secs(5)).unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let std::net::SocketAddr::V4(me) = c.local_addr().unwrap() else {
            unreachable!()
        };
        let mut echo = |msg: &[u8]| {
            c.write_all(msg).unwrap();
            let mut back = vec![0u8; msg.len()];
            c.read_exact(&mut back).map(|()| back == msg)
        };
        assert_eq!(echo(b"before").ok(), Some(true));
        to_test.send(me).unwrap();
        from_test.recv().unwrap();
        echo(b"after the floods").map_err(|e| e.to_string())
    });
    let (after, sent) = run(120, async {
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
        let me = loop {
            if let Ok(me) = from_client.try_recv() {
                break me;
            }
            sleep_ms(5).await;
        };
        let mut sent = 0;
        for (i, flags) in [Flags::SYN, Flags::RST, Flags::RST | Flags::ACK]
            .into_iter()
            .enumerate()
        {
            let f = Flood::start_from(&lab.ns, Some(me), dst, flags, RATE, 31 + i as u64);
            sleep_ms(1500).await;
            sent += f.stop();
        }
        to_client.send(()).unwrap();
        (join(client).await, sent)
    });
    let st = s.eth.stats();
    eprintln!("blind floods: {sent} segments; {st:?}");
    assert_eq!(after, Ok(true), "the connection did not survive");
    assert!(sent >= 30_000, "only {sent} segments were sent");
    // Every SYN deserved a challenge ACK; the limit let through at most one batch per
    // interval (the floods last 4.5 s: at most two intervals).
    let limit = u64::from(cfg.challenge_ack_limit);
    assert!(st.challenge_acks >= 1, "{st:?}");
    assert!(st.challenge_acks <= 2 * limit, "{st:?}");
    assert!(st.challenge_acks_suppressed >= 10_000, "{st:?}");
}
