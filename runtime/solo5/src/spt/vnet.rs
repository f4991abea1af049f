//! Frames behind a `virtio_net_hdr` on an spt tap, when unikc-spt
//! negotiated it ([`crate::abi::MftEntry::net_vnet_hdr`]): one write
//! carries up to 64 KB of TCP that the host kernel segments (TSO), and one
//! read may bring a TCP segment the kernel coalesced, its checksum partial
//! or already verified. Outside the Solo5 API: plain frames are what
//! `solo5_net_read/write` carry, and what every other tender gets.

use super::sys;
use crate::devices::Error;

/// `struct virtio_net_hdr` (legacy, without `num_buffers`).
pub const HDR: usize = 10;
pub const F_NEEDS_CSUM: u8 = 1;
pub const F_DATA_VALID: u8 = 2;
pub const GSO_NONE: u8 = 0;
pub const GSO_TCPV4: u8 = 1;
pub const GSO_TCPV6: u8 = 4;
/// Largest IPv4 packet, hence the largest TSO frame's payload (an IPv6
/// one's header included; coalesced IPv6 packets may be 40 bytes larger).
pub const MAX_PACKET: usize = 65_535;
const ETHERNET_HEADER: usize = 14;

/// Write one buffer: header then frame.
pub fn write(fd: i32, hdr_and_frame: &[u8]) -> Result<(), Error> {
    match sys::write(fd, hdr_and_frame) {
        n if n == hdr_and_frame.len() as i64 => Ok(()),
        _ => Err(Error::Unspecified),
    }
}

/// Read one frame into `buf`, its header into `hdr`; the frame's length.
pub fn read(fd: i32, hdr: &mut [u8; HDR], buf: &mut [u8]) -> Result<usize, Error> {
    match sys::readv2(fd, hdr, buf) {
        0 => Err(Error::Again),
        n if n == -sys::EAGAIN => Err(Error::Again),
        n if n < HDR as i64 => Err(Error::Unspecified),
        n => Ok(n as usize - HDR),
    }
}

/// The header for an Ethernet/IPv4/TCP or Ethernet/IPv6/TCP frame (TCP
/// right behind the fixed IPv6 header) whose TCP checksum field holds the
/// pseudo-header sum: the host completes the checksum, and cuts the payload
/// into `mss`-byte segments when it is larger.
pub fn tso_header(frame: &[u8], mss: usize) -> Option<[u8; HDR]> {
    let ip = ETHERNET_HEADER;
    let (tcp, gso) = match frame.get(12..14)? {
        [0x08, 0x00] if frame.len() >= ip + 20 && frame[ip + 9] == 6 => {
            (ip + usize::from(frame[ip] & 0x0f) * 4, GSO_TCPV4)
        }
        [0x86, 0xdd] if frame.len() >= ip + 40 && frame[ip + 6] == 6 => (ip + 40, GSO_TCPV6),
        _ => return None,
    };
    if frame.len() < tcp + 20 {
        return None;
    }
    let hdr_len = tcp + usize::from(frame[tcp + 12] >> 4) * 4;
    let mss = u16::try_from(mss).ok().filter(|&m| m > 0)?;
    if hdr_len > frame.len() {
        return None;
    }
    let segments = frame.len() - hdr_len > usize::from(mss);
    let mut h = [0u8; HDR];
    h[0] = F_NEEDS_CSUM;
    h[1] = if segments { gso } else { GSO_NONE };
    h[2..4].copy_from_slice(&(hdr_len as u16).to_le_bytes());
    h[4..6].copy_from_slice(&(if segments { mss } else { 0 }).to_le_bytes());
    h[6..8].copy_from_slice(&(tcp as u16).to_le_bytes());
    h[8..10].copy_from_slice(&16u16.to_le_bytes());
    Some(h)
}

/// For a consumer of plain frames: finish a checksum the host left partial
/// (`NEEDS_CSUM`: the field holds the pseudo-header sum, the rest is to be
/// summed from `csum_start`). False if the header describes something a
/// plain frame cannot be (a coalesced segment, or offsets outside it).
pub fn complete_checksum(hdr: &[u8; HDR], frame: &mut [u8]) -> bool {
    if hdr[1] != GSO_NONE {
        return false;
    }
    if hdr[0] & F_NEEDS_CSUM == 0 {
        return true;
    }
    let start = usize::from(u16::from_le_bytes([hdr[6], hdr[7]]));
    let field = start + usize::from(u16::from_le_bytes([hdr[8], hdr[9]]));
    if start >= frame.len() || field + 2 > frame.len() {
        return false;
    }
    let mut sum = 0u64;
    let mut chunks = frame[start..].chunks_exact(2);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    frame[field..field + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ethernet + IPv4 (20) + TCP (20) + `payload` bytes.
    fn frame(payload: usize) -> alloc::vec::Vec<u8> {
        let mut f = alloc::vec![0u8; 14 + 40 + payload];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        f[14] = 0x45;
        f[14 + 9] = 6;
        f[34 + 12] = 5 << 4;
        f
    }

    #[test]
    fn tso_headers() {
        let h = tso_header(&frame(4000), 1448).unwrap();
        assert_eq!((h[0], h[1]), (F_NEEDS_CSUM, GSO_TCPV4));
        assert_eq!(u16::from_le_bytes([h[2], h[3]]), 54, "hdr_len");
        assert_eq!(u16::from_le_bytes([h[4], h[5]]), 1448, "gso_size");
        assert_eq!(u16::from_le_bytes([h[6], h[7]]), 34, "csum_start");
        assert_eq!(u16::from_le_bytes([h[8], h[9]]), 16, "csum_offset");
        let small = tso_header(&frame(100), 1448).unwrap();
        assert_eq!((small[1], small[4], small[5]), (GSO_NONE, 0, 0));
        let mut udp = frame(10);
        udp[14 + 9] = 17;
        assert!(tso_header(&udp, 1448).is_none(), "TCP only");
        assert!(tso_header(&frame(10)[..40], 1448).is_none(), "truncated");
        assert!(tso_header(&frame(10), 0).is_none(), "mss 0");
    }

    /// Ethernet + IPv6 (40) + TCP (20) + `payload` bytes.
    fn frame6(payload: usize) -> alloc::vec::Vec<u8> {
        let mut f = alloc::vec![0u8; 14 + 60 + payload];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[14] = 0x60;
        f[14 + 6] = 6;
        f[54 + 12] = 5 << 4;
        f
    }

    #[test]
    fn tso_headers_over_ipv6() {
        let h = tso_header(&frame6(4000), 1428).unwrap();
        assert_eq!((h[0], h[1]), (F_NEEDS_CSUM, GSO_TCPV6));
        assert_eq!(u16::from_le_bytes([h[2], h[3]]), 74, "hdr_len");
        assert_eq!(u16::from_le_bytes([h[4], h[5]]), 1428, "gso_size");
        assert_eq!(u16::from_le_bytes([h[6], h[7]]), 54, "csum_start");
        assert_eq!(u16::from_le_bytes([h[8], h[9]]), 16, "csum_offset");
        let small = tso_header(&frame6(100), 1428).unwrap();
        assert_eq!((small[1], small[4], small[5]), (GSO_NONE, 0, 0));
        let mut ext = frame6(10);
        ext[14 + 6] = 0; // a hop-by-hop header first: not at a fixed offset
        assert!(
            tso_header(&ext, 1428).is_none(),
            "TCP right behind the header only"
        );
        assert!(
            tso_header(&frame6(10)[..70], 1428).is_none(),
            "truncated TCP"
        );
        assert!(
            tso_header(&frame6(10)[..40], 1428).is_none(),
            "truncated IPv6"
        );
        let mut other = frame6(10);
        other[12..14].copy_from_slice(&[0x08, 0x06]);
        assert!(tso_header(&other, 1428).is_none(), "neither IPv4 nor IPv6");
        assert!(
            tso_header(&frame6(10)[..13], 1428).is_none(),
            "no ethertype"
        );
    }

    /// Whatever the bytes, `tso_header` and `complete_checksum` return
    /// without panicking, and a header they accept stays inside the frame.
    #[test]
    fn arbitrary_frames_never_panic() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..20_000 {
            let len = (next() % 160) as usize;
            let mut f: alloc::vec::Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 14 && round % 2 == 0 {
                // Half of them with a real ethertype, so the deeper checks run.
                let et: [u8; 2] = if round % 4 == 0 {
                    [0x86, 0xdd]
                } else {
                    [0x08, 0x00]
                };
                f[12..14].copy_from_slice(&et);
            }
            if let Some(h) = tso_header(&f, (next() % 3000) as usize) {
                let hdr_len = usize::from(u16::from_le_bytes([h[2], h[3]]));
                let start = usize::from(u16::from_le_bytes([h[6], h[7]]));
                assert!(hdr_len <= f.len() && start + 18 <= f.len(), "{f:?}");
            }
            let mut hdr = [0u8; HDR];
            for b in &mut hdr {
                *b = next() as u8;
            }
            hdr[1] &= 1 << (round % 3);
            let _ = complete_checksum(&hdr, &mut f);
        }
    }

    #[test]
    fn partial_checksums_are_completed() {
        // A TCP segment whose field holds a (made-up) pseudo-header sum.
        let mut f = frame(7);
        for (i, b) in f[54..].iter_mut().enumerate() {
            *b = i as u8 * 37 + 1;
        }
        f[34 + 16..34 + 18].copy_from_slice(&0x1234u16.to_be_bytes());
        let mut hdr = [0u8; HDR];
        hdr[0] = F_NEEDS_CSUM;
        hdr[6..8].copy_from_slice(&34u16.to_le_bytes());
        hdr[8..10].copy_from_slice(&16u16.to_le_bytes());
        assert!(complete_checksum(&hdr, &mut f));
        // The pseudo-header sum plus the TCP part with its checksum: 0xffff.
        let mut sum = 0x1234u64;
        let tcp = &f[34..];
        for i in (0..tcp.len()).step_by(2) {
            let lo = tcp.get(i + 1).copied().unwrap_or(0);
            sum += u64::from(u16::from_be_bytes([tcp[i], lo]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        assert_eq!(sum, 0xffff);
        hdr[1] = GSO_TCPV4;
        assert!(!complete_checksum(&hdr, &mut f), "a coalesced segment");
        hdr[1] = GSO_NONE;
        hdr[6..8].copy_from_slice(&9000u16.to_le_bytes());
        assert!(!complete_checksum(&hdr, &mut f), "offsets outside");
        assert!(complete_checksum(&[0; HDR], &mut f), "nothing to do");
    }
}
