//! mirage-skeleton device-usage/http-fetch (plain HTTP): GET the `--uri` URL and print
//! the status line and the body's length; a failed fetch is the job's error.

#![no_std]

extern crate alloc;

use alloc::format;

use unik_http::HttpClient;
use unik_rt::{Console, JobError};

pub struct Fetch;

impl Fetch {
    pub async fn start(
        console: &'static impl Console,
        http: &'static impl HttpClient,
    ) -> Result<(), JobError> {
        let uri = unik_rt::keys::string("uri")?;
        let resp = http
            .get(&uri)
            .await
            .map_err(|e| JobError::new(format!("{uri}: {e}")))?;
        console.log(&format!("{uri}: {} {}", resp.status, resp.reason))?;
        console.log(&format!("body: {} bytes", resp.body.len()))?;
        Ok(())
    }
}
