//! The server and client drivers over in-memory flows: pipelined requests
//! answered in order, bodies both ways, refusals, and the client reusing
//! one connection while the server keeps it open.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::task::{Poll, Waker};

use unik_http::server::Limits;
use unik_http::{Client, ClientError, Handler, Request, Response, serve};
use unik_rt::{Interest, Platform, ReadySet, TcpError, TcpFlow, block_on};

struct Now;

impl Platform for Now {
    fn now_ns(&self) -> u64 {
        0
    }
    fn wait(&self, _: Option<u64>, _: &[Interest]) -> ReadySet {
        ReadySet::new()
    }
}

#[derive(Default)]
struct Pipe {
    data: VecDeque<u8>,
    closed: bool,
    reader: Option<Waker>,
}

/// One end of an in-memory connection.
struct End {
    rx: Rc<RefCell<Pipe>>,
    tx: Rc<RefCell<Pipe>>,
}

fn pair() -> (End, End) {
    let a = Rc::new(RefCell::new(Pipe::default()));
    let b = Rc::new(RefCell::new(Pipe::default()));
    (
        End {
            rx: a.clone(),
            tx: b.clone(),
        },
        End { rx: b, tx: a },
    )
}

impl TcpFlow for End {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        poll_fn(|cx| {
            let mut p = self.rx.borrow_mut();
            if p.data.is_empty() {
                if p.closed {
                    return Poll::Ready(Ok(0));
                }
                p.reader = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let n = buf.len().min(p.data.len());
            for (i, b) in p.data.drain(..n).enumerate() {
                buf[i] = b;
            }
            Poll::Ready(Ok(n))
        })
        .await
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        let mut p = self.tx.borrow_mut();
        if p.closed {
            return Err(TcpError::Reset);
        }
        p.data.extend(data);
        if let Some(w) = p.reader.take() {
            w.wake();
        }
        Ok(())
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        let mut p = self.tx.borrow_mut();
        p.closed = true;
        if let Some(w) = p.reader.take() {
            w.wake();
        }
        Ok(())
    }

    async fn close(&self) -> Result<(), TcpError> {
        self.shutdown_write().await?;
        self.rx.borrow_mut().closed = true;
        Ok(())
    }

    fn peer(&self) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, 1)
    }
}

/// Answers with the method, path and body it received.
struct Echo;

impl Handler for Echo {
    async fn handle(&self, req: &Request) -> Response {
        let mut body = format!("{} {} ", req.method, req.target).into_bytes();
        body.extend_from_slice(&req.body);
        let mut r = Response::new(200, "text/plain", body);
        r.chunked = req.target == "/chunked";
        r
    }
}

async fn read_all(flow: &End) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 100];
    loop {
        let n = flow.read(&mut buf).await.unwrap();
        if n == 0 {
            return String::from_utf8(out).unwrap();
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn exchange(input: &[u8], limits: Limits) -> String {
    block_on(&Now, async {
        let (client, server) = pair();
        let task = unik_rt::spawn(async move { serve(&server, &Echo, limits).await });
        client.write(input).await.unwrap();
        client.shutdown_write().await.unwrap();
        let out = read_all(&client).await;
        task.await.unwrap();
        out
    })
    .unwrap()
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let out = exchange(
        b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n\
          POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n\
          HEAD /c HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /chunked HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n\
          GET /never HTTP/1.1\r\nHost: x\r\n\r\n",
        Limits::default(),
    );
    let expected = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\nGET /a \
                    HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nPOST /b hi\
                    HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 8\r\n\r\n\
                    HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nd\r\nGET /chunked \r\n0\r\n\r\n";
    assert_eq!(out, expected);
}

#[test]
fn refused_requests_get_their_status_and_the_connection_closes() {
    let small = Limits {
        max_head: 64,
        max_body: 4,
    };
    let status = |input: &[u8]| {
        let out = exchange(input, small);
        assert!(out.contains("Connection: close\r\n"), "{out}");
        out.split(' ').nth(1).unwrap().parse::<u16>().unwrap()
    };
    assert_eq!(
        status(format!("GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n", "a".repeat(80)).as_bytes()),
        431
    );
    assert_eq!(
        status(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
        413
    );
    assert_eq!(status(b"GET / HTTP/3.0\r\nHost: x\r\n\r\n"), 505);
    assert_eq!(status(b"GET\0/ HTTP/1.1\r\n\r\n"), 400);
    // The first request is answered before the second is refused.
    let out = exchange(
        b"GET /ok HTTP/1.1\r\nHost: x\r\n\r\nBAD\r\n\r\n",
        Limits::default(),
    );
    assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
    assert!(out.contains("HTTP/1.1 400 Bad Request"), "{out}");
}

#[test]
fn http_1_0_closes_unless_asked_to_keep_alive() {
    let out = exchange(
        b"GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        Limits::default(),
    );
    assert_eq!(out.matches("HTTP/1.1 200").count(), 1, "{out}");
    let out = exchange(
        b"GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n",
        Limits::default(),
    );
    assert_eq!(out.matches("HTTP/1.1 200").count(), 2, "{out}");
    assert!(out.contains("Connection: keep-alive\r\n"), "{out}");
}

#[test]
fn the_client_reuses_its_connection_while_the_server_keeps_it() {
    block_on(&Now, async {
        let connects = Rc::new(Cell::new(0));
        let connect = |_: unik_http::client::Url| {
            let connects = connects.clone();
            async move {
                connects.set(connects.get() + 1);
                let (client, server) = pair();
                unik_rt::spawn(async move {
                    let _ = serve(&server, &Echo, Limits::default()).await;
                });
                Ok::<End, ClientError>(client)
            }
        };
        let client: Client<End> = Client::new();
        let url = "http://10.0.0.1:8080/a";
        let r = client.request(connect, "GET", url, &[], b"").await.unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, &b"GET /a "[..]));
        let r = client
            .request(connect, "POST", "http://10.0.0.1:8080/chunked", &[], b"xyz")
            .await
            .unwrap();
        assert_eq!(r.body, b"POST /chunked xyz");
        let r = client
            .request(connect, "HEAD", url, &[], b"")
            .await
            .unwrap();
        assert_eq!(r.header("content-length"), Some(&b"8"[..]));
        assert!(r.body.is_empty());
        assert_eq!(connects.get(), 1, "three requests, one connection");
        // The server closes on `Connection: close`: the next request connects again.
        let r = client
            .request(connect, "GET", url, &[("Connection", "close")], b"")
            .await
            .unwrap();
        assert_eq!(r.status, 200);
        client.request(connect, "GET", url, &[], b"").await.unwrap();
        assert_eq!(connects.get(), 2);
        // Another host: another connection.
        client
            .request(connect, "GET", "http://10.0.0.3/", &[], b"")
            .await
            .unwrap();
        assert_eq!(connects.get(), 3);
    })
    .unwrap();
}
