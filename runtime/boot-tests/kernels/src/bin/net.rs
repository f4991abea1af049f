//! Network check: send one frame, then wait (hlt) for a frame from the host
//! and echo it back with a prefix.
#![no_std]
#![no_main]

use unik_virtio::{BootInfo, devices, halt_until, irq, kprintln, now_ns, open_net, wait};

unik_virtio::entry!(main);

const ETHERTYPE: [u8; 2] = [0x88, 0xb5]; // local experimental
const HELLO: &[u8] = b"unik-virtio says hello";

fn main(_boot: &BootInfo) -> i32 {
    let mut net = match open_net(0) {
        Ok(n) => n,
        Err(e) => {
            kprintln!("net: open failed: {e}");
            return 10;
        }
    };
    let mac = net.mac();
    let irq_line = devices()
        .iter()
        .find(|d| d.kind == unik_virtio::DeviceKind::Net)
        .map_or(0, |d| d.irq);
    kprintln!(
        "net: mac={:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} mtu={} irq={irq_line}",
        mac[0],
        mac[1],
        mac[2],
        mac[3],
        mac[4],
        mac[5],
        net.mtu()
    );

    let sent = net.write(net.max_frame(), |buf| {
        buf[..6].fill(0xff);
        buf[6..12].copy_from_slice(&mac);
        buf[12..14].copy_from_slice(&ETHERTYPE);
        buf[14..14 + HELLO.len()].copy_from_slice(HELLO);
        14 + HELLO.len()
    });
    match sent {
        Ok(n) => kprintln!("net: sent {n} bytes"),
        Err(e) => {
            kprintln!("net: write failed: {e}");
            return 11;
        }
    }

    let irqs_before = irq::count(irq_line);
    let start = now_ns();
    let deadline = start + 20_000_000_000;
    let mut frame = [0u8; 1514];
    loop {
        let ready = wait(deadline, 1 << net.handle());
        if ready == 0 {
            kprintln!("net: timed out waiting for a frame");
            return 12;
        }
        match net.poll_receive(&mut frame) {
            Ok(Some(n)) if n >= 14 && frame[12..14] == ETHERTYPE => {
                let waited = now_ns() - start;
                let irqs = irq::count(irq_line) - irqs_before;
                kprintln!("net: received {n} bytes after {waited} ns, device irqs={irqs}");
                let payload = &frame[14..n];
                let echoed = net.write(net.max_frame(), |buf| {
                    buf[..6].copy_from_slice(&frame[6..12]);
                    buf[6..12].copy_from_slice(&mac);
                    buf[12..14].copy_from_slice(&ETHERTYPE);
                    buf[14..19].copy_from_slice(b"echo:");
                    buf[19..19 + payload.len()].copy_from_slice(payload);
                    19 + payload.len()
                });
                if let Err(e) = echoed {
                    kprintln!("net: echo failed: {e}");
                    return 13;
                }
                // Exiting stops QEMU at once; let the echo leave first.
                let flush_deadline = now_ns() + 2_000_000_000;
                while net.tx_in_flight() > 0 && now_ns() < flush_deadline {
                    halt_until(now_ns() + 1_000_000);
                }
                kprintln!("net: ok");
                return 0;
            }
            Ok(Some(n)) => kprintln!("net: ignoring {n}-byte frame"),
            Ok(None) => {}
            Err(e) => {
                kprintln!("net: receive failed: {e}");
                return 14;
            }
        }
    }
}
