//! TCP echo server on 10.55.0.2:7 through unik-net's direct stack (the
//! catalogue's `direct_stackv4` layers) over the Solo5 network device:
//! serves one connection, then exits 0.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use unik_net::devices::{arp, ethernet, icmpv4, ipv4, stack, tcp, udp};
use unik_rt::{StackV4, Tcp, TcpFlow, TcpListener, leak};
use unik_solo5::{BootInfo, kprintln};

unik_solo5::entry!(main);
unik_solo5::manifest! { net "service" }

async fn serve<S: StackV4>(stack: &S) -> Result<u64, unik_rt::TcpError> {
    let listener = stack.tcp().listen(7).await?;
    kprintln!("listening on 10.55.0.2:7");
    let flow = listener.accept().await?;
    kprintln!("connection from {}", flow.peer());
    let mut buf = vec![0u8; 16 * 1024];
    let mut total = 0u64;
    loop {
        let n = flow.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        flow.write(&buf[..n]).await?;
        total += n as u64;
    }
    flow.close().await?;
    // The stack sends what is still queued (and retransmits) only while the
    // executor runs: give it time before the image exits.
    unik_rt::time::sleep_until(unik_rt::exec::now_ns() + 2_000_000_000).await;
    Ok(total)
}

fn main(_: &BootInfo) -> i32 {
    let setup = || -> Result<_, alloc::string::String> {
        use alloc::string::ToString;
        let net = leak(unik_solo5::net::connect("service").map_err(|e| e.to_string())?);
        let random = leak(unik_solo5::random::connect().map_err(|e| e.to_string())?);
        let eth = leak(ethernet::connect(net).map_err(|e| e.to_string())?);
        let arp = leak(arp::connect(eth).map_err(|e| e.to_string())?);
        let ip = leak(ipv4::connect(eth, arp, "10.55.0.2/24", "").map_err(|e| e.to_string())?);
        let icmp = leak(icmpv4::connect(ip).map_err(|e| e.to_string())?);
        let udp = leak(udp::connect(ip).map_err(|e| e.to_string())?);
        let tcp = leak(tcp::connect(ip, random).map_err(|e| e.to_string())?);
        Ok(leak(
            stack::connect(net, eth, arp, ip, icmp, udp, tcp).map_err(|e| e.to_string())?,
        ))
    };
    let stack = match setup() {
        Ok(s) => s,
        Err(e) => {
            kprintln!("setup failed: {e}");
            return 1;
        }
    };
    match unik_rt::block_on(&unik_solo5::Solo5Platform::new(), serve(stack)) {
        Ok(Ok(n)) => {
            kprintln!("echoed {n} bytes");
            0
        }
        Ok(Err(e)) => {
            kprintln!("tcp: {e}");
            1
        }
        Err(e) => {
            kprintln!("executor: {e}");
            1
        }
    }
}
