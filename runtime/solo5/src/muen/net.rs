//! Network devices over channel pairs: device `NAME` reads frames from
//! `NAME|in` and writes them to `NAME|out`, one frame per element
//! (`{u8 data[1514]; u16 length}`, packed).

use super::channel::{Read, Reader, Region, Writer};
use super::sinfo::{MEM_CHANNEL, Sinfo};
use crate::abi::{MFT_ENTRY_SIZE, MFT_HEADER_SIZE, MFT_NET_BASIC};
use crate::cell::Global;
use crate::devices::{Error, Handle};

/// Protocol of network channels.
pub const PROTOCOL: u64 = 0x7ade_5c54_9b08_e814;
/// Largest frame: a 1500-byte MTU plus the Ethernet header.
pub const FRAME_MAX: usize = 1514;
/// Frame bytes, then its length.
pub const ELEMENT: usize = FRAME_MAX + 2;
pub const MTU: u16 = 1500;

struct Chan {
    rx: Reader,
    tx: Writer,
}

static CHANS: Global<[Option<Chan>; 64]> = Global::new([const { None }; 64]);

fn chan(handle: Handle) -> Result<&'static mut Chan, Error> {
    let i = usize::try_from(handle).map_err(|_| Error::Invalid)?;
    // SAFETY: single-threaded; no other reference is live during a call.
    let chans = unsafe { &mut *CHANS.get() };
    chans
        .get_mut(i)
        .and_then(Option::as_mut)
        .ok_or(Error::Invalid)
}

/// A locally administered unicast MAC from the subject's name (FNV-1a).
pub fn mac_for(subject: &[u8]) -> [u8; 6] {
    let h = subject.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let b = h.to_le_bytes();
    [(b[0] & 0xfe) | 0x02, b[1], b[2], b[3], b[4], b[5]]
}

fn region(m: &super::sinfo::Memory) -> Region {
    let base = core::ptr::with_exposed_provenance_mut::<u8>(m.address as usize);
    // SAFETY: the policy maps the channel for the subject's lifetime.
    unsafe { Region::new(base, m.size as usize) }
}

/// `name` + `suffix` in `buf`: channel names are built without the heap,
/// which does not exist yet when devices are attached.
fn joined<'b>(buf: &'b mut [u8; 72], name: &str, suffix: &str) -> Option<&'b str> {
    let n = name.len() + suffix.len();
    if n > buf.len() {
        return None;
    }
    buf[..name.len()].copy_from_slice(name.as_bytes());
    buf[name.len()..n].copy_from_slice(suffix.as_bytes());
    core::str::from_utf8(&buf[..n]).ok()
}

/// The name of manifest entry `i` of `mft`.
pub fn entry_name(mft: &[u8], i: usize) -> &str {
    let at = MFT_HEADER_SIZE + i * MFT_ENTRY_SIZE;
    mft.get(at..at + 68).map_or("", crate::start::c_str)
}

/// Attach every network entry of `mft` (a `struct mft`) to its channels
/// and mark it attached with its MAC and MTU. Errs with the index of the
/// first device lacking a channel (it stays unattached). Runs before the
/// heap exists: nothing here allocates.
pub fn attach(s: &Sinfo, mft: &mut [u8], epoch: u64) -> Result<(), usize> {
    let count = mft
        .get(4..8)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .min(64);
    let mut missing = None;
    for i in 1..count {
        let at = MFT_HEADER_SIZE + i * MFT_ENTRY_SIZE;
        let Some(e) = mft.get_mut(at..at + MFT_ENTRY_SIZE) else {
            break;
        };
        if u32::from_le_bytes([e[68], e[69], e[70], e[71]]) != MFT_NET_BASIC {
            continue;
        }
        let name = crate::start::c_str(&e[..68]);
        let (mut a, mut b) = ([0u8; 72], [0u8; 72]);
        let rx = joined(&mut a, name, "|in").and_then(|n| s.memory(n));
        let tx = joined(&mut b, name, "|out").and_then(|n| s.memory(n));
        let pair = match (rx, tx) {
            (Some(rx), Some(tx))
                if rx.kind == MEM_CHANNEL && tx.kind == MEM_CHANNEL && tx.writable =>
            {
                Writer::new(region(&tx), PROTOCOL, ELEMENT, epoch).map(|w| Chan {
                    rx: Reader::new(region(&rx), PROTOCOL, ELEMENT),
                    tx: w,
                })
            }
            _ => None,
        };
        let Some(c) = pair else {
            missing.get_or_insert(i);
            continue;
        };
        // SAFETY: boot is single-threaded; nothing reads the table yet.
        unsafe { (*CHANS.get())[i] = Some(c) };
        e[72..78].copy_from_slice(&mac_for(s.subject()));
        e[78..80].copy_from_slice(&MTU.to_le_bytes());
        e[96] = 1;
    }
    missing.map_or(Ok(()), Err)
}

/// Handles whose input channel has something waiting.
pub fn ready_mask() -> u64 {
    // SAFETY: single-threaded; no other reference is live during a call.
    let chans = unsafe { &*CHANS.get() };
    chans
        .iter()
        .enumerate()
        .filter(|(_, c)| c.as_ref().is_some_and(|c| c.rx.pending()))
        .fold(0, |m, (i, _)| m | 1 << i)
}

/// One frame from `NAME|in`; `Again` when none is waiting. Frames lost to
/// an overrun or a restarted writer are skipped, as a full NIC drops them.
pub fn read(handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    let c = chan(handle)?;
    let mut element = [0u8; ELEMENT];
    loop {
        match c.rx.read(&mut element) {
            Read::Element => {
                let len = usize::from(u16::from_le_bytes([
                    element[FRAME_MAX],
                    element[FRAME_MAX + 1],
                ]));
                if len == 0 || len > FRAME_MAX || len > buf.len() {
                    continue;
                }
                buf[..len].copy_from_slice(&element[..len]);
                return Ok(len);
            }
            Read::EpochChanged | Read::Overrun => continue,
            Read::Empty | Read::Inactive | Read::Incompatible => return Err(Error::Again),
        }
    }
}

/// One frame to `NAME|out` (the API checked its length).
pub fn write(handle: Handle, frame: &[u8]) -> Result<(), Error> {
    let c = chan(handle)?;
    if frame.len() > FRAME_MAX {
        return Err(Error::Invalid);
    }
    let mut element = [0u8; ELEMENT];
    element[..frame.len()].copy_from_slice(frame);
    element[FRAME_MAX..].copy_from_slice(&(frame.len() as u16).to_le_bytes());
    c.tx.write(&element);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::sinfo::build::{Res, page};
    use super::super::sinfo::{Memory, SIZE};
    use super::*;
    use crate::manifest::{Kind, note_bytes};
    use alloc::vec;

    fn chan_mem(mem: &mut [u64], writable: bool) -> Memory {
        Memory {
            kind: MEM_CHANNEL,
            writable,
            address: mem.as_mut_ptr().expose_provenance() as u64,
            size: (mem.len() * 8) as u64,
        }
    }

    #[test]
    fn macs_are_local_unicast_and_stable() {
        let a = mac_for(b"unikernel");
        assert_eq!(a[0] & 0x03, 0x02);
        assert_eq!(a, mac_for(b"unikernel"));
        assert_ne!(a, mac_for(b"other"));
    }

    /// Frames round-trip between two "subjects": ours, and a peer that
    /// writes our input channel and reads our output channel.
    #[test]
    fn frames_cross_a_channel_pair() {
        let slots = 4;
        let mut rx_mem = vec![0u64; (64 + slots * ELEMENT).div_ceil(8)];
        let mut tx_mem = vec![0u64; (64 + slots * ELEMENT).div_ceil(8)];
        let mut p = vec![0u8; SIZE];
        page(
            &mut p,
            "unikernel",
            0,
            &[
                Res::Memory("service|in", chan_mem(&mut rx_mem, false)),
                Res::Memory("service|out", chan_mem(&mut tx_mem, true)),
            ],
        );
        let s = Sinfo::new(&p).unwrap();
        let note = note_bytes(&[("service", Kind::Net), ("other", Kind::Net)]).unwrap();
        let mut mft = note[24..].to_vec();
        assert_eq!(attach(&s, &mut mft, 9), Err(2));
        assert_eq!(entry_name(&mft, 2), "other");
        let entry = &mft[MFT_HEADER_SIZE + MFT_ENTRY_SIZE..][..MFT_ENTRY_SIZE];
        assert_eq!(entry[96], 1, "attached");
        assert_eq!(&entry[72..78], &mac_for(b"unikernel"));
        assert_eq!(u16::from_le_bytes([entry[78], entry[79]]), MTU);
        assert_eq!(
            mft[MFT_HEADER_SIZE + 2 * MFT_ENTRY_SIZE + 96],
            0,
            "`other` has no channels"
        );

        // SAFETY: the vectors outlive the peer's ends.
        let (mut peer_tx, mut peer_rx) = unsafe {
            let rx = Region::new(rx_mem.as_mut_ptr().cast(), rx_mem.len() * 8);
            let tx = Region::new(tx_mem.as_mut_ptr().cast(), tx_mem.len() * 8);
            (
                Writer::new(rx, PROTOCOL, ELEMENT, 3).unwrap(),
                Reader::new(tx, PROTOCOL, ELEMENT),
            )
        };
        assert_eq!(ready_mask(), 1 << 1, "the new epoch is pending");
        let mut buf = [0u8; FRAME_MAX];
        assert_eq!(read(1, &mut buf), Err(Error::Again));
        let mut frame = [0u8; ELEMENT];
        frame[..3].copy_from_slice(b"abc");
        frame[FRAME_MAX..].copy_from_slice(&3u16.to_le_bytes());
        peer_tx.write(&frame);
        // A length beyond the frame area is dropped, never trusted.
        frame[FRAME_MAX..].copy_from_slice(&4000u16.to_le_bytes());
        peer_tx.write(&frame);
        assert_eq!(ready_mask(), 1 << 1);
        assert_eq!(read(1, &mut buf), Ok(3));
        assert_eq!(&buf[..3], b"abc");
        assert_eq!(read(1, &mut buf), Err(Error::Again));
        assert_eq!(ready_mask(), 0);

        write(1, &[7; 60]).unwrap();
        let mut got = [0u8; ELEMENT];
        assert_eq!(peer_rx.read(&mut got), Read::EpochChanged);
        assert_eq!(peer_rx.read(&mut got), Read::Element);
        assert_eq!(&got[..60], &[7; 60]);
        assert_eq!(u16::from_le_bytes([got[FRAME_MAX], got[FRAME_MAX + 1]]), 60);
        assert_eq!(write(1, &[0; FRAME_MAX + 1]), Err(Error::Invalid));
        assert_eq!(write(2, &[0; 60]), Err(Error::Invalid), "not attached");
    }
}
