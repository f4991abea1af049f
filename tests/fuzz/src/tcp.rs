//! The TCP state machine driven by arbitrary segment sequences and application calls. The
//! subject is one `Connection`; the first byte picks where it starts (established after a
//! real handshake, SYN-RECEIVED, SYN-SENT, or completed by a SYN cookie) and its buffers.
//! Each following event is a segment from the peer (numbers relative to what the subject
//! last sent, so that many land in its windows), a clock step, or a call (send, recv, close,
//! abort). Checks: segments out are no larger than the MSS and emit cleanly, `recv` never
//! yields more bytes than the peer's segments carried, and the buffers stay in bounds.

use core::net::{Ipv4Addr, SocketAddrV4};

use unik_net::tcp::{Connection, Seq, TcpConfig};
use unik_net::wire::tcp::{Flags, TcpRepr};
use unik_net::{Duration, Instant};

use crate::Input;

const A: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000);
const B: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);

/// Drains what `c` sends now; remembers the last header.
fn out(c: &mut Connection, now: Instant, last: &mut Option<TcpRepr>) {
    let mss = c.mss();
    for _ in 0..1000 {
        let sent = c
            .dispatch::<()>(now, |r, a, b| {
                assert!(a.len() + b.len() <= mss.max(1), "segment beyond the MSS");
                let mut buf = vec![0u8; r.header_len()];
                assert_eq!(r.emit(&mut buf), buf.len());
                *last = Some(*r);
                Ok(())
            })
            .unwrap();
        if !sent {
            return;
        }
    }
    panic!("dispatch never stops");
}

fn syn(seq: u32, mss: u16, ws: Option<u8>) -> TcpRepr {
    TcpRepr {
        src_port: A.port(),
        dst_port: B.port(),
        seq,
        flags: Flags::SYN,
        window: 65535,
        mss: Some(mss),
        window_scale: ws,
        ..TcpRepr::default()
    }
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let setup = input.u8();
    let buffers = [64 * 1024, 1000, 4096, 1 << 20][usize::from(setup >> 2 & 3)];
    let cfg = TcpConfig {
        send_buffer: buffers,
        recv_buffer: buffers,
        ack_delay: if setup & 16 != 0 {
            None
        } else {
            Some(Duration::from_millis(40))
        },
        nagle: setup & 32 != 0,
        ..TcpConfig::default()
    };
    let mut now = Instant::from_secs(1);
    let mut last = None;
    let ws = (setup & 64 != 0).then_some(7);
    let mut c = match setup & 3 {
        0 => {
            // A real handshake first.
            let mut a = Connection::connect(now, cfg, A, B, Seq(1000), 1460);
            let mut a_last = None;
            out(&mut a, now, &mut a_last);
            let s = a_last.unwrap();
            let mut b = Connection::accept_syn(now, cfg, B, A, Seq(5000), 1460, &s);
            out(&mut b, now, &mut last);
            a.process(now, &last.unwrap(), &[]);
            out(&mut a, now, &mut a_last);
            b.process(now, &a_last.unwrap(), &[]);
            b
        }
        1 => Connection::accept_syn(now, cfg, B, A, Seq(5000), 1460, &syn(77, 1460, ws)),
        2 => Connection::connect(now, cfg, B, A, Seq(5000), 1460),
        _ => {
            let mut c = Connection::from_cookie(now, cfg, B, A, Seq(5000), Seq(77), 1460, 536, ws);
            let ack = TcpRepr {
                ack: 5001,
                flags: Flags::ACK,
                ..syn(78, 536, None)
            };
            c.process(now, &ack, &[]);
            c
        }
    };
    out(&mut c, now, &mut last);
    let mut delivered = 0usize;
    let mut read = 0usize;
    let payload = [0x5au8; 2048];
    let mut buf = vec![0u8; 4096];
    while !input.is_empty() {
        match input.u8() % 8 {
            0..=3 => {
                let flags = Flags(input.u16() & 0x1ff);
                let (base_seq, base_ack) = last.map_or((0, 0), |l| (l.ack, l.seq));
                let seq = base_seq.wrapping_add(i32::from(input.u16() as i16) as u32);
                let ack = base_ack.wrapping_add(i32::from(input.u16() as i16) as u32);
                let window = input.u16();
                let len = usize::from(input.u8()) * 8;
                let opts = input.u8();
                let seg = TcpRepr {
                    src_port: A.port(),
                    dst_port: B.port(),
                    seq,
                    ack,
                    flags,
                    window,
                    mss: (opts & 1 != 0).then_some(u16::from(opts) << 4),
                    window_scale: (opts & 2 != 0).then_some(opts >> 4),
                    ..TcpRepr::default()
                };
                let data = &payload[..len.min(payload.len())];
                let before = c.recv_available();
                if let Some(reply) = c.process(now, &seg, data) {
                    let mut b = vec![0u8; reply.header_len()];
                    reply.emit(&mut b);
                }
                delivered += data.len();
                assert!(c.recv_available() >= before || c.recv_available() == 0);
            }
            4 => {
                now = now + Duration::from_millis(u64::from(input.u16()));
                c.tick(now);
            }
            5 => {
                let n = usize::from(input.u16());
                let _ = c.send(&vec![1u8; n]);
            }
            6 => {
                if let Ok(n) = c.recv(&mut buf[..usize::from(input.u8()) * 16]) {
                    read += n;
                }
            }
            _ => match input.u8() % 4 {
                0 => c.close(),
                1 => c.abort(),
                _ => {
                    if let Some(at) = c.poll_at()
                        && at > now
                        && at < now + Duration::from_secs(3600)
                    {
                        now = at;
                        c.tick(now);
                    }
                }
            },
        }
        out(&mut c, now, &mut last);
        assert!(
            read + c.recv_available() <= delivered,
            "more data out than in"
        );
        assert!(c.recv_available() <= buffers);
        assert!(c.send_queued() <= buffers);
        assert!(c.out_of_order_bytes() <= buffers);
        assert!(c.buffer_allocated() <= 2 * buffers);
    }
}
