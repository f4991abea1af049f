//! TCP data transfer between two stacks: bulk transfer over clean and lossy links, loss
//! recovery, flow control, window probing, keepalive, RST rules.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::net::SocketAddrV4;
use std::rc::Rc;
use std::vec::Vec;

use common::{LinkModel, Sim, forge_tcp, ip, tcp_of};
use unik_net::tcp::{State, TcpError};
use unik_net::wire::tcp::{Flags, TcpRepr};
use unik_net::{Duration, Error, Instant, Interface, Keepalive, TcpConfig, TcpHandle};

const MIB: usize = 1 << 20;

fn pattern(len: usize, salt: u32) -> Vec<u8> {
    (0..len as u32)
        .map(|i| (i.wrapping_mul(2_654_435_761).wrapping_add(salt) >> 13) as u8)
        .collect()
}

/// Pushes as much of `data[*sent..]` as the send buffer takes.
fn push(iface: &mut Interface, h: TcpHandle, data: &[u8], sent: &mut usize) {
    while *sent < data.len() {
        match iface.tcp_send(h, &data[*sent..]) {
            Ok(n) => *sent += n,
            Err(Error::WouldBlock) => return,
            Err(e) => panic!("send: {e:?}"),
        }
    }
}

/// Reads everything available into `into`; true at end of stream.
fn pull(iface: &mut Interface, h: TcpHandle, into: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match iface.tcp_recv(h, &mut buf) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(Error::WouldBlock) => return false,
            Err(e) => panic!("recv: {e:?}"),
        }
    }
}

/// Connects node 0 to node 1 port 80 and returns (client, server) handles.
fn connect(sim: &mut Sim) -> (TcpHandle, TcpHandle) {
    let l = sim.nodes[1].tcp_listen(80).unwrap();
    let now = sim.now;
    let c = sim.nodes[0]
        .tcp_connect(now, SocketAddrV4::new(ip(2), 80))
        .unwrap();
    let mut s = None;
    sim.run_until(Duration::from_secs(30), |sim| {
        if s.is_none() {
            s = sim.nodes[1].tcp_accept(l).ok();
        }
        s.is_some() && sim.nodes[0].tcp_state(c) == Ok(State::Established)
    })
    .expect("handshake");
    (c, s.unwrap())
}

/// Sends `data` from node 0 and has node 1 echo it back; returns what node 0 got back.
fn echo(sim: &mut Sim, data: &[u8], timeout: Duration) -> Vec<u8> {
    // UNIK_NET_TRACE=1 prints every segment (and losses) for debugging.
    if std::env::var("UNIK_NET_TRACE").is_ok() {
        let mut inner = sim.filter.take();
        sim.filter = Some(Box::new(move |now: Instant, from, frame| {
            let drop = inner.as_mut().is_some_and(|f| f(now, from, frame));
            if let Some(t) = tcp_of(frame) {
                std::eprintln!(
                    "{:.3} {from} seq={} ack={} len={} win={} {:?}",
                    now.as_nanos() as f64 / 1e9,
                    t.repr.seq,
                    t.repr.ack,
                    t.payload_len,
                    t.repr.window,
                    t.repr.flags
                );
            }
            drop
        }));
    }
    let (c, s) = connect(sim);
    let (mut sent, mut back) = (0, Vec::new());
    let mut pending: Vec<u8> = Vec::new();
    let mut server_eof = false;
    let mut shut = [false, false];
    let r = sim.run_until(timeout, |sim| {
        push(&mut sim.nodes[0], c, data, &mut sent);
        if sent == data.len() && !shut[0] {
            sim.nodes[0].tcp_shutdown(c).unwrap();
            shut[0] = true;
        }
        if !server_eof {
            server_eof = pull(&mut sim.nodes[1], s, &mut pending);
        }
        if !pending.is_empty() {
            let mut n = 0;
            push(&mut sim.nodes[1], s, &pending, &mut n);
            pending.drain(..n);
        }
        if server_eof && pending.is_empty() && !shut[1] {
            sim.nodes[1].tcp_shutdown(s).unwrap();
            shut[1] = true;
        }
        pull(&mut sim.nodes[0], c, &mut back)
    });
    r.unwrap_or_else(|t| {
        panic!(
            "echo stalled at {t:?}: {} of {} back",
            back.len(),
            data.len()
        )
    });
    back
}

fn stats(sim: &Sim, node: usize, h: TcpHandle) -> unik_net::tcp::Stats {
    sim.nodes[node].tcp_connection(h).unwrap().stats()
}

#[test]
fn megabyte_over_clean_link() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 21);
    let data = pattern(MIB, 1);
    let (c, s) = connect(&mut sim);
    let (mut sent, mut got) = (0, Vec::new());
    sim.run_until(Duration::from_secs(60), |sim| {
        push(&mut sim.nodes[0], c, &data, &mut sent);
        pull(&mut sim.nodes[1], s, &mut got);
        got.len() == data.len()
    })
    .expect("transfer");
    assert!(got == data);
    let st = stats(&sim, 0, c);
    assert_eq!((st.timeouts, st.fast_retransmits), (0, 0));
    assert_eq!(sim.frames_lost, 0);
}

/// Seeds for the randomized link tests; `UNIK_NET_SEEDS=n` runs n of them (stress mode).
fn seeds() -> Vec<u64> {
    let n = std::env::var("UNIK_NET_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    (1..=n).collect()
}

#[test]
fn megabyte_echo_over_lossy_reordering_link() {
    for seed in seeds() {
        let model = LinkModel {
            delay: Duration::from_millis(5),
            jitter: Duration::from_millis(4),
            loss_permille: 20,
            duplicate_permille: 10,
        };
        let mut sim = Sim::pair(TcpConfig::default(), model, seed);
        let data = pattern(MIB, seed as u32);
        let back = echo(&mut sim, &data, Duration::from_secs(900));
        assert!(back == data, "seed {seed}: echo differs");
        assert!(
            sim.frames_lost > 20,
            "seed {seed}: only {} frames lost",
            sim.frames_lost
        );
    }
}

#[test]
fn megabyte_with_small_buffers_and_heavy_loss() {
    let cfg = TcpConfig {
        send_buffer: 8 * 1024,
        recv_buffer: 6 * 1024,
        min_rto: Duration::from_millis(200),
        ..TcpConfig::default()
    };
    let model = LinkModel {
        delay: Duration::from_millis(2),
        jitter: Duration::from_millis(3),
        loss_permille: 80,
        duplicate_permille: 30,
    };
    for seed in seeds() {
        let mut sim = Sim::pair(cfg, model, seed + 99);
        let data = pattern(MIB, 7);
        let back = echo(&mut sim, &data, Duration::from_secs(3600));
        assert!(back == data, "seed {seed}");
    }
}

/// Drops the listed data segments (numbered from 0 in order of first transmission) from
/// node 0, once each.
fn drop_segments(sim: &mut Sim, which: &[usize]) -> Rc<RefCell<Vec<u32>>> {
    let which: BTreeSet<usize> = which.iter().copied().collect();
    let seen = Rc::new(RefCell::new(Vec::<u32>::new()));
    let dropped = Rc::new(RefCell::new(Vec::new()));
    let (seen2, dropped2) = (seen.clone(), dropped.clone());
    sim.filter = Some(Box::new(move |_, from, frame| {
        let Some(t) = tcp_of(frame) else { return false };
        if from != 0 || t.payload_len == 0 {
            return false;
        }
        let mut seen = seen2.borrow_mut();
        if seen.contains(&t.repr.seq) {
            return false;
        }
        seen.push(t.repr.seq);
        if which.contains(&(seen.len() - 1)) {
            dropped2.borrow_mut().push(t.repr.seq);
            return true;
        }
        false
    }));
    dropped
}

fn transfer(sim: &mut Sim, c: TcpHandle, s: TcpHandle, data: &[u8]) {
    let (mut sent, mut got) = (0, Vec::new());
    sim.run_until(Duration::from_secs(60), |sim| {
        push(&mut sim.nodes[0], c, data, &mut sent);
        pull(&mut sim.nodes[1], s, &mut got);
        got.len() == data.len()
    })
    .expect("transfer");
    assert!(got == data);
}

#[test]
fn single_loss_is_repaired_by_fast_retransmit() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 5);
    let (c, s) = connect(&mut sim);
    let dropped = drop_segments(&mut sim, &[20]);
    transfer(&mut sim, c, s, &pattern(200_000, 3));
    assert_eq!(dropped.borrow().len(), 1);
    let st = stats(&sim, 0, c);
    std::eprintln!(
        "{st:?} {:?}",
        sim.nodes[0].tcp_connection(c).unwrap().congestion()
    );
    assert_eq!(st.fast_retransmits, 1);
    assert_eq!(st.timeouts, 0);
    assert!(st.dup_acks >= 3);
}

#[test]
fn newreno_repairs_several_losses_in_one_window_without_timeout() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 6);
    let (c, s) = connect(&mut sim);
    let dropped = drop_segments(&mut sim, &[30, 33, 36]);
    transfer(&mut sim, c, s, &pattern(300_000, 4));
    assert_eq!(dropped.borrow().len(), 3);
    let st = stats(&sim, 0, c);
    // One recovery episode; partial ACKs retransmit the other holes.
    assert_eq!(st.fast_retransmits, 1);
    assert_eq!(st.timeouts, 0);
}

#[test]
fn tail_loss_is_repaired_by_timeout_with_backoff() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 7);
    let (c, s) = connect(&mut sim);
    // Lose the only segment, then its first retransmission.
    let times = Rc::new(RefCell::new(Vec::new()));
    let log = times.clone();
    sim.filter = Some(Box::new(move |now: Instant, from, frame| {
        let Some(t) = tcp_of(frame) else { return false };
        if from == 0 && t.payload_len > 0 {
            log.borrow_mut().push(now);
            return log.borrow().len() <= 2;
        }
        false
    }));
    transfer(&mut sim, c, s, b"lonely segment");
    let t = times.borrow();
    assert_eq!(t.len(), 3);
    let first = t[1] - t[0];
    let second = t[2] - t[1];
    // RFC 6298: the timer doubles after each expiry.
    assert!(first >= Duration::from_secs(1), "{first:?}");
    assert_eq!(second, first * 2);
    assert_eq!(stats(&sim, 0, c).timeouts, 2);
}

#[test]
fn send_buffer_pushes_back_and_zero_window_is_probed() {
    let cfg = TcpConfig {
        send_buffer: 16 * 1024,
        recv_buffer: 32 * 1024,
        ..TcpConfig::default()
    };
    let mut sim = Sim::pair(cfg, LinkModel::default(), 8);
    let (c, s) = connect(&mut sim);
    let data = pattern(200_000, 5);
    let mut sent = 0;
    // The receiver does not read: its window closes, then our send buffer fills.
    sim.run_until(Duration::from_secs(30), |sim| {
        push(&mut sim.nodes[0], c, &data, &mut sent);
        false
    })
    .unwrap_err();
    assert_eq!(sent, 32 * 1024 + 16 * 1024);
    assert_eq!(sim.nodes[0].tcp_send(c, b"more"), Err(Error::WouldBlock));
    let conn = sim.nodes[0].tcp_connection(c).unwrap();
    assert_eq!(conn.send_window(), 0);
    assert_eq!(conn.send_capacity(), 0);
    let probes = conn.stats().window_probes;
    assert!(probes >= 3, "{probes} probes in 30 s");
    assert_eq!(
        sim.nodes[1].tcp_connection(s).unwrap().recv_available(),
        32 * 1024
    );

    // Read, but lose the window update: only a probe can reopen the window.
    let lose_next = Rc::new(Cell::new(true));
    let flag = lose_next.clone();
    sim.filter = Some(Box::new(move |_, from, frame| {
        from == 1 && tcp_of(frame).is_some() && flag.replace(false)
    }));
    let mut got = Vec::new();
    pull(&mut sim.nodes[1], s, &mut got);
    sim.run_until(Duration::from_secs(120), |sim| {
        push(&mut sim.nodes[0], c, &data, &mut sent);
        pull(&mut sim.nodes[1], s, &mut got);
        got.len() == data.len()
    })
    .expect("window reopened");
    assert!(!lose_next.get());
    assert!(got == data);
    assert!(stats(&sim, 0, c).window_probes > probes);
    assert_eq!(stats(&sim, 0, c).timeouts, 0);
}

#[test]
fn keepalive_drops_a_dead_peer_and_spares_a_live_one() {
    let cfg = TcpConfig {
        keepalive: Some(Keepalive {
            idle: Duration::from_secs(10),
            interval: Duration::from_secs(2),
            probes: 3,
        }),
        ..TcpConfig::default()
    };
    let mut sim = Sim::pair(cfg, LinkModel::default(), 9);
    let (c, s) = connect(&mut sim);
    // Alive: a minute of idleness is fine, each probe answered.
    sim.advance(Duration::from_secs(60));
    assert_eq!(sim.nodes[0].tcp_state(c), Ok(State::Established));
    let alive = stats(&sim, 0, c).keepalive_probes;
    assert!(alive >= 5, "{alive} probes");

    // Dead: the peer stops answering.
    sim.filter = Some(Box::new(|_, from, _| from == 1));
    let start = sim.now;
    let end = sim
        .run_until(Duration::from_secs(60), |sim| {
            sim.nodes[0].tcp_state(c) == Ok(State::Closed)
        })
        .expect("dropped");
    assert_eq!(
        sim.nodes[0].tcp_connection(c).unwrap().error(),
        Some(TcpError::TimedOut)
    );
    assert_eq!(stats(&sim, 0, c).keepalive_probes, alive + 3);
    // The next probe was due within the 10 s idle time; then 3 unanswered probes 2 s apart.
    let took = end - start;
    assert!(
        took >= Duration::from_secs(6) && took <= Duration::from_secs(16),
        "{took:?}"
    );
    let _ = s;
}

#[test]
fn window_scaling_and_mss_are_negotiated() {
    let cfg = TcpConfig {
        recv_buffer: 256 * 1024,
        send_buffer: 256 * 1024,
        ..TcpConfig::default()
    };
    let a = Interface::new(common::static_config(1, 1500, cfg));
    let b = Interface::new(common::static_config(2, 1000, cfg));
    let mut sim = Sim::new(vec![a, b], LinkModel::default(), 10);
    let (c, s) = connect(&mut sim);
    let ca = sim.nodes[0].tcp_connection(c).unwrap();
    let cb = sim.nodes[1].tcp_connection(s).unwrap();
    // 256 KiB needs a shift of 3 to fit 16 bits.
    assert_eq!(ca.window_scales(), (3, 3));
    assert_eq!(cb.window_scales(), (3, 3));
    // B's MTU is 1000: both sides send at most 960-byte segments.
    assert_eq!(ca.mss(), 960);
    assert_eq!(cb.mss(), 960);
    // Windows in SYNs are never scaled.
    assert_eq!(ca.send_window(), 65535);
    let data = pattern(500_000, 6);
    let largest = Rc::new(Cell::new(0usize));
    let l = largest.clone();
    sim.filter = Some(Box::new(move |_, _, f| {
        if let Some(t) = tcp_of(f) {
            l.set(l.get().max(t.payload_len));
        }
        false
    }));
    transfer(&mut sim, c, s, &data);
    assert_eq!(largest.get(), 960);
    // Once B has read everything A sees its full 256 KiB window, beyond 16 bits.
    sim.advance(Duration::from_secs(1));
    assert_eq!(
        sim.nodes[0].tcp_connection(c).unwrap().send_window(),
        256 * 1024
    );
}

#[test]
fn listener_backlog_is_bounded() {
    // Without cookies a third SYN evicts the oldest half-open connection; that client's
    // retransmitted SYN then meets a full accept queue and waits.
    let cfg = TcpConfig {
        backlog: 2,
        syn_cookies: false,
        ..TcpConfig::default()
    };
    let mut sim = Sim::pair(cfg, LinkModel::default(), 12);
    let l = sim.nodes[1].tcp_listen(80).unwrap();
    let now = sim.now;
    let clients: Vec<TcpHandle> = (0..3)
        .map(|_| {
            sim.nodes[0]
                .tcp_connect(now, SocketAddrV4::new(ip(2), 80))
                .unwrap()
        })
        .collect();
    sim.advance(Duration::from_millis(500));
    let states: Vec<State> = clients
        .iter()
        .map(|h| sim.nodes[0].tcp_state(*h).unwrap())
        .collect();
    assert_eq!(
        states.iter().filter(|s| **s == State::Established).count(),
        2
    );
    assert_eq!(states.iter().filter(|s| **s == State::SynSent).count(), 1);
    assert_eq!(sim.nodes[1].stats().half_open_evicted, 1);
    assert_eq!(sim.nodes[1].stats().syn_cookies_sent, 0);
    let first = sim.nodes[1].tcp_accept(l).unwrap();
    let _second = sim.nodes[1].tcp_accept(l).unwrap();
    assert_eq!(sim.nodes[1].tcp_accept(l), Err(Error::WouldBlock));
    // Room again: the third SYN's retransmission is accepted.
    sim.run_until(Duration::from_secs(5), |sim| {
        sim.nodes[1].tcp_accept(l).is_ok()
    })
    .expect("third connection");
    sim.nodes[1].tcp_close(first).unwrap();
    assert_eq!(sim.nodes[1].tcp_state(first), Err(Error::InvalidHandle));
}

#[test]
fn delayed_ack_waits_for_a_second_segment_or_the_timer() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 13);
    let (c, s) = connect(&mut sim);
    sim.advance(Duration::from_secs(1));
    let acks = Rc::new(RefCell::new(Vec::new()));
    let log = acks.clone();
    sim.filter = Some(Box::new(move |now: Instant, from, f| {
        if let Some(t) = tcp_of(f)
            && from == 1
            && t.payload_len == 0
        {
            log.borrow_mut().push(now);
        }
        false
    }));
    let t0 = sim.now;
    sim.nodes[0].tcp_send(c, b"one small segment").unwrap();
    sim.advance(Duration::from_millis(100));
    // Delivered at +1 ms, acknowledged 40 ms later.
    assert_eq!(acks.borrow().clone(), [t0 + Duration::from_millis(41)]);
    acks.borrow_mut().clear();
    let t1 = sim.now;
    let two = pattern(2 * 1460, 1);
    sim.nodes[0].tcp_send(c, &two).unwrap();
    sim.advance(Duration::from_millis(100));
    assert_eq!(acks.borrow().clone(), [t1 + Duration::from_millis(1)]);
    let mut got = Vec::new();
    pull(&mut sim.nodes[1], s, &mut got);
    assert_eq!(got.len(), 17 + 2 * 1460);
}

#[test]
fn rst_and_syn_rules() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 14);
    let (c, s) = connect(&mut sim);
    // Find the 4-tuple and the sequence numbers A uses now.
    let last = Rc::new(RefCell::new(None::<TcpRepr>));
    let log = last.clone();
    let from_b = Rc::new(RefCell::new(Vec::<TcpRepr>::new()));
    let log_b = from_b.clone();
    sim.filter = Some(Box::new(move |_, from, f| {
        if let Some(t) = tcp_of(f) {
            if from == 0 {
                *log.borrow_mut() = Some(t.repr);
            } else {
                log_b.borrow_mut().push(t.repr);
            }
        }
        false
    }));
    sim.nodes[0].tcp_send(c, b"x").unwrap();
    sim.advance(Duration::from_millis(200));
    let a = last.borrow().unwrap();
    // A's next sequence number is what B expects.
    let next_seq = a.seq.wrapping_add(1);
    let mut rst = TcpRepr {
        src_port: a.src_port,
        dst_port: a.dst_port,
        flags: Flags::RST,
        ..TcpRepr::default()
    };

    // Out of window: ignored silently.
    from_b.borrow_mut().clear();
    rst.seq = next_seq.wrapping_add(10_000_000);
    let now = sim.now;
    sim.nodes[1].receive(now, &forge_tcp(1, 2, &rst, b""));
    sim.advance(Duration::from_millis(100));
    assert_eq!(sim.nodes[1].tcp_state(s), Ok(State::Established));
    assert!(from_b.borrow().is_empty());

    // In window but not exact: challenge ACK (RFC 5961), connection kept.
    rst.seq = next_seq.wrapping_add(100);
    let now = sim.now;
    sim.nodes[1].receive(now, &forge_tcp(1, 2, &rst, b""));
    sim.advance(Duration::from_millis(100));
    assert_eq!(sim.nodes[1].tcp_state(s), Ok(State::Established));
    let challenge = from_b.borrow().clone();
    assert_eq!(challenge.len(), 1);
    assert!(challenge[0].flags.ack() && !challenge[0].flags.rst());
    assert_eq!(challenge[0].ack, next_seq);

    // A SYN on an established connection: challenge ACK too.
    from_b.borrow_mut().clear();
    let syn = TcpRepr {
        flags: Flags::SYN,
        seq: next_seq.wrapping_add(5),
        ..rst
    };
    let now = sim.now;
    sim.nodes[1].receive(now, &forge_tcp(1, 2, &syn, b""));
    sim.advance(Duration::from_millis(100));
    assert_eq!(sim.nodes[1].tcp_state(s), Ok(State::Established));
    assert_eq!(from_b.borrow().len(), 1);

    // Exact: reset. Data received before the reset can still be read, then the error.
    rst.seq = next_seq;
    let now = sim.now;
    sim.nodes[1].receive(now, &forge_tcp(1, 2, &rst, b""));
    assert_eq!(sim.nodes[1].tcp_state(s), Ok(State::Closed));
    let mut buf = [0u8; 4];
    assert_eq!(sim.nodes[1].tcp_recv(s, &mut buf), Ok(1));
    assert_eq!(sim.nodes[1].tcp_recv(s, &mut buf), Err(Error::Reset));

    // Segments for the now-closed connection are answered with RST (seq = their ACK).
    from_b.borrow_mut().clear();
    sim.nodes[0].tcp_send(c, b"y").unwrap();
    sim.advance(Duration::from_millis(200));
    let resets: Vec<_> = from_b
        .borrow()
        .iter()
        .filter(|r| r.flags.rst())
        .copied()
        .collect();
    assert!(!resets.is_empty());
    assert_eq!(sim.nodes[0].tcp_state(c), Ok(State::Closed));
    assert_eq!(
        sim.nodes[0].tcp_connection(c).unwrap().error(),
        Some(TcpError::Reset)
    );
}

#[test]
fn closing_with_unread_data_resets_the_peer() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 15);
    let (c, s) = connect(&mut sim);
    sim.nodes[0].tcp_send(c, b"never read").unwrap();
    sim.advance(Duration::from_millis(100));
    assert_eq!(sim.nodes[1].tcp_connection(s).unwrap().recv_available(), 10);
    sim.nodes[1].tcp_close(s).unwrap();
    assert_eq!(sim.nodes[1].tcp_state(s), Err(Error::InvalidHandle));
    sim.advance(Duration::from_millis(100));
    assert_eq!(sim.nodes[0].tcp_state(c), Ok(State::Closed));
    assert_eq!(sim.nodes[0].tcp_recv(c, &mut [0u8; 4]), Err(Error::Reset));
}

#[test]
fn graceful_close_of_released_handles_finishes_in_background() {
    let cfg = TcpConfig {
        msl: Duration::from_secs(1),
        ..TcpConfig::default()
    };
    let mut sim = Sim::pair(cfg, LinkModel::default(), 16);
    let (c, s) = connect(&mut sim);
    let data = pattern(100_000, 9);
    let mut sent = 0;
    push(&mut sim.nodes[0], c, &data, &mut sent);
    // Close right away: queued data still goes out before the FIN.
    sim.nodes[0].tcp_close(c).unwrap();
    let mut got = Vec::new();
    sim.run_until(Duration::from_secs(10), |sim| {
        pull(&mut sim.nodes[1], s, &mut got)
    })
    .expect("EOF");
    assert_eq!(got.len(), sent);
    assert!(got[..] == data[..sent]);
    sim.nodes[1].tcp_close(s).unwrap();
    sim.advance(Duration::from_secs(5));
    // Both sides fully gone: nothing left to time.
    assert_eq!(sim.nodes[0].poll_at(), None);
    assert_eq!(sim.nodes[1].poll_at(), None);
}

/// A segment from a device's receive offload: larger than the MTU, its checksum partial. The
/// plain path drops it (bad checksum); the offloaded path takes it whole and acknowledges it at
/// once, as the full-sized segments it stands for would have been.
#[test]
fn offloaded_segments_are_taken_whole_and_acknowledged_at_once() {
    let mut sim = Sim::pair(TcpConfig::default(), LinkModel::default(), 15);
    let (c, s) = connect(&mut sim);
    let seen = Rc::new(RefCell::new(Vec::<(Instant, usize, TcpRepr)>::new()));
    let log = seen.clone();
    sim.filter = Some(Box::new(move |now: Instant, from, f| {
        if let Some(t) = tcp_of(f) {
            log.borrow_mut().push((now, from, t.repr));
        }
        false
    }));
    sim.nodes[0].tcp_send(c, b"x").unwrap();
    sim.advance(Duration::from_millis(200));
    let last = |from: usize| {
        seen.borrow()
            .iter()
            .rev()
            .find(|(_, f, _)| *f == from)
            .map(|(_, _, r)| *r)
            .unwrap()
    };
    let (a, b) = (last(0), last(1));
    let mut got = Vec::new();
    pull(&mut sim.nodes[1], s, &mut got);
    assert_eq!(got, b"x");

    let data = pattern(8 * 1460, 3);
    let seg = TcpRepr {
        src_port: a.src_port,
        dst_port: a.dst_port,
        seq: a.seq.wrapping_add(1),
        ack: b.seq,
        flags: Flags::ACK | Flags::PSH,
        window: a.window,
        ..TcpRepr::default()
    };
    let mut frame = forge_tcp(1, 2, &seg, &data);
    assert!(frame.len() > 1514);
    // What a local sender leaves to offload: not the complete checksum.
    frame[14 + 20 + 16] ^= 0x5a;

    let dropped = sim.nodes[1].stats().rx_dropped;
    let now = sim.now;
    sim.nodes[1].receive(now, &frame);
    assert_eq!(sim.nodes[1].stats().rx_dropped, dropped + 1);
    pull(&mut sim.nodes[1], s, &mut got);
    assert_eq!(got.len(), 1);

    seen.borrow_mut().clear();
    let t0 = sim.now;
    sim.nodes[1].receive_offloaded(t0, &frame);
    sim.advance(Duration::from_millis(100));
    pull(&mut sim.nodes[1], s, &mut got);
    assert_eq!(&got[1..], &data[..]);
    let ack = seen
        .borrow()
        .iter()
        .find(|(_, from, r)| *from == 1 && r.ack == seg.seq.wrapping_add(data.len() as u32))
        .map(|(at, _, _)| *at)
        .expect("an acknowledgement of the whole segment");
    // Not held back by the delayed-ACK timer (40 ms).
    assert!(
        ack < t0 + Duration::from_millis(5),
        "acknowledged at {ack:?}, t0 {t0:?}"
    );
}
