//! TCP throughput each way between Linux and the direct stack in an spt
//! guest (`kernels/spt/src/bin/net_bench.rs` under unikc-spt, a tap in a
//! network namespace). Prints `spt-tcp MTU IN OUT` (MB/s) lines for
//! benches/net.sh, which puts them beside the unix target and Linux.
//!
//! `cargo run --release --example net_spt [-- MEGABYTES [MTU...]]` (root).

use std::process::Command;
use std::time::Duration;

use unik_solo5_tests::{Kernels, Netns, bulk_peer, image, run, spt};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mb: u64 = args.first().map_or(200, |a| a.parse().expect("MEGABYTES"));
    let mtus: Vec<u32> = if args.len() > 1 {
        args[1..].iter().map(|a| a.parse().expect("MTU")).collect()
    } else {
        vec![1500]
    };
    let bytes = mb << 20;
    for mtu in mtus {
        let ns = Netns::new();
        let set = Command::new("ip")
            .args([
                "netns", "exec", &ns.name, "ip", "link", "set", "tap0", "mtu",
            ])
            .arg(mtu.to_string())
            .status()
            .expect("ip");
        assert!(set.success(), "setting the tap's MTU to {mtu}");
        let mut c = ns.command(&spt());
        c.arg("--net:service=tap0")
            .arg(image(Kernels::Spt, "net_bench"))
            .arg(format!("bytes={bytes}"));
        if let Ok(wrap) = std::env::var("SPT_WRAP") {
            // e.g. SPT_WRAP="strace -c -f" to count the guest's system calls.
            let mut w = ns.command(std::path::Path::new("sh"));
            w.arg("-c")
                .arg(format!("exec {wrap} \"$@\" 2>&1"))
                .arg("sh")
                .arg(spt())
                .arg("--net:service=tap0")
                .arg(image(Kernels::Spt, "net_bench"))
                .arg(format!("bytes={bytes}"));
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
        println!("spt-tcp {mtu} {:.0} {:.0}", b.tcp_in, b.tcp_out);
    }
}
