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
. "$(dirname "$0")/common.sh"

t0=$(now)
"$unikc" build "$tmp/hello" >"$tmp/clean.log" 2>&1 || { cat "$tmp/clean.log"; exit 1; }
t1=$(now)
echo "clean build of hello:       $(ms "$t0" "$t1") ms"

repeat "$unikc" build "$tmp/hello"
grep -q "Compiling" "$tmp/run.log" && { echo "a no-change rebuild compiled something:"; cat "$tmp/run.log"; exit 1; }
echo "no-change rebuild:          min $min ms, median $med ms, max $max ms ($runs runs)"

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
