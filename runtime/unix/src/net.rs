//! Network device on a Linux tap interface (`/dev/net/tun`, `IFF_TAP |
//! IFF_NO_PI | IFF_VNET_HDR`), non-blocking, waiting for readiness through the
//! executor. Every frame crosses the descriptor behind a 10-byte
//! `virtio_net_hdr`, which the device owns: zero for a plain frame, filled in
//! for a TSO frame (one write carries up to 64 KB of TCP, which the kernel
//! segments). On receive, plain `recv` keeps the kernel's offloads off
//! (`TUNSETOFFLOAD` 0): MTU-sized frames with complete checksums. `recv_offload`
//! turns on checksum and TCP segmentation offload towards us (`TUN_F_CSUM |
//! TUN_F_TSO4 | TUN_F_TSO6`): the kernel then hands over its TCP segments (IPv4 or
//! IPv6) of up to 64 KB
//! whole, their checksums partial (`NEEDS_CSUM`) or already verified
//! (`DATA_VALID`), which saves the stack a frame, a copy and a checksum per MSS.
//! The unikernel's own MAC is random and locally administered, as in
//! MirageOS `mirage-net-unix`; the host side of the tap has its own.

use std::cell::RefCell;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use unik_rt::exec::{readable, writable};
use unik_rt::{ETHERNET_HEADER, Mac, NetError, Offload, Received};

use crate::sys;

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_VNET_HDR: libc::c_short = 0x4000;
const TUNSETOFFLOAD: libc::c_ulong = 0x4004_54d0;
const TUNSETVNETHDRSZ: libc::c_ulong = 0x4004_54d8;
/// `struct virtio_net_hdr` (legacy, host byte order, without `num_buffers`).
const VNET_HDR: usize = 10;
const VNET_F_NEEDS_CSUM: u8 = 1;
const VNET_F_DATA_VALID: u8 = 2;
const VNET_GSO_TCPV4: u8 = 1;
const VNET_GSO_TCPV6: u8 = 4;
const TUN_F_CSUM: libc::c_ulong = 0x01;
const TUN_F_TSO4: libc::c_ulong = 0x02;
const TUN_F_TSO6: libc::c_ulong = 0x04;
/// Largest IPv4 packet, hence the largest TSO packet (IPv6 header included).
const TSO_MAX: usize = 65_535;
/// Largest IPv6 packet (its payload length is 16 bits), hence the largest coalesced one.
const RX_MAX: usize = 40 + 65_535;
const DEFAULT_MTU: usize = 1500;

/// `struct ifreq`: the interface name, then a 24-byte union of which
/// only the leading `short` flags or `int` MTU are used here.
#[repr(C)]
struct IfReq {
    name: [libc::c_char; libc::IFNAMSIZ],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> Result<Self, NetError> {
        let bytes = name.as_bytes();
        if bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
            return Err(NetError::Io(libc::EINVAL));
        }
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        for (dst, src) in req.name.iter_mut().zip(bytes) {
            *dst = *src as libc::c_char;
        }
        Ok(req)
    }

    fn name(&self) -> String {
        let bytes: Vec<u8> = self
            .name
            .iter()
            .take_while(|c| **c != 0)
            .map(|c| *c as u8)
            .collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A tap interface.
#[derive(Debug)]
pub struct Tap {
    fd: RefCell<Option<OwnedFd>>,
    name: String,
    mac: Mac,
    mtu: usize,
    buffers: RefCell<Vec<Vec<u8>>>,
    stats: std::cell::Cell<TapStats>,
    /// Whether the kernel may send us large segments with partial checksums.
    rx_offload: std::cell::Cell<bool>,
}

/// Frames written to the tap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TapStats {
    pub frames: u64,
    /// IPv4 frames the kernel segments (TSO), included in `frames`.
    pub tso_frames: u64,
    /// IPv6 frames the kernel segments (TSO), included in `frames`.
    pub tso6_frames: u64,
    /// Largest frame written, Ethernet header included.
    pub largest: usize,
    /// Frames received.
    pub rx_frames: u64,
    /// Largest frame received, Ethernet header included.
    pub rx_largest: usize,
}

/// Attaches to the tap interface `tap_name` (created if absent, which needs
/// CAP_NET_ADMIN); an empty name lets the kernel choose one.
pub fn connect(tap_name: &str) -> Result<Tap, NetError> {
    let mut req = IfReq::new(tap_name)?;
    req.data[..2].copy_from_slice(&(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR).to_ne_bytes());
    let path = CString::new("/dev/net/tun").map_err(|_| NetError::Io(libc::EINVAL))?;
    // SAFETY: `path` is a valid C string.
    let raw = unsafe {
        libc::open(
            path.as_ptr(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if raw < 0 {
        return Err(NetError::Io(sys::code(&sys::last_error())));
    }
    // SAFETY: `raw` was just opened and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `req` is.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut req) } < 0 {
        return Err(NetError::Io(sys::code(&sys::last_error())));
    }
    let hdr_size = VNET_HDR as libc::c_int;
    // SAFETY: TUNSETVNETHDRSZ reads one `int`; TUNSETOFFLOAD takes its flags by value.
    if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETVNETHDRSZ as _, &hdr_size) } < 0
        || unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD as _, 0 as libc::c_ulong) } < 0
    {
        return Err(NetError::Io(sys::code(&sys::last_error())));
    }
    let name = req.name();
    let mut mac = [0u8; 6];
    getrandom::fill(&mut mac).map_err(|e| NetError::Io(e.raw_os_error().unwrap_or(libc::EIO)))?;
    mac[0] = (mac[0] & 0xfe) | 0x02;
    Ok(Tap {
        mtu: interface_mtu(&name).unwrap_or(DEFAULT_MTU),
        fd: RefCell::new(Some(fd)),
        name,
        mac: Mac(mac),
        buffers: RefCell::new(Vec::new()),
        stats: std::cell::Cell::new(TapStats::default()),
        rx_offload: std::cell::Cell::new(false),
    })
}

/// The MTU the host configured on the interface (SIOCGIFMTU).
fn interface_mtu(name: &str) -> Option<usize> {
    let mut req = IfReq::new(name).ok()?;
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is a fresh descriptor owned by nothing else.
    let sock = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: SIOCGIFMTU fills the `int` at the start of the union.
    if unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFMTU as _, &mut req) } < 0 {
        return None;
    }
    let mtu = i32::from_ne_bytes([req.data[0], req.data[1], req.data[2], req.data[3]]);
    usize::try_from(mtu).ok().filter(|m| *m > 0)
}

impl Tap {
    /// The interface name (useful when the kernel chose it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What was written and received so far.
    pub fn stats(&self) -> TapStats {
        self.stats.get()
    }

    fn raw_fd(&self) -> Result<RawFd, NetError> {
        self.fd
            .borrow()
            .as_ref()
            .map(AsRawFd::as_raw_fd)
            .ok_or(NetError::Disconnected)
    }

    /// Lends `fill` the frame region of a buffer behind the device's `virtio_net_hdr`,
    /// which stays zero for a plain frame and describes the segmentation for a TSO one.
    async fn transmit<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        max: usize,
        mss: Option<usize>,
        fill: F,
    ) -> Result<(), NetError> {
        self.raw_fd()?;
        if size > max {
            return Err(NetError::FrameTooLarge { size, max });
        }
        let mut buf = self.buffers.borrow_mut().pop().unwrap_or_default();
        buf.clear();
        buf.resize(VNET_HDR + size, 0);
        let len = fill(&mut buf[VNET_HDR..]);
        let result = if len > size {
            Err(NetError::BadFillLength {
                returned: len,
                size,
            })
        } else {
            match mss.map(|m| tso_header(&mut buf[..VNET_HDR + len], m)) {
                Some(Err(e)) => Err(e),
                _ => self.send(&buf[..VNET_HDR + len]).await,
            }
        };
        self.buffers.borrow_mut().push(buf);
        result
    }

    async fn send(&self, frame: &[u8]) -> Result<(), NetError> {
        loop {
            let fd = self.raw_fd()?;
            // SAFETY: `frame` is a live slice of `frame.len()` bytes.
            let n = unsafe { libc::write(fd, frame.as_ptr().cast(), frame.len()) };
            if n >= 0 {
                let mut st = self.stats.get();
                st.frames += 1;
                st.tso_frames += u64::from(frame[1] == VNET_GSO_TCPV4);
                st.tso6_frames += u64::from(frame[1] == VNET_GSO_TCPV6);
                st.largest = st.largest.max(frame.len() - VNET_HDR);
                self.stats.set(st);
                return Ok(());
            }
            let err = sys::last_error();
            if sys::is_would_block(&err) {
                writable(fd as u64).await;
            } else if !sys::is_interrupted(&err) {
                return Err(NetError::Io(sys::code(&err)));
            }
        }
    }

    /// Reads one frame into `buf`, its `virtio_net_hdr` apart: the frame's length and the header.
    async fn read_frame(&self, buf: &mut [u8]) -> Result<(usize, [u8; VNET_HDR]), NetError> {
        loop {
            let fd = self.raw_fd()?;
            let mut hdr = [0u8; VNET_HDR];
            let iov = [
                libc::iovec {
                    iov_base: hdr.as_mut_ptr().cast(),
                    iov_len: VNET_HDR,
                },
                libc::iovec {
                    iov_base: buf.as_mut_ptr().cast(),
                    iov_len: buf.len(),
                },
            ];
            // SAFETY: both iovecs point at live, writable buffers of the given lengths.
            let n = unsafe { libc::readv(fd, iov.as_ptr(), 2) };
            if n >= 0 {
                let len = (n as usize).saturating_sub(VNET_HDR);
                let mut st = self.stats.get();
                st.rx_frames += 1;
                st.rx_largest = st.rx_largest.max(len);
                self.stats.set(st);
                return Ok((len, hdr));
            }
            let err = sys::last_error();
            if sys::is_would_block(&err) {
                readable(fd as u64).await;
            } else if !sys::is_interrupted(&err) {
                return Err(NetError::Io(sys::code(&err)));
            }
        }
    }
}

impl unik_rt::Network for Tap {
    fn mac(&self) -> Mac {
        self.mac
    }

    fn mtu(&self) -> usize {
        self.mtu
    }

    fn offload(&self) -> Offload {
        Offload {
            tso_max: TSO_MAX,
            rx_max: RX_MAX,
        }
    }

    async fn write<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        fill: F,
    ) -> Result<(), NetError> {
        self.transmit(size, self.mtu + ETHERNET_HEADER, None, fill)
            .await
    }

    async fn write_tso<F: FnOnce(&mut [u8]) -> usize>(
        &self,
        size: usize,
        mss: usize,
        fill: F,
    ) -> Result<(), NetError> {
        self.transmit(size, TSO_MAX + ETHERNET_HEADER, Some(mss), fill)
            .await
    }

    async fn recv(&self, buf: &mut [u8]) -> Result<usize, NetError> {
        let needed = self.mtu + ETHERNET_HEADER;
        if buf.len() < needed {
            return Err(NetError::BufferTooSmall {
                len: buf.len(),
                needed,
            });
        }
        // Receive offloads are off, so the header carries nothing the stack needs.
        Ok(self.read_frame(buf).await?.0)
    }

    async fn recv_offload(&self, buf: &mut [u8]) -> Result<Received, NetError> {
        let needed = self.mtu.max(RX_MAX) + ETHERNET_HEADER;
        if buf.len() < needed {
            return Err(NetError::BufferTooSmall {
                len: buf.len(),
                needed,
            });
        }
        if !self.rx_offload.get() {
            let fd = self.raw_fd()?;
            // SAFETY: TUNSETOFFLOAD takes its flags by value.
            if unsafe { libc::ioctl(fd, TUNSETOFFLOAD as _, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) }
                < 0
            {
                return Err(NetError::Io(sys::code(&sys::last_error())));
            }
            self.rx_offload.set(true);
        }
        let (len, hdr) = self.read_frame(buf).await?;
        Ok(Received {
            len,
            checksum_trusted: hdr[0] & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID) != 0,
        })
    }

    fn disconnect(&self) {
        self.fd.borrow_mut().take();
    }
}

/// Fills the `virtio_net_hdr` at the start of `buf` for the Ethernet/IPv4/TCP or
/// Ethernet/IPv6/TCP frame after it (TCP right behind the fixed IPv6 header): checksum from
/// the TCP header on, and `mss`-sized segments if the payload is larger.
fn tso_header(buf: &mut [u8], mss: usize) -> Result<(), NetError> {
    let frame = &buf[VNET_HDR..];
    let bad = NetError::Io(libc::EINVAL);
    let ip = ETHERNET_HEADER;
    let (tcp, gso) = match frame.get(12..14) {
        Some([0x08, 0x00]) if frame.len() >= ip + 20 && frame[ip + 9] == 6 => {
            (ip + usize::from(frame[ip] & 0x0f) * 4, VNET_GSO_TCPV4)
        }
        Some([0x86, 0xdd]) if frame.len() >= ip + 40 && frame[ip + 6] == 6 => {
            (ip + 40, VNET_GSO_TCPV6)
        }
        _ => return Err(bad),
    };
    if frame.len() < tcp + 20 {
        return Err(bad);
    }
    let hdr_len = tcp + usize::from(frame[tcp + 12] >> 4) * 4;
    let mss = u16::try_from(mss).map_err(|_| bad.clone())?;
    if hdr_len > frame.len() || mss == 0 {
        return Err(bad);
    }
    let segments = frame.len() - hdr_len > usize::from(mss);
    buf[0] = VNET_F_NEEDS_CSUM;
    buf[1] = if segments { gso } else { 0 };
    buf[2..4].copy_from_slice(&(hdr_len as u16).to_ne_bytes());
    buf[4..6].copy_from_slice(&(if segments { mss } else { 0 }).to_ne_bytes());
    buf[6..8].copy_from_slice(&(tcp as u16).to_ne_bytes());
    buf[8..10].copy_from_slice(&16u16.to_ne_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `virtio_net_hdr` space, Ethernet, an IP header of `ip_len` bytes, TCP (20) and
    /// `payload` bytes, with `ethertype` and the IP header's protocol field set for TCP.
    fn buf(ethertype: [u8; 2], ip_len: usize, payload: usize) -> Vec<u8> {
        let mut b = vec![0u8; VNET_HDR + 14 + ip_len + 20 + payload];
        let f = &mut b[VNET_HDR..];
        f[12..14].copy_from_slice(&ethertype);
        if ip_len == 40 {
            f[14] = 0x60;
            f[14 + 6] = 6;
        } else {
            f[14] = 0x40 | (ip_len / 4) as u8;
            f[14 + 9] = 6;
        }
        f[14 + ip_len + 12] = 5 << 4;
        b
    }

    fn field(b: &[u8], at: usize) -> u16 {
        u16::from_ne_bytes([b[at], b[at + 1]])
    }

    #[test]
    fn tso_headers_for_both_families() {
        for (et, ip_len, gso, mss) in [
            ([0x08, 0x00], 20, VNET_GSO_TCPV4, 1448u16),
            ([0x86, 0xdd], 40, VNET_GSO_TCPV6, 1428),
        ] {
            let mut b = buf(et, ip_len, 4000);
            tso_header(&mut b, usize::from(mss)).unwrap();
            assert_eq!((b[0], b[1]), (VNET_F_NEEDS_CSUM, gso));
            let tcp = (14 + ip_len) as u16;
            assert_eq!(field(&b, 2), tcp + 20, "hdr_len");
            assert_eq!(field(&b, 4), mss, "gso_size");
            assert_eq!(field(&b, 6), tcp, "csum_start");
            assert_eq!(field(&b, 8), 16, "csum_offset");
            // One segment's worth: the checksum only.
            let mut small = buf(et, ip_len, 100);
            tso_header(&mut small, usize::from(mss)).unwrap();
            assert_eq!((small[1], field(&small, 4)), (0, 0));
            // Truncated headers, another protocol, mss 0: refused.
            let short = VNET_HDR + 14 + ip_len + 10;
            assert!(tso_header(&mut buf(et, ip_len, 0)[..short], 1000).is_err());
            assert!(tso_header(&mut buf(et, ip_len, 10), 0).is_err());
            let mut udp = buf(et, ip_len, 10);
            udp[VNET_HDR + 14 + if ip_len == 40 { 6 } else { 9 }] = 17;
            assert!(tso_header(&mut udp, 1000).is_err());
        }
        let mut arp = buf([0x08, 0x06], 20, 10);
        assert!(tso_header(&mut arp, 1000).is_err());
    }
}
