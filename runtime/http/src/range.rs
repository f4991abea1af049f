//! `Range: bytes=…` requests (RFC 9110 §14) over a representation of known
//! size. One range is served; a list of several is answered with the whole
//! representation, which the RFC allows.

/// What to answer to a request's `Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// No range, or one to ignore: the whole representation, 200.
    Whole,
    /// Bytes `start..end` (end exclusive), 206.
    Part { start: u64, end: u64 },
    /// No byte of the range exists, 416.
    Unsatisfiable,
}

/// The range `header` asks for in a representation of `size` bytes.
pub fn of(header: Option<&[u8]>, size: u64) -> Range {
    let Some(h) = header else {
        return Range::Whole;
    };
    let Some(spec) = h.trim_ascii().strip_prefix(b"bytes=") else {
        return Range::Whole;
    };
    if spec.contains(&b',') {
        return Range::Whole;
    }
    let Some(dash) = spec.iter().position(|b| *b == b'-') else {
        return Range::Whole;
    };
    let (first, last) = (spec[..dash].trim_ascii(), spec[dash + 1..].trim_ascii());
    let num = |v: &[u8]| crate::server::parse_length(v);
    match (first.is_empty(), last.is_empty()) {
        // `bytes=-N`: the last N bytes.
        (true, false) => match num(last) {
            Some(0) => Range::Unsatisfiable,
            Some(_) if size == 0 => Range::Unsatisfiable,
            Some(n) => Range::Part {
                start: size.saturating_sub(n),
                end: size,
            },
            None => Range::Whole,
        },
        // `bytes=A-` and `bytes=A-B`.
        (false, open) => {
            let Some(start) = num(first) else {
                return Range::Whole;
            };
            let end = if open {
                size
            } else {
                match num(last) {
                    Some(b) if b >= start => b.saturating_add(1).min(size),
                    _ => return Range::Whole,
                }
            };
            if start >= size {
                Range::Unsatisfiable
            } else {
                Range::Part { start, end }
            }
        }
        (true, true) => Range::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r = |h: &str| of(Some(h.as_bytes()), 100);
        assert_eq!(of(None, 100), Range::Whole);
        assert_eq!(r("bytes=0-9"), Range::Part { start: 0, end: 10 });
        assert_eq!(
            r("bytes=90-"),
            Range::Part {
                start: 90,
                end: 100
            }
        );
        assert_eq!(
            r("bytes=90-500"),
            Range::Part {
                start: 90,
                end: 100
            }
        );
        assert_eq!(
            r("bytes=-10"),
            Range::Part {
                start: 90,
                end: 100
            }
        );
        assert_eq!(r("bytes=-500"), Range::Part { start: 0, end: 100 });
        assert_eq!(r("bytes=100-"), Range::Unsatisfiable);
        assert_eq!(r("bytes=-0"), Range::Unsatisfiable);
        assert_eq!(r("bytes=5-1"), Range::Whole);
        assert_eq!(r("bytes=0-1,5-6"), Range::Whole);
        assert_eq!(r("items=0-1"), Range::Whole);
        assert_eq!(r("bytes=x-1"), Range::Whole);
        assert_eq!(of(Some(b"bytes=-5"), 0), Range::Unsatisfiable);
    }
}
