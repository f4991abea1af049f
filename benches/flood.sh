#!/usr/bin/env bash
# Time for a legitimate TCP connection (connect + one echo round trip) to complete during SYN,
# ACK and RST floods of spoofed segments: the direct stack (SYN cookies; eviction) beside
# Linux's own stack with and without tcp_syncookies, from the same run.
# Needs root, /dev/net/tun and iproute2. Usage: benches/flood.sh [RATE [CLIENTS]]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p unik-net --example flood_bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/examples/flood_bench" "${1:-20000}" "${2:-10}"
