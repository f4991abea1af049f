#!/usr/bin/env bash
# TLS handshakes per second: `openssl s_time -new` (a full handshake per connection, no
# resumption) against the conduit-server example on the unix target (host sockets, loopback)
# and against `openssl s_server` with the same ECDSA P-256 certificate and key on the same
# loopback, in the same run, for TLS 1.3 and 1.2, printed with the ratio. Then the size of
# the conduit-server image against the plain tcp-echo example per target.
# Needs openssl. Usage: benches/tls.sh [SECONDS [TARGETS]]
# (UNIKC=path uses that unikc instead of building a release one.)
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-10}"
targets="${2:-unix spt virtio}"
if [ -z "${UNIKC:-}" ]; then
    cargo build --release -q --bin unikc
    UNIKC=$PWD/target/release/unikc
fi
repo=$PWD
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
export UNIKC_CACHE_DIR="${UNIKC_CACHE_DIR:-$tmp/cache}" NO_COLOR=1
for ex in conduit-server tcp-echo; do cp -r "examples/$ex" "$tmp/$ex"; done

size() { stat -c %s "$1"; }
echo "image sizes (bytes):"
for t in $targets; do
    for ex in conduit-server tcp-echo; do
        (cd "$tmp/$ex" && "$UNIKC" build -t "$t" >"$tmp/build.log" 2>&1) || { cat "$tmp/build.log"; exit 1; }
    done
    ext=".$t"; [ "$t" = unix ] && ext=""
    tls=$(size "$tmp/conduit-server/dist/conduit-server$ext")
    tcp=$(size "$tmp/tcp-echo/dist/tcp-echo$ext")
    printf '  %-7s conduit-server %9d  tcp-echo %9d  (+%d, %.2fx)\n' "$t" "$tls" "$tcp" $((tls - tcp)) \
        "$(awk -v a="$tls" -v b="$tcp" 'BEGIN { print a / b }')"
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; echo "nothing on $1"; exit 1; }
ours=$(free_port)
"$tmp/conduit-server/dist/conduit-server" --port="$ours" --logs=error >"$tmp/server.log" 2>&1 &
pids+=($!)
theirs=$(free_port)
openssl s_server -quiet -accept "$theirs" -cert "$repo/examples/conduit-server/tls/server.pem" \
    -key "$repo/examples/conduit-server/tls/server.key" >/dev/null 2>&1 </dev/null &
pids+=($!)
wait_port "$ours"; wait_port "$theirs"

# `N connections in T real seconds` -> N/T.
rate() {
    openssl s_time -connect "127.0.0.1:$1" -new -time "$secs" "$2" 2>/dev/null |
        awk '/connections in .* real seconds/ { printf "%.0f", $1 / $4 }'
}
echo
echo "TLS handshakes/s over loopback (openssl s_time -new, ${secs} s each, ECDSA P-256, X25519):"
for v in -tls1_3 -tls1_2; do
    a=$(rate "$ours" "$v")
    b=$(rate "$theirs" "$v")
    printf '  %-7s conduit-server (unix) %6s/s  openssl s_server %6s/s  ratio %3.0f %%\n' "$v" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { print 100 * a / b }')"
done
