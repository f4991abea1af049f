//! Guest memory and the one checked accessor every guest-supplied pointer
//! goes through: a range is usable only if it lies entirely inside guest
//! memory, at or above the guest's lowest mapped page, without overflow.

use std::fmt;
use std::ptr::NonNull;

use crate::error::{Error, os};

/// Below this the guest has no mappings (GDT and page tables live there),
/// so no valid guest pointer points there.
pub const GUEST_FLOOR: u64 = 0x10000;

/// A guest pointer or length that does not fit guest memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub gpa: u64,
    pub len: u64,
    pub size: u64,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:#x} bytes at guest-physical {:#x} are outside guest memory {GUEST_FLOOR:#x}..{:#x}",
            self.len, self.gpa, self.size
        )
    }
}

/// Anonymous, zeroed memory registered with KVM as guest-physical 0..size.
pub struct GuestMemory {
    base: NonNull<u8>,
    size: u64,
}

impl GuestMemory {
    pub fn new(size: u64) -> Result<Self, Error> {
        let len =
            usize::try_from(size).map_err(|_| Error::Usage("memory size too large".into()))?;
        // SAFETY: a fresh private anonymous mapping.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(os(&format!("allocating {size} bytes of guest memory")));
        }
        let base =
            NonNull::new(p.cast::<u8>()).ok_or_else(|| Error::Host("mmap returned null".into()))?;
        Ok(Self { base, size })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Host address of guest-physical 0 (for KVM_SET_USER_MEMORY_REGION).
    pub fn host_base(&self) -> u64 {
        self.base.as_ptr() as u64
    }

    fn span(&self, gpa: u64, len: u64, floor: u64) -> Result<*mut u8, Fault> {
        let fault = Fault {
            gpa,
            len,
            size: self.size,
        };
        match gpa.checked_add(len) {
            Some(end) if gpa >= floor && end <= self.size => {
                // SAFETY: gpa < size, inside the mapping.
                Ok(unsafe { self.base.as_ptr().add(gpa as usize) })
            }
            _ => Err(fault),
        }
    }

    /// The checked accessor for guest pointers: `len` bytes at `gpa`.
    pub fn guest(&self, gpa: u64, len: u64) -> Result<*mut u8, Fault> {
        self.span(gpa, len, GUEST_FLOOR)
    }

    /// Copy guest bytes at a guest pointer into `buf`.
    pub fn read(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Fault> {
        let p = self.guest(gpa, buf.len() as u64)?;
        // SAFETY: checked range; the vCPU is stopped while the tender runs.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// Copy `data` to a guest pointer.
    pub fn write(&self, gpa: u64, data: &[u8]) -> Result<(), Fault> {
        let p = self.guest(gpa, data.len() as u64)?;
        // SAFETY: checked range; the vCPU is stopped while the tender runs.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    /// The tender's own writes (page tables, GDT, image), anywhere in memory.
    pub fn write_phys(&self, gpa: u64, data: &[u8]) -> Result<(), Error> {
        let p = self
            .span(gpa, data.len() as u64, 0)
            .map_err(|f| Error::Image(f.to_string()))?;
        // SAFETY: checked range; the vCPU has not started or is stopped.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p, data.len()) };
        Ok(())
    }

    /// Read back the tender's own data (tests and diagnostics).
    pub fn read_phys(&self, gpa: u64, buf: &mut [u8]) -> Result<(), Error> {
        let p = self
            .span(gpa, buf.len() as u64, 0)
            .map_err(|f| Error::Image(f.to_string()))?;
        // SAFETY: checked range.
        unsafe { std::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }
}

impl Drop for GuestMemory {
    fn drop(&mut self) {
        // SAFETY: our own mapping.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.size as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guest_range_is_checked() {
        let m = GuestMemory::new(0x20_0000).unwrap();
        assert!(m.guest(0x10000, 16).is_ok());
        assert!(m.guest(0x20_0000 - 16, 16).is_ok());
        assert!(
            m.guest(0x20_0000 - 15, 16).is_err(),
            "one byte past the end"
        );
        assert!(m.guest(0x20_0000, 0).is_ok(), "an empty range at the end");
        assert!(m.guest(0x20_0001, 0).is_err());
        assert!(m.guest(0xfff8, 8).is_err(), "below the guest floor");
        assert!(
            m.guest(0x2000, 8).is_err(),
            "page tables are not guest memory"
        );
        assert!(m.guest(u64::MAX - 7, 16).is_err(), "overflow");
        assert!(m.guest(0x10000, u64::MAX).is_err(), "overflow");
        let f = m.guest(0x30_0000, 4).unwrap_err();
        assert!(f.to_string().contains("0x300000"));
        m.write(0x10_0000, b"abc").unwrap();
        let mut b = [0u8; 3];
        m.read(0x10_0000, &mut b).unwrap();
        assert_eq!(&b, b"abc");
        m.write_phys(0x1000, &[1]).unwrap();
        assert!(m.write_phys(0x20_0000, &[1]).is_err());
    }
}
