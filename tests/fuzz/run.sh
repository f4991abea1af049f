#!/usr/bin/env bash
# Coverage-guided fuzzing on stable Rust: libFuzzer (the libfuzzer-sys crate builds it from
# source with the system C++ compiler) over code instrumented by LLVM's SanitizerCoverage,
# switched on with stable rustc flags (-C passes=sancov-module, -C llvm-args=...). No
# sanitizer, no nightly, no RUSTC_BOOTSTRAP. `--target` keeps the flags off build scripts.
#
# Usage: tests/fuzz/run.sh [SECONDS [TARGET...]]
#   Runs each target (default: all eight) for SECONDS (default 20) from its seeds, the stored
#   corpus (tests/fuzz/corpus/TARGET) and the regressions (tests/fuzz/regressions/TARGET).
#   Fails if any input crashes; crashing inputs are left in $FUZZ_OUT/crashes.
#   MERGE=1 merges what a run found into tests/fuzz/corpus (for campaigns).
# CI: `tests/fuzz/run.sh 10`: 8 x 10 s of fuzzing after the build (see the note for times).
# FUZZ_OPT_LEVEL overrides the build's opt-level (default: 1 for runs of <= 30 s, else 3).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs="${1:-20}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(wire iface tcp unik lock hvt http dns)
case "$secs" in
    ''|*[!0-9]*|0) echo "run.sh: SECONDS must be a positive integer, not '$secs'" >&2; exit 2 ;;
esac
for t in "${targets[@]}"; do
    [ -f "tests/fuzz/fuzz_targets/$t.rs" ] || { echo "run.sh: no fuzz target '$t'" >&2; exit 2; }
done
# Missing tools fail here, loudly, rather than as a puzzling build error.
for tool in cargo rustc "${CXX:-c++}"; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "run.sh: '$tool' is missing (libfuzzer-sys compiles libFuzzer with a C++ compiler: apt-get install g++)" >&2
        exit 2
    }
done

triple="$(rustc -vV | sed -n 's/^host: //p')"
out="${FUZZ_OUT:-$(mktemp -d)}"
mkdir -p "$out/crashes"
echo "fuzz work directory: $out"

cargo run -q -p unik-fuzz --bin fuzz-seeds -- "$out/seeds"

export RUSTFLAGS="-C passes=sancov-module \
 -C llvm-args=-sanitizer-coverage-level=4 \
 -C llvm-args=-sanitizer-coverage-inline-8bit-counters \
 -C llvm-args=-sanitizer-coverage-pc-table \
 -C llvm-args=-sanitizer-coverage-trace-compares \
 -C debug-assertions -C overflow-checks --cfg fuzzing"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
# The workspace's release profile builds with one codegen unit; fuzz binaries need speed of
# building more than the last percent of speed. A short run (30 s a target or less, as in
# CI) is a regression check whose time is the build's: it builds at opt-level 1; campaigns
# get the full optimisation.
opt=3
[ "$secs" -gt 30 ] || opt=1
CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL="${FUZZ_OPT_LEVEL:-$opt}" \
    cargo build -q --release --features libfuzzer -p unik-fuzz --target "$triple" "${bins[@]}"
target_dir="${CARGO_TARGET_DIR:-target}"

failed=0
printf '%-6s %10s %8s %8s %8s %8s\n' target execs exec/s cov corpus crashes
for t in "${targets[@]}"; do
    mkdir -p "$out/corpus/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t"
    log="$out/$t.log"
    set +e
    "$target_dir/$triple/release/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/crashes/$t-" \
        "$out/corpus/$t" "$out/seeds/$t" "tests/fuzz/corpus/$t" "tests/fuzz/regressions/$t" \
        >"$log" 2>&1
    rc=$?
    set -e
    # A log without a figure (a crash while loading the corpus) must not stop the script
    # here under `set -e`: the figure prints as `?` and the failure is reported below.
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1 || true)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1 || true)
    cov=$( (grep -o 'cov: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
    corp=$( (grep -o 'corp: [0-9]*' "$log" || true) | tail -1 | cut -d' ' -f2)
    crashes=$(find "$out/crashes" -name "$t-*" | wc -l)
    printf '%-6s %10s %8s %8s %8s %8s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${corp:-?}" "$crashes"
    # A run that ends without its final statistics did not fuzz (the binary would not
    # start, or died outside libFuzzer's handlers): a failure too.
    if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ] || [ -z "$execs" ]; then
        failed=1
        echo "$t: FAILED (exit $rc, $crashes crashing inputs; log $log)" >&2
        grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -8 >&2 || true
    fi
    if [ "${MERGE:-0}" = 1 ]; then
        "$target_dir/$triple/release/$t" -merge=1 "tests/fuzz/corpus/$t" "$out/corpus/$t" >/dev/null 2>&1
    fi
done
if [ "$failed" -ne 0 ]; then
    echo "fuzzing FAILED; crashes: copy each input from $out/crashes to tests/fuzz/regressions/TARGET/ once fixed"
    exit 1
fi
