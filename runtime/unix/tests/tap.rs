//! The tap device against the Linux kernel. Needs root and /dev/net/tun:
//! without them these tests fail (they never skip).

mod common;

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use unik_rt::{ETHERNET_HEADER, NetError, Network};

const ETHERTYPE: u16 = 0x88b5; // IEEE local experimental

fn tap_name(tag: &str) -> String {
    format!("ut{tag}{}", std::process::id() % 100_000)
}

fn connect(tag: &str) -> unik_unix::net::Tap {
    let name = tap_name(tag);
    match unik_unix::net::connect(&name) {
        Ok(tap) => tap,
        Err(e) => panic!("cannot create tap {name} (needs root and /dev/net/tun): {e}"),
    }
}

fn socket(domain: i32, ty: i32, proto: i32) -> OwnedFd {
    // SAFETY: plain socket creation.
    let raw = unsafe { libc::socket(domain, ty | libc::SOCK_CLOEXEC, proto) };
    assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
    // SAFETY: `raw` is fresh and owned only here.
    unsafe { OwnedFd::from_raw_fd(raw) }
}

/// Sets the interface up (SIOCSIFFLAGS) with IPv6 off so the kernel stays quiet.
fn bring_up(name: &str) {
    let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6"), "1");
    let sock = socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (dst, src) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *dst = *src as libc::c_char;
    }
    // SAFETY: both ioctls read/write one ifreq.
    unsafe {
        assert!(libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS as _, &mut req) >= 0);
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        assert!(
            libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS as _, &mut req) >= 0,
            "SIOCSIFFLAGS: {}",
            std::io::Error::last_os_error()
        );
    }
}

fn rx_packets(name: &str) -> u64 {
    let path = format!("/sys/class/net/{name}/statistics/rx_packets");
    std::fs::read_to_string(&path)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn frame(dst: [u8; 6], payload: &[u8], buf: &mut [u8]) -> usize {
    buf[..6].copy_from_slice(&dst);
    buf[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x01]);
    buf[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
    buf[14..14 + payload.len()].copy_from_slice(payload);
    (14 + payload.len()).max(60)
}

#[test]
fn tap_writes_frames_the_kernel_receives() {
    let tap = connect("w");
    assert_eq!(tap.name(), tap_name("w"));
    assert_eq!(tap.mtu(), 1500);
    let mac = tap.mac().0;
    assert_eq!(
        mac[0] & 0x03,
        0x02,
        "MAC must be unicast and locally administered"
    );
    bring_up(tap.name());
    let before = rx_packets(tap.name());
    common::run(async {
        for i in 0..3u8 {
            let mut lent = 0;
            tap.write(tap.mtu() + ETHERNET_HEADER, |buf| {
                lent = buf.len();
                frame([0xff; 6], &[i; 20], buf)
            })
            .await
            .unwrap();
            assert_eq!(lent, 1514);
        }
        assert_eq!(
            tap.write(1515, |_| 0).await,
            Err(NetError::FrameTooLarge {
                size: 1515,
                max: 1514
            })
        );
        assert_eq!(
            tap.write(60, |_| 61).await,
            Err(NetError::BadFillLength {
                returned: 61,
                size: 60
            })
        );
    });
    assert_eq!(
        rx_packets(tap.name()) - before,
        3,
        "the kernel did not count the frames"
    );
}

#[test]
fn tap_receives_frames_the_kernel_sends() {
    let tap: &'static _ = unik_rt::leak(connect("r"));
    bring_up(tap.name());
    let name = CString::new(tap.name()).unwrap();
    // SAFETY: `name` is a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) };
    assert!(ifindex > 0);
    let sock = socket(
        libc::AF_PACKET,
        libc::SOCK_RAW,
        i32::from((libc::ETH_P_ALL as u16).to_be()),
    );
    let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex as i32;
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `addr` is a valid sockaddr_ll of `len` bytes.
    assert_eq!(
        unsafe { libc::bind(sock.as_raw_fd(), (&raw const addr).cast(), len) },
        0
    );
    let mut out = [0u8; 64];
    let n = frame(tap.mac().0, b"unikc-tap-test", &mut out);
    // SAFETY: `out` holds `n` initialised bytes.
    let sent = unsafe { libc::send(sock.as_raw_fd(), out.as_ptr().cast(), n, 0) };
    assert_eq!(
        sent,
        n as isize,
        "send: {}",
        std::io::Error::last_os_error()
    );

    let got = common::run(async move {
        let mut buf = vec![0u8; 1514];
        assert_eq!(
            tap.recv(&mut buf[..100]).await,
            Err(NetError::BufferTooSmall {
                len: 100,
                needed: 1514
            })
        );
        // Skip anything else the kernel sends on a fresh interface.
        loop {
            let n = tap.recv(&mut buf).await.unwrap();
            if n >= 14 && buf[12..14] == ETHERTYPE.to_be_bytes() {
                return buf[..n].to_vec();
            }
        }
    });
    assert_eq!(got[..6], tap.mac().0);
    assert_eq!(&got[14..28], b"unikc-tap-test");
    tap.disconnect();
    let after = common::run(async { tap.write(60, |_| 60).await });
    assert_eq!(after, Err(NetError::Disconnected));
}

#[test]
fn overlong_tap_name_is_an_error() {
    assert!(matches!(
        unik_unix::net::connect("a-name-longer-than-15"),
        Err(NetError::Io(libc::EINVAL))
    ));
}
