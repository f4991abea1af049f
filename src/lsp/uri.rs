//! `file://` URIs ↔ paths. Only local files are served; other schemes
//! (untitled buffers, remote files) are ignored by the server.

use lsp_types::Uri;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The path of a `file://` URI, percent-decoded.
pub fn to_path(uri: &Uri) -> Option<PathBuf> {
    let s = uri.as_str();
    let rest = s.strip_prefix("file://")?;
    // `file://host/path` names a remote host; only the local form is served.
    let path = if rest.starts_with('/') {
        rest
    } else {
        rest.strip_prefix("localhost")?
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let bytes = decode(path)?;
    let text = String::from_utf8(bytes).ok()?;
    Some(unik_lang::path::normalize(Path::new(&text)))
}

/// The `file://` URI of an absolute path.
pub fn from_path(path: &Path) -> Option<Uri> {
    let text = path.to_str()?;
    let mut out = String::from("file://");
    for b in text.bytes() {
        let plain = b.is_ascii_alphanumeric() || b"/-._~".contains(&b);
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Uri::from_str(&out).ok()
}

fn decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_spaces_and_non_ascii() {
        let p = Path::new("/tmp/a dir/ünïk #1.unik");
        let uri = from_path(p).expect("a valid URI");
        assert_eq!(
            uri.as_str(),
            "file:///tmp/a%20dir/%C3%BCn%C3%AFk%20%231.unik"
        );
        assert_eq!(to_path(&uri).as_deref(), Some(p));
    }

    #[test]
    fn other_schemes_are_not_files() {
        let uri = Uri::from_str("untitled:Untitled-1").expect("a URI");
        assert_eq!(to_path(&uri), None);
        let uri = Uri::from_str("file://server/share/x.unik").expect("a URI");
        assert_eq!(to_path(&uri), None);
    }
}
