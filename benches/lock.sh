#!/bin/sh
# Lock and reproducibility figures of the `hello` example:
#   - `unikc lock`: every target unikc builds, from nothing (the crate index
#     is brought up to date over the network, as `cargo update` does);
#   - `unikc lock` again, nothing changed (no cargo run, no network);
#   - `unikc build --frozen` with nothing changed (lock check + cargo's
#     fingerprint check), against plain `unikc build`;
#   - `unikc build --verify` on unix: the copy, a fresh cargo target
#     directory, the full build and the comparison.
# Usage: benches/lock.sh [RUNS]   (RUNS no-change runs, default 5)
set -eu
runs=${1:-5}
. "$(dirname "$0")/common.sh"

t0=$(now)
"$unikc" lock "$tmp/hello" >"$tmp/lock.log" 2>&1 || { cat "$tmp/lock.log"; exit 1; }
t1=$(now)
targets=$(grep -c "Locked hello for" "$tmp/lock.log")
echo "unikc lock, $targets targets, from nothing: $(ms "$t0" "$t1") ms"
repeat "$unikc" lock "$tmp/hello"
echo "unikc lock, nothing changed:     median $med ms ($runs runs)"
echo "unik.lock:                       $(wc -l <"$tmp/hello/unik.lock") lines, $(wc -c <"$tmp/hello/unik.lock") bytes"

"$unikc" build "$tmp/hello" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
repeat "$unikc" build "$tmp/hello"
echo "no-change unikc build:           median $med ms"
repeat "$unikc" build --frozen "$tmp/hello"
echo "no-change unikc build --frozen:  median $med ms"

t0=$(now)
"$unikc" build --verify "$tmp/hello" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; exit 1; }
t1=$(now)
echo "unikc build --verify (unix):     $(ms "$t0" "$t1") ms ($(grep -o 'identical' "$tmp/verify.log"))"
