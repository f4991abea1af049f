//! A 50 MB HTTP/1.1 download by Linux's `curl` from a server on the direct stack, checksum
//! compared; clean, and through a link that loses, reorders and duplicates frames.

mod linux;

use std::io::Read;
use std::process::Stdio;

use linux::impair::{Impaired, Impairment};
use linux::{Lab, Proc, content_sha256, direct_stack, hex, join, require, run, serial};
use sha2::Digest;
use unik_unix::net::Tap;

const SIZE: u64 = 50 << 20;

/// Starts curl in the namespace and hashes what it downloads: (sha256, bytes, curl's status).
fn download(lab: &Lab, url: &str) -> std::thread::JoinHandle<(String, u64, String)> {
    let mut child = Proc(
        lab.ns
            .cmd("curl")
            .args(["-sS", "--fail", "--max-time", "240", "-o", "-", url])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run curl"),
    );
    std::thread::spawn(move || {
        let mut out = child.0.stdout.take().unwrap();
        let mut h = sha2::Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0u64;
        loop {
            let n = out.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            h.update(&buf[..n]);
            total += n as u64;
        }
        let status = child.0.wait().unwrap();
        let mut err = String::new();
        child
            .0
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (hex(&h.finalize()), total, format!("{status} {err}"))
    })
}

fn check(result: (String, u64, String)) {
    let (sha, len, status) = result;
    assert_eq!(len, SIZE, "curl got {len} bytes ({status})");
    assert_eq!(sha, content_sha256(SIZE), "sha256 differs ({status})");
}

#[test]
fn curl_downloads_fifty_megabytes() {
    let _serial = serial();
    require(&["ip", "curl"]);
    let lab = Lab::new("hc", 65);
    let s = lab.stack();
    let curl = download(&lab, &format!("http://{}/bytes/{SIZE}", lab.ours));
    let result = run(300, async move {
        drop(unik_rt::spawn(linux::http::serve(s.stack, 80)));
        join(curl).await
    });
    check(result);
}

#[test]
fn curl_downloads_fifty_megabytes_through_loss_reordering_and_duplication() {
    let _serial = serial();
    require(&["ip", "curl"]);
    let lab = Lab::new("hi", 66);
    let model = Impairment {
        loss_permille: 20,
        reorder_permille: 50,
        duplicate_permille: 10,
    };
    let net: &'static Impaired<Tap> = unik_rt::leak(Impaired::new(lab.tap, model, 0x5eed));
    let s = direct_stack(net, Some(&lab.cidr), &lab.peer.to_string());
    let curl = download(&lab, &format!("http://{}/bytes/{SIZE}", lab.ours));
    let result = run(300, async move {
        drop(unik_rt::spawn(linux::http::serve(s.stack, 80)));
        join(curl).await
    });
    let counts = net.counts.get();
    eprintln!("impairment: {counts:?}");
    assert!(counts.lost > 100 && counts.reordered > 100 && counts.duplicated > 50);
    check(result);
}
