//! Name servers as the `--dns-servers` boot key gives them: a comma-separated list of
//! `udp:IP[:PORT]`, `tcp:IP[:PORT]` or a bare `IP` (UDP, port 53). IPv6 addresses take
//! brackets when a port follows (`udp:[2001:db8::1]:5353`). A UDP server is asked over
//! UDP, and over TCP when its answer comes truncated; a TCP server only over TCP.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, SocketAddr};

/// The key's default: the host side of the catalogue's default network (the
/// `--ipv4-gateway` default), where a local resolver such as dnsmasq answers.
pub const DEFAULT: &str = "udp:10.0.0.1:53";

/// How a server is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// UDP, falling back to TCP for truncated answers.
    Udp,
    /// TCP only.
    Tcp,
}

/// One name server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server {
    pub proto: Proto,
    pub addr: SocketAddr,
}

impl fmt::Display for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = match self.proto {
            Proto::Udp => "udp",
            Proto::Tcp => "tcp",
        };
        write!(f, "{p}:{}", self.addr)
    }
}

/// Parses the key's value; an empty list is an error (a resolver needs a server).
pub fn parse(text: &str) -> Result<Vec<Server>, String> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            continue;
        }
        out.push(parse_one(item)?);
    }
    if out.is_empty() {
        return Err(String::from("--dns-servers lists no server"));
    }
    Ok(out)
}

fn parse_one(item: &str) -> Result<Server, String> {
    let bad = || {
        format!(
            "--dns-servers: `{item}` is not udp:IP[:PORT], tcp:IP[:PORT] or IP (IPv6 with a port in brackets)"
        )
    };
    let (proto, rest) = if let Some(r) = item.strip_prefix("udp:") {
        (Proto::Udp, r)
    } else if let Some(r) = item.strip_prefix("tcp:") {
        (Proto::Tcp, r)
    } else {
        (Proto::Udp, item)
    };
    let addr = if let Ok(ip) = rest.parse::<IpAddr>() {
        SocketAddr::new(ip, 53)
    } else if let Ok(sa) = rest.parse::<SocketAddr>() {
        sa
    } else if let Some(inner) = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        SocketAddr::new(inner.parse::<IpAddr>().map_err(|_| bad())?, 53)
    } else {
        return Err(bad());
    };
    if addr.port() == 0 {
        return Err(bad());
    }
    Ok(Server { proto, addr })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_form_parses() {
        let s =
            parse("10.0.0.1, udp:10.0.0.2:5353,tcp:192.0.2.1,::1,udp:[2001:db8::1]:54,tcp:[::2]")
                .unwrap();
        let shown: Vec<String> = s.iter().map(|s| s.to_string()).collect();
        assert_eq!(
            shown,
            [
                "udp:10.0.0.1:53",
                "udp:10.0.0.2:5353",
                "tcp:192.0.2.1:53",
                "udp:[::1]:53",
                "udp:[2001:db8::1]:54",
                "tcp:[::2]:53"
            ]
        );
        assert_eq!(parse(DEFAULT).unwrap()[0].to_string(), DEFAULT);
    }

    #[test]
    fn bad_forms_are_explained() {
        assert_eq!(parse(" , ").unwrap_err(), "--dns-servers lists no server");
        for bad in [
            "tls:1.2.3.4",
            "udp:",
            "example.com",
            "1.2.3.4:0",
            "udp:1.2.3.4:99999",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
