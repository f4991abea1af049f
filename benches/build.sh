#!/bin/sh
# Build figures of the `hello` example on the unix target:
#   - clean build: an empty cargo target directory and an empty runtime
#     cache (crates already downloaded to ~/.cargo are reused);
#   - no-change rebuild: `unikc build` again (evaluate, resolve, configure,
#     cargo's fingerprint check, copy the image); target under 1 s;
#   - the image's size.
# Usage: benches/build.sh [RUNS]   (RUNS no-change rebuilds, default 5)
set -eu
runs=${1:-5}
cd "$(dirname "$0")/.."
cargo build --release -q --bin unikc
unikc=$PWD/target/release/unikc

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/hello"
cp -r examples/hello/Cargo.toml examples/hello/src examples/hello/config.unik "$tmp/hello/"
unset CARGO_TARGET_DIR
export UNIKC_CACHE_DIR="$tmp/cache" NO_COLOR=1

now() { date +%s%N; }
ms() { echo $(( ($2 - $1) / 1000000 )); }

t0=$(now)
"$unikc" build "$tmp/hello" >"$tmp/clean.log" 2>&1 || { cat "$tmp/clean.log"; exit 1; }
t1=$(now)
echo "clean build of hello:       $(ms "$t0" "$t1") ms"

times=""
i=0
while [ "$i" -lt "$runs" ]; do
    t0=$(now)
    "$unikc" build "$tmp/hello" >"$tmp/rebuild.log" 2>&1 || { cat "$tmp/rebuild.log"; exit 1; }
    t1=$(now)
    times="$times $(ms "$t0" "$t1")"
    i=$((i + 1))
done
grep -q "Compiling" "$tmp/rebuild.log" && { echo "a no-change rebuild compiled something:"; cat "$tmp/rebuild.log"; exit 1; }
sorted=$(echo $times | tr ' ' '\n' | sort -n)
echo "no-change rebuild:          min $(echo "$sorted" | head -1) ms, median $(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p") ms, max $(echo "$sorted" | tail -1) ms ($runs runs)"

t0=$(now)
"$unikc" configure "$tmp/hello" >/dev/null 2>&1
t1=$(now)
echo "  of which configure alone: $(ms "$t0" "$t1") ms"

image="$tmp/hello/dist/hello"
size=$(stat -c %s "$image")
echo "unix image size:            $size bytes ($(( (size + 1023) / 1024 )) KiB)"
if grep -q "$UNIKC_CACHE_DIR" "$image"; then
    echo "warning: the image mentions the runtime cache path"
else
    echo "image free of build paths:  yes (runtime cache path remapped)"
fi
