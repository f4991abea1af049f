//! The hvt tender: a KVM virtual machine per Solo5 0.12's layout, whose
//! only way out is the eight hypercalls.

pub mod calls;
pub mod dump;
pub mod layout;
pub mod mem;
pub mod vm;

use std::io::Write;

use crate::attach;
use crate::elf::PF_W;
use crate::error::Error;
use crate::image::{Image, Target};
use crate::manifest::Attached;
use crate::options::{self, Options};
use crate::seccomp;
use calls::Calls;
use mem::GuestMemory;
use vm::Vm;

/// Unbuffered stdout, as Solo5's `write(1, ...)`.
pub struct Stdout;

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // SAFETY: a valid buffer.
        let n = unsafe { libc::write(1, buf.as_ptr().cast(), buf.len()) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A VM ready to run.
pub struct Prepared<W: Write> {
    pub vm: Vm,
    pub calls: Calls<W>,
    pub seccomp: bool,
    /// `--dumpcore`: where the core goes if the guest is stopped or aborts.
    pub core: Option<dump::CoreFile>,
}

/// `SOLO5_EXIT_ABORT`: the guest's `solo5_abort`.
pub const EXIT_ABORT: i32 = 255;

/// Load `o.image` into a new VM, attach its devices, write the boot area.
pub fn prepare<W: Write>(o: &Options, console: W) -> Result<Prepared<W>, Error> {
    let image = Image::load(&o.image, Target::Hvt)?;
    let mem_size = layout::mem_size(o.mem_bytes()?)?;
    let (segments, kernel_end) = image.plan(mem_size)?;
    let cmdline = options::cmdline(&o.args, layout::CMDLINE_SIZE)?;
    let devices = attach::attach_all(&image.manifest, o)?;

    let mut mem = GuestMemory::new(mem_size)?;
    for s in &segments {
        mem.write_phys(s.vaddr, image.data(s))?;
    }
    layout::write_gdt(&mem)?;
    layout::write_page_tables(&mem, &segments)?;
    // W^X on the host too: text and rodata stay read-only even for a guest
    // that rewrites its page tables or clears CR0.WP.
    for s in segments.iter().filter(|s| s.flags & PF_W == 0) {
        mem.protect(s.start, s.end)?;
    }
    let mut vm = Vm::new(mem)?;
    // Host descriptors mean nothing to an hvt guest; leave them out.
    let attached: Vec<Attached> = devices
        .iter()
        .map(|d| match d.attached() {
            Attached::Net { mac, mtu, .. } => Attached::Net {
                mac,
                mtu,
                hostfd: 0,
            },
            Attached::Block {
                capacity,
                block_size,
                ..
            } => Attached::Block {
                capacity,
                block_size,
                hostfd: 0,
            },
        })
        .collect();
    let mft = image.manifest.attached_bytes(&attached);
    layout::write_boot_info(vm.mem(), kernel_end, vm.tsc_hz, &mft, &cmdline)?;
    vm.set_entry(image.elf.entry)?;
    let calls = Calls::new(devices, console)?;
    let core = if o.dumpcore {
        Some(dump::CoreFile::create()?)
    } else {
        None
    };
    Ok(Prepared {
        vm,
        calls,
        seccomp: o.seccomp,
        core,
    })
}

/// Run to HALT (in this process; with seccomp, the process stays confined
/// afterwards). Returns the guest's exit status.
pub fn run<W: Write>(mut p: Prepared<W>) -> Result<i32, Error> {
    if p.seccomp {
        seccomp::install_reporter(
            None,
            Some("unikc-hvt: seccomp: the tender made a system call outside its allowlist: "),
            seccomp::signal_stack(),
        )?;
        seccomp::apply(&seccomp::hvt_filter(p.core.is_some())?)?;
    }
    let result = p.vm.run(&mut p.calls);
    let signal = match &result {
        Err(Error::Guest(_)) => libc::SIGSEGV,
        Ok(EXIT_ABORT) => libc::SIGABRT,
        _ => return result,
    };
    if let Some(core) = p.core.take() {
        // Report the guest's error first, then where the core went.
        if let Err(e) = &result {
            eprintln!("unikc-hvt: {e}");
        }
        match p.vm.dump(core, signal) {
            Ok(name) => eprintln!("unikc-hvt: guest core dumped to {name}"),
            Err(e) => eprintln!("unikc-hvt: {e}"),
        }
        if result.is_err() {
            return Err(Error::Reported);
        }
    }
    result
}
