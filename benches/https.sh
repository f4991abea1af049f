#!/usr/bin/env bash
# HTTPS requests per second (a small page) and MB/s (a 1 MB file): the static-website-tls
# example (cohttp_server over conduit_direct { tls = true; }, host sockets, unix target,
# release build) against nginx serving the same files with the same certificate and key
# (ECDSA P-256) over TLS, both on 127.0.0.1 in the same run, loaded by wrk (keep-alive, one
# handshake per connection) with the same connections; printed with the ratio
# unikernel/nginx. Then the size of the static-website-tls image against the plain
# static-website per target. Needs nginx (nginx-light), wrk, curl and python3.
# Usage: [UNIKC=path] benches/https.sh [SECONDS [CONNECTIONS [TARGETS]]]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
conns="${2:-8}"
targets="${3:-unix spt virtio}"
for tool in nginx wrk curl python3; do
    command -v "$tool" >/dev/null 2>&1 || { echo "https.sh: $tool is missing (apt-get install nginx-light wrk curl python3)" >&2; exit 2; }
done
# UNIKC=path uses that unikc (its own speed is not measured; the image is a release build).
if [ -z "${UNIKC:-}" ]; then
    cargo build --release -q --bin unikc
    UNIKC=$PWD/${CARGO_TARGET_DIR:-target}/release/unikc
fi
unikc=$UNIKC
repo=$PWD
tmp=$(mktemp -d)
# nginx's workers run as nobody: the files must be readable by them.
chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
for ex in static-website-tls static-website; do
    cp -r "examples/$ex" "$tmp/$ex"
    rm -rf "$tmp/$ex/_build" "$tmp/$ex/dist" "$tmp/$ex/unik.lock"
done
site=$tmp/static-website-tls
head -c 1048576 /dev/urandom > "$site/htdocs/big.bin"
export UNIKC_CACHE_DIR="${UNIKC_CACHE_DIR:-$tmp/cache}" NO_COLOR=1
(cd "$site" && "$unikc" build >"$tmp/build.log" 2>&1) || { cat "$tmp/build.log"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ca="$repo/tests/tls/ca.pem"
wait_for() {
    for _ in $(seq 200); do curl -sf --cacert "$ca" -o /dev/null "$1" && return 0; sleep 0.05; done
    echo "nothing answers $1" >&2
    cat "$tmp/unikernel.log" "$tmp/nginx/logs/error.log" >&2 || true
    exit 1
}

uport=$(free_port)
"$site/dist/static-website-tls" --https-port="$uport" --logs=error >"$tmp/unikernel.log" 2>&1 &
pids+=($!)
nport=$(free_port)
mkdir -p "$tmp/nginx/logs"
cat > "$tmp/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    types { text/html html; application/octet-stream bin; }
    server {
        listen 127.0.0.1:$nport ssl;
        ssl_certificate $site/tls/server.pem;
        ssl_certificate_key $site/tls/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $site/htdocs;
    }
}
CONF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" &
pids+=($!)
wait_for "https://127.0.0.1:$uport/"
wait_for "https://127.0.0.1:$nport/"
cmp <(curl -sf --cacert "$ca" "https://127.0.0.1:$uport/big.bin") "$site/htdocs/big.bin"
cmp <(curl -sf --cacert "$ca" "https://127.0.0.1:$nport/big.bin") "$site/htdocs/big.bin"
# The same protocol on both sides (wrk offers what its OpenSSL prefers).
for p in "$uport" "$nport"; do
    curl -sv --cacert "$ca" -o /dev/null "https://127.0.0.1:$p/" 2>&1 | grep -o 'SSL connection using [^ ]* / [^ ]*' | sed "s/^/  port $p: /" >&2
done

# `wrk` prints "Requests/sec: N" and "Transfer/sec: N(KB|MB|GB)".
load() {
    wrk -t1 -c"$conns" -d"${secs}s" "$1" | awk '
        /^Requests\/sec:/ { rps = $2 }
        /^Transfer\/sec:/ { v = $2; u = substr(v, length(v) - 1); n = v + 0
            if (u == "GB") n *= 1024; else if (u == "KB") n /= 1024; else if (u != "MB") n /= 1048576
            mbs = n }
        END { printf "%.0f %.1f\n", rps, mbs }'
}
read -r u_rps _ < <(load "https://127.0.0.1:$uport/")
read -r n_rps _ < <(load "https://127.0.0.1:$nport/")
read -r u_big u_mbs < <(load "https://127.0.0.1:$uport/big.bin")
read -r n_big n_mbs < <(load "https://127.0.0.1:$nport/big.bin")
echo "HTTPS (HTTP/1.1 over TLS) on 127.0.0.1, wrk -t1 -c$conns -d${secs}s, keep-alive, one nginx worker:"
awk -v a="$u_rps" -v b="$n_rps" 'BEGIN { printf "  index.html: unikernel %8.0f req/s, nginx %8.0f req/s, ratio %.2f\n", a, b, a / b }'
awk -v a="$u_mbs" -v b="$n_mbs" -v ar="$u_big" -v br="$n_big" 'BEGIN { printf "  1 MB file:  unikernel %8.1f MB/s (%s req/s), nginx %8.1f MB/s (%s req/s), ratio %.2f\n", a, ar, b, br, a / b }'

size() { stat -c %s "$1"; }
rm -f "$site/htdocs/big.bin"
echo
echo "image sizes (bytes):"
for t in $targets; do
    for ex in static-website-tls static-website; do
        (cd "$tmp/$ex" && "$unikc" build -t "$t" >"$tmp/build.log" 2>&1) || { cat "$tmp/build.log"; exit 1; }
    done
    ext=".$t"; [ "$t" = unix ] && ext=""
    tls=$(size "$tmp/static-website-tls/dist/static-website-tls$ext")
    plain=$(size "$tmp/static-website/dist/static-website$ext")
    printf '  %-7s static-website-tls %9d  static-website %9d  (+%d, %.2fx)\n' "$t" "$tls" "$plain" $((tls - plain)) \
        "$(awk -v a="$tls" -v b="$plain" 'BEGIN { print a / b }')"
done
