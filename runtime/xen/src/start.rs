//! From the boot assembly to the application's `main`.

use alloc::alloc::alloc;
use core::alloc::Layout;
use core::sync::atomic::{AtomicU64, Ordering};

use unik_freestanding::{
    EXIT_ABORT, Sources, exit, heap, kprintln, set_console, set_exit, set_sources,
};

use crate::cell::Global;
use crate::start_info::{self, BootData};
use crate::{
    BootInfo, clock, desc, entry, hypercall, hypercall_page, pvconsole, shared, trap, xenstore,
};

/// Stack for the application, taken from the heap.
const MAIN_STACK: usize = 1024 * 1024;
const GUARD: usize = 4096;
/// Heap below 1 MiB is skipped (start info, memory map); above 4 GiB is not
/// identity-mapped.
const HEAP_LOW: u64 = 0x10_0000;
const HEAP_HIGH: u64 = 1 << 32;
const IMAGE_START: u64 = 0x10_0000;

static BOOT: Global<BootData> = Global::new(BootData::empty());
static MAIN_ENTERED_NS: AtomicU64 = AtomicU64::new(0);
static HEAP_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe extern "Rust" {
    /// Defined by the application with [`crate::entry!`].
    safe fn unik_xen_main(boot: &BootInfo) -> i32;
}

/// What the shared devices (clocks, sleep, argv) and boot helpers read.
static SOURCES: Sources = Sources {
    monotonic_ns: clock::now_ns,
    wall_ns: clock::wall_ns,
    cmdline,
};

/// Stop before Xen is usable: say why on the debug port, then halt with
/// interrupts off (Xen ends a domain whose vCPUs are all down).
fn fail(msg: &str) -> ! {
    crate::debugcon::debug_write(b"unik-xen: boot: ");
    crate::debugcon::debug_write(msg.as_bytes());
    crate::debugcon::debug_write(b"\n");
    loop {
        // SAFETY: stopping for good.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

#[unsafe(no_mangle)]
extern "C" fn unik_pvh_main(start_info: u64) -> ! {
    set_console(pvconsole::write);
    set_exit(crate::exit::exit);
    set_sources(&SOURCES);
    desc::init();

    // SAFETY: the page is the image's hypercall page.
    if let Err(e) = unsafe { hypercall::init(hypercall_page::hypercall_page()) } {
        let mut buf = [0u8; 128];
        fail(fmt(&mut buf, format_args!("{e}")));
    }
    if let Err(e) = shared::map() {
        let mut buf = [0u8; 128];
        fail(fmt(&mut buf, format_args!("cannot map shared_info: {e}")));
    }
    clock::init();
    if let Err(e) = pvconsole::init() {
        // Output stays on the debug port (xl dmesg).
        kprintln!("unik-xen: no PV console: {e}");
    }
    // Without a store, devices fail to connect with a message saying so.
    let _ = xenstore::init();

    // Copy the start info out before its memory may become heap.
    // SAFETY: `start_info` is what Xen passed in ebx; BOOT is only written
    // here, before anything reads it.
    let data = unsafe { &mut *BOOT.get() };
    match unsafe { start_info::read(start_info) } {
        Ok(d) => *data = d,
        Err(e) => {
            kprintln!("boot: {e}");
            exit(EXIT_ABORT);
        }
    }
    entry::unmap_null_page();

    let mut heap_bytes = 0;
    start_info::heap_regions(
        data.memmap(),
        (IMAGE_START, entry::image_end()),
        HEAP_LOW,
        HEAP_HIGH,
        |base, size| {
            // SAFETY: RAM per the memory map, outside the image and low memory.
            if unsafe { heap::add_region(base as *mut u8, size as usize) } {
                heap_bytes += size;
            }
        },
    );
    if heap_bytes == 0 {
        kprintln!("boot: no usable RAM above the image");
        exit(EXIT_ABORT);
    }
    HEAP_BYTES.store(heap_bytes, Ordering::Relaxed);

    // The lowest page of the main stack is a guard: an overflow faults
    // (reported as such) instead of silently overwriting the heap.
    let layout = Layout::from_size_align(MAIN_STACK + GUARD, GUARD).expect("constant layout");
    // SAFETY: non-zero size.
    let stack = unsafe { alloc(layout) };
    if stack.is_null() || !entry::unmap_page(stack as u64) {
        kprintln!("boot: cannot allocate the main stack");
        exit(EXIT_ABORT);
    }
    trap::set_stack_guard(stack as u64);
    MAIN_ENTERED_NS.store(clock::now_ns(), Ordering::Relaxed);
    // SAFETY: a fresh, exclusively owned stack region; its end is 4 KiB aligned.
    let code = unsafe { entry::call_on_stack(stack.add(GUARD + MAIN_STACK), run_main, 0) };
    exit(code)
}

/// Format into `buf` without allocating (the heap may not exist yet).
fn fmt<'a>(buf: &'a mut [u8], args: core::fmt::Arguments) -> &'a str {
    struct W<'b>(&'b mut [u8], usize);
    impl core::fmt::Write for W<'_> {
        fn write_str(&mut self, s: &str) -> core::fmt::Result {
            let n = s.len().min(self.0.len() - self.1);
            self.0[self.1..self.1 + n].copy_from_slice(&s.as_bytes()[..n]);
            self.1 += n;
            Ok(())
        }
    }
    let mut w = W(buf, 0);
    let _ = core::fmt::write(&mut w, args);
    let n = w.1;
    core::str::from_utf8(&w.0[..n]).unwrap_or("(message not UTF-8)")
}

extern "C" fn run_main(_: usize) -> i32 {
    let info = BootInfo {
        cmdline: cmdline(),
        heap_bytes: HEAP_BYTES.load(Ordering::Relaxed),
        boot_ns: MAIN_ENTERED_NS.load(Ordering::Relaxed),
    };
    unik_xen_main(&info)
}

/// The kernel command line (`cmdline` of the `.xl` file), as passed in the
/// PVH start info.
pub fn cmdline() -> &'static str {
    // SAFETY: BOOT is written once before the application starts.
    unsafe { (*BOOT.get()).cmdline() }
}
