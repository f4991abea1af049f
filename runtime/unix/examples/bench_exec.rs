//! Prints executor figures on unix: TCP echo throughput over 127.0.0.1
//! through `socket_stackv4`, and the cost of a spawn + yield round.
//! Run: `cargo run --release --example bench_exec -p unik-unix`.

use std::net::{Ipv4Addr, SocketAddrV4};

use unik_rt::{StackV4, Tcp, TcpFlow, TcpListener, block_on, spawn};
use unik_unix::{UnixPlatform, monotonic_ns};

const TOTAL: usize = 256 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let platform = UnixPlatform::new();
    let stack: &'static _ = unik_rt::leak(unik_unix::stack::connect(Ipv4Addr::LOCALHOST)?);
    let start = monotonic_ns();
    let echoed = block_on(&platform, async move {
        let listener = stack.tcp().listen(0).await?;
        let port = listener.local_port();
        let server = spawn(async move {
            let flow = listener.accept().await?;
            let mut buf = vec![0u8; 1 << 16];
            loop {
                let n = flow.read(&mut buf).await?;
                if n == 0 {
                    return flow.close().await;
                }
                flow.write(&buf[..n]).await?;
            }
        });
        let dst = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
        let client: &'static _ = unik_rt::leak(stack.tcp().connect(dst).await?);
        let writer = spawn(async move {
            let chunk = vec![0x5au8; 1 << 16];
            for _ in 0..TOTAL / chunk.len() {
                client.write(&chunk).await?;
            }
            client.shutdown_write().await
        });
        let mut buf = vec![0u8; 1 << 16];
        let mut got = 0usize;
        loop {
            let n = client.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got += n;
        }
        writer.await?;
        server.await?;
        Ok::<usize, unik_rt::TcpError>(got)
    })??;
    let secs = (monotonic_ns() - start) as f64 / 1e9;
    println!(
        "tcp echo: {} MiB each way in {secs:.3} s = {:.0} MiB/s",
        echoed >> 20,
        (echoed >> 20) as f64 / secs
    );

    const TASKS: usize = 100_000;
    let start = monotonic_ns();
    block_on(&platform, async {
        let handles: Vec<_> = (0..TASKS)
            .map(|i| {
                spawn(async move {
                    unik_rt::exec::yield_now().await;
                    i
                })
            })
            .collect();
        for h in handles {
            h.await;
        }
    })?;
    let ns = (monotonic_ns() - start) as f64 / TASKS as f64;
    println!("spawn + yield + join: {ns:.0} ns per task ({TASKS} tasks)");
    Ok(())
}
