//! PCI configuration space through the legacy 0xcf8/0xcfc ports, and a
//! bridge-following enumeration from bus 0.

use core::fmt;

use crate::cpu::{inl, outl};

const CONFIG_ADDRESS: u16 = 0xcf8;
const CONFIG_DATA: u16 = 0xcfc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PciAddress {
    pub bus: u8,
    pub device: u8,
    pub function: u8,
}

impl fmt::Display for PciAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}:{:02x}.{}", self.bus, self.device, self.function)
    }
}

/// The value written to CONFIG_ADDRESS to reach dword `offset` of `addr`.
pub fn config_address(addr: PciAddress, offset: u8) -> u32 {
    0x8000_0000
        | (u32::from(addr.bus) << 16)
        | (u32::from(addr.device & 0x1f) << 11)
        | (u32::from(addr.function & 0x7) << 8)
        | u32::from(offset & 0xfc)
}

pub fn read32(addr: PciAddress, offset: u8) -> u32 {
    // SAFETY: the configuration mechanism ports belong to the platform.
    unsafe {
        outl(CONFIG_ADDRESS, config_address(addr, offset));
        inl(CONFIG_DATA)
    }
}

pub fn write32(addr: PciAddress, offset: u8, value: u32) {
    // SAFETY: the configuration mechanism ports belong to the platform.
    unsafe {
        outl(CONFIG_ADDRESS, config_address(addr, offset));
        outl(CONFIG_DATA, value);
    }
}

pub fn read16(addr: PciAddress, offset: u8) -> u16 {
    (read32(addr, offset) >> (u32::from(offset & 2) * 8)) as u16
}

pub fn read8(addr: PciAddress, offset: u8) -> u8 {
    (read32(addr, offset) >> (u32::from(offset & 3) * 8)) as u8
}

/// What enumeration reports for one function.
#[derive(Clone, Copy, Debug)]
pub struct PciFunction {
    pub address: PciAddress,
    pub vendor: u16,
    pub device: u16,
    pub revision: u8,
    pub class: u8,
    pub subclass: u8,
    pub header_type: u8,
    pub subsystem_vendor: u16,
    pub subsystem: u16,
    pub bars: [u32; 6],
    pub interrupt_line: u8,
}

impl PciFunction {
    fn read(address: PciAddress) -> Option<Self> {
        let id = read32(address, 0x00);
        let vendor = id as u16;
        if vendor == 0xffff {
            return None;
        }
        let class_rev = read32(address, 0x08);
        let header_type = read8(address, 0x0e);
        let mut bars = [0u32; 6];
        let mut subsystem_vendor = 0;
        let mut subsystem = 0;
        if header_type & 0x7f == 0 {
            for (i, bar) in bars.iter_mut().enumerate() {
                *bar = read32(address, 0x10 + 4 * i as u8);
            }
            subsystem_vendor = read16(address, 0x2c);
            subsystem = read16(address, 0x2e);
        }
        Some(Self {
            address,
            vendor,
            device: (id >> 16) as u16,
            revision: class_rev as u8,
            class: (class_rev >> 24) as u8,
            subclass: (class_rev >> 16) as u8,
            header_type,
            subsystem_vendor,
            subsystem,
            bars,
            interrupt_line: read8(address, 0x3c),
        })
    }

    /// Base of BAR `i` if it is an I/O-space BAR.
    pub fn io_bar(&self, i: usize) -> Option<u16> {
        let bar = *self.bars.get(i)?;
        (bar & 1 == 1 && bar & !0x3 != 0).then_some((bar & !0x3) as u16)
    }

    /// Turn on I/O decoding and bus mastering (DMA).
    pub fn enable_io_and_dma(&self) {
        let cmd = read32(self.address, 0x04);
        write32(self.address, 0x04, (cmd & 0xffff) | 0x1 | 0x4);
    }
}

/// Call `f` for every function reachable from bus 0, in bus/device/function order.
pub fn enumerate(mut f: impl FnMut(&PciFunction)) {
    scan_bus(0, 0, &mut f);
}

fn scan_bus(bus: u8, depth: u32, f: &mut impl FnMut(&PciFunction)) {
    if depth > 8 {
        return;
    }
    for device in 0..32 {
        let first = PciAddress {
            bus,
            device,
            function: 0,
        };
        let Some(func0) = PciFunction::read(first) else {
            continue;
        };
        let functions = if func0.header_type & 0x80 != 0 { 8 } else { 1 };
        for function in 0..functions {
            let address = PciAddress {
                bus,
                device,
                function,
            };
            let Some(func) = (if function == 0 {
                Some(func0)
            } else {
                PciFunction::read(address)
            }) else {
                continue;
            };
            f(&func);
            // PCI-to-PCI bridge: follow its secondary bus.
            if func.header_type & 0x7f == 1 && func.class == 0x06 && func.subclass == 0x04 {
                let secondary = read8(address, 0x19);
                if secondary > bus {
                    scan_bus(secondary, depth + 1, f);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_address_layout() {
        let a = PciAddress {
            bus: 1,
            device: 3,
            function: 2,
        };
        assert_eq!(config_address(a, 0x3e), 0x8001_1a3c);
        assert_eq!(
            config_address(
                PciAddress {
                    bus: 0,
                    device: 0,
                    function: 0
                },
                0
            ),
            0x8000_0000
        );
    }

    #[test]
    fn io_bar_decoding() {
        let mut f = PciFunction {
            address: PciAddress {
                bus: 0,
                device: 4,
                function: 0,
            },
            vendor: 0x1af4,
            device: 0x1000,
            revision: 0,
            class: 2,
            subclass: 0,
            header_type: 0,
            subsystem_vendor: 0x1af4,
            subsystem: 1,
            bars: [0xc041, 0xfebf_1000, 0, 0, 0xfe00_000c, 0],
            interrupt_line: 11,
        };
        assert_eq!(f.io_bar(0), Some(0xc040));
        assert_eq!(f.io_bar(1), None);
        f.bars[0] = 0x1; // unassigned I/O BAR
        assert_eq!(f.io_bar(0), None);
        assert_eq!(f.io_bar(9), None);
    }
}
