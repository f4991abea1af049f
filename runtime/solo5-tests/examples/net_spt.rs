//! TCP throughput each way between Linux and the direct stack in an spt
//! guest (`kernels/spt/src/bin/net_bench.rs` under unikc-spt, a tap in a
//! network namespace), on the negotiated `virtio_net_hdr` path and on plain
//! Solo5 frames (the same image with its VNH1 note renamed, as any other
//! tender sees it), over IPv4 and over IPv6 (the guest's dual stack). Prints
//! `spt-tcp PATH MTU IN OUT` and `spt-tcp6 PATH MTU IN OUT` (MB/s) lines for
//! benches/net.sh, which puts them beside the unix target and Linux.
//!
//! `cargo run --release --example net_spt [-- MEGABYTES [MTU...]]` (root).
//! `SPT_WRAP="strace -c -f"` runs the tender under a profiler;
//! `SPT_TENDER=PATH` runs another tender (upstream `solo5-spt`);
//! `SPT_PATHS=vnet` (or `plain`) runs only that path, `SPT_FAMILIES=4` (or
//! `6`) only that family; `BUF_KB` sets the
//! guest's TCP buffers (default 1024, as the unix target's bench).

use std::process::Command;
use std::time::Duration;

use unik_solo5_tests::{Kernels, Netns, bulk_peer_to, image, patched, run, spt};

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
    let mut runs = Vec::new();
    for v6 in [false, true] {
        for &mtu in &mtus {
            runs.push((v6, "vnet", &vnet, mtu));
            runs.push((v6, "plain", &plain, mtu));
        }
    }
    let wanted = |var: &str, what: &str| std::env::var(var).map_or(true, |v| v.contains(what));
    for (v6, path, img, mtu) in runs {
        if !wanted("SPT_PATHS", path) || !wanted("SPT_FAMILIES", if v6 { "6" } else { "4" }) {
            continue;
        }
        let ns = Netns::new();
        if v6 {
            ns.enable_ipv6();
        }
        let addr: std::net::IpAddr = if v6 {
            "2001:db8:55::2".parse().unwrap()
        } else {
            [10, 55, 0, 2].into()
        };
        let family = if v6 { "ipv6=1" } else { "ipv6=0" };
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
            .arg(format!("buf_kb={buf_kb}"))
            .arg(family);
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
                .arg(format!("buf_kb={buf_kb}"))
                .arg(family);
            c = w;
        }
        let guest = std::thread::spawn(move || run(c, Duration::from_secs(600)));
        let bulk = ns.within(move || bulk_peer_to(addr, bytes));
        let r = guest.join().unwrap();
        let b = bulk.unwrap_or_else(|e| panic!("Linux side: {e}\nguest: {r:?}"));
        r.expect(r.status == Some(0), "the guest finished");
        assert_eq!((b.received, b.broken_at), (bytes, None), "intact");
        if std::env::var("SPT_WRAP").is_ok() {
            eprintln!("{}", r.stdout);
        }
        let tag = if v6 { "spt-tcp6" } else { "spt-tcp" };
        println!("{tag} {path} {mtu} {:.0} {:.0}", b.tcp_in, b.tcp_out);
    }
}
