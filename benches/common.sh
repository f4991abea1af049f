# Sourced by build.sh and lock.sh: a release `unikc`, a copy of the `hello`
# example in a temporary directory (removed on exit) with its own runtime
# cache, and timing helpers. Expects `runs` to be set.
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

# Runs COMMAND... `runs` times, stopping the script if it fails (its output
# of the last run is in $tmp/run.log). Sets `times` (ms, sorted, one per
# line) and `med`, `min` and `max`.
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
    times=$(echo $times | tr ' ' '\n' | sort -n)
    med=$(echo "$times" | sed -n "$(( (runs + 1) / 2 ))p")
    min=$(echo "$times" | head -1)
    max=$(echo "$times" | tail -1)
}
