//! Lang items and symbols a freestanding image must define itself.

use core::sync::atomic::{AtomicBool, Ordering};

use crate::{EXIT_ABORT, EXIT_PANIC, console_write, exit, kprintln};

static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Ordering::SeqCst) {
        console_write(b"panic while panicking\n");
        exit(EXIT_PANIC);
    }
    kprintln!("panic: {info}");
    exit(EXIT_PANIC)
}

// The prebuilt `alloc` was compiled with panic=unwind and references these;
// with panic=abort nothing can call them.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume(_exception: *mut u8) -> ! {
    console_write(b"_Unwind_Resume called in a panic=abort image\n");
    exit(EXIT_ABORT)
}

#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}
