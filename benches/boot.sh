#!/bin/bash
# Boot figures of the bootable targets, median of RUNS (default 10):
#   - image sizes of `hello` (virtio, spt, hvt, muen, genode; muen and
#     genode are built only: they cannot boot here);
#   - virtio under QEMU TCG, microvm and pc: from starting QEMU to the
#     first console line of `hello`, and to QEMU's exit for `hello` (which
#     sleeps 4 x 100 ms) and `noop` (no jobs);
#   - spt under unikc's tender: to the first line of `hello`, and to the
#     exit of `noop`.
# The command lines are the ones `unikc run` uses.
# Usage: benches/boot.sh [RUNS]
set -euo pipefail
runs=${1:-10}
cd "$(dirname "$0")/.."
cargo build --release -q -p unikc -p unik-tender
unikc=$PWD/target/release/unikc
spt=$PWD/target/release/unikc-spt
command -v qemu-system-x86_64 >/dev/null || { echo "qemu-system-x86_64 missing: apt-get install qemu-system-x86"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export UNIKC_CACHE_DIR="$tmp/cache" CARGO_TARGET_DIR="$tmp/target" NO_COLOR=1
for ex in hello noop; do
    mkdir "$tmp/$ex"
    cp -r "examples/$ex/Cargo.toml" "examples/$ex/src" "examples/$ex/config.unik" "$tmp/$ex/"
    for t in virtio spt hvt; do
        "$unikc" build -t "$t" "$tmp/$ex" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
    done
done
for t in muen genode; do
    "$unikc" build -t "$t" "$tmp/hello" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; exit 1; }
done

size() { local s; s=$(stat -c %s "$1"); echo "$s bytes ($(( (s + 1023) / 1024 )) KiB)"; }
echo "hello.virtio image: $(size "$tmp/hello/dist/hello.virtio")"
echo "hello.spt image:    $(size "$tmp/hello/dist/hello.spt")"
echo "hello.hvt image:    $(size "$tmp/hello/dist/hello.hvt")"
echo "hello.muen image:   $(size "$tmp/hello/dist/hello.muen")"
echo "hello.genode image: $(size "$tmp/hello/dist/hello.genode")"
ratio() { awk -v a="$(stat -c %s "$1")" -v b="$(stat -c %s "$2")" 'BEGIN { printf "%.2f", a / b }'; }
echo "muen / spt: $(ratio "$tmp/hello/dist/hello.muen" "$tmp/hello/dist/hello.spt"), genode / spt: $(ratio "$tmp/hello/dist/hello.genode" "$tmp/hello/dist/hello.spt")"

now() { date +%s%N; }
median() { tr ' ' '\n' | grep . | sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

qemu_line() { # MACHINE IMAGE
    echo qemu-system-x86_64 -M "$1" -accel tcg -cpu max -m 256 -nodefaults -no-reboot \
        -display none -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$2"
}

# One run of COMMAND...: prints "FIRST_LINE_MS EXIT_MS" (FIRST_LINE_MS is
# "-" when nothing was printed). QEMU's exit status is the guest's code
# shifted (1 = guest 0), the tender's the code itself: both are checked.
measure() {
    local want=$1; shift
    local t0 first status
    t0=$(now)
    set +e
    "$@" </dev/null 2>"$tmp/err" | { if IFS= read -r _; then now >"$tmp/first"; else echo - >"$tmp/first"; fi; cat >/dev/null; }
    status=${PIPESTATUS[0]}
    set -e
    local t2; t2=$(now)
    [ "$status" = "$want" ] || { echo "unexpected status $status from $*"; cat "$tmp/err"; exit 1; }
    first=$(cat "$tmp/first")
    if [ "$first" = - ]; then echo "- $(( (t2 - t0) / 1000000 ))"; else echo "$(( (first - t0) / 1000000 )) $(( (t2 - t0) / 1000000 ))"; fi
}

series() { # LABEL WANT COMMAND...
    local label=$1 want=$2; shift 2
    local firsts="" exits="" i=0 r
    while [ "$i" -lt "$runs" ]; do
        r=$(measure "$want" "$@")
        firsts="$firsts ${r% *}"
        exits="$exits ${r#* }"
        i=$((i + 1))
    done
    local f; f=$(echo "$firsts" | tr ' ' '\n' | grep -v -- - | median || true)
    printf '%-28s first line %5s ms, exit %5s ms (median of %d)\n' "$label" "${f:--}" "$(echo "$exits" | median)" "$runs"
}

for m in microvm pc; do
    # shellcheck disable=SC2046
    series "virtio $m hello:" 1 $(qemu_line "$m" "$tmp/hello/dist/hello.virtio")
    # shellcheck disable=SC2046
    series "virtio $m noop:" 1 $(qemu_line "$m" "$tmp/noop/dist/noop.virtio")
done
series "spt hello:" 0 "$spt" "$tmp/hello/dist/hello.spt"
series "spt noop:" 0 "$spt" "$tmp/noop/dist/noop.spt"
