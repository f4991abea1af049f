//! SYN cookies (RFC 4987 3.6): with a listener's half-open table full, the SYN-ACK's initial
//! sequence number carries what the connection needs, and the connection is created only when
//! the peer's ACK returns it. Layout of the 32 bits:
//!
//! ```text
//! 31            8 7   6 5   4 3       0
//! | keyed hash   | age | mss | wscale  |
//! ```
//!
//! `age` is a 64-second counter (mod 4); a cookie is valid in its period and the next. `mss`
//! indexes [`MSS_TABLE`] (the largest entry not above the peer's MSS); `wscale` is the peer's
//! window scale, 15 when it sent none. The stack sends neither SACK nor timestamps, so no
//! other option needs encoding. The hash (SipHash-2-4 under a per-boot key, 24 bits) covers
//! the addresses, ports, the peer's ISN, the full counter and the low 8 bits: a forged ACK is
//! accepted with probability 2^-24.

#![allow(deprecated)] // core's SipHasher: SipHash-2-4, kept in core, the keyed PRF we need.

use core::hash::{Hasher, SipHasher};
use core::net::{IpAddr, SocketAddr};

use crate::tcp::Seq;
use crate::time::Instant;

pub const MSS_TABLE: [u16; 4] = [536, 1220, 1440, 1460];
const PERIOD_NS: u64 = 64_000_000_000;
const NO_WSCALE: u32 = 15;

/// What a valid cookie gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decoded {
    pub iss: Seq,
    pub irs: Seq,
    pub mss: u16,
    pub wscale: Option<u8>,
}

fn counter(now: Instant) -> u64 {
    now.as_nanos() / PERIOD_NS
}

fn hash(
    key: (u64, u64),
    local: SocketAddr,
    remote: SocketAddr,
    peer_isn: u32,
    count: u64,
    low: u32,
) -> u32 {
    let mut h = SipHasher::new_with_keys(key.0, key.1);
    for a in [local, remote] {
        match a.ip() {
            IpAddr::V4(ip) => h.write_u32(ip.to_bits()),
            IpAddr::V6(ip) => h.write_u128(ip.to_bits()),
        }
        h.write_u16(a.port());
    }
    h.write_u32(peer_isn);
    h.write_u64(count);
    h.write_u32(low);
    (h.finish() as u32) & 0xffff_ff00
}

/// The ISS of the SYN-ACK answering a SYN with sequence number `peer_isn`, MSS option `mss`
/// and window scale option `wscale`.
pub fn make(
    key: (u64, u64),
    now: Instant,
    local: impl Into<SocketAddr>,
    remote: impl Into<SocketAddr>,
    peer_isn: u32,
    mss: Option<u16>,
    wscale: Option<u8>,
) -> u32 {
    let (local, remote) = (local.into(), remote.into());
    let peer_mss = mss.unwrap_or(536);
    let mss_index = MSS_TABLE.iter().rposition(|&m| m <= peer_mss).unwrap_or(0) as u32;
    let ws = wscale.map_or(NO_WSCALE, |w| u32::from(w.min(14)));
    let count = counter(now);
    let low = ((count as u32 & 3) << 6) | (mss_index << 4) | ws;
    hash(key, local, remote, peer_isn, count, low) | low
}

/// Checks the ACK completing a cookie handshake: `seq` and `ack` are its sequence and
/// acknowledgement numbers.
pub fn check(
    key: (u64, u64),
    now: Instant,
    local: impl Into<SocketAddr>,
    remote: impl Into<SocketAddr>,
    seq: u32,
    ack: u32,
) -> Option<Decoded> {
    let (local, remote) = (local.into(), remote.into());
    let cookie = ack.wrapping_sub(1);
    let peer_isn = seq.wrapping_sub(1);
    let low = cookie & 0xff;
    let now_count = counter(now);
    // The period the cookie names: this one, or the one before.
    let count = [now_count, now_count.wrapping_sub(1)]
        .into_iter()
        .find(|c| (*c as u32 & 3) == low >> 6)?;
    if hash(key, local, remote, peer_isn, count, low) != cookie & 0xffff_ff00 {
        return None;
    }
    let ws = low & 0xf;
    Some(Decoded {
        iss: Seq(cookie),
        irs: Seq(peer_isn),
        mss: MSS_TABLE[((low >> 4) & 3) as usize],
        wscale: (ws != NO_WSCALE).then_some(ws.min(14) as u8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::{Ipv4Addr, SocketAddrV4};

    const KEY: (u64, u64) = (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210);
    const L: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80);
    const R: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 40000);

    #[test]
    fn round_trip_encodes_mss_and_window_scale() {
        let t = Instant::from_secs(1000);
        for (mss, ws, want_mss) in [
            (Some(1460), Some(7), 1460),
            (Some(1400), None, 1220),
            (None, Some(0), 536),
            (Some(9000), Some(14), 1460),
            (Some(100), Some(3), 536),
        ] {
            let c = make(KEY, t, L, R, 777, mss, ws);
            let d = check(KEY, t, L, R, 778, c.wrapping_add(1)).unwrap();
            assert_eq!(d.iss, Seq(c));
            assert_eq!(d.irs, Seq(777));
            assert_eq!(d.mss, want_mss);
            assert_eq!(d.wscale, ws);
        }
    }

    #[test]
    fn rejects_other_tuples_isns_keys_and_old_cookies() {
        let t = Instant::from_secs(1000);
        let c = make(KEY, t, L, R, 777, Some(1460), Some(7)).wrapping_add(1);
        let other = SocketAddrV4::new(*R.ip(), 40001);
        assert!(check(KEY, t, L, other, 778, c).is_none());
        assert!(check(KEY, t, L, R, 779, c).is_none());
        assert!(check((1, 2), t, L, R, 778, c).is_none());
        assert!(
            check(KEY, t, L, R, 778, c ^ 0x10).is_none(),
            "MSS bits are authenticated"
        );
        // Valid through the next 64-second period, not after.
        assert!(check(KEY, Instant::from_secs(1000 + 63), L, R, 778, c).is_some());
        assert!(check(KEY, Instant::from_secs(1000 + 130), L, R, 778, c).is_none());
    }
}
