//! KVM: one VM with one vCPU over the guest memory, and the run loop.

use std::io::Write;

use kvm_bindings::{KVM_MAX_CPUID_ENTRIES, kvm_userspace_memory_region};
use kvm_ioctls::{Cap, Kvm, VcpuExit, VcpuFd, VmFd};

use super::calls::{Calls, Exit};
use super::layout;
use super::mem::GuestMemory;
use crate::error::Error;

/// KVM_INTERNAL_ERROR_EMULATION: KVM could not emulate an instruction.
const INTERNAL_ERROR_EMULATION: u32 = 1;

pub struct Vm {
    _kvm: Kvm,
    _vm: VmFd,
    vcpu: VcpuFd,
    mem: GuestMemory,
    /// The vCPU's TSC frequency (`cpu_cycle_freq`).
    pub tsc_hz: u64,
}

fn kvm_err(what: &str, e: kvm_ioctls::Error) -> Error {
    Error::Host(format!("KVM: {what}: {e}"))
}

/// `KVM_GET_TSC_KHZ` failing with EIO means the host TSC is unstable;
/// the guest's clock would be wrong, so hvt refuses to run.
pub fn tsc_error(errno: i32) -> Error {
    if errno == libc::EIO {
        Error::Host(
            "KVM: the host TSC is unstable, refusing to run (the guest clock depends on it)".into(),
        )
    } else {
        Error::Host(format!(
            "KVM: KVM_GET_TSC_KHZ failed: {}",
            std::io::Error::from_raw_os_error(errno)
        ))
    }
}

impl Vm {
    /// Open /dev/kvm and create the VM with `mem` as guest-physical 0..size.
    pub fn new(mem: GuestMemory) -> Result<Self, Error> {
        let kvm = Kvm::new().map_err(|e| Error::Host(format!("cannot open /dev/kvm: {e}")))?;
        if kvm.get_api_version() != 12 {
            return Err(Error::Host(format!(
                "KVM API version {}, expected 12",
                kvm.get_api_version()
            )));
        }
        for (cap, name) in [
            (Cap::UserMemory, "KVM_CAP_USER_MEMORY"),
            (Cap::GetTscKhz, "KVM_CAP_GET_TSC_KHZ"),
        ] {
            if !kvm.check_extension(cap) {
                return Err(Error::Host(format!("KVM lacks {name}")));
            }
        }
        let vm = kvm.create_vm().map_err(|e| kvm_err("KVM_CREATE_VM", e))?;
        let region = kvm_userspace_memory_region {
            slot: 0,
            flags: 0,
            guest_phys_addr: 0,
            memory_size: mem.size(),
            userspace_addr: mem.host_base(),
        };
        // SAFETY: the region is our mapping, alive as long as the VM (both in `Vm`).
        unsafe { vm.set_user_memory_region(region) }
            .map_err(|e| kvm_err("KVM_SET_USER_MEMORY_REGION", e))?;
        let vcpu = vm
            .create_vcpu(0)
            .map_err(|e| kvm_err("KVM_CREATE_VCPU", e))?;
        let cpuid = kvm
            .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
            .map_err(|e| kvm_err("KVM_GET_SUPPORTED_CPUID", e))?;
        vcpu.set_cpuid2(&cpuid)
            .map_err(|e| kvm_err("KVM_SET_CPUID2", e))?;
        let khz = vcpu.get_tsc_khz().map_err(|e| tsc_error(e.errno()))?;
        Ok(Self {
            _kvm: kvm,
            _vm: vm,
            vcpu,
            mem,
            tsc_hz: u64::from(khz) * 1000,
        })
    }

    pub fn mem(&self) -> &GuestMemory {
        &self.mem
    }

    /// Registers and segments for entering `entry` in long mode.
    pub fn set_entry(&mut self, entry: u64) -> Result<(), Error> {
        let sregs = self
            .vcpu
            .get_sregs()
            .map_err(|e| kvm_err("KVM_GET_SREGS", e))?;
        self.vcpu
            .set_sregs(&layout::sregs(sregs))
            .map_err(|e| kvm_err("KVM_SET_SREGS", e))?;
        self.vcpu
            .set_regs(&layout::regs(entry, self.mem.size()))
            .map_err(|e| kvm_err("KVM_SET_REGS", e))
    }

    /// Write the vCPU's registers and guest memory to `core`.
    pub fn dump(&mut self, core: super::dump::CoreFile, signal: i32) -> Result<String, Error> {
        let regs = self
            .vcpu
            .get_regs()
            .map_err(|e| kvm_err("KVM_GET_REGS", e))?;
        let sregs = self
            .vcpu
            .get_sregs()
            .map_err(|e| kvm_err("KVM_GET_SREGS", e))?;
        core.finish(&regs, &sregs, &self.mem, signal)
    }

    fn where_(&self) -> String {
        match self.vcpu.get_regs() {
            Ok(r) => format!(
                "rip={:#x} rsp={:#x} rax={:#x} rdi={:#x} rflags={:#x}",
                r.rip, r.rsp, r.rax, r.rdi, r.rflags
            ),
            Err(_) => "registers unavailable".into(),
        }
    }

    /// Run until HALT; returns the guest's exit status.
    pub fn run<W: Write>(&mut self, calls: &mut Calls<W>) -> Result<i32, Error> {
        loop {
            let stop = match self.vcpu.run() {
                Ok(VcpuExit::IoOut(port, data)) => {
                    let data = data.to_vec();
                    match calls.handle(&self.mem, port, &data) {
                        Ok(Exit::Continue) => continue,
                        Ok(Exit::Halt(status)) => return Ok(status),
                        Err(Error::Guest(m)) => {
                            return Err(Error::Guest(format!("{m}; {}", self.where_())));
                        }
                        Err(e) => return Err(e),
                    }
                }
                Ok(VcpuExit::Hlt) => Stop::Hlt,
                Ok(VcpuExit::Shutdown) => Stop::Shutdown,
                Ok(VcpuExit::InternalError) => Stop::Internal,
                Ok(VcpuExit::IoIn(port, _)) => Stop::IoIn(port),
                Ok(VcpuExit::MmioRead(addr, _)) => Stop::Mmio(addr, false),
                Ok(VcpuExit::MmioWrite(addr, _)) => Stop::Mmio(addr, true),
                Ok(VcpuExit::FailEntry(reason, _)) => Stop::FailEntry(reason),
                Ok(VcpuExit::MemoryFault { gpa, .. }) => Stop::Fault(Some(gpa)),
                Ok(other) => Stop::Other(format!("{other:?}")),
                Err(e) if e.errno() == libc::EINTR || e.errno() == libc::EAGAIN => continue,
                Err(e) if e.errno() == libc::EFAULT => Stop::Fault(None),
                Err(e) => return Err(kvm_err("KVM_RUN", e)),
            };
            return Err(self.explain(stop));
        }
    }

    /// Any exit but a hypercall stops the guest; say why and where.
    fn explain(&mut self, stop: Stop) -> Error {
        let at = self.where_();
        let what = match stop {
            Stop::Internal => {
                // SAFETY: the exit reason is KVM_EXIT_INTERNAL_ERROR, so `internal` is the active field.
                let sub = unsafe { self.vcpu.get_kvm_run().__bindgen_anon_1.internal.suberror };
                let hint = if sub == INTERNAL_ERROR_EMULATION {
                    " (KVM could not emulate an instruction; a paravirtual KVM that emulates ring-0 code fails on SSE)"
                } else {
                    ""
                };
                return Error::Host(format!("KVM internal error, suberror {sub}{hint}; {at}"));
            }
            Stop::FailEntry(reason) => {
                return Error::Host(format!(
                    "KVM entry failure, hardware reason {reason:#x}; {at}"
                ));
            }
            Stop::Hlt => "the guest executed hlt instead of the HALT hypercall".to_string(),
            Stop::Shutdown => {
                // CR2 holds the address of the last page fault: a write to
                // text or rodata, a jump into data, a read of page zero.
                let cr2 = self.vcpu.get_sregs().map_or(0, |s| s.cr2);
                format!(
                    "triple fault (the guest took an exception it could not handle; last page fault at {cr2:#x}: text and rodata are read-only, only text is executable, nothing is mapped below 0x10000)"
                )
            }
            Stop::IoIn(port) => {
                format!("read from I/O port {port:#x}; hvt guests only write hypercall ports")
            }
            // Some KVMs report a write to host-read-only memory as MMIO.
            Stop::Mmio(addr, true) if self.mem.is_read_only(addr) => format!(
                "write at guest-physical {addr:#x} to read-only memory (the image's text or rodata)"
            ),
            Stop::Mmio(addr, _) => {
                format!("access to guest-physical {addr:#x}, outside guest memory")
            }
            Stop::Fault(gpa) => {
                let at = gpa.map_or(String::new(), |g| format!(" at guest-physical {g:#x}"));
                let ro = gpa.is_none_or(|g| self.mem.is_read_only(g));
                if ro {
                    format!("write{at} to read-only memory (the image's text or rodata)")
                } else {
                    format!("host/guest translation fault{at}")
                }
            }
            Stop::Other(e) => format!("unexpected exit {e}"),
        };
        Error::Guest(format!("{what}; {at}"))
    }
}

/// Why the vCPU stopped, other than a hypercall.
enum Stop {
    Hlt,
    Shutdown,
    Internal,
    IoIn(u16),
    /// Address, and whether it was a write.
    Mmio(u64, bool),
    FailEntry(u64),
    /// KVM_RUN failed with EFAULT: in practice a write to host-read-only
    /// memory (the guest-physical address when KVM reports it).
    Fault(Option<u64>),
    Other(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstable_tsc_is_refused() {
        assert!(tsc_error(libc::EIO).to_string().contains("unstable"));
        assert!(
            tsc_error(libc::ENOTTY)
                .to_string()
                .contains("KVM_GET_TSC_KHZ")
        );
    }
}
