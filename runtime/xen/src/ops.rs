//! Typed hypercalls: the argument structures of Xen's public headers
//! (`sched.h`, `event_channel.h`, `hvm/hvm_op.h`, `hvm/params.h`,
//! `memory.h`) as `repr(C)` structs and one function per operation.
//! Errors are Xen's negative errno values.

use crate::hypercall::{EVENT_CHANNEL_OP, HVM_OP, MEMORY_OP, SCHED_OP, op};

pub const DOMID_SELF: u16 = 0x7ff0;

pub const SCHEDOP_SHUTDOWN: u32 = 2;
pub const SCHEDOP_POLL: u32 = 3;
pub const SHUTDOWN_POWEROFF: u32 = 0;
pub const SHUTDOWN_CRASH: u32 = 3;

pub const EVTCHNOP_CLOSE: u32 = 3;
pub const EVTCHNOP_SEND: u32 = 4;
pub const EVTCHNOP_ALLOC_UNBOUND: u32 = 6;

pub const HVMOP_SET_PARAM: u32 = 0;
pub const HVMOP_GET_PARAM: u32 = 1;
pub const HVM_PARAM_STORE_PFN: u32 = 1;
pub const HVM_PARAM_STORE_EVTCHN: u32 = 2;
pub const HVM_PARAM_CONSOLE_PFN: u32 = 17;
pub const HVM_PARAM_CONSOLE_EVTCHN: u32 = 18;

pub const XENMEM_ADD_TO_PHYSMAP: u32 = 7;
pub const XENMAPSPACE_SHARED_INFO: u32 = 0;
pub const XENMAPSPACE_GRANT_TABLE: u32 = 1;

/// A Xen error: the negated errno a hypercall returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct XenError(pub i64);

impl core::fmt::Display for XenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let name = match -self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            12 => "ENOMEM",
            13 => "EACCES",
            14 => "EFAULT",
            16 => "EBUSY",
            22 => "EINVAL",
            28 => "ENOSPC",
            38 => "ENOSYS",
            _ => "error",
        };
        write!(f, "Xen {name} ({})", self.0)
    }
}

fn check(r: i64) -> Result<(), XenError> {
    if r < 0 { Err(XenError(r)) } else { Ok(()) }
}

#[repr(C)]
struct SchedShutdown {
    reason: u32,
}

/// `SCHEDOP_shutdown`: returns only if Xen refused.
pub fn shutdown(reason: u32) -> XenError {
    let mut arg = SchedShutdown { reason };
    // SAFETY: `sched_shutdown` layout.
    XenError(unsafe { op(SCHED_OP, SCHEDOP_SHUTDOWN, &raw mut arg) })
}

/// `struct sched_poll` (x86_64): a guest handle to the ports, their
/// number, and an absolute Xen system time (0: none).
#[repr(C)]
struct SchedPoll {
    ports: *const u32,
    nr_ports: u32,
    timeout: u64,
}

/// `SCHEDOP_poll`: block until one of `ports` is pending or Xen system
/// time reaches `timeout` (0: no timeout). Xen checks the ports after
/// marking the vCPU blocked, so an event that arrived before the call
/// returns at once. Needs no interrupt: the vCPU runs with them off.
pub fn poll(ports: &[u32], timeout: u64) -> Result<(), XenError> {
    let mut arg = SchedPoll {
        ports: ports.as_ptr(),
        nr_ports: ports.len() as u32,
        timeout,
    };
    // SAFETY: `sched_poll` layout; `ports` outlives the call.
    check(unsafe { op(SCHED_OP, SCHEDOP_POLL, &raw mut arg) })
}

#[repr(C)]
struct HvmParam {
    domid: u16,
    pad: u16,
    index: u32,
    value: u64,
}

pub fn hvm_get_param(index: u32) -> Result<u64, XenError> {
    let mut p = HvmParam {
        domid: DOMID_SELF,
        pad: 0,
        index,
        value: 0,
    };
    // SAFETY: `xen_hvm_param` layout.
    check(unsafe { op(HVM_OP, HVMOP_GET_PARAM, &raw mut p) })?;
    Ok(p.value)
}

pub fn hvm_set_param(index: u32, value: u64) -> Result<(), XenError> {
    let mut p = HvmParam {
        domid: DOMID_SELF,
        pad: 0,
        index,
        value,
    };
    // SAFETY: `xen_hvm_param` layout.
    check(unsafe { op(HVM_OP, HVMOP_SET_PARAM, &raw mut p) })
}

#[repr(C)]
struct AddToPhysmap {
    domid: u16,
    size: u16,
    space: u32,
    idx: u64,
    gpfn: u64,
}

/// `XENMEM_add_to_physmap`: make frame `idx` of `space` appear at guest
/// frame `gpfn` (replacing the RAM there).
pub fn add_to_physmap(space: u32, idx: u64, gpfn: u64) -> Result<(), XenError> {
    let mut a = AddToPhysmap {
        domid: DOMID_SELF,
        size: 0,
        space,
        idx,
        gpfn,
    };
    // SAFETY: `xen_add_to_physmap` layout.
    check(unsafe { op(MEMORY_OP, XENMEM_ADD_TO_PHYSMAP, &raw mut a) })
}

#[repr(C)]
struct AllocUnbound {
    dom: u16,
    remote_dom: u16,
    port: u32,
}

/// A new port that domain `remote` may bind to.
pub fn alloc_unbound(remote: u16) -> Result<u32, XenError> {
    let mut a = AllocUnbound {
        dom: DOMID_SELF,
        remote_dom: remote,
        port: 0,
    };
    // SAFETY: `evtchn_alloc_unbound` layout.
    check(unsafe { op(EVENT_CHANNEL_OP, EVTCHNOP_ALLOC_UNBOUND, &raw mut a) })?;
    Ok(a.port)
}

#[repr(C)]
struct Port {
    port: u32,
}

/// Notify the other end of `port`.
pub fn send(port: u32) -> Result<(), XenError> {
    let mut p = Port { port };
    // SAFETY: `evtchn_send` layout.
    check(unsafe { op(EVENT_CHANNEL_OP, EVTCHNOP_SEND, &raw mut p) })
}

pub fn close(port: u32) -> Result<(), XenError> {
    let mut p = Port { port };
    // SAFETY: `evtchn_close` layout.
    check(unsafe { op(EVENT_CHANNEL_OP, EVTCHNOP_CLOSE, &raw mut p) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    #[test]
    fn layouts_match_the_public_headers() {
        assert_eq!(size_of::<HvmParam>(), 16);
        assert_eq!(size_of::<AddToPhysmap>(), 24);
        assert_eq!(size_of::<SchedPoll>(), 24);
        assert_eq!(core::mem::offset_of!(SchedPoll, nr_ports), 8);
        assert_eq!(core::mem::offset_of!(SchedPoll, timeout), 16);
        assert_eq!(size_of::<AllocUnbound>(), 8);
    }

    #[test]
    fn host_builds_get_enosys() {
        assert_eq!(hvm_get_param(HVM_PARAM_STORE_PFN), Err(XenError(-38)));
    }
}
