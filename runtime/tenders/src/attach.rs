//! Attaching what the command line names to the devices the manifest
//! declares: tap interfaces (as Solo5's tap_attach) and block files.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, os};
use crate::manifest::{Attached, Kind, Manifest};
use crate::options::{NetBacking, Options};

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const IFF_TAP: i16 = 0x0002;
const IFF_NO_PI: i16 = 0x1000;
const IFF_VNET_HDR: i16 = 0x4000;
/// Checksum and IPv4 and IPv6 TCP segmentation offload towards the guest.
const TUN_F_CSUM: libc::c_ulong = 0x01;
const TUN_F_TSO4: libc::c_ulong = 0x02;
const TUN_F_TSO6: libc::c_ulong = 0x04;
const DEFAULT_BLOCK_SIZE: u16 = 512;

/// `struct ifreq`: the name, then a union (flags: short, mtu: int).
#[repr(C)]
struct IfReq {
    name: [u8; 16],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> Self {
        let mut r = Self {
            name: [0; 16],
            data: [0; 24],
        };
        r.name[..name.len()].copy_from_slice(name.as_bytes());
        r
    }
}

fn ioctl(fd: RawFd, req: libc::c_ulong, ifr: &mut IfReq) -> Result<(), std::io::Error> {
    // SAFETY: `ifr` is a valid ifreq for these requests.
    if unsafe { libc::ioctl(fd, req, ifr as *mut IfReq) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// A tap interface that exists and is up, opened non-blocking without
/// packet information; returns the descriptor and the interface MTU. With
/// `vnet` (only for an image that asked, see `Image::vnet`), frames travel
/// behind a `virtio_net_hdr` and the kernel's offloads are on.
pub fn tap_attach(ifname: &str, vnet: bool) -> Result<(OwnedFd, u16), Error> {
    if ifname.is_empty() || ifname.len() >= 16 {
        return Err(Error::Device(format!("bad interface name {ifname:?}")));
    }
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(os("socket"));
    }
    // SAFETY: a fresh descriptor we own.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut ifr = IfReq::new(ifname);
    ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut ifr).map_err(|e| match e.raw_os_error() {
        Some(libc::ENODEV) => Error::Device(format!("interface {ifname} does not exist")),
        _ => Error::Device(format!("interface {ifname}: {e}")),
    })?;
    if i16::from_ne_bytes([ifr.data[0], ifr.data[1]]) & libc::IFF_UP as i16 == 0 {
        return Err(Error::Device(format!("interface {ifname} is not up")));
    }
    let mut ifr = IfReq::new(ifname);
    ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU, &mut ifr)
        .map_err(|e| Error::Device(format!("interface {ifname}: MTU: {e}")))?;
    let mtu = i32::from_ne_bytes(ifr.data[0..4].try_into().expect("4 bytes"));
    let mtu = u16::try_from(mtu)
        .ok()
        .filter(|&m| m >= 68 && usize::from(m) + 14 <= usize::from(u16::MAX))
        .ok_or_else(|| Error::Device(format!("interface {ifname}: unusable MTU {mtu}")))?;

    let path = c"/dev/net/tun";
    // SAFETY: a valid NUL-terminated path.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(Error::Device(format!(
            "cannot open /dev/net/tun: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: a fresh descriptor we own.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let mut ifr = IfReq::new(ifname);
    let flags = IFF_TAP | IFF_NO_PI | if vnet { IFF_VNET_HDR } else { 0 };
    ifr.data[0..2].copy_from_slice(&flags.to_ne_bytes());
    ioctl(fd.as_raw_fd(), TUNSETIFF, &mut ifr).map_err(|e| match e.raw_os_error() {
        Some(libc::EBUSY) => Error::Device(format!("interface {ifname} is already in use")),
        Some(libc::EINVAL) => Error::Device(format!("interface {ifname} is not a tap device")),
        _ => Error::Device(format!("cannot attach to tap {ifname}: {e}")),
    })?;
    if vnet {
        // SAFETY: TUNSETOFFLOAD takes an integer argument.
        if unsafe {
            libc::ioctl(
                fd.as_raw_fd(),
                TUNSETOFFLOAD,
                TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
            )
        } < 0
        {
            return Err(Error::Device(format!(
                "tap {ifname}: cannot turn on offloads: {}",
                std::io::Error::last_os_error()
            )));
        }
    } else {
        // No offloads: every frame read fits in MTU + 14 bytes. Best effort, as Solo5.
        // SAFETY: TUNSETOFFLOAD takes an integer argument.
        unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, 0 as libc::c_ulong) };
    }
    Ok((fd, mtu))
}

/// A random locally administered unicast MAC address.
pub fn random_mac() -> [u8; 6] {
    let mut mac = [0u8; 6];
    // SAFETY: writes at most 6 bytes into `mac`.
    let n = unsafe { libc::getrandom(mac.as_mut_ptr().cast(), 6, 0) };
    if n != 6 {
        // getrandom cannot fail for 6 bytes once the pool is ready; fall back to time and pid.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        mac.copy_from_slice(&t.to_le_bytes()[..6]);
    }
    mac[0] = (mac[0] & 0xfc) | 0x02;
    mac
}

/// A block device backed by a file: capacity is its size, a multiple of
/// the block size.
pub fn block_attach(path: &std::path::Path, block_size: u16) -> Result<(File, u64), Error> {
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::Device(format!("cannot open block file {}: {e}", path.display())))?;
    let capacity = file
        .seek(SeekFrom::End(0))
        .map_err(|e| Error::Device(format!("{}: {e}", path.display())))?;
    if capacity < u64::from(block_size) || !capacity.is_multiple_of(u64::from(block_size)) {
        return Err(Error::Device(format!(
            "{}: size {capacity} is not a non-zero multiple of the block size {block_size}",
            path.display()
        )));
    }
    Ok((file, capacity))
}

/// What backs one manifest device.
#[derive(Debug)]
pub enum Backing {
    Net {
        fd: OwnedFd,
        mac: [u8; 6],
        mtu: u16,
        /// Frames behind a `virtio_net_hdr`, offloads on (spt, negotiated).
        vnet: bool,
    },
    Block {
        file: File,
        capacity: u64,
        block_size: u16,
    },
}

impl Backing {
    pub fn raw_fd(&self) -> RawFd {
        match self {
            Self::Net { fd, .. } => fd.as_raw_fd(),
            Self::Block { file, .. } => file.as_raw_fd(),
        }
    }

    pub fn attached(&self) -> Attached {
        match *self {
            Self::Net {
                ref fd, mac, mtu, ..
            } => Attached::Net {
                mac,
                mtu,
                hostfd: fd.as_raw_fd(),
            },
            Self::Block {
                ref file,
                capacity,
                block_size,
            } => Attached::Block {
                capacity,
                block_size,
                hostfd: file.as_raw_fd(),
            },
        }
    }
}

/// Attach every device of the manifest; `devices[h - 1]` backs handle `h`.
pub fn attach_all(manifest: &Manifest, o: &Options) -> Result<Vec<Backing>, Error> {
    attach_all_vnet(manifest, o, false)
}

/// [`attach_all`], with taps in `virtio_net_hdr` mode if `vnet` (a
/// descriptor passed as `@FD` stays as its owner opened it).
pub fn attach_all_vnet(
    manifest: &Manifest,
    o: &Options,
    vnet: bool,
) -> Result<Vec<Backing>, Error> {
    let mut slots: Vec<Option<Backing>> = manifest.devices.iter().map(|_| None).collect();
    for (name, _) in &o.macs {
        manifest.handle(name, Kind::Net)?;
    }
    for (name, _) in &o.sector_sizes {
        manifest.handle(name, Kind::Block)?;
    }
    for n in &o.nets {
        let h = manifest.handle(&n.name, Kind::Net)?;
        let (fd, mtu, vnet) = match &n.backing {
            NetBacking::Tap(ifname) => {
                let (fd, mtu) = tap_attach(ifname, vnet)?;
                (fd, mtu, vnet)
            }
            NetBacking::Fd(fd) => {
                // SAFETY: F_GETFD only inspects the descriptor number.
                if unsafe { libc::fcntl(*fd, libc::F_GETFD) } < 0 {
                    return Err(Error::Device(format!(
                        "--net:{}=@{fd}: not an open descriptor",
                        n.name
                    )));
                }
                // SAFETY: the caller handed this descriptor to us on the command line.
                (unsafe { OwnedFd::from_raw_fd(*fd) }, 1500, false)
            }
        };
        let mac = o
            .macs
            .iter()
            .rev()
            .find(|(m, _)| *m == n.name)
            .map_or_else(random_mac, |(_, mac)| *mac);
        slots[h - 1] = Some(Backing::Net { fd, mac, mtu, vnet });
    }
    for b in &o.blocks {
        let h = manifest.handle(&b.name, Kind::Block)?;
        let block_size = o
            .sector_sizes
            .iter()
            .rev()
            .find(|(m, _)| *m == b.name)
            .map_or(DEFAULT_BLOCK_SIZE, |(_, s)| *s);
        let (file, capacity) = block_attach(&b.path, block_size)?;
        slots[h - 1] = Some(Backing::Block {
            file,
            capacity,
            block_size,
        });
    }
    manifest
        .devices
        .iter()
        .zip(slots)
        .map(|(d, slot)| {
            slot.ok_or_else(|| {
                let opt = match d.kind {
                    Kind::Net => "--net",
                    Kind::Block => "--block",
                };
                Error::Usage(format!(
                    "the image declares {} device {:?}, which is not attached (use {opt}:{}=...)",
                    d.kind.name(),
                    d.name,
                    d.name
                ))
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::tests::mft;

    #[test]
    fn random_macs_are_local_unicast() {
        let a = random_mac();
        assert_eq!(a[0] & 0x03, 0x02);
        assert_ne!(random_mac(), random_mac());
    }

    #[test]
    fn block_files_must_be_whole_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk");
        std::fs::write(&p, vec![0u8; 4096]).unwrap();
        let (_, cap) = block_attach(&p, 512).unwrap();
        assert_eq!(cap, 4096);
        assert!(block_attach(&p, 8192).is_err());
        std::fs::write(&p, vec![0u8; 1000]).unwrap();
        assert!(block_attach(&p, 512).is_err());
        std::fs::write(&p, b"").unwrap();
        assert!(block_attach(&p, 512).is_err());
        assert!(block_attach(&dir.path().join("missing"), 512).is_err());
    }

    #[test]
    fn every_declared_device_must_be_attached() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("disk");
        std::fs::write(&p, vec![0u8; 1024]).unwrap();
        let m = Manifest::parse(&mft(&[("storage", 1)])).unwrap();
        let disk = format!("--block:storage={}", p.display());
        let o = Options::parse(&[disk.as_str(), "img"]).unwrap();
        let devs = attach_all(&m, &o).unwrap();
        assert!(matches!(
            devs[0],
            Backing::Block {
                capacity: 1024,
                block_size: 512,
                ..
            }
        ));
        let o = Options::parse(&["img"]).unwrap();
        let e = attach_all(&m, &o).unwrap_err().to_string();
        assert!(e.contains("--block:storage="), "{e}");
        let o = Options::parse(&["--block:other=/x", "img"]).unwrap();
        assert!(
            attach_all(&m, &o)
                .unwrap_err()
                .to_string()
                .contains("not declared")
        );
        let o = Options::parse(&["--net:storage=tap0", "img"]).unwrap();
        assert!(
            attach_all(&m, &o)
                .unwrap_err()
                .to_string()
                .contains("BLOCK_BASIC")
        );
        let o =
            Options::parse(&[disk.as_str(), "--net-mac:storage=02:00:00:00:00:01", "img"]).unwrap();
        assert!(attach_all(&m, &o).is_err(), "a MAC for a block device");
    }

    #[test]
    fn missing_tap_is_reported() {
        let e = tap_attach("unikcnosuch0", false).unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
    }
}
