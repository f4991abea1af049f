#!/bin/bash
# Network figures of a muen image under the test harness (tests/muen/: QEMU
# TCG playing Muen, the peer subject bridging the image's channels to a
# tap), RUNS times each (default 3): Linux's ping round-trip time to the
# ping example (56 and 1472 bytes, 20 pings each, min/avg/max ms) and the
# time of a 1 MiB TCP echo through the tcp-echo example. Everything runs
# emulated, with a host thread polling the channels: compare these figures
# with each other, not with hardware or other targets. The test profile is
# the debug one (the peer copies frames byte by byte, a few µs each: small
# beside the emulated guest).
# Needs what the tests need: root, /dev/net/tun, iproute2, iputils-ping,
# qemu-system-x86_64, binutils and a C compiler.
# Usage: benches/muen.sh [RUNS]
set -euo pipefail
runs=${1:-3}
cd "$(dirname "$0")/.."
for i in $(seq 1 "$runs"); do
    cargo test -q -p unikc --test muen_genode -- --nocapture --test-threads=1 \
        muen_ping_answers_linux muen_tcp_echo_answers_linux 2>&1 |
        grep -o 'muen harness:.*' || { echo "run $i failed: cargo test -p unikc --test muen_genode muen_"; exit 1; }
done
