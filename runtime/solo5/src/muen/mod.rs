//! The muen binding: the image runs as a Muen subject (ring 0, interrupts
//! off, its memory and channels mapped by the system policy) and talks to
//! other subjects only through shared-memory channels and events:
//!
//! - resources are found by name in the subject information page
//!   ([`sinfo`], version 5, at 0xE_0000_0000);
//! - the console is the `debuglog` channel, a line per element;
//! - network device `NAME` is the pair of channels `NAME|in` (read) and
//!   `NAME|out` (written), one Ethernet frame per element;
//! - time comes from the `time_info` region and the scheduling page;
//! - exit raises the `solo5_exit` event, if the policy has one.
//!
//! There are no block devices. Nothing traps to a tender, so there is no
//! tender manifest either: the image's own manifest is completed here with
//! the channels the policy granted.

pub mod channel;
pub mod net;
pub mod sinfo;
pub mod time;

use crate::abi::MftEntry;
use crate::cell::Global;
use crate::devices::{Error, Handle};
use channel::{Region, Writer};

/// Where `mugensolo5` puts the boot information: `rdi` at entry.
pub const BOOT_INFO_ADDR: u64 = 0x1000;
/// Protocol of the `debuglog` channel.
pub const DEBUGLOG_PROTOCOL: u64 = 0xf007_8909_4b6f_70cf;
/// `debuglog` elements: a timestamp, then up to 56 characters.
pub const DEBUGLOG_ELEMENT: usize = 64;
const LINE: usize = DEBUGLOG_ELEMENT - 8;

/// `struct` written by `mugensolo5` at [`BOOT_INFO_ADDR`], followed by the
/// command line text.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MuenBootInfo {
    pub mem_size: u64,
    pub kernel_end: u64,
    pub tsc_freq: u64,
    pub cmdline: u64,
    pub mft: u64,
}

const _: () = assert!(core::mem::size_of::<MuenBootInfo>() == 40);

/// The console: the `debuglog` writer and the line being assembled.
struct Console {
    writer: Option<Writer>,
    line: [u8; LINE],
    len: usize,
}

impl Console {
    const fn new() -> Self {
        Self {
            writer: None,
            line: [0; LINE],
            len: 0,
        }
    }

    fn flush(&mut self) {
        if let Some(w) = self.writer.as_mut() {
            let mut element = [0u8; DEBUGLOG_ELEMENT];
            element[..8].copy_from_slice(&time::rdtsc().to_le_bytes());
            element[8..8 + self.len].copy_from_slice(&self.line[..self.len]);
            w.write(&element);
        }
        self.len = 0;
    }

    /// Lines end at `\n` or when an element is full; CR and NUL are dropped
    /// (the reader shows each element as one line).
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'\r' | 0 => {}
                b'\n' => self.flush(),
                _ => {
                    self.line[self.len] = b;
                    self.len += 1;
                    if self.len == LINE {
                        self.flush();
                    }
                }
            }
        }
    }
}

static CONSOLE: Global<Console> = Global::new(Console::new());

pub fn console_write(bytes: &[u8]) {
    // SAFETY: single-threaded; no reference outlives the call.
    unsafe { (*CONSOLE.get()).write(bytes) }
}

pub fn monotonic_ns() -> u64 {
    time::monotonic_ns()
}

pub fn wall_ns() -> u64 {
    time::wall_ns()
}

/// `solo5_yield`: nothing can wake a Muen subject but the scheduler, so
/// poll the input channels until one has data or the deadline passes.
pub fn wait(deadline_ns: u64) -> u64 {
    loop {
        let ready = net::ready_mask();
        if ready != 0 || time::monotonic_ns() >= deadline_ns {
            return ready;
        }
        core::hint::spin_loop();
    }
}

pub fn net_write(_: &MftEntry, handle: Handle, frame: &[u8]) -> Result<(), Error> {
    net::write(handle, frame)
}

pub fn net_read(_: &MftEntry, handle: Handle, buf: &mut [u8]) -> Result<usize, Error> {
    net::read(handle, buf)
}

/// Muen has no block devices (the catalogue refuses them, E0402).
pub fn block_write(_: &MftEntry, _: Handle, _: u64, _: &[u8]) -> Result<(), Error> {
    Err(Error::Unspecified)
}

pub fn block_read(_: &MftEntry, _: Handle, _: u64, _: &mut [u8]) -> Result<(), Error> {
    Err(Error::Unspecified)
}

/// FS base through `IA32_FS_BASE` (ring 0 may write it directly).
pub fn set_tls_base(base: u64) -> Result<(), Error> {
    // SAFETY: only changes where FS-relative accesses go.
    unsafe {
        core::arch::asm!(
            "wrmsr",
            in("ecx") 0xC000_0100u32,
            in("eax") base as u32,
            in("edx") (base >> 32) as u32,
            options(nostack, preserves_flags)
        );
    }
    Ok(())
}

/// The event number of `solo5_exit`, when the policy grants one.
static EXIT_EVENT: Global<Option<u8>> = Global::new(None);

/// Muen discards the status: the subject halts, and the exit event tells
/// the system (if it listens) that it did.
pub fn exit(_status: i32) -> ! {
    console_write(b"Solo5: Halted\n");
    // SAFETY: written once at boot.
    let event = unsafe { *EXIT_EVENT.get() };
    if let Some(n) = event {
        // SAFETY: a hypercall raising event `n`; it returns or never does.
        unsafe { core::arch::asm!("vmcall", in("eax") u32::from(n), options(nostack)) };
    }
    loop {
        // SAFETY: stop this CPU; nothing else is left to do.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

/// Set up the console on the `debuglog` channel of `s`, if present.
pub fn console_init(s: &sinfo::Sinfo, epoch: u64) {
    let Some(m) = s.memory("debuglog") else {
        return;
    };
    if !m.writable {
        return;
    }
    let base = core::ptr::with_exposed_provenance_mut::<u8>(m.address as usize);
    // SAFETY: the policy maps the channel writable for the subject's lifetime.
    let region = unsafe { Region::new(base, m.size as usize) };
    // SAFETY: at boot, before anything writes to the console.
    unsafe {
        (*CONSOLE.get()).writer = Writer::new(region, DEBUGLOG_PROTOCOL, DEBUGLOG_ELEMENT, epoch);
    }
}

#[cfg(all(unik_kernel, feature = "muen"))]
mod entry {
    use unik_freestanding::{EXIT_ABORT, exit, kprintln};

    use super::{EXIT_EVENT, MuenBootInfo, sinfo};
    use crate::abi::{CMDLINE_SIZE, MFT_ENTRY_SIZE, MFT_HEADER_SIZE, MFT_MAX_ENTRIES};
    use crate::cell::Global;

    crate::abi1_note!(muen);

    // Not executable on the host: `abi1_note!` adds the interpreter
    // `/nonexistent/solo5/` and the OpenBSD note, as upstream images have.

    unsafe extern "C" {
        static __unik_solo5_mft1: u8;
    }

    /// The manifest as a tender would hand it over, completed here.
    static MANIFEST: Global<[u8; MFT_HEADER_SIZE + MFT_MAX_ENTRIES * MFT_ENTRY_SIZE]> =
        Global::new([0; MFT_HEADER_SIZE + MFT_MAX_ENTRIES * MFT_ENTRY_SIZE]);
    /// The command line, copied out of the boot information page.
    static CMDLINE: Global<[u8; CMDLINE_SIZE]> = Global::new([0; CMDLINE_SIZE]);

    /// Muen starts the subject here with `rdi` = [`super::BOOT_INFO_ADDR`]
    /// and `rsp` at the top of its memory.
    ///
    /// # Safety
    /// Only Muen enters here, once, with the boot information mapped.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn _start(bi: *const MuenBootInfo) -> ! {
        // SAFETY: mugensolo5 wrote the boot information before start.
        let bi = unsafe { bi.read() };
        let page = core::ptr::with_exposed_provenance::<u8>(sinfo::SINFO_ADDR as usize);
        // SAFETY: the policy maps the sinfo page read-only for the subject.
        let page: &'static [u8] = unsafe { core::slice::from_raw_parts(page, sinfo::SIZE) };
        unik_freestanding::set_console(super::console_write);
        unik_freestanding::set_exit(super::exit);
        let Some(s) = sinfo::Sinfo::new(page) else {
            // No console without sinfo: halt, which is all Muen can see.
            exit(EXIT_ABORT);
        };
        let epoch = super::time::rdtsc() | 1;
        super::console_init(&s, epoch);
        // SAFETY: once, before anything reads it.
        unsafe { *EXIT_EVENT.get() = s.event("solo5_exit") };
        if let Err(e) = super::time::init(&s) {
            kprintln!("muen: {e}");
            exit(EXIT_ABORT);
        }

        // SAFETY: the MFT1 note from `manifest!` (as in start.rs).
        let own = unsafe {
            let note = (&raw const __unik_solo5_mft1).cast::<u8>();
            let descsz = note.add(4).cast::<u32>().read_unaligned() as usize;
            core::slice::from_raw_parts(note.add(24), descsz.saturating_sub(4))
        };
        // SAFETY: boot is single-threaded; the buffers are read only after.
        let (mft, line) = unsafe { (&mut *MANIFEST.get(), &mut *CMDLINE.get()) };
        let n = own.len().min(mft.len());
        mft[..n].copy_from_slice(&own[..n]);
        if let Err(i) = super::net::attach(&s, &mut mft[..n], epoch) {
            let name = super::net::entry_name(&mft[..n], i);
            kprintln!("muen: no channels `{name}|in` and `{name}|out` for network device `{name}`");
        }

        // The command line follows the boot information in its page.
        let room = 0x1000usize.saturating_sub((bi.cmdline as usize) & 0xfff);
        let text = core::ptr::with_exposed_provenance::<u8>(bi.cmdline as usize);
        if bi.cmdline != 0 {
            // SAFETY: inside the boot information page.
            let text = unsafe { core::slice::from_raw_parts(text, room.min(CMDLINE_SIZE - 1)) };
            line[..text.len()].copy_from_slice(text);
        }

        crate::start::boot(crate::start::Boot {
            mem_size: bi.mem_size,
            cmdline: line.as_ptr().expose_provenance() as u64,
            mft: mft.as_ptr().expose_provenance() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;
    use channel::{Read, Reader};

    #[test]
    fn console_lines_become_elements() {
        let mut mem = vec![0u64; (64 + 8 * 64) / 8];
        // SAFETY: `mem` outlives the console and reader.
        let region = unsafe { Region::new(mem.as_mut_ptr().cast(), mem.len() * 8) };
        let mut c = Console::new();
        c.writer = Writer::new(region, DEBUGLOG_PROTOCOL, 64, 1);
        let mut r = Reader::new(region, DEBUGLOG_PROTOCOL, 64);
        c.write(b"hello\r\nworld\0!\n");
        c.write(&[b'x'; 60]);
        c.write(b"\n");
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut buf = [0u8; 64];
        loop {
            match r.read(&mut buf) {
                Read::Element => {
                    let text = &buf[8..];
                    let end = text.iter().position(|&b| b == 0).unwrap_or(56);
                    lines.push(text[..end].to_vec());
                }
                Read::EpochChanged => {}
                _ => break,
            }
        }
        assert_eq!(
            lines,
            vec![
                b"hello".to_vec(),
                b"world!".to_vec(),
                vec![b'x'; 56],
                vec![b'x'; 4]
            ]
        );
    }
}
