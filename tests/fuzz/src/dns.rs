//! The DNS client's parser and resolver machine: the input is parsed as a response, and fed
//! as the reply to a lookup (A over UDP, then, if it asks, over TCP), which must end, never
//! panic, and only ever ask for a TCP retry of a truncated answer.

use unik_dns::lookup::{Config, Lookup, Step, Via};
use unik_dns::wire::{self, Name, Qtype};

pub fn run(data: &[u8]) {
    let _ = wire::parse(data);
    let servers = unik_dns::servers::parse("10.0.0.1").expect("a valid server");
    let mut l = Lookup::new(
        Name::parse("a.example").expect("a valid name"),
        Qtype::A,
        servers,
        Config::default(),
    );
    // The fuzzer's bytes carry the id of the query they answer.
    let id = data
        .get(..2)
        .map_or(0, |b| u16::from_be_bytes([b[0], b[1]]));
    let Step::Send(first) = l.start(0, id) else {
        panic!("a lookup starts by sending");
    };
    assert_eq!(first.via, Via::Udp);
    match l.on_reply(data, 1, id) {
        Some(Step::Send(again)) if again.via == Via::Tcp => {
            let r = wire::parse(data).expect("a TCP retry answers a parsed response");
            assert!(
                r.truncated,
                "only a truncated answer is asked again over TCP"
            );
            let _ = l.on_reply(data, 2, id);
        }
        _ => {}
    }
}

/// Answers as servers send them: plain, CNAME chains, truncated, NXDOMAIN, compressed.
pub fn seeds() -> Vec<Vec<u8>> {
    use std::net::{Ipv4Addr, Ipv6Addr};
    use wire::{Rdata, build};
    let n = |s: &str| Name::parse(s).unwrap();
    let q = wire::query(0x0102, &n("a.example"), Qtype::A);
    let a = Rdata::A(Ipv4Addr::new(192, 0, 2, 1));
    let mut compressed = vec![1, 2, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0];
    compressed.extend_from_slice(&[1, b'a', 7]);
    compressed.extend_from_slice(b"example");
    compressed.extend_from_slice(&[
        0, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1,
    ]);
    vec![
        build::response(&q, 0, false, &[(n("a.example"), 60, a.clone())]),
        build::response(
            &q,
            0,
            false,
            &[
                (n("a.example"), 60, Rdata::Cname(n("b.example"))),
                (n("b.example"), 60, a),
                (n("b.example"), 60, Rdata::Aaaa(Ipv6Addr::LOCALHOST)),
            ],
        ),
        build::response(&q, 0, true, &[]),
        build::response(&q, 3, false, &[]),
        compressed,
    ]
}
