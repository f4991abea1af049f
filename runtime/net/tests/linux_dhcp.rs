//! DHCP against dnsmasq in the namespace: a lease, then renewals at a short T1, with the
//! address reachable from Linux throughout.

mod linux;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::Duration;

use linux::{Lab, Proc, direct_stack, join, require, run, serial, sleep_ms};
use unik_net::dhcp::DhcpState;

/// dnsmasq's minimum lease; T1 is set far shorter so renewals happen within the test.
const LEASE_S: u64 = 120;
const T1_S: u64 = 3;

#[test]
fn lease_from_dnsmasq_and_renewals() {
    let _serial = serial();
    require(&["ip", "dnsmasq", "ping"]);
    let lab = Lab::new("dh", 69);
    let leases = std::env::temp_dir().join(format!("{}.leases", lab.ns.name));
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
    let s = direct_stack(lab.tap, None, "");
    let ns = lab.ns.name.clone();
    // Generous: a DISCOVER lost early costs the RFC 2131 backoff (4, 8, 16, 32 s);
    // runs have taken 19–54 s here. The assertions below are what matter.
    let (lease, states, ping) = run(180, async move {
        let cfg = s.ip.configured().await.unwrap();
        let lease = s.ip.dhcp_lease().unwrap();
        // Watch the client through two renewals: Bound -> Renewing -> Bound, twice.
        let mut states = vec![s.ip.dhcp_state().unwrap()];
        while states
            .iter()
            .filter(|st| **st == DhcpState::Renewing)
            .count()
            < 2
            || *states.last().unwrap() != DhcpState::Bound
        {
            sleep_ms(10).await;
            let st = s.ip.dhcp_state().unwrap();
            if *states.last().unwrap() != st {
                states.push(st);
            }
            assert_eq!(
                s.ip.config(),
                Some(cfg),
                "the address changed during renewal"
            );
        }
        let addr = cfg.address.to_string();
        let ping = std::thread::spawn(move || {
            Command::new("ip")
                .args([
                    "netns", "exec", &ns, "ping", "-n", "-c", "2", "-W", "2", &addr,
                ])
                .output()
                .unwrap()
        });
        (lease, states, join(ping).await)
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
    assert_eq!(
        states,
        [
            DhcpState::Bound,
            DhcpState::Renewing,
            DhcpState::Bound,
            DhcpState::Renewing,
            DhcpState::Bound
        ]
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
