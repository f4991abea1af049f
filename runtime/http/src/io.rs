//! The drivers: the sans-IO reader and encoders over a byte stream. The
//! stream is any [`TcpFlow`] (`read`, `write`, `close`), so HTTP runs the
//! same over the TCP stacks and over a TLS flow that implements it.

use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use unik_rt::{TcpError, TcpFlow};

use crate::chunked::{LAST_CHUNK, encode_chunk};
use crate::client::{ClientError, ResponseReader, Url, encode_request};
use crate::server::{Limits, Request, RequestReader, encode_head, encode_refusal};

/// An answer, built by a [`Handler`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Headers besides `Content-Length`, `Transfer-Encoding` and
    /// `Connection`, which the server writes.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send the body in the chunked coding instead of with a length.
    pub chunked: bool,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: Vec<u8>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type".to_string(), content_type.to_string())],
            body,
            chunked: false,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// What answers requests.
pub trait Handler {
    async fn handle(&self, req: &Request) -> Response;
}

/// Bodies larger than this are written apart from the head.
const BIG: usize = 64 * 1024;

/// Chunks of a chunked response body.
const CHUNK: usize = 16 * 1024;

/// Serves the requests of one connection, in order, until the client
/// closes or asks to, or a request is refused (answered 4xx/5xx, then the
/// connection closes). Closes the flow at the end.
pub async fn serve<F: TcpFlow, H: Handler>(
    flow: &F,
    handler: &H,
    limits: Limits,
) -> Result<(), TcpError> {
    let r = requests(flow, handler, limits).await;
    let _ = flow.close().await;
    r
}

async fn requests<F: TcpFlow, H: Handler>(
    flow: &F,
    handler: &H,
    limits: Limits,
) -> Result<(), TcpError> {
    let mut reader = RequestReader::new(limits);
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let req = match reader.next_request() {
            Ok(Some(req)) => req,
            Ok(None) => {
                if reader.take_continue() {
                    flow.write(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
                }
                let n = flow.read(&mut buf).await?;
                if n == 0 {
                    return Ok(());
                }
                reader.push(&buf[..n]);
                continue;
            }
            Err(refusal) => {
                unik_rt::log::debug!(target: "http", "{} {}: {}", flow.peer(), refusal.status, refusal.why);
                flow.write(&encode_refusal(&refusal)).await?;
                return Ok(());
            }
        };
        let keep = req.keep_alive();
        let resp = handler.handle(&req).await;
        write_response(flow, &req, &resp, keep).await?;
        if !keep {
            return Ok(());
        }
    }
}

async fn write_response<F: TcpFlow>(
    flow: &F,
    req: &Request,
    resp: &Response,
    keep: bool,
) -> Result<(), TcpError> {
    // No body for HEAD (its length is still told), 1xx, 204 and 304.
    let bodiless = matches!(resp.status, 100..=199 | 204 | 304);
    let send_body = !bodiless && req.method != "HEAD";
    let chunked = resp.chunked && req.minor >= 1 && !bodiless;
    let len = resp.body.len().to_string();
    let mut headers: Vec<(&str, &str)> = resp
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    if chunked {
        headers.push(("Transfer-Encoding", "chunked"));
    } else if !bodiless
        && !resp
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-length"))
    {
        // A handler sets it itself only for HEAD, where no body is built.
        headers.push(("Content-Length", &len));
    }
    if !keep {
        headers.push(("Connection", "close"));
    } else if req.minor == 0 {
        headers.push(("Connection", "keep-alive"));
    }
    let mut out = encode_head(resp.status, &headers);
    if send_body && !chunked && resp.body.len() > BIG {
        // A large body goes as it is rather than copied behind the head.
        flow.write(&out).await?;
        return flow.write(&resp.body).await;
    }
    if send_body {
        if chunked {
            for c in resp.body.chunks(CHUNK) {
                encode_chunk(c, &mut out);
            }
            out.extend_from_slice(LAST_CHUNK);
        } else {
            out.extend_from_slice(&resp.body);
        }
    }
    flow.write(&out).await
}

/// Limits of a client's responses.
const CLIENT_MAX_HEAD: usize = 64 * 1024;

/// An HTTP/1.1 client over flows it opens with `connect`: a connection to
/// one `host:port` is kept open and reused while the server allows.
pub struct Client<F: TcpFlow> {
    conn: core::cell::RefCell<Option<(Url, F)>>,
    /// Largest response body accepted.
    pub max_body: usize,
}

impl<F: TcpFlow> Default for Client<F> {
    fn default() -> Self {
        Client::new()
    }
}

impl<F: TcpFlow> Client<F> {
    pub fn new() -> Client<F> {
        Client {
            conn: core::cell::RefCell::new(None),
            max_body: 64 * 1024 * 1024,
        }
    }

    /// Sends `method` on `url` with `body` and reads the response, over
    /// the kept connection when it goes to the same place, else over a new
    /// one from `connect` (which resolves the host and, for `https`, speaks
    /// TLS).
    pub async fn request<C, Fut>(
        &self,
        connect: C,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<crate::client::Response, ClientError>
    where
        C: Fn(Url) -> Fut,
        Fut: core::future::Future<Output = Result<F, ClientError>>,
    {
        let url = Url::parse(url)?;
        let bytes = encode_request(method, &url.target, &url.authority(), headers, body);
        // A kept connection may have been closed by the server meanwhile:
        // one retry on a fresh connection, and only if nothing came back.
        let kept = self.take(&url);
        if let Some(flow) = kept {
            match self.exchange(&flow, method, &bytes).await {
                Ok((resp, reusable)) => {
                    self.keep(url, flow, reusable).await;
                    return Ok(resp);
                }
                Err(ClientError::Truncated | ClientError::Tcp(_)) => {
                    let _ = flow.close().await;
                }
                Err(e) => return Err(e),
            }
        }
        let flow = connect(url.clone()).await?;
        match self.exchange(&flow, method, &bytes).await {
            Ok((resp, reusable)) => {
                self.keep(url, flow, reusable).await;
                Ok(resp)
            }
            Err(e) => {
                let _ = flow.close().await;
                Err(e)
            }
        }
    }

    fn take(&self, url: &Url) -> Option<F> {
        let mut conn = self.conn.borrow_mut();
        match conn.as_ref() {
            Some((u, _)) if u.same_origin(url) => conn.take().map(|(_, f)| f),
            _ => None,
        }
    }

    async fn keep(&self, url: Url, flow: F, reusable: bool) {
        let old = if reusable {
            self.conn.borrow_mut().replace((url, flow))
        } else {
            let _ = flow.close().await;
            None
        };
        if let Some((_, f)) = old {
            let _ = f.close().await;
        }
    }

    /// Writes the request and reads its response; true if the connection
    /// can carry another.
    async fn exchange(
        &self,
        flow: &F,
        method: &str,
        bytes: &[u8],
    ) -> Result<(crate::client::Response, bool), ClientError> {
        flow.write(bytes).await?;
        let mut reader = ResponseReader::new(method == "HEAD", CLIENT_MAX_HEAD, self.max_body);
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            if let Some(resp) = reader.next_response()? {
                let reusable = resp.keep_alive() && reader.leftover() == 0;
                return Ok((resp, reusable));
            }
            let n = flow.read(&mut buf).await?;
            if n == 0 {
                return reader.finish().map(|r| (r, false));
            }
            reader.push(&buf[..n]);
        }
    }

    /// Closes the kept connection, if any.
    pub async fn close(&self) {
        let conn = self.conn.borrow_mut().take();
        if let Some((_, f)) = conn {
            let _ = f.close().await;
        }
    }
}
