//! socket_stackv4 over 127.0.0.1, entirely inside the executor.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};

use unik_rt::{StackV4, Tcp, TcpError, TcpFlow, TcpListener, Udp, UdpSocket, spawn};

const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;

#[test]
fn tcp_echo_of_four_mebibytes() {
    let stack: &'static _ = unik_rt::leak(unik_unix::stack::connect(LOCAL).unwrap());
    let data: Vec<u8> = (0..4u32 << 20).map(|i| (i % 253) as u8).collect();
    let expected = data.clone();
    let echoed = common::run(async move {
        let listener = stack.tcp().listen(0).await.unwrap();
        let port = listener.local_port();
        let server = spawn(async move {
            let flow = listener.accept().await.unwrap();
            assert_eq!(*flow.peer().ip(), LOCAL);
            let mut buf = vec![0u8; 65536];
            loop {
                let n = flow.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                flow.write(&buf[..n]).await.unwrap();
            }
            flow.close().await.unwrap();
            assert_eq!(flow.read(&mut buf).await, Err(TcpError::Closed));
        });
        let client: &'static _ = unik_rt::leak(
            stack
                .tcp()
                .connect(SocketAddrV4::new(LOCAL, port))
                .await
                .unwrap(),
        );
        // Writing 4 MiB while the echo comes back needs both directions to
        // wait for readiness at once, or the two buffers fill and deadlock.
        let writer = spawn(async move {
            client.write(&data).await.unwrap();
            client.shutdown_write().await.unwrap();
        });
        let mut got = Vec::new();
        let mut buf = vec![0u8; 50_000];
        loop {
            let n = client.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        writer.await;
        server.await;
        // One flow each way; the packets are the kernel's, so no wire counters.
        let stats = stack.stats();
        assert_eq!(
            stats,
            unik_rt::StackStats {
                tcp_accepted: 1,
                tcp_connected: 1,
                wire: None
            }
        );
        got
    });
    assert_eq!(echoed.len(), expected.len());
    assert!(echoed == expected, "echoed bytes differ");
}

#[test]
fn tcp_connect_to_closed_port_is_refused() {
    let stack = unik_unix::stack::connect(LOCAL).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let r = common::run(async {
        stack
            .tcp()
            .connect(SocketAddrV4::new(LOCAL, port))
            .await
            .err()
    });
    assert_eq!(r, Some(TcpError::Refused));
    assert_eq!(
        stack.stats().tcp_connected,
        0,
        "a refused connect is not counted"
    );
}

#[test]
fn tcp_listen_twice_on_a_port_is_addr_in_use() {
    let stack = unik_unix::stack::connect(LOCAL).unwrap();
    let r = common::run(async {
        let first = stack.tcp().listen(0).await.unwrap();
        stack.tcp().listen(first.local_port()).await.err()
    });
    assert_eq!(r, Some(TcpError::AddrInUse));
}

#[test]
fn udp_echo() {
    let stack: &'static _ = unik_rt::leak(unik_unix::stack::connect(LOCAL).unwrap());
    let replies = common::run(async move {
        let server = stack.udp().bind(0).await.unwrap();
        let port = server.local_port();
        let echo = spawn(async move {
            let mut buf = [0u8; 1500];
            for _ in 0..3 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = stack.udp().bind(0).await.unwrap();
        let mut replies = Vec::new();
        for msg in [&b"ping"[..], b"", &[7u8; 1400]] {
            client
                .send_to(msg, SocketAddrV4::new(LOCAL, port))
                .await
                .unwrap();
            let mut buf = [0u8; 1500];
            let (n, from) = client.recv_from(&mut buf).await.unwrap();
            assert_eq!(from.port(), port);
            replies.push(buf[..n].to_vec());
        }
        echo.await;
        replies
    });
    assert_eq!(replies, vec![b"ping".to_vec(), vec![], vec![7u8; 1400]]);
}
