//! mirage-skeleton applications/static_website (without TLS): the files of a read-only
//! store over `cohttp_server` (HTTP/1.1: GET and HEAD, `index.html` for directories,
//! keep-alive, byte ranges). `--connections=N` stops it after N connections, once they are
//! served, logging the stack's counters on one line.

#![no_std]

extern crate alloc;

use alloc::format;

use unik_http::Http;
use unik_http::files::Files;
use unik_rt::{JobError, KvRo};

pub struct Server;

impl Server {
    pub async fn start<K: KvRo, H: Http>(
        kv: &'static K,
        http: &'static H,
    ) -> Result<(), JobError> {
        let port = unik_rt::keys::int("port")?;
        let port = u16::try_from(port)
            .map_err(|_| JobError::new(format!("--port={port} is not a TCP port")))?;
        let limit = unik_rt::keys::int("connections")?;
        let limit = u64::try_from(limit)
            .map_err(|_| JobError::new(format!("--connections={limit} is negative")))?;
        let files = unik_rt::leak(Files::new(kv));
        let served = http.listen(port, None, files, limit).await;
        unik_rt::log::info!(target: "http", "{}", http.stats());
        served
    }
}
