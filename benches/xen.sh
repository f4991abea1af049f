#!/bin/bash
# Xen figures, inside the nested Xen of tests/xen (Xen 4.17 + Debian dom0
# under QEMU TCG, so every time here is emulated: compare them with each
# other, not with hardware):
#   - the size of hello.xen (and hello.virtio, same code on the other PVH target);
#   - `xl create` -> first console byte in xenconsoled's log, and -> domain
#     gone, for hello (RUNS times, one dom0 boot);
#   - TCP echo throughput dom0 <-> image over netfront (1 MiB through the
#     tcp-echo example and back).
# usage: benches/xen.sh [RUNS]   (default 3)
set -euo pipefail
runs=${1:-3}
cd "$(dirname "$0")/.."
cargo build --release -q --bin unikc
unikc=$PWD/target/release/unikc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export UNIKC_CACHE_DIR="$tmp/cache" NO_COLOR=1
unset CARGO_TARGET_DIR
for ex in hello tcp-echo; do
  mkdir -p "$tmp/$ex"
  cp -r examples/$ex/Cargo.toml examples/$ex/src examples/$ex/config.unik "$tmp/$ex/"
  (cd "$tmp/$ex" && "$unikc" build -t xen >/dev/null 2>&1) || { echo "building $ex for xen failed"; exit 1; }
done
(cd "$tmp/hello" && "$unikc" build -t virtio >/dev/null 2>&1) || { echo "building hello for virtio failed"; exit 1; }
xen_size=$(stat -c %s "$tmp/hello/dist/hello.xen")
virtio_size=$(stat -c %s "$tmp/hello/dist/hello.virtio")

g=$tmp/guests
for i in $(seq 1 "$runs"); do
  d=$g/0$i-hello; mkdir -p "$d"
  cp "$tmp/hello/dist/hello.xen" "$tmp/hello/dist/hello.xl" "$d/"; touch "$d/timing"
done
d=$g/90-echo; mkdir -p "$d"
cp "$tmp/tcp-echo/dist/tcp-echo.xen" "$tmp/tcp-echo/dist/tcp-echo.xl" "$d/"
cat > "$d/check.sh" <<'EOS'
d=$1; log=$2; i=0
while ! grep -q 'listening on' $log 2>/dev/null; do i=$((i+1)); [ $i -gt 600 ] && { xl destroy $d; exit 1; }; usleep 100000; done
ip neigh flush dev xenbr0
dd if=/dev/urandom of=/tmp/big bs=1024 count=1024 2>/dev/null
t0=$(cut -d' ' -f1 /proc/uptime)
nc -w 30 10.0.0.2 7 < /tmp/big > /tmp/bigout &
pid=$!
i=0
while [ $(wc -c < /tmp/bigout) -lt 1048576 ] && [ $i -lt 1200 ]; do usleep 50000; i=$((i+1)); done
t1=$(cut -d' ' -f1 /proc/uptime)
kill $pid 2>/dev/null
echo "ECHO-BIG bytes=$(wc -c < /tmp/bigout) t0=$t0 t1=$t1"
xl destroy $d
EOS
log=$tmp/dom0.log
bash tests/xen/dom0.sh target/tmp/xen-dom0 "$g" > "$log" 2>"$tmp/dom0.err" || { tail -40 "$log"; tail "$tmp/dom0.err"; exit 1; }

echo "image size: hello.xen $xen_size bytes, hello.virtio $virtio_size bytes (xen/virtio $(awk "BEGIN{printf \"%.2f\", $xen_size/$virtio_size}"))"
first="" ; gone=""
for i in $(seq 1 "$runs"); do
  id=0$i-hello
  t0=$(sed -n "s/^=== GUEST $id CREATE up=//p" "$log" | tr -d '\r')
  t1=$(sed -n "s/^=== GUEST $id FIRST-LINE up=//p" "$log" | tr -d '\r')
  t2=$(sed -n "s/^=== GUEST $id GONE up=//p" "$log" | tr -d '\r')
  first="$first $(awk "BEGIN{printf \"%d\", ($t1-$t0)*1000}")"
  gone="$gone $(awk "BEGIN{printf \"%d\", ($t2-$t0)*1000}")"
done
med() { echo $* | tr ' ' '\n' | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
echo "hello, xl create -> first console byte (ms, dom0 clock): median $(med $first) of [$(echo $first)]"
echo "hello, xl create -> domain gone (ms, dom0 clock): median $(med $gone) of [$(echo $gone)]"
echo "  (the domain is gone 400 ms of sleeps after its first line: hello greets 4 times 100 ms apart)"
line=$(grep -a '^ECHO-BIG' "$log" | tr -d '\r' || true)
[ -n "$line" ] || { echo "TCP echo produced no figure"; sed -n '/GUEST 90-echo/,$p' "$log" | head -40; exit 1; }
bytes=$(echo "$line" | sed 's/.*bytes=\([0-9]*\).*/\1/')
t0=$(echo "$line" | sed 's/.*t0=\([0-9.]*\).*/\1/'); t1=$(echo "$line" | sed 's/.*t1=\([0-9.]*\).*/\1/')
echo "TCP echo dom0 -> image -> dom0 over netfront: $bytes bytes in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}") s = $(awk "BEGIN{printf \"%.2f\", $bytes/1048576/($t1-$t0)}") MiB/s each way (nested TCG)"
