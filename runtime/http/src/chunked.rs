//! The chunked transfer coding (RFC 9112 §7.1), decoded incrementally.

use alloc::vec::Vec;

/// Longest chunk-size line (size and extensions) accepted.
const MAX_LINE: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Size,
    Data(u64),
    DataEnd,
    Trailer,
    Done,
}

/// Why a chunked body was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkError {
    Malformed,
    /// The decoded body would exceed the limit.
    TooLarge,
    /// The trailer section exceeds the limit.
    TrailerTooLarge,
}

#[derive(Clone, Debug)]
pub(crate) struct Decoder {
    state: State,
    trailer: usize,
}

impl Decoder {
    pub(crate) fn new() -> Decoder {
        Decoder {
            state: State::Size,
            trailer: 0,
        }
    }

    /// Decodes from `input` into `body`; returns the bytes consumed and
    /// whether the body is complete. Bytes of an incomplete line are left
    /// unconsumed for the next call.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        body: &mut Vec<u8>,
        max_body: usize,
        max_trailer: usize,
    ) -> Result<(usize, bool), ChunkError> {
        let mut at = 0;
        loop {
            let rest = &input[at..];
            match self.state {
                State::Done => return Ok((at, true)),
                State::Size => {
                    let Some(end) = line(rest) else {
                        if rest.len() > MAX_LINE {
                            return Err(ChunkError::Malformed);
                        }
                        return Ok((at, false));
                    };
                    if end > MAX_LINE {
                        return Err(ChunkError::Malformed);
                    }
                    let text = &rest[..end];
                    let digits = text.split(|b| *b == b';').next().unwrap_or(&[]);
                    let digits = digits.trim_ascii_end();
                    if digits.is_empty() || digits.len() > 15 {
                        return Err(ChunkError::Malformed);
                    }
                    let mut size: u64 = 0;
                    for d in digits {
                        let v = (*d as char).to_digit(16).ok_or(ChunkError::Malformed)?;
                        size = size * 16 + u64::from(v);
                    }
                    at += end + 2;
                    if size == 0 {
                        self.state = State::Trailer;
                    } else {
                        if body.len() as u64 + size > max_body as u64 {
                            return Err(ChunkError::TooLarge);
                        }
                        self.state = State::Data(size);
                    }
                }
                State::Data(left) => {
                    if rest.is_empty() {
                        return Ok((at, false));
                    }
                    let n = rest.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    body.extend_from_slice(&rest[..n]);
                    at += n;
                    let left = left - n as u64;
                    self.state = if left == 0 {
                        State::DataEnd
                    } else {
                        State::Data(left)
                    };
                }
                State::DataEnd => {
                    if rest.len() < 2 {
                        return Ok((at, false));
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(ChunkError::Malformed);
                    }
                    at += 2;
                    self.state = State::Size;
                }
                State::Trailer => {
                    let Some(end) = line(rest) else {
                        if self.trailer + rest.len() > max_trailer {
                            return Err(ChunkError::TrailerTooLarge);
                        }
                        return Ok((at, false));
                    };
                    self.trailer += end + 2;
                    if self.trailer > max_trailer {
                        return Err(ChunkError::TrailerTooLarge);
                    }
                    at += end + 2;
                    if end == 0 {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

/// The length of the line at the start of `bytes`, without its CRLF.
fn line(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

/// One chunk of `data` in the chunked coding (nothing for empty data: an
/// empty chunk would end the body).
pub fn encode_chunk(data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        return;
    }
    out.extend_from_slice(alloc::format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The last chunk, with no trailers.
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Result<(usize, bool, Vec<u8>), ChunkError> {
        let mut body = Vec::new();
        let (n, done) = Decoder::new().decode(input, &mut body, 1 << 20, 1024)?;
        Ok((n, done, body))
    }

    #[test]
    fn decodes_chunks_extensions_and_trailers() {
        let input = b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\nNEXT";
        let (n, done, body) = all(input).unwrap();
        assert!(done);
        assert_eq!(body, b"hello world");
        assert_eq!(&input[n..], b"NEXT");
    }

    #[test]
    fn byte_by_byte_gives_the_same_body() {
        let input = b"a\r\n0123456789\r\n1\r\nX\r\n0\r\n\r\n";
        let mut d = Decoder::new();
        let mut body = Vec::new();
        let mut buf = Vec::new();
        let mut done = false;
        for b in input {
            buf.push(*b);
            let (n, fin) = d.decode(&buf, &mut body, 100, 100).unwrap();
            buf.drain(..n);
            done = fin;
        }
        assert!(done);
        assert_eq!(body, b"0123456789X");
        assert!(buf.is_empty());
    }

    #[test]
    fn refuses_bad_sizes_missing_crlf_and_large_bodies() {
        assert_eq!(all(b"zz\r\n").unwrap_err(), ChunkError::Malformed);
        assert_eq!(all(b"\r\n").unwrap_err(), ChunkError::Malformed);
        assert_eq!(all(b"3\r\nabcXY").unwrap_err(), ChunkError::Malformed);
        assert_eq!(
            all(b"ffffffffffffffffff\r\n").unwrap_err(),
            ChunkError::Malformed
        );
        let mut body = Vec::new();
        assert_eq!(
            Decoder::new()
                .decode(b"11\r\n", &mut body, 16, 100)
                .unwrap_err(),
            ChunkError::TooLarge
        );
    }

    #[test]
    fn encodes_what_it_decodes() {
        let mut out = Vec::new();
        encode_chunk(b"hello", &mut out);
        encode_chunk(b"", &mut out);
        encode_chunk(&[7u8; 300], &mut out);
        out.extend_from_slice(LAST_CHUNK);
        let (n, done, body) = all(&out).unwrap();
        assert!(done);
        assert_eq!(n, out.len());
        assert_eq!(body.len(), 305);
    }
}
