//! A console sink registered by the platform, used by `kprint!` and the panic handler.

use core::fmt;
use core::sync::atomic::{AtomicPtr, Ordering};

static WRITER: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Register the function that puts bytes on the console (serial port, hypercall, ...).
pub fn set_console(write: fn(&[u8])) {
    WRITER.store(write as *mut (), Ordering::Release);
}

/// Write bytes to the registered console; dropped silently before registration.
pub fn console_write(bytes: &[u8]) {
    let raw = WRITER.load(Ordering::Acquire);
    if raw.is_null() {
        return;
    }
    // SAFETY: only `set_console` stores into WRITER, always a `fn(&[u8])`.
    let write: fn(&[u8]) = unsafe { core::mem::transmute::<*mut (), fn(&[u8])>(raw) };
    write(bytes);
}

/// `core::fmt::Write` over the registered console; formatting never allocates.
pub struct Console;

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        console_write(s.as_bytes());
        Ok(())
    }
}

/// Print to the registered console.
#[macro_export]
macro_rules! kprint {
    ($($arg:tt)*) => {{
        let _ = ::core::fmt::Write::write_fmt(&mut $crate::Console, format_args!($($arg)*));
    }};
}

/// Print a line to the registered console.
#[macro_export]
macro_rules! kprintln {
    () => { $crate::console_write(b"\n") };
    ($($arg:tt)*) => {{
        let _ = ::core::fmt::Write::write_fmt(&mut $crate::Console, format_args!($($arg)*));
        $crate::console_write(b"\n");
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::AtomicUsize;

    static SEEN: AtomicUsize = AtomicUsize::new(0);

    fn count(bytes: &[u8]) {
        SEEN.fetch_add(bytes.len(), Ordering::SeqCst);
    }

    #[test]
    fn registered_writer_receives_formatted_output() {
        set_console(count);
        kprint!("{}-{}", 12, "ab");
        assert_eq!(SEEN.load(Ordering::SeqCst), 5);
    }
}
