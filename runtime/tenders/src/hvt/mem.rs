//! Guest memory and the one checked accessor every guest-supplied pointer
//! goes through: a range is usable only if it lies entirely inside guest
//! memory, at or above the guest's lowest mapped page, without overflow.

use std::fmt;
use std::ptr::NonNull;

use crate::error::{Error, os};

/// Below this the guest has no mappings (GDT and page tables live there),
/// so no valid guest pointer points there.
pub const GUEST_FLOOR: u64 = 0x10000;

/// A guest pointer or length that does not fit guest memory, or a buffer
/// the tender would write that lies in read-only memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    pub gpa: u64,
    pub len: u64,
    pub size: u64,
    pub read_only: bool,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.read_only {
            return write!(
                f,
                "{:#x} bytes at guest-physical {:#x} overlap the image's read-only text or rodata",
                self.len, self.gpa
            );
        }
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
    /// Page ranges made read-only on the host ([`GuestMemory::protect`]).
    read_only: Vec<(u64, u64)>,
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
        Ok(Self {
            base,
            size,
            read_only: Vec::new(),
        })
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
            read_only: false,
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

    /// A guest range the tender will write: [`Self::guest`], and not in
    /// read-only memory (the host mapping there would fault the tender).
    pub fn guest_mut(&self, gpa: u64, len: u64) -> Result<*mut u8, Fault> {
        let p = self.guest(gpa, len)?;
        let end = gpa + len;
        if len > 0 && self.read_only.iter().any(|&(s, e)| gpa < e && s < end) {
            return Err(Fault {
                gpa,
                len,
                size: self.size,
                read_only: true,
            });
        }
        Ok(p)
    }

    /// Make guest-physical `start..end` (page-aligned) read-only on the
    /// host: a guest write there fails in KVM (EFAULT) whatever the
    /// guest's own page tables say.
    pub fn protect(&mut self, start: u64, end: u64) -> Result<(), Error> {
        self.span(start, end.saturating_sub(start), 0)
            .map_err(|f| Error::Image(f.to_string()))?;
        if !start.is_multiple_of(0x1000) || !end.is_multiple_of(0x1000) || start >= end {
            return Err(Error::Image(format!(
                "cannot protect {start:#x}..{end:#x}: not whole pages"
            )));
        }
        // SAFETY: page-aligned range inside our own mapping.
        let r = unsafe {
            libc::mprotect(
                self.base.as_ptr().add(start as usize).cast(),
                (end - start) as usize,
                libc::PROT_READ,
            )
        };
        if r != 0 {
            return Err(os(&format!("mprotect of guest {start:#x}..{end:#x}")));
        }
        self.read_only.push((start, end));
        Ok(())
    }

    /// Whether `gpa` lies in memory made read-only by [`Self::protect`].
    pub fn is_read_only(&self, gpa: u64) -> bool {
        self.read_only.iter().any(|&(s, e)| (s..e).contains(&gpa))
    }

    /// Copy `data` to a guest pointer.
    pub fn write(&self, gpa: u64, data: &[u8]) -> Result<(), Fault> {
        let p = self.guest_mut(gpa, data.len() as u64)?;
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

    #[test]
    fn read_only_pages_refuse_tender_writes() {
        let mut m = GuestMemory::new(0x20_0000).unwrap();
        m.write(0x10_1000, b"text").unwrap();
        m.protect(0x10_1000, 0x10_3000).unwrap();
        assert!(m.protect(0x10_3001, 0x10_4000).is_err(), "unaligned");
        assert!(m.protect(0x1f_f000, 0x20_1000).is_err(), "past the end");
        let f = m.write(0x10_2ff0, &[0; 32]).unwrap_err();
        assert!(f.read_only && f.to_string().contains("read-only"), "{f}");
        assert!(m.guest_mut(0x10_0ff0, 0x11).is_err(), "one byte inside");
        assert!(m.guest_mut(0x10_0ff0, 0x10).is_ok(), "just below");
        assert!(m.guest_mut(0x10_3000, 0x10).is_ok(), "just above");
        assert!(m.guest_mut(0x10_1000, 0).is_ok(), "empty");
        let mut b = [0u8; 4];
        m.read(0x10_1000, &mut b).unwrap();
        assert_eq!(&b, b"text", "still readable");
        // A tender write through the host mapping would fault: the checks
        // above are what keep it from happening.
    }
}
