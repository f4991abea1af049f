//! From the binding's entry to the application's `main`: console, exit and
//! clock hooks, the tender's manifest, the command line and the heap.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::cell::Global;

/// Bytes at the top of memory left to the stack (the tender puts `rsp` at
/// `mem_size - 8`); everything between the image and it is heap.
pub const STACK_SIZE: u64 = 1024 * 1024;

/// What the application's `main` receives.
#[derive(Debug)]
pub struct BootInfo {
    /// The arguments after the image on the tender's command line, joined
    /// with spaces.
    pub cmdline: &'static str,
    /// Bytes given to the heap.
    pub heap_bytes: u64,
    /// Monotonic time when `main` was called.
    pub boot_ns: u64,
}

pub(crate) static CMDLINE: Global<&'static str> = Global::new("");
pub(crate) static HEAP_BYTES: AtomicU64 = AtomicU64::new(0);

/// The command line (valid once the application runs).
pub fn cmdline() -> &'static str {
    // SAFETY: written once at boot before the application starts.
    unsafe { *CMDLINE.get() }
}

/// Bytes the heap received at boot.
pub fn heap_bytes() -> u64 {
    HEAP_BYTES.load(Ordering::Relaxed)
}

/// The longest UTF-8 prefix of a NUL-terminated string of at most `max` bytes.
pub fn c_str(bytes: &[u8]) -> &str {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    match core::str::from_utf8(&bytes[..end]) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
    }
}

/// The heap between the image's end and the stack, 4 KiB aligned.
pub fn heap_range(image_end: u64, mem_size: u64) -> Option<(u64, u64)> {
    let start = image_end.checked_add(0xfff)? & !0xfff;
    let end = mem_size.checked_sub(STACK_SIZE)? & !0xfff;
    (end > start).then(|| (start, end - start))
}

#[cfg(all(unik_kernel, any(feature = "spt", feature = "hvt", feature = "muen")))]
pub(crate) use kernel::{Boot, boot};

#[cfg(all(unik_kernel, any(feature = "spt", feature = "hvt", feature = "muen")))]
mod kernel {
    use core::sync::atomic::Ordering;

    use unik_freestanding::{EXIT_ABORT, Sources, exit, heap, kprintln};

    use super::{BootInfo, CMDLINE, HEAP_BYTES, c_str, heap_range};
    use crate::abi::{CMDLINE_SIZE, MFT_ENTRY_SIZE, MFT_HEADER_SIZE, MFT_MAX_ENTRIES};
    use crate::devices::{self, Table};

    unsafe extern "C" {
        /// End of the image (linker script).
        static _end: u8;
        /// The MFT1 note from `unik_solo5::manifest!`: an image without one
        /// fails to link.
        static __unik_solo5_mft1: u8;
    }

    unsafe extern "Rust" {
        /// Defined by the application with [`crate::entry!`].
        safe fn unik_solo5_main(boot: &BootInfo) -> i32;
    }

    /// What both bindings read from their boot info.
    pub struct Boot {
        pub mem_size: u64,
        pub cmdline: u64,
        pub mft: u64,
    }

    /// The image's own `struct mft` (the note after its 24-byte header).
    fn own_manifest() -> &'static [u8] {
        let note = (&raw const __unik_solo5_mft1).cast::<u8>();
        // SAFETY: the note is a static of at least 24 bytes; descsz (at 4)
        // counts the 4 padding bytes before `struct mft`.
        unsafe {
            let descsz = note.add(4).cast::<u32>().read_unaligned() as usize;
            core::slice::from_raw_parts(note.add(24), descsz.saturating_sub(4))
        }
    }

    /// The tender's manifest copy: header first, then as many entries as it says.
    ///
    /// # Safety
    /// `addr` must point at the tender's `struct mft` in guest memory.
    unsafe fn tender_manifest(addr: u64) -> &'static [u8] {
        let p = core::ptr::with_exposed_provenance::<u8>(addr as usize);
        // SAFETY: the header is 8 bytes; the length is capped at 64 entries.
        unsafe {
            let n = (p.add(4).cast::<u32>().read_unaligned() as usize).min(MFT_MAX_ENTRIES);
            core::slice::from_raw_parts(p, MFT_HEADER_SIZE + n * MFT_ENTRY_SIZE)
        }
    }

    /// What the shared devices (clocks, sleep, argv) and boot helpers read.
    static SOURCES: Sources = Sources {
        monotonic_ns: crate::api::clock_monotonic,
        wall_ns: crate::api::clock_wall,
        cmdline: super::cmdline,
    };

    pub fn boot(b: Boot) -> ! {
        unik_freestanding::set_console(crate::api::console_write);
        unik_freestanding::set_exit(crate::api::exit);
        unik_freestanding::set_sources(&SOURCES);

        // SAFETY: the tender put its manifest copy at `b.mft`.
        let theirs = unsafe { tender_manifest(b.mft) };
        match Table::parse(theirs, own_manifest()) {
            // SAFETY: once, before the application runs.
            Ok(t) => unsafe { devices::install(t) },
            Err(e) => {
                kprintln!("solo5: {e}");
                exit(EXIT_ABORT);
            }
        }

        let line = core::ptr::with_exposed_provenance::<u8>(b.cmdline as usize);
        // SAFETY: the tender reserves CMDLINE_SIZE bytes for the command line;
        // nothing writes them afterwards.
        let line = unsafe { core::slice::from_raw_parts(line, CMDLINE_SIZE) };
        // SAFETY: once, before the application runs.
        unsafe { *CMDLINE.get() = c_str(line) };

        let image_end = (&raw const _end).expose_provenance() as u64;
        let Some((base, size)) = heap_range(image_end, b.mem_size) else {
            kprintln!("solo5: no memory for a heap ({} bytes in all)", b.mem_size);
            exit(EXIT_ABORT);
        };
        let base = core::ptr::with_exposed_provenance_mut::<u8>(base as usize);
        // SAFETY: guest RAM between the image and the stack, unused otherwise.
        if unsafe { heap::add_region(base, size as usize) } {
            HEAP_BYTES.store(size, Ordering::Relaxed);
        }

        let info = BootInfo {
            cmdline: super::cmdline(),
            heap_bytes: HEAP_BYTES.load(Ordering::Relaxed),
            boot_ns: crate::api::clock_monotonic(),
        };
        let code = unik_solo5_main(&info);
        crate::api::exit(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_strings() {
        assert_eq!(c_str(b"a b\0junk"), "a b");
        assert_eq!(c_str(b"no terminator"), "no terminator");
        assert_eq!(c_str(b"ok\xffbad\0"), "ok");
        assert_eq!(c_str(b"\0"), "");
    }

    #[test]
    fn heap_between_image_and_stack() {
        let mb = 1 << 20;
        assert_eq!(
            heap_range(0x20_0001, 512 * mb),
            Some((0x20_1000, 511 * mb - 0x20_1000))
        );
        assert_eq!(
            heap_range(0x20_0000, 2 * mb),
            None,
            "nothing left above the image"
        );
        assert_eq!(heap_range(0, 0), None);
        assert_eq!(heap_range(u64::MAX, 4 * mb), None);
    }
}
