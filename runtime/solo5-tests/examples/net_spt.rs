//! TCP throughput each way between Linux and the direct stack in an spt
//! guest (`kernels/spt/src/bin/net_bench.rs` under unikc-spt, a tap in a
//! network namespace), on the negotiated `virtio_net_hdr` path and on plain
//! Solo5 frames (the same image with its VNH1 note renamed, as any other
//! tender sees it). Prints `spt-tcp PATH MTU IN OUT` (MB/s) lines for
//! benches/net.sh, which puts them beside the unix target and Linux.
//!
//! `cargo run --release --example net_spt [-- MEGABYTES [MTU...]]` (root).
//! `SPT_WRAP="strace -c -f"` runs the tender under a profiler;
//! `SPT_TENDER=PATH` runs another tender (upstream `solo5-spt`);
//! `SPT_PATHS=vnet` (or `plain`) runs only that path; `BUF_KB` sets the
//! guest's TCP buffers (default 1024, as the unix target's bench).

use std::process::Command;
use std::time::Duration;

use unik_solo5_tests::{Kernels, Netns, bulk_peer, image, patched, run, spt};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mb: u64 = args.first().map_or(200, |a| a.parse().expect("MEGABYTES"));
    let mtus: Vec<u32> = if args.len() > 1 {
        args[1..].iter().map(|a| a.parse().expect("MTU")).collect()
    } else {
        vec![1500]
    };
    let bytes = mb << 20;
    let vnet = image(Kernels::Spt, "net_bench");
    let plain = patched(&vnet, "net_bench-plain", |d| {
        let at = d
            .windows(8)
            .position(|w| w == b"unikc\0\0\0")
            .expect("the VNH1 note");
        d[at] = b'U';
    });
    for (path, img, mtu) in mtus
        .iter()
        .flat_map(|&m| [("vnet", &vnet, m), ("plain", &plain, m)])
        .filter(|(p, ..)| std::env::var("SPT_PATHS").map_or(true, |v| v.contains(p)))
    {
        let ns = Netns::new();
        let set = Command::new("ip")
            .args([
                "netns", "exec", &ns.name, "ip", "link", "set", "tap0", "mtu",
            ])
            .arg(mtu.to_string())
            .status()
            .expect("ip");
        assert!(set.success(), "setting the tap's MTU to {mtu}");
        let tender = std::env::var_os("SPT_TENDER").map_or_else(spt, Into::into);
        let mut c = ns.command(&tender);
        let buf_kb = std::env::var("BUF_KB").unwrap_or_else(|_| "1024".into());
        c.arg("--net:service=tap0")
            .arg(img)
            .arg(format!("bytes={bytes}"))
            .arg(format!("buf_kb={buf_kb}"));
        if let Ok(wrap) = std::env::var("SPT_WRAP") {
            // e.g. SPT_WRAP="strace -c -f" to count the guest's system calls.
            let mut w = ns.command(std::path::Path::new("sh"));
            w.arg("-c")
                .arg(format!("exec {wrap} \"$@\" 2>&1"))
                .arg("sh")
                .arg(&tender)
                .arg("--net:service=tap0")
                .arg(img)
                .arg(format!("bytes={bytes}"))
                .arg(format!("buf_kb={buf_kb}"));
            c = w;
        }
        let guest = std::thread::spawn(move || run(c, Duration::from_secs(600)));
        let bulk = ns.within(move || bulk_peer(bytes));
        let r = guest.join().unwrap();
        let b = bulk.unwrap_or_else(|e| panic!("Linux side: {e}\nguest: {r:?}"));
        r.expect(r.status == Some(0), "the guest finished");
        assert_eq!((b.received, b.broken_at), (bytes, None), "intact");
        if std::env::var("SPT_WRAP").is_ok() {
            eprintln!("{}", r.stdout);
        }
        println!("spt-tcp {path} {mtu} {:.0} {:.0}", b.tcp_in, b.tcp_out);
    }
}
