//! The hvt tender's hypercall argument checks (`runtime/tenders/src/hvt/calls.rs`) over
//! synthetic guest memory of 4 MiB, a datagram socket pair standing in for the tap and a
//! 64 KiB disk. Input: a call count, then per call `[nr][gpa: u32]` (nr bit 7: an argument
//! offset inside the input's region instead of a raw address), then bytes copied into guest
//! memory at `ARGS`. Every call must return `Ok` or an error, never panic; a stray access
//! outside guest memory shows only if it leaves mapped memory (there is no sanitizer). POLL
//! timeouts are clipped to 1 µs so that the fuzzer never sleeps.

use std::cell::RefCell;
use std::os::fd::{FromRawFd, OwnedFd};

use unik_tender::attach::Backing;
use unik_tender::hvt::calls::{Calls, HALT, PIO_BASE, POLL};
use unik_tender::hvt::mem::GuestMemory;

use crate::Input;

pub const MEM: u64 = 4 << 20;
pub const ARGS: u64 = 0x20_0000;
const REGION: usize = 64 * 1024;

struct Rig {
    mem: GuestMemory,
    /// PUTS output is discarded: a growing console would read as a leak.
    calls: Calls<std::io::Sink>,
    peer: OwnedFd,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let mut fds = [0; 2];
    // SAFETY: valid out array.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0);
    // SAFETY: fresh descriptors, owned from here on.
    let (ours, peer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::write(&disk, vec![0u8; 64 * 1024]).unwrap();
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&disk)
        .unwrap();
    let devices = vec![
        Backing::Net {
            fd: ours,
            mac: [2, 0, 0, 0, 0, 1],
            mtu: 1500,
            vnet: false,
        },
        Backing::Block {
            file,
            capacity: 64 * 1024,
            block_size: 512,
        },
    ];
    Rig {
        mem: GuestMemory::new(MEM).unwrap(),
        calls: Calls::new(devices, std::io::sink()).unwrap(),
        peer,
        _dir: dir,
    }
}

thread_local! {
    static RIG: RefCell<Option<Rig>> = const { RefCell::new(None) };
}

/// Encodes calls and the argument region (seeds).
pub fn encode(calls: &[(u8, u32)], region: &[u8]) -> Vec<u8> {
    let mut out = vec![calls.len() as u8];
    for (nr, gpa) in calls {
        out.push(*nr);
        out.extend_from_slice(&gpa.to_le_bytes());
    }
    out.extend_from_slice(region);
    out
}

pub fn run(data: &[u8]) {
    RIG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let rig = slot.get_or_insert_with(rig);
        let mut input = Input::new(data);
        let n = input.u8() % 16;
        let calls: Vec<(u8, u32)> = (0..n).map(|_| (input.u8(), input.u32())).collect();
        let region = input.bytes(REGION);
        rig.mem.write(ARGS, &[0u8; REGION]).unwrap();
        rig.mem.write(ARGS, region).unwrap();
        for (nr, raw) in calls {
            let call = 1 + u16::from(nr & 0x7f) % HALT;
            let gpa = if nr & 0x80 != 0 {
                ARGS + u64::from(raw) % REGION as u64
            } else {
                u64::from(raw)
            };
            if call == POLL {
                let mut t = [0u8; 8];
                if rig.mem.read(gpa, &mut t).is_ok() {
                    let clipped = u64::from_le_bytes(t).min(1000);
                    let _ = rig.mem.write(gpa, &clipped.to_le_bytes());
                }
            }
            let port = if nr == 0x7f {
                raw as u16
            } else {
                PIO_BASE + call
            };
            let _ = rig
                .calls
                .handle(&rig.mem, port, &(gpa as u32).to_le_bytes());
        }
        // Keep the socket pair from filling up.
        let mut buf = [0u8; 2048];
        // SAFETY: our descriptor and buffer.
        while unsafe {
            libc::recv(
                std::os::fd::AsRawFd::as_raw_fd(&rig.peer),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        } > 0
        {}
        // Feed one datagram for NET_READ to find.
        // SAFETY: as above.
        unsafe {
            libc::send(
                std::os::fd::AsRawFd::as_raw_fd(&rig.peer),
                region.as_ptr().cast(),
                region.len().min(1514),
                libc::MSG_DONTWAIT,
            )
        };
    });
}

/// Well-formed calls: each hypercall with its argument struct at ARGS and its buffer 256
/// bytes further.
pub fn seeds() -> Vec<Vec<u8>> {
    let buf = ARGS + 256;
    let args = |w: &[u64]| -> Vec<u8> {
        let mut r: Vec<u8> = w.iter().flat_map(|x| x.to_le_bytes()).collect();
        r.resize(256, 0);
        r.extend_from_slice(b"hello, console\n");
        r.resize(2048, 0x42);
        r
    };
    let at = ARGS as u32;
    vec![
        encode(&[(1, at)], &args(&[0])),
        encode(&[(2, at)], &args(&[buf, 15])),
        encode(&[(3, at)], &args(&[500, 0, 0])),
        encode(&[(4, at)], &args(&[2, 512, buf, 512, 0])),
        encode(&[(5, at)], &args(&[2, 1024, buf, 512, 0])),
        encode(&[(6, at)], &args(&[1, buf, 60, 0])),
        encode(&[(7, at)], &args(&[1, buf, 1514, 0])),
        encode(&[(8, at)], &args(&[0, 0])),
        encode(&[(0x82, 0)], &args(&[buf, 15])),
    ]
}
