//! IPv6 against the Linux kernel over a tap: ping6 both ways (fragmented too), and duplicate
//! address detection refusing an address Linux owns.

mod linux;

use std::net::Ipv6Addr;
use std::process::Command;

use linux::{Lab, content, join, require, run, serial, sleep_ms};
use unik_net::devices::ethernet::Ethernet;
use unik_net::ipv6::AddrState;
use unik_net::{Error, Icmpv6Event, Ipv6Config};
use unik_rt::Network;

fn v6(subnet: u8, n: u16) -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, u16::from(subnet), 0, 0, 0, 0, n)
}

/// Turns IPv6 on for the kernel's side of the lab's tap with `2001:db8:{subnet}::1/64`
/// (usable at once: no DAD on the kernel's side).
fn linux_ipv6(lab: &Lab, subnet: u8) {
    let dev = &lab.tap_name;
    for (k, v) in [("accept_dad", "0"), ("disable_ipv6", "0")] {
        linux::sh(
            lab.ns
                .cmd("sysctl")
                .args(["-q", "-w", &format!("net.ipv6.conf.{dev}.{k}={v}")]),
        );
    }
    lab.ns.ip(&[
        "-6",
        "addr",
        "add",
        &format!("{}/64", v6(subnet, 1)),
        "dev",
        dev,
        "nodad",
    ]);
}

/// Waits until `addr` is usable by our stack (DAD passed) or refused; true if usable.
async fn settled<N: Network + 'static>(eth: &Ethernet<N>, addr: Ipv6Addr) -> bool {
    loop {
        let state = eth.with_interface(|i| {
            i.ipv6_addresses()
                .into_iter()
                .find(|a| a.address == addr)
                .map(|a| a.state)
        });
        match state {
            Some(AddrState::Preferred) => return true,
            Some(AddrState::Duplicate) => return false,
            _ => sleep_ms(50).await,
        }
    }
}

fn ns_ping(ns: &str, dst: Ipv6Addr, size: usize) -> std::process::Output {
    Command::new("ip")
        .args([
            "netns", "exec", ns, "ping", "-6", "-n", "-c", "3", "-i", "0.2",
        ])
        .args(["-W", "3", "-s", &size.to_string(), &dst.to_string()])
        .output()
        .expect("run ping")
}

#[test]
fn ping6_both_ways_including_3000_bytes() {
    let _serial = serial();
    require(&["ip", "ping"]);
    let lab = Lab::new("p6", 71);
    linux_ipv6(&lab, 71);
    let s = lab.stack();
    let (ours, peer) = (v6(71, 2), v6(71, 1));
    s.eth.with_interface(|i| {
        i.enable_ipv6(
            Some(Ipv6Config {
                address: ours,
                prefix_len: 64,
                gateway: None,
            }),
            false,
        )
    });
    let ns = lab.ns.name.clone();
    let eth = s.eth;
    let (outputs, replies) = run(60, async move {
        assert!(settled(eth, ours).await, "DAD refused {ours}");
        let mut outputs = Vec::new();
        for size in [56usize, 3000] {
            let ns = ns.clone();
            let ping = std::thread::spawn(move || ns_ping(&ns, ours, size));
            outputs.push((size, join(ping).await));
        }
        // Our pings to Linux.
        let mut replies = Vec::new();
        for (seq, size) in [(1u16, 56usize), (2, 3000)] {
            let mut data = vec![0u8; size];
            content(seq.into(), &mut data);
            loop {
                match eth.with_interface(|i| i.icmpv6_echo_request(peer, 0x66, seq, &data)) {
                    Ok(()) => break,
                    Err(Error::WouldBlock) => eth.changed().await,
                    Err(e) => panic!("echo request: {e}"),
                }
            }
            loop {
                if let Icmpv6Event::EchoReply {
                    from, seq: s, len, ..
                } = eth.icmpv6_event().await.unwrap()
                    && from == peer
                    && s == seq
                {
                    replies.push(len);
                    break;
                }
            }
        }
        (outputs, replies)
    });
    for (size, out) in &outputs {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("3 received"),
            "ping -6 -s {size}: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            text.contains(&format!("{} bytes from {ours}", size + 8)),
            "{text}"
        );
    }
    assert_eq!(replies, [56, 3000]);
    let st = s.eth.stats();
    // 3008 bytes of ICMPv6 need three fragments at MTU 1500, each way.
    assert!(st.fragments_sent >= 3 * 3 + 3, "{st:?}");
    assert!(st.reassembled > 3, "{st:?}");
}

#[test]
fn dad_refuses_an_address_linux_owns() {
    let _serial = serial();
    require(&["ip"]);
    let lab = Lab::new("dd", 74);
    linux_ipv6(&lab, 74);
    let taken = v6(74, 2);
    lab.ns.ip(&[
        "-6",
        "addr",
        "add",
        &format!("{taken}/64"),
        "dev",
        &lab.tap_name,
        "nodad",
    ]);
    let s = lab.stack();
    s.eth.with_interface(|i| {
        i.enable_ipv6(
            Some(Ipv6Config {
                address: taken,
                prefix_len: 64,
                gateway: None,
            }),
            false,
        )
    });
    let eth = s.eth;
    let (usable, dups, event) = run(30, async move {
        let usable = settled(eth, taken).await;
        // The link-local address finishes its own DAD.
        sleep_ms(1500).await;
        let dups = eth.with_interface(|i| i.ipv6_duplicates());
        let mut event = None;
        while let Some(Ok(e)) = Some(eth.icmpv6_event().await) {
            if let Icmpv6Event::DuplicateAddress { address } = e {
                event = Some(address);
                break;
            }
        }
        (usable, dups, event)
    });
    assert!(!usable, "{taken} is Linux's, yet our stack uses it");
    assert_eq!(dups, [taken]);
    assert_eq!(event, Some(taken));
    // Nothing leaves from the refused address: the source for the link's peer is another.
    let src = s
        .eth
        .with_interface(|i| i.ipv6_host().unwrap().source_for(v6(74, 1)));
    assert!(src.is_some() && src != Some(taken), "source {src:?}");
}
