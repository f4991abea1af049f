//! A small HTTP/1.1 server over any `unik_rt::StackV4`: `GET /bytes/N` answers N bytes of
//! [`super::content`], anything else 404. Keep-alive unless the client asks to close.

use unik_rt::{StackV4, Tcp, TcpError, TcpFlow, TcpListener};

const MAX_HEAD: usize = 8192;

/// Listens on `port` and serves every connection on its own task, forever.
pub async fn serve<S>(stack: &'static S, port: u16) -> Result<(), TcpError>
where
    S: StackV4 + 'static,
    <S::Tcp as Tcp>::Listener: 'static,
    <S::Tcp as Tcp>::Flow: 'static,
{
    let listener = stack.tcp().listen(port).await?;
    loop {
        let flow = listener.accept().await?;
        drop(unik_rt::spawn(async move {
            let _ = connection(&flow).await;
            let _ = flow.close().await;
        }));
    }
}

enum Next {
    KeepAlive,
    Close,
}

async fn connection<F: TcpFlow>(flow: &F) -> Result<(), TcpError> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut have = 0;
    loop {
        // Read until a whole request head is buffered.
        let (head_len, path, close) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&buf[..have]) {
                Ok(httparse::Status::Complete(n)) => {
                    let close = req.headers.iter().any(|h| {
                        h.name.eq_ignore_ascii_case("connection")
                            && h.value.eq_ignore_ascii_case(b"close")
                    }) || req.version == Some(0);
                    let path = if req.method == Some("GET") {
                        req.path.map(str::to_string)
                    } else {
                        None
                    };
                    break (n, path, close);
                }
                Ok(httparse::Status::Partial) if have < buf.len() => {
                    let n = flow.read(&mut buf[have..]).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    have += n;
                }
                _ => {
                    flow.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        .await?;
                    return Ok(());
                }
            }
        };
        buf.copy_within(head_len..have, 0);
        have -= head_len;
        let size = path
            .as_deref()
            .and_then(|p| p.strip_prefix("/bytes/"))
            .and_then(|n| n.parse::<u64>().ok());
        let next = match size {
            Some(n) => {
                send(flow, n, close).await?;
                if close { Next::Close } else { Next::KeepAlive }
            }
            None => {
                flow.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                    .await?;
                if close { Next::Close } else { Next::KeepAlive }
            }
        };
        if let Next::Close = next {
            return Ok(());
        }
    }
}

async fn send<F: TcpFlow>(flow: &F, len: u64, close: bool) -> Result<(), TcpError> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {len}\r\n{}\r\n",
        if close { "Connection: close\r\n" } else { "" }
    );
    flow.write(head.as_bytes()).await?;
    let mut chunk = vec![0u8; 1 << 16];
    let mut off = 0;
    while off < len {
        let n = (len - off).min(chunk.len() as u64) as usize;
        super::content(off, &mut chunk[..n]);
        flow.write(&chunk[..n]).await?;
        off += n as u64;
    }
    Ok(())
}
