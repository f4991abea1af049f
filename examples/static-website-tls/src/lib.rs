//! mirage-skeleton applications/static_website_tls: the files of the "data" store over
//! HTTPS (TLS 1.3 or 1.2, then HTTP/1.1: keep-alive, byte ranges, HEAD, limits), with the
//! certificate chain and key of the "certs" store. `--connections=N` stops it after N
//! connections, once they are served, logging the stack's counters on one line.

#![no_std]

extern crate alloc;

use alloc::format;
use alloc::vec;

use unik_http::Http;
use unik_http::files::Files;
use unik_rt::{JobError, KvRo, TlsServerConfig};

pub struct Server;

impl Server {
    pub async fn start<D: KvRo, C: KvRo, H: Http>(
        data: &'static D,
        certs: &'static C,
        http: &'static H,
    ) -> Result<(), JobError> {
        let port = unik_rt::keys::int("https-port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--https-port={port} is not a TCP port")))?;
        let limit = unik_rt::keys::int("connections")?;
        let limit = u64::try_from(limit)
            .map_err(|_| JobError::new(format!("--connections={limit} is negative")))?;
        let mut tls = TlsServerConfig::from_store(certs, "server.pem", "server.key").await?;
        tls.alpn = vec![b"http/1.1".to_vec()];
        let files = unik_rt::leak(Files::new(data));
        let served = http.listen(port, Some(&tls), files, limit).await;
        unik_rt::log::info!(target: "http", "{}", http.stats());
        served
    }
}
