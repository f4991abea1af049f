//! `--dumpcore`: when the tender stops a guest (or the guest aborts), an
//! x86_64 ELF core file of the vCPU's registers and all guest memory,
//! identity-mapped, which `gdb IMAGE CORE` loads.
//!
//! The file is opened (`O_TMPFILE`, in the current directory) before the
//! seccomp filter goes on, written with `pwrite64`, and given its name
//! `core.unikc-hvt.PID` with one `linkat` the filter allows for this only.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd};

use kvm_bindings::{kvm_regs, kvm_sregs};

use super::mem::GuestMemory;
use crate::error::{Error, os};

const EHDR: usize = 64;
const PHDR: usize = 56;
/// `struct elf_prstatus` on x86_64, and where `pr_reg` starts in it.
const PRSTATUS: usize = 336;
const PR_REG: usize = 112;
const NT_PRSTATUS: u32 = 1;
const PAGE: usize = 0x1000;

/// The core file, open but nameless until [`CoreFile::finish`].
pub struct CoreFile {
    file: File,
    name: String,
    /// Taken before seccomp, which forbids getpid.
    pid: u32,
}

impl CoreFile {
    /// Open the nameless file in the current directory.
    pub fn create() -> Result<Self, Error> {
        // SAFETY: a constant path; the descriptor is ours.
        let fd = unsafe {
            libc::open(
                c".".as_ptr(),
                libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
                0o600,
            )
        };
        if fd < 0 {
            return Err(os(
                "--dumpcore: cannot create a file in the current directory (O_TMPFILE)",
            ));
        }
        // SAFETY: a fresh descriptor.
        let file = unsafe { File::from_raw_fd(fd) };
        let pid = std::process::id();
        Ok(Self {
            file,
            name: format!("core.unikc-hvt.{pid}"),
            pid,
        })
    }

    /// Write the core and give it its name; returns the name.
    pub fn finish(
        self,
        regs: &kvm_regs,
        sregs: &kvm_sregs,
        mem: &GuestMemory,
        signal: i32,
    ) -> Result<String, Error> {
        let fd = self.file.as_raw_fd();
        let size = mem.size();
        let head = header(regs, sregs, size, signal, self.pid);
        pwrite_all(fd, &head, 0)?;
        // Only pages with data are written: the file is sparse.
        let base = mem.host_base() as *const u8;
        for page in (0..size as usize).step_by(PAGE) {
            // SAFETY: inside the guest mapping, which is readable throughout.
            let bytes = unsafe { std::slice::from_raw_parts(base.add(page), PAGE) };
            if bytes.iter().any(|&b| b != 0) {
                pwrite_all(fd, bytes, (DATA_OFFSET + page) as u64)?;
            }
        }
        pwrite_all(fd, &[0], (DATA_OFFSET as u64 + size) - 1)?;
        let from = CString::new(format!("/proc/self/fd/{fd}")).expect("no NUL");
        let to = CString::new(self.name.clone()).expect("no NUL");
        // SAFETY: valid C strings; links our own nameless file.
        let r = unsafe {
            libc::linkat(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::AT_SYMLINK_FOLLOW,
            )
        };
        if r != 0 {
            return Err(os(&format!("--dumpcore: naming {}", self.name)));
        }
        Ok(self.name)
    }
}

fn pwrite_all(fd: i32, mut data: &[u8], mut at: u64) -> Result<(), Error> {
    while !data.is_empty() {
        // SAFETY: valid buffer and descriptor.
        let n = unsafe { libc::pwrite64(fd, data.as_ptr().cast(), data.len(), at as i64) };
        if n <= 0 {
            return Err(os("--dumpcore: writing the core file"));
        }
        data = &data[n as usize..];
        at += n as u64;
    }
    Ok(())
}

/// Guest memory starts at this file offset.
pub const DATA_OFFSET: usize = PAGE;

/// ELF header, program headers (PT_NOTE, one PT_LOAD of all guest memory
/// at guest-physical = virtual 0) and the NT_PRSTATUS note.
pub fn header(regs: &kvm_regs, sregs: &kvm_sregs, mem_size: u64, signal: i32, pid: u32) -> Vec<u8> {
    let note_off = EHDR + 2 * PHDR;
    let note = prstatus_note(regs, sregs, signal, pid);
    let mut b = vec![0u8; DATA_OFFSET];
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    put(&mut b, 0, b"\x7fELF\x02\x01\x01");
    put(&mut b, 16, &4u16.to_le_bytes()); // ET_CORE
    put(&mut b, 18, &62u16.to_le_bytes()); // EM_X86_64
    put(&mut b, 20, &1u32.to_le_bytes());
    put(&mut b, 32, &(EHDR as u64).to_le_bytes()); // e_phoff
    put(&mut b, 52, &(EHDR as u16).to_le_bytes());
    put(&mut b, 54, &(PHDR as u16).to_le_bytes());
    put(&mut b, 56, &2u16.to_le_bytes()); // e_phnum
    // PT_NOTE
    let p = EHDR;
    put(&mut b, p, &4u32.to_le_bytes());
    put(&mut b, p + 8, &(note_off as u64).to_le_bytes());
    put(&mut b, p + 32, &(note.len() as u64).to_le_bytes());
    put(&mut b, p + 48, &4u64.to_le_bytes());
    // PT_LOAD, RWX: the guest's own page tables say what was what.
    let p = EHDR + PHDR;
    put(&mut b, p, &1u32.to_le_bytes());
    put(&mut b, p + 4, &7u32.to_le_bytes());
    put(&mut b, p + 8, &(DATA_OFFSET as u64).to_le_bytes());
    put(&mut b, p + 32, &mem_size.to_le_bytes()); // filesz
    put(&mut b, p + 40, &mem_size.to_le_bytes()); // memsz
    put(&mut b, p + 48, &(PAGE as u64).to_le_bytes());
    put(&mut b, note_off, &note);
    b
}

/// `NT_PRSTATUS` named "CORE": the signal and `user_regs_struct`.
fn prstatus_note(r: &kvm_regs, s: &kvm_sregs, signal: i32, pid: u32) -> Vec<u8> {
    let mut desc = vec![0u8; PRSTATUS];
    desc[0..4].copy_from_slice(&signal.to_le_bytes()); // si_signo
    desc[12..14].copy_from_slice(&(signal as i16).to_le_bytes()); // pr_cursig
    desc[32..36].copy_from_slice(&pid.to_le_bytes()); // pr_pid
    let user_regs = [
        r.r15,
        r.r14,
        r.r13,
        r.r12,
        r.rbp,
        r.rbx,
        r.r11,
        r.r10,
        r.r9,
        r.r8,
        r.rax,
        r.rcx,
        r.rdx,
        r.rsi,
        r.rdi,
        u64::MAX, // orig_rax: not in a system call
        r.rip,
        u64::from(s.cs.selector),
        r.rflags,
        r.rsp,
        u64::from(s.ss.selector),
        s.fs.base,
        s.gs.base,
        u64::from(s.ds.selector),
        u64::from(s.es.selector),
        u64::from(s.fs.selector),
        u64::from(s.gs.selector),
    ];
    for (i, v) in user_regs.iter().enumerate() {
        let at = PR_REG + 8 * i;
        desc[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    let mut n = Vec::with_capacity(20 + PRSTATUS);
    n.extend_from_slice(&5u32.to_le_bytes());
    n.extend_from_slice(&(PRSTATUS as u32).to_le_bytes());
    n.extend_from_slice(&NT_PRSTATUS.to_le_bytes());
    n.extend_from_slice(b"CORE\0\0\0\0");
    n.extend_from_slice(&desc);
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_registers() {
        let r = kvm_regs {
            rip: 0x10_1234,
            rsp: 0x1ff_fff8,
            rax: 7,
            r15: 0x15,
            ..kvm_regs::default()
        };
        let mut s = kvm_sregs::default();
        s.cs.selector = 8;
        s.fs.base = 0xf5;
        let h = header(&r, &s, 32 << 20, 11, 4242);
        let u16_at = |at: usize| u16::from_le_bytes([h[at], h[at + 1]]);
        let u64_at = |at: usize| u64::from_le_bytes(h[at..at + 8].try_into().unwrap());
        assert_eq!(&h[0..4], b"\x7fELF");
        assert_eq!((u16_at(16), u16_at(18), u16_at(56)), (4, 62, 2));
        let note = u64_at(EHDR + 8) as usize;
        assert_eq!(&h[note + 12..note + 17], b"CORE\0");
        let desc = note + 20;
        assert_eq!(h[desc], 11, "si_signo");
        assert_eq!(u16_at(desc + 32), 4242, "pr_pid");
        let reg = |i: usize| u64_at(desc + PR_REG + 8 * i);
        assert_eq!(reg(0), 0x15, "r15 first");
        assert_eq!(reg(10), 7, "rax");
        assert_eq!(reg(16), 0x10_1234, "rip");
        assert_eq!(reg(17), 8, "cs");
        assert_eq!(reg(19), 0x1ff_fff8, "rsp");
        assert_eq!(reg(21), 0xf5, "fs_base");
        let load = EHDR + PHDR;
        assert_eq!(u64_at(load + 8), DATA_OFFSET as u64);
        assert_eq!((u64_at(load + 16), u64_at(load + 32)), (0, 32 << 20));
        assert!(note + 20 + PRSTATUS <= DATA_OFFSET);
    }
}
