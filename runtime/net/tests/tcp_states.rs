//! TCP state transitions, table-driven: two stacks on a 1 ms link, each row an action and the
//! states both ends must be in afterwards.

mod common;

use std::cell::{Cell, RefCell};
use std::net::SocketAddrV4;
use std::rc::Rc;
use std::vec::Vec;

use common::{LinkModel, Sim, ip};
use unik_net::tcp::{State, TcpError};
use unik_net::{Duration, Error, IcmpEvent, TcpConfig, TcpHandle, TcpListener};

#[derive(Debug, Clone, Copy)]
enum Side {
    A,
    B,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    ListenB,
    Connect,
    /// A (port 1000) and B (port 2000) connect to each other at the same instant.
    SimultaneousOpen,
    Accept,
    Shutdown(Side),
    Abort(Side),
    /// Drop every frame this side sends (true) or stop dropping (false).
    Blackhole(Side, bool),
    Advance(u64),
    /// The side's connection ended with this error.
    Failed(Side, TcpError),
}

use Op::*;
use Side::*;
use State::{
    CloseWait, Closed, Closing, Established, FinWait1, FinWait2, LastAck, SynReceived, SynSent,
    TimeWait,
};

/// `None`: no handle on that side (never opened, not yet accepted, or given up).
type Row = (Op, Option<State>, Option<State>);

struct World {
    sim: Sim,
    a: Option<TcpHandle>,
    b: Option<TcpHandle>,
    listener: Option<TcpListener>,
    blackhole: [Rc<Cell<bool>>; 2],
}

fn config() -> TcpConfig {
    TcpConfig {
        msl: Duration::from_secs(1),
        ..TcpConfig::default()
    }
}

impl World {
    fn new() -> World {
        let mut sim = Sim::pair(config(), LinkModel::default(), 11);
        let blackhole = [Rc::new(Cell::new(false)), Rc::new(Cell::new(false))];
        let holes = blackhole.clone();
        sim.filter = Some(Box::new(move |_, from, _| from < 2 && holes[from].get()));
        // Resolve ARP both ways first so that rows see only TCP timing.
        let got = Rc::new(RefCell::new(Vec::new()));
        let sink = got.clone();
        sim.nodes[0].set_icmp_hook(Some(Box::new(move |e: &IcmpEvent| {
            sink.borrow_mut().push(*e)
        })));
        sim.nodes[0].icmp_echo_request(ip(2), 1, 1, b"").unwrap();
        sim.run_until(Duration::from_secs(1), |_| !got.borrow().is_empty())
            .unwrap();
        sim.advance(Duration::from_secs(3));
        World {
            sim,
            a: None,
            b: None,
            listener: None,
            blackhole,
        }
    }

    fn handle(&self, side: Side) -> (usize, TcpHandle) {
        match side {
            A => (0, self.a.expect("A has no connection")),
            B => (1, self.b.expect("B has no connection")),
        }
    }

    fn apply(&mut self, op: Op) {
        let now = self.sim.now;
        match op {
            ListenB => self.listener = Some(self.sim.nodes[1].tcp_listen(80).unwrap()),
            Connect => {
                self.a = Some(
                    self.sim.nodes[0]
                        .tcp_connect(now, SocketAddrV4::new(ip(2), 80))
                        .unwrap(),
                )
            }
            SimultaneousOpen => {
                self.a = Some(
                    self.sim.nodes[0]
                        .tcp_connect_from(now, 1000, SocketAddrV4::new(ip(2), 2000))
                        .unwrap(),
                );
                self.b = Some(
                    self.sim.nodes[1]
                        .tcp_connect_from(now, 2000, SocketAddrV4::new(ip(1), 1000))
                        .unwrap(),
                );
            }
            Accept => {
                let l = self.listener.expect("not listening");
                self.b = Some(self.sim.nodes[1].tcp_accept(l).expect("nothing to accept"));
            }
            Shutdown(s) => {
                let (n, h) = self.handle(s);
                self.sim.nodes[n].tcp_shutdown(h).unwrap();
            }
            Abort(s) => {
                let (n, h) = self.handle(s);
                self.sim.nodes[n].tcp_abort(h).unwrap();
                match s {
                    A => self.a = None,
                    B => self.b = None,
                }
            }
            Blackhole(s, on) => self.blackhole[s as usize].set(on),
            Advance(ms) => self.sim.advance(Duration::from_millis(ms)),
            Failed(s, e) => {
                let (n, h) = self.handle(s);
                assert_eq!(
                    self.sim.nodes[n].tcp_connection(h).unwrap().error(),
                    Some(e)
                );
                let want = Error::from(e);
                assert_eq!(self.sim.nodes[n].tcp_recv(h, &mut [0u8; 8]), Err(want));
            }
        }
    }

    fn state(&self, side: Side) -> Option<State> {
        let (n, h) = match side {
            A => (0, self.a?),
            B => (1, self.b?),
        };
        match self.sim.nodes[n].tcp_state(h) {
            Ok(s) => Some(s),
            Err(Error::InvalidHandle) => None,
            Err(e) => panic!("{e:?}"),
        }
    }
}

const HANDSHAKE: [Row; 4] = [
    (ListenB, None, None),
    (Connect, Some(SynSent), None),
    (Advance(10), Some(Established), None),
    (Accept, Some(Established), Some(Established)),
];

fn with_handshake(rest: &[Row]) -> Vec<Row> {
    HANDSHAKE.iter().chain(rest).copied().collect()
}

fn run(name: &str, rows: &[Row]) {
    let mut w = World::new();
    for (i, &(op, a, b)) in rows.iter().enumerate() {
        w.apply(op);
        let got = (w.state(A), w.state(B));
        assert_eq!(got, (a, b), "{name}: row {i} ({op:?})");
    }
}

#[test]
fn state_transitions() {
    let cases: Vec<(&str, Vec<Row>)> = vec![
        ("three-way handshake", HANDSHAKE.to_vec()),
        (
            "active close, TIME-WAIT expiry after 2 MSL",
            with_handshake(&[
                (Shutdown(A), Some(FinWait1), Some(Established)),
                (Advance(1), Some(FinWait1), Some(CloseWait)),
                (Advance(1), Some(FinWait2), Some(CloseWait)),
                (Shutdown(B), Some(FinWait2), Some(LastAck)),
                (Advance(1), Some(TimeWait), Some(LastAck)),
                (Advance(1), Some(TimeWait), Some(Closed)),
                (Advance(1990), Some(TimeWait), Some(Closed)),
                (Advance(20), Some(Closed), Some(Closed)),
            ]),
        ),
        (
            "passive close from the accepting side",
            with_handshake(&[
                (Shutdown(B), Some(Established), Some(FinWait1)),
                (Advance(2), Some(CloseWait), Some(FinWait2)),
                (Shutdown(A), Some(LastAck), Some(FinWait2)),
                (Advance(2), Some(Closed), Some(TimeWait)),
            ]),
        ),
        (
            "simultaneous close through CLOSING",
            with_handshake(&[
                (Shutdown(A), Some(FinWait1), Some(Established)),
                (Shutdown(B), Some(FinWait1), Some(FinWait1)),
                (Advance(1), Some(Closing), Some(Closing)),
                (Advance(1), Some(TimeWait), Some(TimeWait)),
                (Advance(2100), Some(Closed), Some(Closed)),
            ]),
        ),
        (
            "simultaneous open through SYN-RECEIVED",
            vec![
                (SimultaneousOpen, Some(SynSent), Some(SynSent)),
                (Advance(1), Some(SynReceived), Some(SynReceived)),
                (Advance(1), Some(Established), Some(Established)),
                (Shutdown(A), Some(FinWait1), Some(Established)),
                (Advance(5), Some(FinWait2), Some(CloseWait)),
            ],
        ),
        (
            "connect to a closed port is refused by RST",
            vec![
                (Connect, Some(SynSent), None),
                (Advance(5), Some(Closed), None),
                (Failed(A, TcpError::Refused), Some(Closed), None),
            ],
        ),
        (
            "abort resets the peer",
            with_handshake(&[
                (Abort(A), None, Some(Established)),
                (Advance(2), None, Some(Closed)),
                (Failed(B, TcpError::Reset), None, Some(Closed)),
            ]),
        ),
        (
            "lost SYN is retransmitted after the initial RTO",
            vec![
                (ListenB, None, None),
                (Blackhole(A, true), None, None),
                (Connect, Some(SynSent), None),
                (Advance(500), Some(SynSent), None),
                (Blackhole(A, false), Some(SynSent), None),
                (Advance(600), Some(Established), None),
                (Accept, Some(Established), Some(Established)),
            ],
        ),
        (
            "lost SYN-ACK: the listener retransmits it",
            vec![
                (ListenB, None, None),
                (Blackhole(B, true), None, None),
                (Connect, Some(SynSent), None),
                (Advance(500), Some(SynSent), None),
                (Blackhole(B, false), Some(SynSent), None),
                (Advance(2500), Some(Established), None),
                (Accept, Some(Established), Some(Established)),
            ],
        ),
        (
            "lost last ACK: FIN retransmitted in LAST-ACK, TIME-WAIT re-ACKs and restarts",
            with_handshake(&[
                (Shutdown(A), Some(FinWait1), Some(Established)),
                (Advance(5), Some(FinWait2), Some(CloseWait)),
                (Blackhole(A, true), Some(FinWait2), Some(CloseWait)),
                (Shutdown(B), Some(FinWait2), Some(LastAck)),
                (Advance(5), Some(TimeWait), Some(LastAck)),
                (Blackhole(A, false), Some(TimeWait), Some(LastAck)),
                (Advance(1100), Some(TimeWait), Some(Closed)),
                // Entered ~5 ms after the FIN, restarted ~1 s later: 2 MSL from the restart.
                (Advance(1500), Some(TimeWait), Some(Closed)),
                (Advance(500), Some(Closed), Some(Closed)),
            ]),
        ),
        (
            "peer vanishes: retransmissions time out",
            with_handshake(&[
                (Blackhole(B, true), Some(Established), Some(Established)),
                (Shutdown(A), Some(FinWait1), Some(Established)),
                (Advance(600_000), Some(Closed), Some(CloseWait)),
                (Failed(A, TcpError::TimedOut), Some(Closed), Some(CloseWait)),
            ]),
        ),
    ];
    for (name, rows) in &cases {
        run(name, rows);
    }
}
