//! Every hypercall over synthetic guest memory, with hostile arguments.

use std::io::Write as _;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use super::*;

const MEM: u64 = 4 << 20;
const ARGS: u64 = 0x20_0000;
const BUF: u64 = 0x30_0000;
const NET: u64 = 1;
const BLK: u64 = 2;
const DISK: usize = 64 * 1024;

struct Rig {
    mem: GuestMemory,
    calls: Calls<Vec<u8>>,
    peer: OwnedFd,
    disk: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let mut fds = [0; 2];
    // SAFETY: valid out array; a datagram pair stands in for a tap.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK,
            0,
            fds.as_mut_ptr(),
        )
    };
    assert_eq!(r, 0);
    // SAFETY: fresh descriptors.
    let (ours, peer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    let pattern: Vec<u8> = (0..DISK).map(|i| (i / 512) as u8).collect();
    std::fs::write(&disk, pattern).unwrap();
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
            capacity: DISK as u64,
            block_size: 512,
        },
    ];
    Rig {
        mem: GuestMemory::new(MEM).unwrap(),
        calls: Calls::new(devices, Vec::new()).unwrap(),
        peer,
        disk,
        _dir: dir,
    }
}

fn words(ws: &[u64]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl Rig {
    fn call(&mut self, nr: u16, gpa: u64) -> Result<Exit, Error> {
        self.calls
            .handle(&self.mem, PIO_BASE + nr, &(gpa as u32).to_le_bytes())
    }

    /// Put an argument struct at ARGS and call.
    fn with(&mut self, nr: u16, fields: &[u64]) -> Result<Exit, Error> {
        self.mem.write(ARGS, &words(fields)).unwrap();
        self.call(nr, ARGS)
    }

    fn u64_at(&self, gpa: u64) -> u64 {
        let mut b = [0u8; 8];
        self.mem.read(gpa, &mut b).unwrap();
        u64::from_le_bytes(b)
    }

    fn ret_at(&self, gpa: u64) -> i32 {
        let mut b = [0u8; 4];
        self.mem.read(gpa, &mut b).unwrap();
        i32::from_le_bytes(b)
    }

    fn peer_send(&self, frame: &[u8]) {
        // SAFETY: valid buffer.
        let n = unsafe { libc::write(self.peer.as_raw_fd(), frame.as_ptr().cast(), frame.len()) };
        assert_eq!(n, frame.len() as isize);
    }

    fn peer_recv(&self) -> Option<Vec<u8>> {
        let mut b = vec![0u8; 2048];
        // SAFETY: valid buffer.
        let n = unsafe { libc::read(self.peer.as_raw_fd(), b.as_mut_ptr().cast(), b.len()) };
        (n >= 0).then(|| {
            b.truncate(n as usize);
            b
        })
    }
}

fn is_guest_error(r: Result<Exit, Error>) -> String {
    match r {
        Err(Error::Guest(m)) => m,
        other => panic!("expected a guest error, got {other:?}"),
    }
}

#[test]
fn only_the_eight_hypercalls_are_accepted() {
    let mut r = rig();
    for port in [0x4ff, 0x500, 0x509, 0x600, 0xffff, 0] {
        let e = is_guest_error(r.calls.handle(&r.mem, port, &(ARGS as u32).to_le_bytes()));
        assert!(e.contains("not a hypercall"), "{port:#x}: {e}");
    }
    for data in [&[0u8][..], &[0, 0], &[0; 8], &[]] {
        let e = is_guest_error(r.calls.handle(&r.mem, PIO_BASE + WALLTIME, data));
        assert!(e.contains("32-bit"), "{e}");
    }
}

#[test]
fn walltime() {
    let mut r = rig();
    assert_eq!(r.with(WALLTIME, &[0]).unwrap(), Exit::Continue);
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(host.abs_diff(r.u64_at(ARGS)) < 1_000_000_000);
    // The struct itself must be inside guest memory and above the floor.
    for gpa in [MEM - 4, MEM, 0xffff_fff8, 0x2000, 0] {
        let e = is_guest_error(r.call(WALLTIME, gpa));
        assert!(e.starts_with("WALLTIME"), "{e}");
    }
    assert!(
        r.call(WALLTIME, MEM - 8).is_ok(),
        "the last 8 bytes are fine"
    );
}

#[test]
fn puts() {
    let mut r = rig();
    r.mem.write(BUF, b"hello, tender\n").unwrap();
    r.with(PUTS, &[BUF, 14]).unwrap();
    assert_eq!(r.calls.console(), b"hello, tender\n");
    r.with(PUTS, &[BUF, 0]).unwrap();
    r.with(PUTS, &[0x10000, 1]).unwrap();
    // Hostile buffers: past the end, overflowing, below the floor, huge.
    for (data, len) in [
        (MEM - 4, 5),
        (MEM, 1),
        (u64::MAX - 3, 8),
        (BUF, u64::MAX),
        (0xffff_0000_0000, 1),
        (0x8000, 16),
        (BUF, MEM),
    ] {
        let e = is_guest_error(r.with(PUTS, &[data, len]));
        assert!(e.starts_with("PUTS"), "{e}");
    }
    assert_eq!(
        r.calls.console().len(),
        15,
        "nothing written by rejected calls"
    );
}

#[test]
fn poll_times_out_and_reports_ready_devices() {
    let mut r = rig();
    let t = Instant::now();
    r.with(POLL, &[20_000_000, 7, 7]).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(20));
    assert_eq!(r.u64_at(ARGS + 8), 0, "ready_set");
    assert_eq!(r.ret_at(ARGS + 16), 0);
    // A zero timeout returns at once instead of disarming the timer.
    let t = Instant::now();
    r.with(POLL, &[0, 0, 0]).unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    r.peer_send(b"frame");
    r.with(POLL, &[5_000_000_000, 0, 0]).unwrap();
    assert_eq!(r.u64_at(ARGS + 8), 1 << NET);
    assert_eq!(r.ret_at(ARGS + 16), 1);
    r.with(POLL, &[u64::MAX, 0, 0]).unwrap();
    assert_eq!(
        r.u64_at(ARGS + 8),
        1 << NET,
        "the longest timeout still arms the timer"
    );
    assert!(
        r.call(POLL, MEM - 16).is_err(),
        "24-byte struct past the end"
    );
}

#[test]
fn net_read_and_write() {
    let mut r = rig();
    r.with(NET_READ, &[NET, BUF, 1514, 0]).unwrap();
    assert_eq!(r.ret_at(ARGS + 24), R_AGAIN, "nothing to read");
    r.peer_send(b"\x02\x00\x00\x00\x00\x01frame");
    r.with(NET_READ, &[NET, BUF, 1514, 0]).unwrap();
    assert_eq!(r.ret_at(ARGS + 24), R_OK);
    assert_eq!(r.u64_at(ARGS + 16), 11, "len is IN/OUT");
    let mut got = [0u8; 11];
    r.mem.read(BUF, &mut got).unwrap();
    assert_eq!(&got[6..], b"frame");

    r.mem.write(BUF, b"out-frame").unwrap();
    r.with(NET_WRITE, &[NET, BUF, 9, 0]).unwrap();
    assert_eq!(r.ret_at(ARGS + 24), R_OK);
    assert_eq!(r.peer_recv().unwrap(), b"out-frame");
    r.with(NET_WRITE, &[NET, BUF, 1515, 0]).unwrap();
    assert_eq!(r.ret_at(ARGS + 24), R_EINVAL, "larger than mtu + 14");
    assert!(r.peer_recv().is_none());

    for h in [0, BLK, 3, 64, u64::MAX] {
        r.with(NET_WRITE, &[h, BUF, 9, 0]).unwrap();
        assert_eq!(r.ret_at(ARGS + 24), R_EINVAL, "handle {h}");
        r.with(NET_READ, &[h, BUF, 1514, 0]).unwrap();
        assert_eq!(r.ret_at(ARGS + 24), R_EINVAL, "handle {h}");
    }
    for (data, len) in [(MEM - 100, 1514), (u64::MAX - 10, 100), (0x1000, 64)] {
        assert!(is_guest_error(r.with(NET_READ, &[NET, data, len, 0])).starts_with("NET_READ"));
        assert!(
            is_guest_error(r.with(NET_WRITE, &[NET, data, len.min(1514), 0]))
                .starts_with("NET_WRITE")
        );
    }
    assert!(r.call(NET_READ, MEM - 24).is_err());
}

#[test]
fn block_read_and_write() {
    let mut r = rig();
    r.with(BLOCK_READ, &[BLK, 3 * 512, BUF, 512, 9]).unwrap();
    assert_eq!(r.ret_at(ARGS + 32), R_OK);
    let mut got = vec![0u8; 512];
    r.mem.read(BUF, &mut got).unwrap();
    assert!(got.iter().all(|&b| b == 3));

    r.mem.write(BUF, &[0xab; 1024]).unwrap();
    r.with(BLOCK_WRITE, &[BLK, 5 * 512, BUF, 1024, 9]).unwrap();
    assert_eq!(r.ret_at(ARGS + 32), R_OK);
    let disk = std::fs::read(&r.disk).unwrap();
    assert!(disk[5 * 512..7 * 512].iter().all(|&b| b == 0xab));
    assert!(disk[7 * 512..8 * 512].iter().all(|&b| b == 7));
    let last = DISK as u64 - 512;
    r.with(BLOCK_READ, &[BLK, last, BUF, 512, 9]).unwrap();
    assert_eq!(r.ret_at(ARGS + 32), R_OK, "the last block");

    for (h, offset, len) in [
        (BLK, DISK as u64, 512),     // at capacity
        (BLK, last, 1024),           // runs past the end
        (BLK, u64::MAX - 511, 1024), // offset + len overflows
        (BLK, 100, 512),             // unaligned offset
        (BLK, 0, 100),               // partial block
        (BLK, 0, 0),                 // empty
        (NET, 0, 512),               // not a block device
        (0, 0, 512),                 // reserved entry
        (9, 0, 512),                 // no such handle
    ] {
        for nr in [BLOCK_READ, BLOCK_WRITE] {
            r.with(nr, &[h, offset, BUF, len, 9]).unwrap();
            assert_eq!(r.ret_at(ARGS + 32), R_EINVAL, "{nr}: {h} {offset} {len}");
        }
    }
    assert_eq!(
        std::fs::read(&r.disk).unwrap(),
        disk,
        "rejected writes change nothing"
    );
    for (data, len) in [(MEM - 256, 512), (u64::MAX - 255, 512), (0x9000, 512)] {
        assert!(
            is_guest_error(r.with(BLOCK_READ, &[BLK, 0, data, len, 0])).starts_with("BLOCK_READ")
        );
        assert!(
            is_guest_error(r.with(BLOCK_WRITE, &[BLK, 0, data, len, 0])).starts_with("BLOCK_WRITE")
        );
    }
    assert!(
        r.call(BLOCK_READ, MEM - 32).is_err(),
        "40-byte struct past the end"
    );
}

#[test]
fn halt() {
    let mut r = rig();
    assert_eq!(r.with(HALT, &[0, 42]).unwrap(), Exit::Halt(42));
    assert_eq!(
        r.with(HALT, &[0, u64::from(u32::MAX)]).unwrap(),
        Exit::Halt(-1)
    );
    assert!(is_guest_error(r.call(HALT, MEM - 8)).starts_with("HALT"));
    assert!(is_guest_error(r.call(HALT, 0xfff0)).starts_with("HALT"));
}

#[test]
fn console_errors_do_not_stop_the_guest() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mem = GuestMemory::new(MEM).unwrap();
    let mut calls = Calls::new(Vec::new(), Broken).unwrap();
    mem.write(ARGS, &words(&[BUF, 4])).unwrap();
    let r = calls.handle(&mem, PIO_BASE + PUTS, &(ARGS as u32).to_le_bytes());
    assert_eq!(r.unwrap(), Exit::Continue);
    let _ = Broken.flush();
}

/// Text and rodata are read-only on the host: the tender never writes
/// there for the guest (it would fault itself), it stops the guest instead;
/// reading from there (BLOCK_WRITE, NET_WRITE, PUTS) is fine.
#[test]
fn nothing_is_written_to_read_only_memory() {
    const TEXT: u64 = 0x10_0000;
    let mut r = rig();
    r.mem.write(TEXT, &[0x5a; 0x2000]).unwrap();
    r.mem.protect(TEXT, TEXT + 0x2000).unwrap();
    let e = is_guest_error(r.with(BLOCK_READ, &[BLK, 0, TEXT + 0x1000, 512, 0]));
    assert!(e.contains("read-only"), "{e}");
    r.peer_send(&[1; 60]);
    let e = is_guest_error(r.with(NET_READ, &[NET, TEXT, 1514, 0]));
    assert!(e.contains("read-only"), "{e}");
    // An argument struct in read-only memory cannot take the results.
    assert!(is_guest_error(r.call(WALLTIME, TEXT)).contains("read-only"));
    r.with(BLOCK_WRITE, &[BLK, 0, TEXT, 512, 9]).unwrap();
    assert_eq!(r.ret_at(ARGS + 32), R_OK, "reading text is fine");
    assert!(
        std::fs::read(&r.disk).unwrap()[..512]
            .iter()
            .all(|&b| b == 0x5a)
    );
    r.with(NET_WRITE, &[NET, TEXT, 60, 9]).unwrap();
    assert_eq!(r.peer_recv(), Some(vec![0x5a; 60]));
}
