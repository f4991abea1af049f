//! The TLS conduit over the host's sockets, client and server in one
//! executor: both versions, large transfers both ways, ALPN, SNI-checked
//! names, and the clear errors of a refused certificate. The PKI is the
//! repository's test PKI (tests/tls, made by tests/tls/generate.sh).

use std::net::{Ipv4Addr, SocketAddrV4};

use unik_rt::{
    Conduit, ConduitFlow, StackV4, TcpError, TcpFlow, TcpListener, TlsClientConfig,
    TlsServerConfig, block_on, leak, spawn,
};
use unik_tls::TlsConduit;

const CA: &[u8] = include_bytes!("../../../tests/tls/ca.pem");
const OTHER_CA: &[u8] = include_bytes!("../../../tests/tls/other-ca.pem");
const RSA: (&[u8], &[u8]) = (
    include_bytes!("../../../tests/tls/rsa.pem"),
    include_bytes!("../../../tests/tls/rsa.key"),
);
const ECDSA: (&[u8], &[u8]) = (
    include_bytes!("../../../examples/conduit-server/tls/server.pem"),
    include_bytes!("../../../examples/conduit-server/tls/server.key"),
);
const EXPIRED: (&[u8], &[u8]) = (
    include_bytes!("../../../tests/tls/expired.pem"),
    include_bytes!("../../../tests/tls/expired.key"),
);

fn conduit() -> &'static TlsConduit<unik_unix::stack::SocketStack> {
    let stack = leak(unik_unix::stack::connect(Ipv4Addr::LOCALHOST).unwrap());
    let random = leak(unik_unix::random::connect().unwrap());
    let clock = leak(unik_unix::pclock::connect().unwrap());
    leak(unik_tls::connect(random, clock, stack).unwrap())
}

fn server((chain, key): (&[u8], &[u8]), alpn: &[&[u8]]) -> TlsServerConfig {
    TlsServerConfig {
        certificates: chain.to_vec(),
        key: key.to_vec(),
        alpn: alpn.iter().map(|p| p.to_vec()).collect(),
    }
}

fn client(ca: &[u8], name: &str, alpn: &[&[u8]]) -> TlsClientConfig {
    TlsClientConfig {
        authorities: ca.to_vec(),
        server_name: name.into(),
        alpn: alpn.iter().map(|p| p.to_vec()).collect(),
    }
}

/// The server flow's TLS version, or its error.
type ServerSaw = Result<&'static str, TcpError>;
/// The bytes echoed, the ALPN protocol and TLS version, or the client's error.
type ClientGot = Result<(Vec<u8>, Option<Vec<u8>>, &'static str), TcpError>;

/// Serves one connection that echoes everything; returns what the server's
/// flow reported (its TLS version, or its error) and the client's result.
fn exchange(
    cert: (&'static [u8], &'static [u8]),
    server_alpn: &'static [&'static [u8]],
    tls: TlsClientConfig,
    payload: Vec<u8>,
) -> (ServerSaw, ClientGot) {
    let platform = unik_unix::UnixPlatform::new();
    block_on(&platform, async move {
        let c = conduit();
        let listener = c.listen(0, Some(&server(cert, server_alpn))).await.unwrap();
        let port = listener.local_port();
        let served = spawn(async move {
            let flow = listener.accept().await?;
            flow.handshake().await?;
            let mut buf = vec![0u8; 5000];
            loop {
                let n = flow.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                flow.write(&buf[..n]).await?;
            }
            flow.close().await?;
            Ok(flow.tls_version().unwrap())
        });
        let dst = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        let answer = async {
            let flow = c.connect(dst, Some(&tls)).await?;
            let version = flow.tls_version().unwrap();
            let alpn = flow.alpn();
            // Write and read at once from two tasks sharing the flow.
            let flow = leak(flow);
            let len = payload.len();
            let writer = spawn(async move {
                let r = flow.write(&payload).await;
                let _ = flow.shutdown_write().await;
                r
            });
            let mut got = Vec::new();
            let mut buf = vec![0u8; 7000];
            while got.len() < len {
                let n = flow.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            writer.await?;
            Ok((got, alpn, version))
        }
        .await;
        // A refused server side ends with the client's alert.
        (served.await, answer)
    })
    .unwrap()
}

fn stack_is_sockets() {
    // The socket stack reports no wire counters: these tests use the host's TCP.
    let s = unik_unix::stack::connect(Ipv4Addr::LOCALHOST).unwrap();
    assert!(s.stats().wire.is_none());
}

#[test]
fn a_megabyte_echoes_over_tls_with_ecdsa_and_alpn() {
    stack_is_sockets();
    let payload: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let (server, client) = exchange(
        ECDSA,
        &[b"h2", b"http/1.1"],
        client(CA, "localhost", &[b"http/1.1"]),
        payload.clone(),
    );
    let (got, alpn, version) = client.unwrap();
    assert!(got == payload, "echo differs ({} bytes back)", got.len());
    assert_eq!(alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(version, "TLSv1.3");
    assert_eq!(server.unwrap(), "TLSv1.3");
}

#[test]
fn an_rsa_server_is_verified_by_ip_address() {
    let (server, client) = exchange(RSA, &[], client(CA, "127.0.0.1", &[]), b"rsa".to_vec());
    let (got, alpn, _) = client.unwrap();
    assert_eq!(got, b"rsa");
    assert_eq!(alpn, None);
    server.unwrap();
}

#[test]
fn refused_certificates_are_clear_errors_on_both_sides() {
    for (cert, ca, name, why) in [
        (ECDSA, OTHER_CA, "localhost", "UnknownIssuer"),
        (ECDSA, CA, "wrong.example", "NotValidForName"),
        (EXPIRED, CA, "localhost", "Expired"),
    ] {
        let (server, client) = exchange(cert, &[], client(ca, name, &[]), b"x".to_vec());
        let Err(TcpError::Tls(e)) = client else {
            panic!("{why}: the client accepted: {client:?}");
        };
        // rustls words some reasons (`certificate expired: …`): compare without spaces.
        let words = e.to_lowercase().replace(' ', "");
        assert!(
            e.contains("invalid peer certificate") && words.contains(&why.to_lowercase()),
            "{why}: {e}"
        );
        // The client's alert reaches the server's flow.
        let Err(TcpError::Tls(e)) = server else {
            panic!("{why}: the server saw {server:?}");
        };
        assert!(e.contains("received fatal alert"), "{why}: {e}");
    }
}

#[test]
fn bad_settings_are_errors_not_panics() {
    let platform = unik_unix::UnixPlatform::new();
    block_on(&platform, async {
        let c = conduit();
        let no_key = TlsServerConfig {
            certificates: ECDSA.0.to_vec(),
            key: b"not a key".to_vec(),
            alpn: vec![],
        };
        let Err(TcpError::Tls(e)) = c.listen(0, Some(&no_key)).await else {
            panic!("a missing key was accepted");
        };
        assert!(e.contains("server key"), "{e}");
        let no_ca = client(b"", "localhost", &[]);
        let dst = SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9);
        let Err(TcpError::Tls(e)) = c.connect(dst, Some(&no_ca)).await else {
            panic!("an empty authority list was accepted");
        };
        assert!(e.contains("no certificate"), "{e}");
    })
    .unwrap();
}
