//! mirage-skeleton device-usage/http-fetch: GET the `--uri` URL (`http://` or
//! `https://`, the server verified against the authorities of the store, `ca.pem`) and
//! print the status line and the body's length; a failed fetch (a refused certificate
//! included) is the job's error: one line, and the exit status is 1.

#![no_std]

extern crate alloc;

use alloc::format;

use unik_http::HttpClient;
use unik_rt::{Console, JobError, Key, KvRo};

pub struct Fetch;

impl Fetch {
    pub async fn start(
        console: &'static impl Console,
        ca: &'static impl KvRo,
        http: &'static impl HttpClient,
    ) -> Result<(), JobError> {
        let uri = unik_rt::keys::string("uri")?;
        http.authorities(ca.get(&Key::parse("ca.pem")?).await?);
        let resp = http
            .get(&uri)
            .await
            .map_err(|e| JobError::new(format!("{uri}: {e}")))?;
        console.log(&format!("{uri}: {} {}", resp.status, resp.reason))?;
        console.log(&format!("body: {} bytes", resp.body.len()))?;
        Ok(())
    }
}
