#!/usr/bin/env bash
# A shared build cache: sccache with a Redis backend on 127.0.0.1.
#   - cold: a clean build of the example with an empty cache;
#   - warm: a clean build of a second checkout of it at another path, with
#     the cache the first filled;
# both in this run, each with a target directory of its own: their times,
# the ratio, the warm build's hit rate and what sccache would not cache.
# Needs redis-server and sccache 0.10 or newer built with Redis
# (`cargo install sccache --locked`; Debian's has no Redis backend and
# refuses --remap-path-prefix): SCCACHE=PATH, else `sccache` on PATH.
# Usage: benches/sccache.sh [TARGET] [EXAMPLE]   (default unix hello)
set -euo pipefail
target=${1:-unix}
example=${2:-hello}
cd "$(dirname "$0")/.."
cargo build --release -q --bin unikc
unikc=$PWD/target/release/unikc
sccache=${SCCACHE:-$(command -v sccache || true)}
[ -n "$sccache" ] || { echo "sccache is missing (cargo install sccache --locked)"; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server is missing (apt-get install redis-server)"; exit 1; }
echo "$("$sccache" --version), $(redis-server --version | cut -d' ' -f1-3)"

tmp=$(mktemp -d)
free_port() {
    local p
    while :; do
        p=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
}
redis_port=$(free_port)
export SCCACHE_SERVER_PORT=$(free_port)
cleanup() {
    "$sccache" --stop-server >/dev/null 2>&1 || true
    [ -f "$tmp/redis.pid" ] && kill "$(cat "$tmp/redis.pid")" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

mkdir "$tmp/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' \
    --appendonly no --daemonize yes --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log"
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export SCCACHE_REDIS_ENDPOINT="redis://127.0.0.1:$redis_port" SCCACHE_IDLE_TIMEOUT=0
unset SCCACHE_DIR SCCACHE_BUCKET CARGO_TARGET_DIR RUSTC_WRAPPER
"$sccache" --start-server >/dev/null
"$sccache" --show-stats | grep -i "cache location"

# Two checkouts: the example's sources, at unrelated paths.
copy() {
    mkdir -p "$1"
    (cd "examples/$example" && tar --exclude=_build --exclude=dist --exclude=unik.lock \
        --exclude=Cargo.lock -cf - .) | tar -xf - -C "$1"
}
first=$tmp/one/$example
second=$tmp/two/checkout/$example
copy "$first"
copy "$second"
export UNIKC_CACHE_DIR="$tmp/unikc-cache" NO_COLOR=1 CARGO_INCREMENTAL=0

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }
stat_of() { "$sccache" --show-stats | awk -v k="$1" '$0 ~ "^"k"  " { print $NF; exit }'; }
build() { # DIR TARGET_DIR
    RUSTC_WRAPPER="$sccache" CARGO_TARGET_DIR="$2" "$unikc" build -t "$target" "$1" \
        >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
}

# Runtime cache and crate index ready, so both builds only compile.
"$unikc" configure -t "$target" "$first" >/dev/null 2>&1

"$sccache" --zero-stats >/dev/null 2>&1
t0=$(now); build "$first" "$tmp/target-one"; t1=$(now)
cold=$(ms "$t0" "$t1")
cold_miss=$(stat_of "Cache misses")
cp "$first/unik.lock" "$second/unik.lock"

"$sccache" --zero-stats >/dev/null 2>&1
t0=$(now); build "$second" "$tmp/target-two"; t1=$(now)
warm=$(ms "$t0" "$t1")
hits=$(stat_of "Cache hits")
misses=$(stat_of "Cache misses")
"$sccache" --show-stats | sed -n '/Non-cacheable reasons/,/^$/p' >"$tmp/reasons"

echo "$example on $target"
echo "cold (empty cache, checkout 1):    $cold ms ($cold_miss crates compiled and stored)"
echo "warm (second checkout, new path):  $warm ms"
echo "time ratio warm/cold:              $(awk -v w="$warm" -v c="$cold" 'BEGIN { printf "%.2f", w / c }')"
echo "hit rate (warm):                   $hits hits, $misses misses ($(awk -v h="$hits" -v m="$misses" 'BEGIN { printf "%.0f", h + m ? 100 * h / (h + m) : 0 }')%)"
sed 's/^/  /' "$tmp/reasons"
# The image: what dist/ holds besides the build record and the domain
# files (which name the image's absolute path).
image=$(cd "$first/dist" && ls | grep -v -e '\.json$' -e '\.xml$' -e '\.xl$')
if cmp -s "$first/dist/$image" "$second/dist/$image"; then
    echo "images: identical ($image, $(sha256sum "$first/dist/$image" | cut -c1-16)…)"
else
    echo "images: DIFFERENT ($image)"
    exit 1
fi
