//! The network examples on the direct stack, run with `unikc run` inside a network namespace
//! whose `tap0` (the unix `default_network`) has the Linux peer 10.0.0.1/24; the unikernel is
//! 10.0.0.2. Needs root, /dev/net/tun, and the Debian packages iproute2, iputils-ping and
//! curl: a missing one fails the test, it never skips.

// The IPv6 checks shared with spt and virtio; its re-exports are not used here.
#[allow(unused_imports)]
mod bootable;
mod unikernel;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddrV4, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use unikernel::{
    Ns, OURS, copy_example, eventually, ping_answers, require, stop, tcp_echoes, tcp_echoes_to,
};

#[test]
fn ping_example_answers_fragmented_pings_and_logs_them() {
    require(&["ip", "ping"]);
    let (_tmp, dir) = copy_example("ping");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("ping");
    let mut server = ns.unikernel(&dir, &["--offline"]);
    ping_answers(&ns, &mut server);
    let log = stop(server);
    for len in [1472, 8000] {
        let seen = log
            .lines()
            .filter(|l| {
                l.contains("echo request from 10.0.0.1") && l.ends_with(&format!("{len} bytes"))
            })
            .count();
        // ping saw three replies; a request it gave up on may be logged too.
        assert!(seen >= 3, "{seen} {len}-byte requests logged:\n{log}");
    }
}

#[test]
fn udp_echo_example_echoes_datagrams() {
    let (_tmp, dir) = copy_example("udp-echo");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("udp");
    let mut server = ns.unikernel(&dir, &["--offline", "--port=7"]);
    let target = SocketAddrV4::new(OURS.parse().unwrap(), 7);
    let sock = ns.thread(|| UdpSocket::bind("0.0.0.0:0").unwrap());
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    eventually(&mut server, || {
        sock.send_to(b"hello?", target).map_err(|e| e.kind())?;
        sock.recv_from(&mut buf).map_err(|e| e.kind())
    });
    for size in [1usize, 1472, 8000] {
        let msg: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        sock.send_to(&msg, target).unwrap();
        let (n, from) = sock.recv_from(&mut buf).unwrap();
        assert_eq!(from, target.into());
        assert!(buf[..n] == msg[..], "echo of {size} bytes differs");
    }
    let log = stop(server);
    assert!(log.contains("echoing on UDP port 7"), "{log}");
}

#[test]
fn tcp_echo_example_echoes_a_megabyte() {
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("tcp");
    let mut server = ns.unikernel(
        &dir,
        &[
            "--offline",
            "--net=direct",
            "--ipv4=10.0.0.2/24",
            "--port=7",
        ],
    );
    tcp_echoes(&ns, &mut server, 1 << 20);
    let log = stop(server);
    assert!(log.contains(&format!("echoed {} bytes", 1 << 20)), "{log}");
}

#[test]
fn static_website_example_on_the_direct_stack() {
    require(&["ip", "curl"]);
    let (_tmp, dir) = copy_example("static-website");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("web");
    let mut server = ns.unikernel(&dir, &["--offline", "--net=direct", "--port=80"]);
    let curl = |path: &str| {
        let out = ns
            .cmd("curl")
            .args([
                "-sS",
                "--max-time",
                "5",
                "-w",
                "\n%{http_code} %{content_type}",
            ])
            .arg(format!("http://{OURS}{path}"))
            .output()
            .unwrap();
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    };
    let index = eventually(&mut server, || curl("/"));
    let expected = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    assert_eq!(index, format!("{expected}\n200 text/html; charset=utf-8"));
    let css = curl("/css/site.css").unwrap();
    let expected = std::fs::read_to_string(dir.join("htdocs/css/site.css")).unwrap();
    assert_eq!(css, format!("{expected}\n200 text/css"));
    assert!(curl("/nope.html").unwrap().ends_with("\n404 text/plain"));
    assert!(
        curl("/../etc/passwd")
            .unwrap()
            .ends_with("\n404 text/plain")
    );
    let index = std::fs::read_to_string(dir.join("htdocs/index.html")).unwrap();
    unikernel::http::checks(&|| ns.cmd("curl"), &format!("http://{OURS}"), &index);
    drop(stop(server));
}

/// http-fetch on the direct stack gets a file from Python's http.server on the Linux peer.
#[test]
fn http_fetch_example_on_the_direct_stack() {
    require(&["ip", "python3"]);
    let (_tmp, dir) = copy_example("http-fetch");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("fetch");
    let site = tempfile::tempdir().unwrap();
    std::fs::write(site.path().join("file.bin"), vec![b'y'; 200_000]).unwrap();
    let _peer = unikernel::Running(
        ns.cmd("python3")
            .args(["-m", "http.server", "--bind", "10.0.0.1", "8000"])
            .current_dir(site.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !ns
        .cmd("curl")
        .args(["-sf", "-o", "/dev/null", "http://10.0.0.1:8000/"])
        .status()
        .unwrap()
        .success()
    {
        assert!(Instant::now() < deadline, "http.server does not answer");
        std::thread::sleep(Duration::from_millis(100));
    }
    let url = "http://10.0.0.1:8000/file.bin";
    let server = ns.unikernel(
        &dir,
        &["--offline", "--net=direct", &format!("--uri={url}")],
    );
    let mut child = server;
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "http-fetch still runs");
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = stop(child);
    assert!(
        log.contains(&format!("{url}: 200 OK\nbody: 200000 bytes\n")),
        "{log}"
    );
}

/// The number after `label` in a stats line (`… syn 2 cookies sent 0 …`).
fn counter(line: &str, label: &str) -> u64 {
    let at = line
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {line}"));
    let digits: String = line[at + label.len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no number after {label:?} in {line}"))
}

/// `--connections=2` on the direct stack: after its two connections tcp-echo exits by
/// itself, logging the direct stack's counters: both connections accepted, their SYNs and
/// frames counted, no SYN cookie, no challenge ACK, no memory refused, and the memory the
/// stack still holds bounded by what two closing connections can hold.
#[test]
fn tcp_echo_on_the_direct_stack_logs_its_counters_when_it_stops() {
    let (_tmp, dir) = copy_example("tcp-echo");
    unikernel::build(&dir, &["--net=direct"]);
    let ns = Ns::new("tcpstats");
    let mut server = ns.unikernel(
        &dir,
        &[
            "--offline",
            "--net=direct",
            "--ipv4=10.0.0.2/24",
            "--port=7",
            "--connections=2",
        ],
    );
    let target = SocketAddrV4::new(OURS.parse().unwrap(), 7);
    for i in 0..2 {
        // Only a completed handshake is accepted: attempts before the unikernel is up
        // time out and are not counted.
        let mut stream = eventually(&mut server, || {
            ns.thread(move || TcpStream::connect_timeout(&target.into(), Duration::from_secs(1)))
                .map_err(|e| e.kind())
        });
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let msg = format!("connection {i}");
        stream.write_all(msg.as_bytes()).unwrap();
        // The echo is read before this side's FIN, so nothing is in flight when the
        // server sees the end of the stream and exits.
        let mut back = vec![0u8; msg.len()];
        stream.read_exact(&mut back).unwrap();
        assert_eq!(back, msg.as_bytes());
        stream.shutdown(Shutdown::Write).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.0.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the server still runs after its 2 connections"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = server.0.wait().unwrap();
    let log = stop(server);
    assert!(status.success(), "{status}\n{log}");
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("[tcp-echo] stack:"))
        .collect();
    assert_eq!(lines.len(), 1, "one summary line:\n{log}");
    let line = lines[0];
    eprintln!("{line}");
    assert!(
        line.contains("stack: tcp accepted 2 connected 0; frames rx "),
        "{line}"
    );
    // Linux may retransmit a SYN that reached the stack while it came up.
    assert!(counter(line, "; syn ") >= 2, "{line}");
    assert!(counter(line, "frames rx ") >= 8, "{line}");
    assert!(counter(line, " tx ") >= 8, "{line}");
    for zero in [
        "cookies sent ",
        "half-open evicted ",
        "syn dropped ",
        "memory refused ",
        "challenge acks ",
        "old acks dropped ",
        "out-of-order ",
        "reassembly ",
    ] {
        assert_eq!(counter(line, zero), 0, "{zero:?} in {line}");
    }
    // Connections still closing when the unikernel exits hold their buffers, no more.
    let held = counter(line, "held: tcp ");
    assert!(held <= 2, "{line}");
    assert!(counter(line, "buffers ") <= held * 512 * 1024, "{line}");
}

/// As on spt and virtio (`tests/bootable`): Linux's pings of 56 and 3000 bytes answered and
/// logged, and the example's own (`--ping`) answered by Linux.
#[test]
fn ping6_example_answers_fragmented_pings_and_logs_them() {
    require(&["ip", "ping"]);
    let (_tmp, dir) = copy_example("ping6");
    unikernel::build(&dir, &[]);
    bootable::ping6_both_ways("v6b-ping6", &dir, &["--offline"]);
}

#[test]
fn network_v6_example_echoes_over_ipv6_and_ipv4_on_the_direct_stack() {
    let (_tmp, dir) = copy_example("network-v6");
    unikernel::build(&dir, &["--net=direct"]);
    bootable::network_v6_echoes("v6b-net6", &dir, &["--offline", "--net=direct"], 1 << 20);
}

#[test]
fn network_v6_example_on_host_sockets_echoes_both_families() {
    let (_tmp, dir) = copy_example("network-v6");
    unikernel::build(&dir, &[]);
    let ns = Ns::new("sock6");
    // `--net=auto` is socket_stackv4v6 on unix: dual-stack sockets on `::` in the namespace.
    let mut server = ns.unikernel(&dir, &["--offline", "--port=7"]);
    tcp_echoes_to(&ns, &mut server, "[::1]:7".parse().unwrap(), 1 << 20);
    tcp_echoes_to(&ns, &mut server, "127.0.0.1:7".parse().unwrap(), 1 << 20);
    bootable::udp_echoes_to(&ns, &mut server, "[::1]:7".parse().unwrap());
    bootable::udp_echoes_to(&ns, &mut server, "127.0.0.1:7".parse().unwrap());
    let log = stop(server);
    assert!(log.contains("[::1]:"), "{log}");
    assert!(log.contains("127.0.0.1:"), "{log}");
}
