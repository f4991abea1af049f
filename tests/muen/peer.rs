//! THE HARNESS'S PEER SUBJECT: the host side of tests/muen/harness.S for
//! network tests. The VM's RAM is a shared file; this module maps it and
//! plays, from outside the single emulated CPU (whose image busy-polls
//! its channels, so nothing inside the VM could move frames):
//!
//! - the other end of the image's network channels, as the subject a Muen
//!   policy would connect them to: it writes `NAME|in` and reads
//!   `NAME|out`, and bridges them to a tap device whose Linux side is the
//!   peer;
//! - Muen's scheduler, stepping the minor-frame start on the scheduling
//!   page (the image's monotonic clock) with the host's clock;
//! - a debuglog reader, so the image's log is seen while it runs.
//!
//! Its SHMStream v2 reader and writer are written here from the protocol
//! facts (shared/research/muen-genode.md), not taken from the runtime, so
//! the two sides check each other.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering, fence};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// SHMStream v2 header: `transport` @0, epoch @8, protocol @16, element
/// size @24, element count @32, reserved @40, wsc @48, wc @56; data @64.
const TRANSPORT: u64 = 0x4873_12b6_b79a_9b6d;
const HEADER: usize = 64;
/// Network channels: packed `{u8 data[1514]; u16 length}`.
pub const NET_PROTOCOL: u64 = 0x7ade_5c54_9b08_e814;
const NET_ELEMENT: usize = 1516;
const FRAME_MAX: usize = 1514;
/// The debuglog: `{u64 timestamp; char data[56]}`.
const DEBUGLOG_PROTOCOL: u64 = 0xf007_8909_4b6f_70cf;
const DEBUGLOG_ELEMENT: usize = 64;

/// The VM's RAM: a file in /dev/shm that QEMU maps shared, mapped here too.
pub struct Ram {
    path: PathBuf,
    base: *mut u8,
    len: usize,
}

// SAFETY: the mapping is shared memory accessed only with volatile reads
// and writes; it lives until the last user drops it (`Arc<Ram>`).
unsafe impl Send for Ram {}
unsafe impl Sync for Ram {}

impl Ram {
    /// `tag` makes the file's name unique (a namespace's name does).
    pub fn new(tag: &str, len: usize) -> Ram {
        let path = PathBuf::from(format!("/dev/shm/unikc-muen-{tag}"));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        file.set_len(len as u64).unwrap();
        // SAFETY: a fresh shared mapping of a file we own, of its length.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        assert_ne!(
            base,
            libc::MAP_FAILED,
            "mmap: {}",
            std::io::Error::last_os_error()
        );
        Ram {
            path,
            base: base.cast(),
            len,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(&self, at: usize) -> u64 {
        assert!(at.is_multiple_of(8) && at + 8 <= self.len);
        // SAFETY: inside the mapping, aligned.
        unsafe { std::ptr::read_volatile(self.base.add(at).cast::<u64>()) }
    }

    fn store(&self, at: usize, v: u64) {
        assert!(at.is_multiple_of(8) && at + 8 <= self.len);
        // SAFETY: as in `load`.
        unsafe { std::ptr::write_volatile(self.base.add(at).cast::<u64>(), v) }
    }

    fn copy_out(&self, at: usize, buf: &mut [u8]) {
        assert!(at + buf.len() <= self.len);
        for (i, b) in buf.iter_mut().enumerate() {
            // SAFETY: inside the mapping.
            *b = unsafe { std::ptr::read_volatile(self.base.add(at + i)) };
        }
    }

    fn copy_in(&self, at: usize, data: &[u8]) {
        assert!(at + data.len() <= self.len);
        for (i, b) in data.iter().enumerate() {
            // SAFETY: inside the mapping.
            unsafe { std::ptr::write_volatile(self.base.add(at + i), *b) };
        }
    }
}

impl Drop for Ram {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; nothing uses it any more.
        unsafe { libc::munmap(self.base.cast(), self.len) };
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A channel: `len` bytes of RAM at physical address `at`.
#[derive(Clone, Copy, Debug)]
pub struct Chan {
    pub at: usize,
    pub len: usize,
}

/// The writing end of a channel.
struct Writer {
    chan: Chan,
    size: usize,
    count: u64,
    wc: u64,
}

impl Writer {
    /// Deactivate, clear, describe, then activate with `epoch`.
    fn new(ram: &Ram, chan: Chan, protocol: u64, size: usize, epoch: u64) -> Writer {
        let count = ((chan.len - HEADER) / size) as u64;
        ram.store(chan.at + 8, 0);
        fence(Ordering::SeqCst);
        ram.copy_in(chan.at + 8, &vec![0; chan.len - 8]);
        ram.store(chan.at, TRANSPORT);
        ram.store(chan.at + 16, protocol);
        ram.store(chan.at + 24, size as u64);
        ram.store(chan.at + 32, count);
        fence(Ordering::SeqCst);
        ram.store(chan.at + 8, epoch);
        Writer {
            chan,
            size,
            count,
            wc: 0,
        }
    }

    fn write(&mut self, ram: &Ram, element: &[u8]) {
        assert_eq!(element.len(), self.size);
        ram.store(self.chan.at + 48, self.wc + 1);
        fence(Ordering::SeqCst);
        let slot = (self.wc % self.count) as usize;
        ram.copy_in(self.chan.at + HEADER + slot * self.size, element);
        fence(Ordering::SeqCst);
        self.wc += 1;
        ram.store(self.chan.at + 56, self.wc);
    }
}

/// The reading end of a channel.
struct Reader {
    chan: Chan,
    protocol: u64,
    size: usize,
    epoch: u64,
    count: u64,
    rc: u64,
    /// Elements the writer overwrote before they were read.
    lost: u64,
}

impl Reader {
    fn new(chan: Chan, protocol: u64, size: usize) -> Reader {
        Reader {
            chan,
            protocol,
            size,
            epoch: 0,
            count: 0,
            rc: 0,
            lost: 0,
        }
    }

    fn active(&self, ram: &Ram) -> bool {
        ram.load(self.chan.at + 8) != 0
    }

    /// The next element into `buf`, if one is waiting.
    fn read(&mut self, ram: &Ram, buf: &mut [u8]) -> bool {
        let at = self.chan.at;
        let epoch = ram.load(at + 8);
        if epoch == 0 {
            return false;
        }
        if epoch != self.epoch {
            let count = ram.load(at + 32);
            let fits = count > 0 && count <= ((self.chan.len - HEADER) / self.size) as u64;
            assert!(
                ram.load(at) == TRANSPORT
                    && ram.load(at + 16) == self.protocol
                    && ram.load(at + 24) == self.size as u64
                    && fits,
                "the image activated channel {:#x} with a header this peer does not accept",
                at
            );
            self.epoch = epoch;
            self.count = count;
            self.rc = 0;
        }
        let wc = ram.load(at + 56);
        if wc == self.rc {
            return false;
        }
        if wc.wrapping_sub(self.rc) > self.count {
            self.lost += wc.wrapping_sub(self.rc);
            self.rc = wc;
            return false;
        }
        fence(Ordering::SeqCst);
        let slot = (self.rc % self.count) as usize;
        ram.copy_out(at + HEADER + slot * self.size, &mut buf[..self.size]);
        fence(Ordering::SeqCst);
        if ram.load(at + 48).wrapping_sub(self.rc) > self.count {
            let wc = ram.load(at + 56);
            self.lost += wc.wrapping_sub(self.rc);
            self.rc = wc;
            return false;
        }
        self.rc += 1;
        true
    }
}

/// Where the image's resources lie in the VM's RAM.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// The scheduling page (`{u64 tsc_schedule_start, u64 tsc_schedule_end}`).
    pub sched: usize,
    pub debuglog: Chan,
    /// `NAME|in` (this peer writes it) and `NAME|out` (it reads it).
    pub net_in: Chan,
    pub net_out: Chan,
}

/// What the peer saw, at the end.
#[derive(Debug, Default)]
pub struct Seen {
    /// The debuglog, a line per line the image printed.
    pub log: String,
    pub frames_to_image: u64,
    pub frames_from_image: u64,
    /// Elements of `NAME|out` and the debuglog this peer lost to overruns.
    pub lost: u64,
}

/// A running peer subject; [`Peer::finish`] stops it.
pub struct Peer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Seen>>,
}

/// Opens `tap0` inside the namespace the calling thread is in.
pub fn open_tap(name: &str) -> File {
    const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
    const IFF_TAP: u16 = 0x0002;
    const IFF_NO_PI: u16 = 0x1000;
    let tun = std::os::unix::fs::OpenOptionsExt::custom_flags(
        File::options().read(true).write(true),
        libc::O_NONBLOCK,
    )
    .open("/dev/net/tun")
    .expect("/dev/net/tun is missing: these tests need the tun driver and root");
    // struct ifreq: the name, then the flags.
    let mut req = [0u8; 40];
    req[..name.len()].copy_from_slice(name.as_bytes());
    req[16..18].copy_from_slice(&(IFF_TAP | IFF_NO_PI).to_ne_bytes());
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq` (40 bytes).
    let rc = unsafe { libc::ioctl(tun.as_raw_fd(), TUNSETIFF as _, req.as_mut_ptr()) };
    assert_eq!(
        rc,
        0,
        "TUNSETIFF {name}: {}",
        std::io::Error::last_os_error()
    );
    tun
}

impl Peer {
    /// Starts pumping between `tap` and the image's channels in `ram`.
    /// The `NAME|in` writer starts once the image has activated its
    /// `NAME|out` (it has attached its device): frames before are dropped,
    /// as a link that is not up yet drops them.
    pub fn start(ram: Arc<Ram>, layout: Layout, tap: File) -> Peer {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || pump(&ram, layout, tap, &flag));
        Peer {
            stop,
            thread: Some(thread),
        }
    }

    /// The image's log so far is only known at the end: stops the peer.
    pub fn finish(mut self) -> Seen {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("the peer panicked")
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn pump(ram: &Ram, layout: Layout, mut tap: File, stop: &AtomicBool) -> Seen {
    let mut seen = Seen::default();
    let mut log = Reader::new(layout.debuglog, DEBUGLOG_PROTOCOL, DEBUGLOG_ELEMENT);
    let mut from_image = Reader::new(layout.net_out, NET_PROTOCOL, NET_ELEMENT);
    let mut to_image: Option<Writer> = None;
    let mut element = vec![0u8; NET_ELEMENT];
    let mut frame = vec![0u8; 65536];
    let start = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        // The scheduler: the current minor frame started now (ns; the
        // test's time_info gives a 1 GHz tick rate).
        let now = start.elapsed().as_nanos() as u64 + 1;
        ram.store(layout.sched, now);
        ram.store(layout.sched + 8, now + 1_000_000);

        let mut moved = false;
        drain_log(ram, &mut log, &mut seen.log);
        while from_image.read(ram, &mut element) {
            let len = usize::from(u16::from_le_bytes([
                element[FRAME_MAX],
                element[FRAME_MAX + 1],
            ]));
            assert!(
                (14..=FRAME_MAX).contains(&len),
                "the image wrote a frame of {len} bytes"
            );
            // A full tap queue drops the frame, as a wire would.
            let _ = tap.write(&element[..len]);
            seen.frames_from_image += 1;
            moved = true;
        }
        if to_image.is_none() && from_image.active(ram) {
            to_image = Some(Writer::new(
                ram,
                layout.net_in,
                NET_PROTOCOL,
                NET_ELEMENT,
                0x5ee7,
            ));
        }
        loop {
            match tap.read(&mut frame) {
                Ok(n) if n <= FRAME_MAX => {
                    if let Some(w) = to_image.as_mut() {
                        element.fill(0);
                        element[..n].copy_from_slice(&frame[..n]);
                        element[FRAME_MAX..].copy_from_slice(&(n as u16).to_le_bytes());
                        w.write(ram, &element);
                        seen.frames_to_image += 1;
                    }
                    moved = true;
                }
                Ok(n) => panic!("a {n}-byte frame from the tap: offloads are on"),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("reading the tap: {e}"),
            }
        }
        if !moved {
            // Idle: wait for the tap a little, then look at the channels again.
            let mut p = libc::pollfd {
                fd: tap.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let t = libc::timespec {
                tv_sec: 0,
                tv_nsec: Duration::from_micros(100).as_nanos() as _,
            };
            // SAFETY: one pollfd, a timeout, no signal mask.
            unsafe { libc::ppoll(&mut p, 1, &t, std::ptr::null()) };
        }
    }
    drain_log(ram, &mut log, &mut seen.log);
    seen.lost = log.lost + from_image.lost;
    seen
}

fn drain_log(ram: &Ram, log: &mut Reader, out: &mut String) {
    let mut line = [0u8; DEBUGLOG_ELEMENT];
    while log.read(ram, &mut line) {
        // A full element (56 characters, no NUL) was cut there by the
        // image's console: the line goes on in the next element.
        let text = &line[8..];
        let end = text.iter().position(|&b| b == 0).unwrap_or(text.len());
        out.push_str(&String::from_utf8_lossy(&text[..end]));
        if end < text.len() {
            out.push('\n');
        }
    }
}
