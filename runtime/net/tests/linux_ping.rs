//! ICMP echo against Linux's `ping`, at sizes that fit a frame and that fragment both ways.

mod linux;

use std::cell::RefCell;
use std::process::Command;
use std::rc::Rc;

use linux::{Lab, join, require, run, serial};
use unik_net::IcmpEvent;

/// `Ip:` counters of the namespace's `/proc/net/snmp`: (FragCreates, ReasmOKs).
fn frag_counters(lab: &Lab) -> (u64, u64) {
    let out = linux::sh(lab.ns.cmd("cat").arg("/proc/net/snmp"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines().filter(|l| l.starts_with("Ip:"));
    let names: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let values: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    let get = |n: &str| -> u64 {
        let i = names.iter().position(|x| *x == n).unwrap();
        values[i].parse().unwrap()
    };
    (get("FragCreates"), get("ReasmOKs"))
}

#[test]
fn ping_of_56_1472_and_8000_bytes_is_answered() {
    let _serial = serial();
    require(&["ip", "ping"]);
    let lab = Lab::new("pg", 61);
    let s = lab.stack();
    let (ns, ours) = (lab.ns.name.clone(), lab.ours);
    let before = frag_counters(&lab);
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let outputs = run(60, async move {
        drop(unik_rt::spawn(async move {
            while let Ok(e) = s.ip.icmp_event().await {
                log.borrow_mut().push(e);
            }
        }));
        let mut outputs = Vec::new();
        for size in [56usize, 1472, 8000] {
            let ns = ns.clone();
            let ping = std::thread::spawn(move || {
                Command::new("ip")
                    .args(["netns", "exec", &ns, "ping", "-n", "-c", "5", "-i", "0.2"])
                    .args(["-W", "3", "-s", &size.to_string(), &ours.to_string()])
                    .output()
                    .expect("run ping")
            });
            outputs.push((size, join(ping).await));
        }
        outputs
    });
    for (size, out) in &outputs {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("5 received"),
            "ping -s {size}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("{} bytes from {}", size + 8, lab.ours)),
            "ping -s {size}: replies of the wrong size: {text}"
        );
    }
    let requests: Vec<usize> = seen
        .borrow()
        .iter()
        .filter_map(|e| match e {
            IcmpEvent::EchoRequest { from, len, .. } if *from == lab.peer => Some(*len),
            _ => None,
        })
        .collect();
    for size in [56, 1472, 8000] {
        assert_eq!(
            requests.iter().filter(|l| **l == size).count(),
            5,
            "echo requests of {size} bytes seen by the stack: {requests:?}"
        );
    }
    let stats = s.eth.stats();
    // 8000 bytes need 6 fragments each way at MTU 1500.
    assert!(stats.reassembled >= 5, "{stats:?}");
    assert!(stats.fragments_sent >= 30, "{stats:?}");
    let after = frag_counters(&lab);
    assert!(
        after.0 - before.0 >= 30,
        "Linux fragmented {:?}",
        (before, after)
    );
    assert!(
        after.1 - before.1 >= 5,
        "Linux reassembled {:?}",
        (before, after)
    );
}
