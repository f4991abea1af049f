//! A TLS session over a TCP flow, driven with rustls's unbuffered API: the
//! flow feeds it the bytes TCP delivered and sends what it produced; no
//! borrow of the session is held across an await, so a reading task and a
//! writing task can share one flow.

use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::net::SocketAddrV4;

use rustls::ProtocolVersion;
use rustls::client::UnbufferedClientConnection;
use rustls::server::UnbufferedServerConnection;
use rustls::unbuffered::{
    AppDataRecord, ConnectionState, EncodeError, EncryptError, InsufficientSizeError,
    UnbufferedStatus,
};
use unik_rt::{ConduitFlow, TcpError, TcpFlow};

use crate::lock::Lock;

/// Application data is encrypted this much at a time (one full record).
const CHUNK: usize = 16 * 1024;
/// TCP reads are this large: a full record with its header and tag.
const READ: usize = CHUNK + 512;

pub(crate) enum Session {
    Client(UnbufferedClientConnection),
    Server(UnbufferedServerConnection),
}

struct State {
    session: Session,
    /// TLS bytes received and not yet consumed (part of a record).
    incoming: Vec<u8>,
    /// Application data decrypted and not yet read.
    plain: VecDeque<u8>,
    /// TLS bytes produced and not yet sent, in the order produced.
    out: Vec<u8>,
    handshaking: bool,
    /// The peer sent close_notify, or TCP ended.
    peer_closed: bool,
    close_queued: bool,
    error: Option<TcpError>,
}

/// What the session needs after [`State::process`].
#[derive(PartialEq, Eq)]
enum Step {
    /// More TLS bytes from the peer.
    Input,
    /// Nothing (the handshake is done and nothing is pending).
    Idle,
}

/// The TLS error as the flow reports it.
pub(crate) fn tls_error(e: &rustls::Error) -> TcpError {
    TcpError::Tls(e.to_string())
}

/// Encodes into the end of `out`, growing it to the size rustls asks for.
fn append<E>(
    out: &mut Vec<u8>,
    mut f: impl FnMut(&mut [u8]) -> Result<usize, E>,
    size: impl Fn(&E) -> Option<usize>,
) -> Result<(), E> {
    let start = out.len();
    let mut room = 2048;
    loop {
        out.resize(start + room, 0);
        match f(&mut out[start..]) {
            Ok(n) => {
                out.truncate(start + n);
                return Ok(());
            }
            Err(e) => match size(&e) {
                Some(needed) if needed > room => room = needed,
                _ => {
                    out.truncate(start);
                    return Err(e);
                }
            },
        }
    }
}

fn encode_size(e: &EncodeError) -> Option<usize> {
    match e {
        EncodeError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(*required_size)
        }
        _ => None,
    }
}

fn encrypt_size(e: &EncryptError) -> Option<usize> {
    match e {
        EncryptError::InsufficientSize(InsufficientSizeError { required_size }) => {
            Some(*required_size)
        }
        _ => None,
    }
}

/// One state of the session handled; `None` to call rustls again.
#[allow(clippy::too_many_arguments)]
fn handle<Data>(
    status: UnbufferedStatus<'_, '_, Data>,
    plain: &mut VecDeque<u8>,
    out: &mut Vec<u8>,
    write: &mut Option<&[u8]>,
    close: &mut bool,
    handshaking: &mut bool,
    peer_closed: &mut bool,
) -> (usize, Result<Option<Step>, rustls::Error>) {
    let UnbufferedStatus { mut discard, state } = status;
    let state = match state {
        Ok(s) => s,
        Err(e) => return (discard, Err(e)),
    };
    let step = match state {
        ConnectionState::ReadTraffic(mut r) => {
            while let Some(record) = r.next_record() {
                match record {
                    Ok(AppDataRecord {
                        discard: d,
                        payload,
                    }) => {
                        discard += d;
                        plain.extend(payload);
                    }
                    Err(e) => return (discard, Err(e)),
                }
            }
            Ok(None)
        }
        // Servers here never accept 0-RTT data (rustls's default), so this
        // state cannot come; it is an error rather than a silent loop.
        ConnectionState::ReadEarlyData(_) => {
            Err(rustls::Error::General("0-RTT data is not accepted".into()))
        }
        ConnectionState::EncodeTlsData(mut e) => {
            match append(out, |buf| e.encode(buf), encode_size) {
                Ok(()) => Ok(None),
                Err(e) => Err(rustls::Error::General(format!(
                    "encoding a handshake message: {e:?}"
                ))),
            }
        }
        ConnectionState::TransmitTlsData(t) => {
            // The bytes are in `out`, which is sent in order before anything later.
            t.done();
            Ok(None)
        }
        ConnectionState::BlockedHandshake => Ok(Some(Step::Input)),
        ConnectionState::WriteTraffic(mut w) => {
            *handshaking = false;
            let mut failed = None;
            if let Some(data) = write.take()
                && let Err(e) = append(out, |buf| w.encrypt(data, buf), encrypt_size)
            {
                failed = Some(e);
            }
            if failed.is_none() && *close {
                *close = false;
                if let Err(e) = append(out, |buf| w.queue_close_notify(buf), encrypt_size) {
                    failed = Some(e);
                }
            }
            match failed {
                Some(e) => Err(rustls::Error::General(format!("encrypting: {e:?}"))),
                None => Ok(Some(Step::Idle)),
            }
        }
        ConnectionState::PeerClosed => {
            *peer_closed = true;
            Ok(None)
        }
        ConnectionState::Closed => {
            *peer_closed = true;
            Ok(Some(Step::Idle))
        }
        // The enum is non-exhaustive; a future state is reported, not ignored.
        _ => Err(rustls::Error::General(
            "unexpected TLS connection state".into(),
        )),
    };
    (discard, step)
}

impl State {
    /// Runs the session on the bytes received so far; encrypts `write`
    /// (and queues close_notify if asked) once the handshake is done.
    /// Everything produced is appended to `out`.
    fn process(&mut self, mut write: Option<&[u8]>, mut close: bool) -> Step {
        let mut failed: Option<rustls::Error> = None;
        // Bounded: each state either consumes input, produces output or stops.
        for _ in 0..10_000 {
            let Self {
                session,
                incoming,
                plain,
                out,
                handshaking,
                peer_closed,
                ..
            } = self;
            let (discard, result) = match session {
                Session::Client(c) => handle(
                    c.process_tls_records(incoming),
                    plain,
                    out,
                    &mut write,
                    &mut close,
                    handshaking,
                    peer_closed,
                ),
                Session::Server(s) => handle(
                    s.process_tls_records(incoming),
                    plain,
                    out,
                    &mut write,
                    &mut close,
                    handshaking,
                    peer_closed,
                ),
            };
            incoming.drain(..discard);
            match result {
                Ok(None) => {}
                Ok(Some(step)) => {
                    if failed.is_some() {
                        break;
                    }
                    return step;
                }
                // After an error rustls hands out the alert it queued, then
                // fails again: send the alert, keep the first error.
                Err(e) => {
                    if failed.is_some() {
                        break;
                    }
                    failed = Some(e);
                }
            }
        }
        let e = failed
            .unwrap_or_else(|| rustls::Error::General("the TLS session made no progress".into()));
        if self.error.is_none() {
            self.error = Some(tls_error(&e));
        }
        Step::Idle
    }
}

/// A TLS session over the TCP flow `F`.
pub struct TlsFlow<F> {
    tcp: F,
    state: RefCell<State>,
    /// Held by the task feeding the session TCP's bytes.
    rx: Lock,
    /// Held by the task sending `out` to TCP.
    tx: Lock,
}

impl<F: TcpFlow> TlsFlow<F> {
    pub(crate) fn new(tcp: F, session: Session) -> Self {
        Self {
            tcp,
            state: RefCell::new(State {
                session,
                incoming: Vec::new(),
                plain: VecDeque::new(),
                out: Vec::new(),
                handshaking: true,
                peer_closed: false,
                close_queued: false,
                error: None,
            }),
            rx: Lock::default(),
            tx: Lock::default(),
        }
    }

    /// Sends what the session produced, in order.
    async fn flush(&self) -> Result<(), TcpError> {
        let _tx = self.tx.lock().await;
        loop {
            let out = core::mem::take(&mut self.state.borrow_mut().out);
            if out.is_empty() {
                return Ok(());
            }
            self.tcp.write(&out).await?;
        }
    }

    /// Feeds the session until `done` holds, the session fails or the
    /// peer closes.
    async fn pump(&self, done: impl Fn(&State) -> bool) -> Result<(), TcpError> {
        let _rx = self.rx.lock().await;
        let mut buf = vec![0u8; READ];
        loop {
            self.state.borrow_mut().process(None, false);
            self.flush().await?;
            {
                let st = self.state.borrow();
                if let Some(e) = &st.error {
                    return Err(e.clone());
                }
                if done(&st) || st.peer_closed {
                    return Ok(());
                }
            }
            let n = self.tcp.read(&mut buf).await?;
            let mut st = self.state.borrow_mut();
            if n == 0 {
                st.peer_closed = true;
                if st.handshaking {
                    let e =
                        TcpError::Tls("the peer closed the connection during the handshake".into());
                    st.error = Some(e.clone());
                    return Err(e);
                }
                return Ok(());
            }
            st.incoming.extend_from_slice(&buf[..n]);
        }
    }

    fn failed(&self) -> Option<TcpError> {
        self.state.borrow().error.clone()
    }
}

impl<F: TcpFlow> TcpFlow for TlsFlow<F> {
    async fn read(&self, buf: &mut [u8]) -> Result<usize, TcpError> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut st = self.state.borrow_mut();
                if !st.plain.is_empty() {
                    let n = buf.len().min(st.plain.len());
                    for (dst, src) in buf.iter_mut().zip(st.plain.drain(..n)) {
                        *dst = src;
                    }
                    return Ok(n);
                }
                if let Some(e) = &st.error {
                    return Err(e.clone());
                }
                if st.peer_closed {
                    return Ok(0);
                }
            }
            self.pump(|st| !st.plain.is_empty()).await?;
        }
    }

    async fn write(&self, data: &[u8]) -> Result<(), TcpError> {
        self.handshake().await?;
        for chunk in data.chunks(CHUNK) {
            let step = self.state.borrow_mut().process(Some(chunk), false);
            if let Some(e) = self.failed() {
                return Err(e);
            }
            if step != Step::Idle {
                return Err(TcpError::Tls(
                    "the session cannot send application data now".into(),
                ));
            }
            self.flush().await?;
        }
        Ok(())
    }

    async fn shutdown_write(&self) -> Result<(), TcpError> {
        self.send_close_notify().await?;
        self.tcp.shutdown_write().await
    }

    async fn close(&self) -> Result<(), TcpError> {
        // A failed session has sent its alert already; close_notify is for clean ends.
        if self.failed().is_none() && !self.state.borrow().handshaking {
            let _ = self.send_close_notify().await;
        }
        self.tcp.close().await
    }

    fn peer(&self) -> SocketAddrV4 {
        self.tcp.peer()
    }
}

impl<F: TcpFlow> TlsFlow<F> {
    async fn send_close_notify(&self) -> Result<(), TcpError> {
        {
            let mut st = self.state.borrow_mut();
            if st.close_queued {
                return Ok(());
            }
            st.close_queued = true;
            st.process(None, true);
        }
        self.flush().await
    }
}

impl<F: TcpFlow> ConduitFlow for TlsFlow<F> {
    async fn handshake(&self) -> Result<(), TcpError> {
        if let Some(e) = self.failed() {
            return Err(e);
        }
        if !self.state.borrow().handshaking {
            return Ok(());
        }
        self.pump(|st| !st.handshaking).await?;
        if self.state.borrow().handshaking {
            return Err(TcpError::Tls(
                "the peer closed the connection during the handshake".into(),
            ));
        }
        Ok(())
    }

    fn alpn(&self) -> Option<Vec<u8>> {
        let st = self.state.borrow();
        match &st.session {
            Session::Client(c) => c.alpn_protocol().map(<[u8]>::to_vec),
            Session::Server(s) => s.alpn_protocol().map(<[u8]>::to_vec),
        }
    }

    fn tls_version(&self) -> Option<&'static str> {
        let st = self.state.borrow();
        let v = match &st.session {
            Session::Client(c) => c.protocol_version(),
            Session::Server(s) => s.protocol_version(),
        };
        match v? {
            ProtocolVersion::TLSv1_3 => Some("TLSv1.3"),
            ProtocolVersion::TLSv1_2 => Some("TLSv1.2"),
            _ => Some("TLS"),
        }
    }
}
