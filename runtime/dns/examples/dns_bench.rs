//! Lookups per second of the DNS client against a name server (benches/dns.sh runs it
//! against dnsmasq in a network namespace): over the host's sockets (`socket_stackv4`),
//! `N` distinct names resolved one after the other (each a UDP exchange with the server),
//! then the same names again `ROUNDS` times (every one from the cache).
//! For scale, the same N queries sent by a blocking `std::net::UdpSocket` that only builds
//! the query and waits for its answer (no parsing, no cache): the round trip's floor.
//! STACK is `v4` (`socket_stackv4`, the default) or `v4v6` (`socket_stackv4v6`: dual-stack
//! sockets, the stack `generic_dns_client` takes; the server may then be IPv6).
//! Usage: dns_bench SERVER N ROUNDS [STACK] (names h0.test … h{N-1}.test, A records).

use std::time::Instant;

use unik_dns::devices::client::Client;
use unik_dns::devices::eyeballs::Eyeballs;
use unik_dns::devices::{DnsClient, Transport};
use unik_dns::wire::Qtype;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let server = args.get(1).map_or("udp:127.0.0.1:53", String::as_str);
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let rounds: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50);
    match args.get(4).map_or("v4", String::as_str) {
        "v4" => {
            let stack = unik_unix::stack::connect(std::net::Ipv4Addr::UNSPECIFIED).unwrap();
            let stack = unik_rt::leak(stack);
            bench(unik_dns::devices::StackV4(stack), server, n, rounds);
        }
        "v4v6" => {
            let stack = unik_rt::leak(unik_unix::stackv4v6::connect().unwrap());
            bench(unik_dns::devices::StackV4V6(stack), server, n, rounds);
        }
        other => panic!("STACK is v4 or v4v6, not {other}"),
    }
}

fn bench<T: Transport + Copy + 'static>(transport: T, server: &str, n: usize, rounds: usize) {
    let platform = unik_unix::UnixPlatform::new();
    let random = unik_rt::leak(unik_unix::random::connect().unwrap());
    let he = unik_rt::leak(Eyeballs::new(transport, Default::default()));
    let servers = unik_dns::servers::parse(server).unwrap();
    let client = Client::new(transport, he, random, servers, Default::default(), n.max(1));
    let names: Vec<String> = (0..n).map(|i| format!("h{i}.test")).collect();
    let (cold, warm) = unik_rt::block_on(&platform, async {
        let t = Instant::now();
        for name in &names {
            let a = client.resolve(name, Qtype::A).await.expect("an answer");
            assert_eq!(a.addrs.len(), 1, "{name}");
        }
        let cold = t.elapsed();
        let t = Instant::now();
        for _ in 0..rounds {
            for name in &names {
                client
                    .resolve(name, Qtype::A)
                    .await
                    .expect("a cached answer");
            }
        }
        (cold, t.elapsed())
    })
    .unwrap();
    let stats = client.stats();
    assert_eq!(stats.udp_queries as usize, n, "{stats}");
    assert_eq!(stats.cache_hits as usize, n * rounds, "{stats}");
    let floor = raw(servers_addr(server), &names);
    println!(
        "raw std UdpSocket round trips: {n} in {:.3} s, {:.0} /s",
        floor.as_secs_f64(),
        n as f64 / floor.as_secs_f64()
    );
    println!(
        "uncached: {n} lookups in {:.3} s, {:.0} lookups/s",
        cold.as_secs_f64(),
        n as f64 / cold.as_secs_f64()
    );
    println!(
        "cached: {} lookups in {:.3} s, {:.0} lookups/s",
        n * rounds,
        warm.as_secs_f64(),
        (n * rounds) as f64 / warm.as_secs_f64()
    );
    println!(
        "uncached vs raw round trips: {:.0} %",
        100.0 * floor.as_secs_f64() / cold.as_secs_f64()
    );
}

fn servers_addr(server: &str) -> std::net::SocketAddr {
    unik_dns::servers::parse(server).unwrap()[0].addr
}

fn raw(server: std::net::SocketAddr, names: &[String]) -> std::time::Duration {
    let any = if server.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let sock = std::net::UdpSocket::bind(any).unwrap();
    let mut buf = [0u8; 4096];
    let t = Instant::now();
    for (i, name) in names.iter().enumerate() {
        let name = unik_dns::wire::Name::parse(name).unwrap();
        let q = unik_dns::wire::query(i as u16, &name, Qtype::A);
        sock.send_to(&q, server).unwrap();
        let (len, _) = sock.recv_from(&mut buf).unwrap();
        assert!(len > q.len());
    }
    t.elapsed()
}
