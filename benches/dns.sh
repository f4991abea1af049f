#!/usr/bin/env bash
# DNS client lookups per second against dnsmasq (local records, TTL 300) in a network
# namespace, over the host's sockets: uncached (a UDP exchange per lookup) and cached.
# Three runs: the IPv4 socket stack to 127.0.0.1, then the dual-stack sockets (the stack
# `generic_dns_client` takes) to 127.0.0.1 and to ::1. dnsmasq's own cost is in the
# uncached figure; each run also times bare `std::net::UdpSocket` round trips (the floor).
# Needs root, iproute2 and dnsmasq.
# Usage: benches/dns.sh [NAMES [ROUNDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"
rounds="${2:-50}"
command -v dnsmasq >/dev/null || { echo "dnsmasq is missing: apt-get install dnsmasq" >&2; exit 2; }
cargo build --release -q -p unik-dns --example dns_bench
target="${CARGO_TARGET_DIR:-target}"
ns="unikbench-dns-$$"
conf=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; ip netns del "$ns" 2>/dev/null || true; rm -f "$conf"' EXIT
for i in $(seq 0 $((n - 1))); do
    echo "host-record=h$i.test,10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
done >"$conf"
ip netns add "$ns"
ip -n "$ns" link set lo up
ip netns exec "$ns" dnsmasq --keep-in-foreground --conf-file="$conf" --no-resolv --no-hosts \
    --pid-file= --user=root --listen-address=127.0.0.1 --listen-address=::1 --bind-interfaces \
    --local=/test/ --local-ttl=300 --log-facility=/dev/null &
pid=$!
sleep 0.5
for run in "v4 udp:127.0.0.1:53" "v4v6 udp:127.0.0.1:53" "v4v6 udp:[::1]:53"; do
    set -- $run
    echo "== stack $1, server $2"
    ip netns exec "$ns" "$target/release/examples/dns_bench" "$2" "$n" "$rounds" "$1"
done
