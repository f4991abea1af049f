//! From the boot assembly to the application's `main`.

use alloc::alloc::alloc;
use core::alloc::Layout;
use core::sync::atomic::{AtomicU64, Ordering};

use unik_freestanding::{
    EXIT_ABORT, Sources, exit, heap, kprintln, set_console, set_exit, set_sources,
};

use crate::cell::Global;
use crate::start_info::{self, BootData};
use crate::{BootInfo, clock, cpu, desc, devices, entry, irq, pic, serial, trap};

/// Stack for the application, taken from the heap.
const MAIN_STACK: usize = 1024 * 1024;
const GUARD: usize = 4096;
/// Heap below 1 MiB is skipped (BIOS data, start info, option ROMs); above
/// 4 GiB is not identity-mapped.
const HEAP_LOW: u64 = 0x10_0000;
const HEAP_HIGH: u64 = 1 << 32;
const IMAGE_START: u64 = 0x10_0000;

static BOOT: Global<BootData> = Global::new(BootData::empty());
static MAIN_ENTERED_NS: AtomicU64 = AtomicU64::new(0);
static HEAP_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe extern "Rust" {
    /// Defined by the application with [`crate::entry!`].
    safe fn unik_virtio_main(boot: &BootInfo) -> i32;
}

/// What the shared devices (clocks, sleep, argv) and boot helpers read:
/// kvmclock or the PIT-calibrated TSC, the CMOS RTC read at boot advanced
/// by that clock, and `-append`.
static SOURCES: Sources = Sources {
    monotonic_ns: clock::now_ns,
    wall_ns: clock::wall_ns,
    cmdline,
};

#[unsafe(no_mangle)]
extern "C" fn unik_pvh_main(start_info: u64) -> ! {
    let boot_tsc = cpu::rdtsc();
    serial::init();
    set_console(serial::write);
    set_exit(crate::exit::exit);
    set_sources(&SOURCES);
    trap::set_irq_handler(irq::on_vector);
    desc::init();

    // Copy the start info out before its memory may become heap.
    // SAFETY: `start_info` is what QEMU/Xen passed in ebx; BOOT is only
    // written here, before anything reads it.
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

    pic::init();
    if let Err(e) = clock::init(boot_tsc) {
        kprintln!("boot: clock: {e:?}");
        exit(EXIT_ABORT);
    }
    pic::unmask(irq::TIMER_IRQ);
    devices::probe();

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

extern "C" fn run_main(_: usize) -> i32 {
    let info = BootInfo {
        cmdline: cmdline(),
        heap_bytes: HEAP_BYTES.load(Ordering::Relaxed),
        boot_ns: MAIN_ENTERED_NS.load(Ordering::Relaxed),
    };
    unik_virtio_main(&info)
}

/// The kernel command line (`-append`), as passed in the PVH start info.
pub fn cmdline() -> &'static str {
    // SAFETY: BOOT is written once before the application starts.
    unsafe { (*BOOT.get()).cmdline() }
}
