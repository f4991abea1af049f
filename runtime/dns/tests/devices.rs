//! The devices over the unix socket stack against small name servers in threads: a SERVFAIL
//! moves to the next server, an answer from another port is ignored, happy eyeballs
//! resolves AAAA and A and connects over IPv4 when the stack has no IPv6, and fails clearly
//! when nothing listens; over the dual stack, an IPv6 name server answers and happy eyeballs
//! connects over IPv6 when both families listen.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::thread;

use unik_dns::devices::client::Client;
use unik_dns::devices::eyeballs::{ConnectError, Eyeballs, HappyEyeballs};
use unik_dns::devices::{DnsClient, Stream};
use unik_dns::wire::{self, Name, Rdata, build};

type Stack = unik_unix::stack::SocketStack;

fn client(servers: &str) -> Client<unik_dns::devices::StackV4<Stack>, unik_unix::random::Random> {
    let stack = unik_rt::leak(unik_unix::stack::connect(Ipv4Addr::UNSPECIFIED).unwrap());
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let transport = unik_dns::devices::StackV4(stack);
    let he = unik_rt::leak(Eyeballs::new(transport, Default::default()));
    let servers = unik_dns::servers::parse(servers).unwrap();
    Client::new(transport, he, random, servers, Default::default(), 16)
}

/// A UDP server answering `count` queries with `answer(query)` (rcode, records); if
/// `spoof`, each real answer is preceded by a forged one from another port.
fn server(
    count: usize,
    spoof: bool,
    answer: impl Fn(&wire::Response) -> (u8, Vec<(Name, u32, Rdata)>) + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<()>) {
    server_on("127.0.0.1:0", count, spoof, answer)
}

fn server_on(
    at: &str,
    count: usize,
    spoof: bool,
    answer: impl Fn(&wire::Response) -> (u8, Vec<(Name, u32, Rdata)>) + Send + 'static,
) -> (SocketAddr, thread::JoinHandle<()>) {
    let sock = UdpSocket::bind(at).unwrap();
    let addr = sock.local_addr().unwrap();
    let h = thread::spawn(move || {
        let mut any = addr;
        any.set_port(0);
        let forger = UdpSocket::bind(any).unwrap();
        let mut buf = [0u8; 512];
        for _ in 0..count {
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            let q = &buf[..n];
            // Parse the query as a response would be: flip QR to reuse the parser.
            let mut as_resp = q.to_vec();
            as_resp[2] |= 0x80;
            let parsed = wire::parse(&as_resp).unwrap();
            if spoof {
                let (qn, _, _) = parsed.question.clone().unwrap();
                let forged = build::response(
                    q,
                    0,
                    false,
                    &[(qn, 60, Rdata::A(Ipv4Addr::new(6, 6, 6, 6)))],
                );
                forger.send_to(&forged, from).unwrap();
            }
            let (rcode, recs) = answer(&parsed);
            sock.send_to(&build::response(q, rcode, false, &recs), from)
                .unwrap();
        }
    });
    (addr, h)
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    let platform = unik_unix::UnixPlatform::new();
    unik_rt::block_on(&platform, f).unwrap()
}

#[test]
fn servfail_moves_on_and_forged_answers_are_ignored() {
    let (bad, hb) = server(1, false, |_| (2, Vec::new()));
    let (good, hg) = server(1, true, |q| {
        let (n, _, _) = q.question.clone().unwrap();
        (0, vec![(n, 60, Rdata::A(Ipv4Addr::new(192, 0, 2, 9)))])
    });
    let c = client(&format!("udp:{bad},udp:{good}"));
    let addrs = run(c.gethostbyname("x.test")).unwrap();
    assert_eq!(addrs, [Ipv4Addr::new(192, 0, 2, 9)]);
    let s = c.stats();
    assert_eq!((s.udp_queries, s.cache_misses), (2, 1), "{s}");
    hb.join().unwrap();
    hg.join().unwrap();
    // The second lookup is the cache's.
    assert_eq!(run(c.gethostbyname("X.Test.")).unwrap(), addrs);
    assert_eq!(c.stats().cache_hits, 1);
}

#[test]
fn happy_eyeballs_connects_over_ipv4_when_the_stack_has_no_ipv6() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accept = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut s, &mut got).unwrap();
        got
    });
    let (dns, h) = server(2, false, |q| {
        let (n, t, _) = q.question.clone().unwrap();
        let rec = if t == 28 {
            Rdata::Aaaa(Ipv6Addr::LOCALHOST)
        } else {
            Rdata::A(Ipv4Addr::LOCALHOST)
        };
        (0, vec![(n, 60, rec)])
    });
    let c = client(&format!("udp:{dns}"));
    let he = Eyeballs::new(
        unik_dns::devices::StackV4(unik_rt::leak(
            unik_unix::stack::connect(Ipv4Addr::UNSPECIFIED).unwrap(),
        )),
        Default::default(),
    );
    let peer = run(async {
        let (addr, flow) = he.connect_host(&c, "svc.test", port).await.unwrap();
        flow.write(b"hello").await.unwrap();
        flow.close().await.unwrap();
        addr
    });
    assert_eq!(peer, SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    assert_eq!(accept.join().unwrap(), b"hello");
    h.join().unwrap();
}

#[test]
fn happy_eyeballs_reports_every_failure() {
    // A port nothing listens on: bind, note it, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let he = Eyeballs::new(
        unik_dns::devices::StackV4(unik_rt::leak(
            unik_unix::stack::connect(Ipv4Addr::UNSPECIFIED).unwrap(),
        )),
        Default::default(),
    );
    let addrs = [Ipv6Addr::LOCALHOST.into(), Ipv4Addr::LOCALHOST.into()];
    let e = run(he.connect_ip(&addrs, port))
        .map(|(a, _)| a)
        .unwrap_err();
    assert_eq!(e.to_string(), "all 2 connection attempt(s) failed");
    let (dns, h) = server(2, false, |_| (3, Vec::new()));
    let c2 = client(&format!("udp:{dns}"));
    let e = run(he.connect_host(&c2, "nope.test", port))
        .map(|(a, _)| a)
        .unwrap_err();
    assert!(matches!(e, ConnectError::Resolve { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "nope.test: no address; AAAA: no such domain (NXDOMAIN); A: no such domain (NXDOMAIN)"
    );
    h.join().unwrap();
}

/// Answers AAAA with ::1 and A with 127.0.0.1.
fn localhost(q: &wire::Response) -> (u8, Vec<(Name, u32, Rdata)>) {
    let (n, t, _) = q.question.clone().unwrap();
    let rec = if t == 28 {
        Rdata::Aaaa(Ipv6Addr::LOCALHOST)
    } else {
        Rdata::A(Ipv4Addr::LOCALHOST)
    };
    (0, vec![(n, 60, rec)])
}

#[test]
fn over_the_dual_stack_an_ipv6_server_answers_and_ipv6_wins() {
    // One port, both families, a listener for each: the IPv6 one must get the connection.
    let v6 = TcpListener::bind("[::1]:0").unwrap();
    let port = v6.local_addr().unwrap().port();
    let v4 = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let accept = thread::spawn(move || {
        let (mut s, peer) = v6.accept().unwrap();
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut s, &mut got).unwrap();
        (peer, got)
    });
    let (dns, h) = server_on("[::1]:0", 2, false, localhost);
    let stack = unik_rt::leak(unik_unix::stackv4v6::connect().unwrap());
    let he = unik_rt::leak(unik_dns::devices::eyeballs::connect(stack).unwrap());
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let c = unik_dns::devices::client::connect(stack, he, random, &format!("udp:{dns}")).unwrap();
    let peer = run(async {
        let (addr, flow) = he.connect_host(&c, "svc.test", port).await.unwrap();
        flow.write(b"hello").await.unwrap();
        flow.close().await.unwrap();
        addr
    });
    assert_eq!(peer, SocketAddr::from((Ipv6Addr::LOCALHOST, port)));
    let (from, got) = accept.join().unwrap();
    assert!(from.is_ipv6(), "{from}");
    assert_eq!(got, b"hello");
    h.join().unwrap();
    assert_eq!(c.stats().udp_queries, 2, "{}", c.stats());
    drop(v4);
}

#[test]
fn over_the_dual_stack_ipv4_servers_answer_too() {
    let (dns, h) = server(1, false, localhost);
    let stack = unik_rt::leak(unik_unix::stackv4v6::connect().unwrap());
    let he = unik_rt::leak(unik_dns::devices::eyeballs::connect(stack).unwrap());
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let c = unik_dns::devices::client::connect(stack, he, random, &format!("udp:{dns}")).unwrap();
    // The dual-stack socket sees the server as ::ffff:127.0.0.1; the answer still counts.
    assert_eq!(
        run(c.gethostbyname("x.test")).unwrap(),
        [Ipv4Addr::LOCALHOST]
    );
    h.join().unwrap();
}
