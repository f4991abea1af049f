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
median() {
    sorted=$(echo $1 | tr ' ' '\n' | sort -n)
    echo "$sorted" | sed -n "$(( ($(echo "$sorted" | wc -l) + 1) / 2 ))p"
}
repeat() {
    times=""
    i=0
    while [ "$i" -lt "$runs" ]; do
        t0=$(now)
        "$@" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
        t1=$(now)
        times="$times $(ms "$t0" "$t1")"
        i=$((i + 1))
    done
    median "$times"
}

t0=$(now)
"$unikc" lock "$tmp/hello" >"$tmp/lock.log" 2>&1 || { cat "$tmp/lock.log"; exit 1; }
t1=$(now)
targets=$(grep -c "Locked hello for" "$tmp/lock.log")
echo "unikc lock, $targets targets, from nothing: $(ms "$t0" "$t1") ms"
echo "unikc lock, nothing changed:     median $(repeat "$unikc" lock "$tmp/hello") ms ($runs runs)"
echo "unik.lock:                       $(wc -l <"$tmp/hello/unik.lock") lines, $(wc -c <"$tmp/hello/unik.lock") bytes"

"$unikc" build "$tmp/hello" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
echo "no-change unikc build:           median $(repeat "$unikc" build "$tmp/hello") ms"
echo "no-change unikc build --frozen:  median $(repeat "$unikc" build --frozen "$tmp/hello") ms"

t0=$(now)
"$unikc" build --verify "$tmp/hello" >"$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log"; exit 1; }
t1=$(now)
echo "unikc build --verify (unix):     $(ms "$t0" "$t1") ms ($(grep -o 'identical' "$tmp/verify.log"))"
