//! HTTP/1.1 for unikc unikernels, written by hand over `httparse`.
//!
//! The protocol is sans-IO: [`server::RequestReader`] turns received bytes
//! into complete requests (or the 4xx/5xx answer a malformed or too-large
//! one gets), [`client::ResponseReader`] does the same for responses, and
//! the encoders build the bytes to send. The drivers ([`serve`],
//! [`Client`]) run them over any [`unik_rt::TcpFlow`], the byte stream of
//! the plain TCP stacks and of anything else that implements it (TLS).
//! The catalogue's `cohttp_server` and `cohttp_client` are [`device`].

#![no_std]
// The traits are used by single-threaded executors: no `Send` bounds to name.
#![allow(async_fn_in_trait)]

extern crate alloc;

mod chunked;
pub mod client;
pub mod device;
pub mod files;
mod io;
pub mod range;
pub mod server;

pub use client::{ClientError, Response as ClientResponse};
pub use device::{Http, HttpClient};
pub use io::{Client, Handler, Response, serve};
pub use server::{Limits, Request};

use alloc::string::String;
use alloc::vec::Vec;

/// A header list: names as received, values as bytes.
pub type Headers = Vec<(String, Vec<u8>)>;

/// The value of header `name` (case-insensitive), the first if repeated.
pub fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// Whether the comma-separated header `name` lists `token` (case-insensitive).
pub(crate) fn lists(headers: &[(String, Vec<u8>)], name: &str, token: &str) -> bool {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(|b| *b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
