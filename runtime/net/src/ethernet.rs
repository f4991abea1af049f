//! The Ethernet layer: encapsulation for transmit, decapsulation for receive.

use crate::device::{Device, TxError};
use crate::wire::MacAddr;
use crate::wire::ethernet::{EthernetRepr, Frame, HEADER_LEN};

/// Writes one frame: `fill` gets the buffer after the 14-byte header, sized `size` bytes
/// (callers pass the MTU when they do not know the length in advance), and returns the
/// payload length it wrote.
pub fn write<D: Device>(
    dev: &mut D,
    src: MacAddr,
    dst: MacAddr,
    ethertype: u16,
    size: usize,
    fill: impl FnOnce(&mut [u8]) -> usize,
) -> Result<(), TxError> {
    dev.write(HEADER_LEN + size, |buf| {
        EthernetRepr {
            src,
            dst,
            ethertype,
        }
        .emit(buf);
        let n = fill(&mut buf[HEADER_LEN..HEADER_LEN + size]);
        HEADER_LEN + n.min(size)
    })
}

/// A received frame worth handing up: addressed to us, broadcast, or multicast.
pub fn decapsulate(our_mac: MacAddr, frame: &[u8]) -> Option<(EthernetRepr, &[u8])> {
    let f = Frame::new_checked(frame).ok()?;
    let repr = EthernetRepr::parse(&f);
    if repr.dst != our_mac && !repr.dst.is_multicast() {
        return None;
    }
    Some((repr, &frame[HEADER_LEN..]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::FrameQueue;
    use crate::wire::ethernet::ethertype;

    const ME: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
    const PEER: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

    #[test]
    fn write_then_decapsulate() {
        let mut q = FrameQueue::new();
        write(&mut q, PEER, ME, ethertype::IPV4, 1500, |b| {
            b[..3].copy_from_slice(b"abc");
            3
        })
        .unwrap();
        let frame = q.frames.pop_front().unwrap();
        assert_eq!(frame.len(), 17);
        let (repr, payload) = decapsulate(ME, &frame).unwrap();
        assert_eq!(repr.src, PEER);
        assert_eq!(repr.ethertype, ethertype::IPV4);
        assert_eq!(payload, b"abc");
    }

    #[test]
    fn filters_foreign_unicast() {
        let mut q = FrameQueue::new();
        write(
            &mut q,
            PEER,
            MacAddr([2, 0, 0, 0, 0, 9]),
            ethertype::IPV4,
            10,
            |_| 0,
        )
        .unwrap();
        write(&mut q, PEER, MacAddr::BROADCAST, ethertype::ARP, 10, |_| 0).unwrap();
        assert!(decapsulate(ME, &q.frames[0]).is_none());
        assert!(decapsulate(ME, &q.frames[1]).is_some());
        assert!(decapsulate(ME, &[0u8; 5]).is_none());
    }

    #[test]
    fn overlong_fill_is_clamped() {
        let mut q = FrameQueue::new();
        write(&mut q, PEER, ME, ethertype::IPV4, 4, |_| 100).unwrap();
        assert_eq!(q.frames[0].len(), 18);
    }
}
