//! The interface's receive path: frames in, frames out. Input: one configuration byte, then
//! records `[len: u16][ms: u8][frame]` (bit 15 of len: the frame comes from receive offload).
//! The subject is 10.0.0.2/24 (or, per the configuration byte, a DHCP client) with a TCP
//! echo listener on port 80 and a UDP echo socket on port 7; between frames it runs timers,
//! transmits, accepts and echoes. Checks: every frame out is a well-formed Ethernet frame no
//! larger than the MTU allows, and the memory gauges respect their bounds.

use unik_net::wire::ethernet;
use unik_net::{
    Config, Duration, FrameQueue, Instant, Interface, Ipv4Addr, Ipv4Config, MacAddr, TcpConfig,
};

use crate::Input;

pub const OURS: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);
pub const MTU: usize = 1500;

pub fn config(dhcp: bool, small_buffers: bool) -> Config {
    let mut c = Config::new(OURS, MTU);
    if !dhcp {
        c.ipv4 = Some(Ipv4Config {
            address: Ipv4Addr::new(10, 0, 0, 2),
            prefix_len: 24,
            gateway: Some(Ipv4Addr::new(10, 0, 0, 1)),
        });
    }
    c.seed = 42;
    c.tcp = TcpConfig {
        backlog: 4,
        ..TcpConfig::default()
    };
    if small_buffers {
        c.tcp.send_buffer = 2048;
        c.tcp.recv_buffer = 2048;
        c.tcp.ack_delay = None;
    }
    c
}

/// Encodes frames for this harness (seeds).
pub fn encode(cfg: u8, frames: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![cfg];
    for (ms, f) in frames {
        out.extend_from_slice(&(f.len().min(0x7fff) as u16).to_le_bytes());
        out.push(*ms);
        out.extend_from_slice(&f[..f.len().min(0x7fff)]);
    }
    out
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let cfg_byte = input.u8();
    let cfg = config(cfg_byte & 1 != 0, cfg_byte & 2 != 0);
    let tcp_cfg = cfg.tcp;
    let mut iface = Interface::new(cfg);
    let mut dev = FrameQueue::new();
    let listener = iface.tcp_listen(80).unwrap();
    let udp = iface.udp_bind(7).ok();
    let mut conns = Vec::new();
    let mut now = Instant::from_secs(1);
    let mut buf = vec![0u8; 4096];
    while !input.is_empty() {
        let len = input.u16();
        now = now + Duration::from_millis(u64::from(input.u8()) * 8);
        let frame = input.bytes(usize::from(len & 0x7fff));
        if len & 0x8000 != 0 {
            iface.receive_offloaded(now, frame);
        } else {
            iface.receive(now, frame);
        }
        while let Ok(h) = iface.tcp_accept(listener) {
            conns.push(h);
        }
        for h in &conns {
            if let Ok(n) = iface.tcp_recv(*h, &mut buf)
                && n > 0
            {
                let _ = iface.tcp_send(*h, &buf[..n]);
            }
        }
        if let Some(u) = udp
            && let Ok((n, from)) = iface.udp_recv(u, &mut buf)
        {
            let _ = iface.udp_send(u, from, &buf[..n]);
        }
        iface.transmit(now, &mut dev);
        for f in dev.frames.drain(..) {
            let parsed = ethernet::Frame::new_checked(&f[..]);
            assert!(parsed.is_ok(), "malformed frame out: {f:?}");
            assert!(
                f.len() <= ethernet::HEADER_LEN + MTU,
                "{} bytes out",
                f.len()
            );
        }
        let st = iface.stats();
        assert!(st.tcp_half_open <= tcp_cfg.backlog as u64, "{st:?}");
        assert!(
            st.tcp_buffer_bytes
                <= st.tcp_connections * (tcp_cfg.send_buffer + tcp_cfg.recv_buffer) as u64,
            "{st:?}"
        );
        assert!(st.tcp_out_of_order <= st.tcp_connections * tcp_cfg.recv_buffer as u64);
        assert!(st.reassembly_bytes <= unik_net::ipv4::REASSEMBLY_CAPACITY as u64);
        if let Some(at) = iface.poll_at()
            && at > now
            && at < now + Duration::from_secs(120)
            && len & 0x4000 != 0
        {
            // Let timers fire now and then (retransmissions, TIME-WAIT, DHCP).
            now = at;
            iface.transmit(now, &mut dev);
            dev.frames.clear();
        }
    }
}
