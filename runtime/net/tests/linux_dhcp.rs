//! DHCP against dnsmasq in the namespace: a lease, then renewals at a short T1, with the
//! address reachable from Linux throughout.

mod linux;

use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use linux::{Lab, Netns, Proc, direct_stack, join, require, run, serial, sleep_ms};
use unik_net::dhcp::DhcpState;

/// dnsmasq's minimum lease; T1 is set far shorter so renewals happen within the test.
const LEASE_S: u64 = 120;
/// The shortest T1 dnsmasq sends: it replaces a T1 of 2 s or less by half the lease.
const T1_S: u64 = 3;

/// Waits until dnsmasq's DHCP socket (UDP 67) is bound in the namespace. A DISCOVER sent
/// before that is lost and costs the client its first retransmission delay (4 s +/- 1).
fn wait_for_dhcp_socket(ns: &Netns, dnsmasq: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let bound = ns
            .thread(|| {
                // The table of the namespace this thread entered.
                std::fs::read_to_string("/proc/thread-self/net/udp")
                    .unwrap_or_default()
                    .lines()
                    .skip(1)
                    .any(|l| {
                        l.split_whitespace()
                            .nth(1)
                            .is_some_and(|local| local.ends_with(":0043"))
                    })
            })
            .join()
            .unwrap();
        if bound {
            return;
        }
        if let Some(status) = dnsmasq.try_wait().unwrap() {
            let mut log = String::new();
            if let Some(mut e) = dnsmasq.stderr.take() {
                let _ = e.read_to_string(&mut log);
            }
            panic!("dnsmasq exited ({status}): {log}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("dnsmasq did not bind UDP port 67 within 10 s");
}

#[test]
fn lease_from_dnsmasq_and_renewals() {
    let _serial = serial();
    require(&["ip", "dnsmasq", "ping"]);
    let lab = Lab::new("dh", 69);
    let leases = std::env::temp_dir().join(format!("{}.leases", lab.ns.name));
    // A file left by a killed run with the same pid would hand out its stale lease.
    let _ = std::fs::remove_file(&leases);
    let mut dnsmasq = Proc(
        lab.ns
            .cmd("dnsmasq")
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--port=0",
                "--user=root",
                "--pid-file=",
                "--bind-interfaces",
                "--log-dhcp",
                // dnsmasq pings an address before offering it and waits 3 s for the client,
                // which cannot answer before it has the address; no one else is on this link.
                "--no-ping",
                "--log-facility=-",
                &format!("--interface={}", lab.tap_name),
                "--dhcp-range=10.69.0.50,10.69.0.60,255.255.255.0,120",
                "--dhcp-option=option:router,10.69.0.1",
                &format!("--dhcp-option=option:T1,{T1_S}"),
                "--dhcp-option=option:T2,100",
                &format!("--dhcp-leasefile={}", leases.display()),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run dnsmasq"),
    );
    wait_for_dhcp_socket(&lab.ns, &mut dnsmasq.0);
    let s = direct_stack(lab.tap, None, "");
    let ns = lab.ns.name.clone();
    // A guard against hangs only: the lease comes within milliseconds and each renewal at
    // T1 after the previous one; a lost renewal would wait the RFC 2131 minimum of 60 s.
    let (lease, renewed, states, ping) = run(60, async move {
        let cfg = s.ip.configured().await.unwrap();
        let lease = s.ip.dhcp_lease().unwrap();
        // Two renewals, counted by the client: RENEWING lasts one round trip (about 1 ms),
        // which sampling the state every 10 ms mostly misses. The states seen on the way
        // must all be BOUND or RENEWING, with the address unchanged.
        let mut states = vec![s.ip.dhcp_state().unwrap()];
        let renewed = loop {
            let st = s.ip.dhcp_state().unwrap();
            if *states.last().unwrap() != st {
                states.push(st);
            }
            assert_eq!(
                s.ip.config(),
                Some(cfg),
                "the address changed during renewal"
            );
            let current = s.ip.dhcp_lease().unwrap();
            if current.renewals >= 2 {
                break current;
            }
            sleep_ms(10).await;
        };
        let addr = cfg.address.to_string();
        let ping = std::thread::spawn(move || {
            Command::new("ip")
                .args([
                    "netns", "exec", &ns, "ping", "-n", "-c", "2", "-i", "0.2", "-W", "2", &addr,
                ])
                .output()
                .unwrap()
        });
        (lease, renewed, states, join(ping).await)
    });
    let _ = dnsmasq.0.kill();
    let mut log = String::new();
    dnsmasq
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let _ = std::fs::remove_file(&leases);
    let a = lease.address.octets();
    assert!(
        a[..3] == [10, 69, 0] && (50..=60).contains(&a[3]),
        "{lease:?}"
    );
    assert_eq!(lease.prefix_len, 24);
    assert_eq!(lease.router, Some(lab.peer));
    assert_eq!(lease.server, lab.peer);
    assert_eq!(lease.duration, Some(Duration::from_secs(LEASE_S)));
    assert_eq!(lease.renewals, 0);
    // The renewals extended the same lease from the same server.
    assert_eq!(
        (renewed.address, renewed.server, renewed.duration),
        (lease.address, lease.server, lease.duration)
    );
    assert_eq!(states.first(), Some(&DhcpState::Bound));
    assert_eq!(states.last(), Some(&DhcpState::Bound));
    assert!(
        states
            .iter()
            .all(|st| matches!(st, DhcpState::Bound | DhcpState::Renewing)),
        "{states:?}"
    );
    // One ACK for the lease and one per renewal (a third renewal may have happened before
    // dnsmasq stopped), all for the same address; no rediscovery after the lease.
    let lines: Vec<&str> = log.lines().collect();
    let first_ack = lines
        .iter()
        .position(|l| l.contains("DHCPACK("))
        .expect(&log);
    let acks = lines
        .iter()
        .filter(|l| l.contains("DHCPACK(") && l.contains(&lease.address.to_string()))
        .count();
    assert!(acks >= 3, "dnsmasq log:\n{log}");
    // Every renewal the client counted was an ACK dnsmasq sent.
    assert!(
        acks > renewed.renewals as usize,
        "{} renewals, dnsmasq log:\n{log}",
        renewed.renewals
    );
    assert!(
        !lines[first_ack..]
            .iter()
            .any(|l| l.contains("DHCPDISCOVER(") || l.contains("DHCPNAK(")),
        "dnsmasq log:\n{log}"
    );
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );
}
