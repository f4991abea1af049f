#!/usr/bin/env bash
# TCP throughput each way and UDP echo packets/s: the direct stack on a tap against the same
# workload through socket_stackv4 (Linux), printed as ratios from the same run.
# Needs root, /dev/net/tun, iproute2 and ethtool. Usage: benches/net.sh [MEGABYTES [SECONDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p unik-net --example net_bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/examples/net_bench" "${1:-200}" "${2:-3}"
