#!/bin/sh
# `unikc package` figures for the `hello` example on spt:
#   - package after a build: build (no change), then write the OCI layout;
#     compared with `unikc build` alone, the difference is what packaging costs;
#   - the layout's size on disk against the image's;
#   - the same digest from a second copy of the project at another path.
# Usage: benches/package.sh [RUNS]   (default 5)
set -eu
runs=${1:-5}
. "$(dirname "$0")/common.sh"

"$unikc" build -t spt "$tmp/hello" >"$tmp/first.log" 2>&1 || { cat "$tmp/first.log"; exit 1; }

repeat "$unikc" build -t spt "$tmp/hello"
build_med=$med
echo "no-change build -t spt:     min $min ms, median $med ms, max $max ms ($runs runs)"
repeat "$unikc" package -t spt "$tmp/hello"
echo "package -t spt (same):      min $min ms, median $med ms, max $max ms ($runs runs)"
echo "  packaging alone (median): $((med - build_med)) ms"

layout="$tmp/hello/dist/hello.spt.oci"
image="$tmp/hello/dist/hello.spt"
isize=$(stat -c %s "$image")
lsize=$(du -sb "$layout" | cut -f1)
echo "spt image:                  $isize bytes"
echo "OCI layout:                 $lsize bytes ($(( lsize * 100 / isize ))% of the image; uncompressed layer)"

mkdir "$tmp/elsewhere"
cp -r "$tmp/hello/Cargo.toml" "$tmp/hello/src" "$tmp/hello/config.unik" "$tmp/elsewhere/"
d1=$("$unikc" package -t spt "$tmp/hello" 2>/dev/null)
d2=$("$unikc" package -t spt "$tmp/elsewhere" 2>/dev/null)
if [ "$d1" = "$d2" ]; then
    echo "digest at two paths:        identical ($d1)"
else
    echo "digest at two paths:        DIFFERENT ($d1 vs $d2)"
    exit 1
fi
