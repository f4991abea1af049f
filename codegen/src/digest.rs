//! The content digest of a file set, shared by the build script (which
//! packs the runtime) and the library (which checks a materialised copy).

use sha2::{Digest, Sha256};

/// SHA-256 over `(path, length, contents)` of every file, in the given
/// order, as lowercase hex. Paths use `/` and are relative to the bundle.
pub fn of_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut h = Sha256::new();
    for (path, data) in files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update((data.len() as u64).to_le_bytes());
        h.update(data);
    }
    hex(&h.finalize())
}

/// SHA-256 of one byte string, as lowercase hex.
#[allow(dead_code)] // the build script only needs `of_files`
pub fn of_bytes(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}
