//! UDP and TCP through `unik_rt`'s stack traits against Linux sockets in the namespace.

mod linux;

use std::io::{ErrorKind, Read, Write};
use std::net::{
    Shutdown, SocketAddrV4, TcpListener as StdListener, TcpStream, UdpSocket as StdUdp,
};
use std::time::Duration;

use linux::{
    Lab, TEN_MB, content, join, our_ten_megabytes, peer_ten_megabytes, run, serial, ten_megabytes,
};
use unik_rt::{
    ETHERNET_HEADER, Network, StackV4, Tcp, TcpError, TcpFlow, TcpListener, Udp, UdpSocket, spawn,
};

/// Echoes every datagram to its sender, forever.
async fn udp_echo<U: Udp>(udp: &U, port: u16) {
    let sock = udp.bind(port).await.unwrap();
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = sock.recv_from(&mut buf).await.unwrap();
        sock.send_to(&buf[..n], from).await.unwrap();
    }
}

#[test]
fn udp_echo_including_fragmented_datagrams() {
    let _serial = serial();
    let lab = Lab::new("ud", 62);
    let s = lab.stack();
    let ours = lab.ours;
    let peer = lab.ns.thread(move || {
        let sock = StdUdp::bind("0.0.0.0:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
        let mut replies = Vec::new();
        let mut buf = vec![0u8; 65536];
        // 8000 and 20000 bytes fragment both ways; 16 fragments are the most we reassemble.
        for size in [0usize, 1, 100, 1472, 1473, 8000, 20000] {
            let mut msg = vec![0u8; size];
            content(size as u64 * 1000, &mut msg);
            sock.send_to(&msg, SocketAddrV4::new(ours, 7)).unwrap();
            let (n, from) = sock.recv_from(&mut buf).unwrap();
            replies.push((size, buf[..n] == msg[..], from));
        }
        // 30000 bytes need 21 fragments: the reassembly limit drops the datagram.
        sock.set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        sock.send_to(&vec![1u8; 30000], SocketAddrV4::new(ours, 7))
            .unwrap();
        let oversized = sock.recv_from(&mut buf).map(|(n, _)| n);
        // A closed port answers ICMP port unreachable, which a connected socket reports.
        let closed = StdUdp::bind("0.0.0.0:0").unwrap();
        closed.connect(SocketAddrV4::new(ours, 9)).unwrap();
        closed.send(b"anyone?").unwrap();
        closed
            .set_read_timeout(Some(Duration::from_secs(3)))
            .unwrap();
        let refused = closed.recv(&mut buf).map_err(|e| e.kind());
        (replies, oversized.map_err(|e| e.kind()), refused)
    });
    let (replies, oversized, refused) = run(60, async move {
        drop(spawn(udp_echo(s.stack.udp(), 7)));
        join(peer).await
    });
    for (size, same, from) in replies {
        assert!(same, "echo of {size} bytes differs");
        assert_eq!(from, SocketAddrV4::new(lab.ours, 7).into());
    }
    assert!(
        matches!(oversized, Err(ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "a 21-fragment datagram was reassembled: {oversized:?}"
    );
    assert_eq!(refused, Err(ErrorKind::ConnectionRefused));
}

#[test]
fn tcp_echo_of_ten_megabytes() {
    let _serial = serial();
    let lab = Lab::new("te", 63);
    let s = lab.stack();
    let ours = lab.ours;
    let peer = lab.ns.thread(move || {
        let stream =
            TcpStream::connect_timeout(&SocketAddrV4::new(ours, 7).into(), Duration::from_secs(5))
                .unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut writer = stream.try_clone().unwrap();
        let sender = std::thread::spawn(move || {
            writer.write_all(&ten_megabytes(0)).unwrap();
            writer.shutdown(Shutdown::Write).unwrap();
        });
        let mut got = Vec::with_capacity(TEN_MB);
        (&stream).read_to_end(&mut got).unwrap();
        sender.join().unwrap();
        got
    });
    let echoed = run(120, async move {
        let listener = s.stack.tcp().listen(7).await.unwrap();
        let server = spawn(async move {
            let flow = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 1 << 16];
            let mut total = 0;
            loop {
                let n = flow.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                flow.write(&buf[..n]).await.unwrap();
                total += n;
            }
            flow.close().await.unwrap();
            assert_eq!(flow.read(&mut buf).await, Err(TcpError::Closed));
            total
        });
        let echoed = join(peer).await;
        assert_eq!(server.await, TEN_MB);
        echoed
    });
    assert_eq!(echoed.len(), TEN_MB);
    assert!(echoed == ten_megabytes(0), "echoed bytes differ");
}

#[test]
fn tcp_connect_to_linux_and_refused_port() {
    let _serial = serial();
    let lab = Lab::new("tc", 64);
    let s = lab.stack();
    let peer_ip = lab.peer;
    let (tx, rx) = std::sync::mpsc::channel();
    let server = lab.ns.thread(move || {
        let l = StdListener::bind((peer_ip, 9000)).unwrap();
        tx.send(()).unwrap();
        let (mut c, from) = l.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        c.write_all(&got).unwrap();
        from
    });
    rx.recv_timeout(Duration::from_secs(5)).unwrap();
    let (back, from, refused) = run(60, async move {
        let tcp = s.stack.tcp();
        let refused = tcp.connect(SocketAddrV4::new(peer_ip, 9001)).await.err();
        let flow = tcp.connect(SocketAddrV4::new(peer_ip, 9000)).await.unwrap();
        assert_eq!(flow.peer(), SocketAddrV4::new(peer_ip, 9000));
        let mut data = vec![0u8; 1 << 20];
        content(7, &mut data);
        flow.write(&data).await.unwrap();
        flow.shutdown_write().await.unwrap();
        let mut back = Vec::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = flow.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        flow.close().await.unwrap();
        (back, join(server).await, refused)
    });
    let mut expected = vec![0u8; 1 << 20];
    content(7, &mut expected);
    assert!(back == expected, "{} bytes came back", back.len());
    assert_eq!(from.ip(), lab.ours);
    assert_eq!(refused, Some(TcpError::Refused));
}

/// Linux connects to port 9 of the stack and ten megabytes go one way: to Linux when
/// `to_linux`, else from it. Checks they arrive intact; returns the tap's counters and its
/// largest frame without offloads.
fn one_way(tag: &str, subnet: u8, to_linux: bool) -> (unik_unix::net::TapStats, usize) {
    let lab = Lab::new(tag, subnet);
    let s = lab.stack();
    let ours = lab.ours;
    let peer = lab.ns.thread(move || {
        let stream =
            TcpStream::connect_timeout(&SocketAddrV4::new(ours, 9).into(), Duration::from_secs(5))
                .unwrap();
        peer_ten_megabytes(stream, to_linux)
    });
    let got = run(120, async move {
        let listener = s.stack.tcp().listen(9).await.unwrap();
        let flow = listener.accept().await.unwrap();
        let got = our_ten_megabytes(&flow, to_linux).await;
        let linux_got = join(peer).await;
        if to_linux { linux_got } else { got }
    });
    assert_eq!(got.len(), TEN_MB);
    assert!(
        got == ten_megabytes(if to_linux { 1 } else { 2 }),
        "bytes differ"
    );
    (lab.tap.stats(), lab.tap.mtu() + ETHERNET_HEADER)
}

/// On a tap with TSO our stack hands the kernel TCP segments larger than the MTU, and the
/// kernel's segments of them arrive intact.
#[test]
fn tcp_send_to_linux_in_segments_larger_than_the_mtu() {
    let _serial = serial();
    let (stats, frame_max) = one_way("tso", 72, true);
    assert!(stats.tso_frames > 0, "no TSO frame written: {stats:?}");
    assert!(stats.largest > frame_max, "largest frame {stats:?}");
    // Most of the data went out in large segments, not one frame per MTU.
    assert!(
        stats.frames < (TEN_MB / (frame_max - 54)) as u64 / 4,
        "{stats:?}"
    );
}

/// With the tap's receive offload, Linux hands our stack its TCP segments whole (up to 64 KB,
/// checksums partial): the data arrives intact in far fewer frames than one per MTU.
#[test]
fn tcp_receive_from_linux_in_segments_larger_than_the_mtu() {
    let _serial = serial();
    let (stats, frame_max) = one_way("gro", 73, false);
    assert!(stats.rx_largest > frame_max, "largest frame {stats:?}");
    assert!(
        stats.rx_frames < (TEN_MB / (frame_max - 54)) as u64 / 4,
        "{stats:?}"
    );
}
