#!/bin/bash
# Boots Xen 4.17 with a PV Linux dom0 nested in QEMU (TCG) once, and runs
# every guest of GUESTS_DIR in it, one after the other, printing what
# happened on stdout (the QEMU serial console: Xen, dom0 and each guest's
# PV console between markers). Built only from Debian bookworm packages
# (apt-get download + dpkg -x), cached in CACHE_DIR.
#
# usage: dom0.sh CACHE_DIR GUESTS_DIR
# GUESTS_DIR/NN-NAME/ holds NAME.xen and NAME.xl (kernel = the image's
# name is rewritten to where the guest lands in dom0), and optionally:
#   args     the xl line `cmdline = "..."` with the boot arguments
#   check.sh run in dom0 while the guest runs: sh check.sh DOMAIN CONSOLE_LOG
#   prep.sh  run in dom0 while the guest is still paused, before it starts:
#            sh prep.sh DOMAIN DOMID
#   disk.img a disk image attached through a loop device (the .xl's disk
#            targets are rewritten to it); printed as hex afterwards
# Env: DOM0_TIMEOUT (s, whole run, default 900), GUEST_TIMEOUT (s, default 60),
#      XEN_CPU (QEMU -cpu), XEN_EXTRA (Xen command line), QEMU_EXTRA (for
#      looking into a run, e.g. "-monitor unix:/tmp/mon,server,nowait").
set -euo pipefail
CACHE=$(realpath -m "$1"); GUESTS=$(realpath "$2")
die() { echo "dom0.sh: $*" >&2; exit 2; }
for t in apt-get dpkg dpkg-deb qemu-system-x86_64 xz cpio find timeout mknod; do
  command -v $t >/dev/null || die "missing tool $t (apt-get install -y qemu-system-x86 xz-utils cpio dpkg apt)"
done
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"; flock 9   # one fetch at a time across test binaries

# ---- packages (once) ----
PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils busybox-static
      libxencall1 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenmisc4.17 libxenstore4
      libxentoollog1 libxendevicemodel1 libxenhypfs1 libxentoolcore1 libyajl2"
if [ ! -f "$CACHE/root/.complete" ]; then
  KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
  [ -n "$KPKG" ] || die "apt-cache knows no linux-image-amd64 (run apt-get update)"
  rm -rf "$CACHE/debs" "$CACHE/root"; mkdir -p "$CACHE/debs" "$CACHE/root"
  (cd "$CACHE/debs" && apt-get download $PKGS $KPKG >&2) || die "apt-get download failed"
  for d in "$CACHE"/debs/*.deb; do dpkg -x "$d" "$CACHE/root"; done
  touch "$CACHE/root/.complete"
fi
R=$CACHE/root
# Xen as an ELF QEMU's -kernel takes (multiboot); dom0 Linux uncompressed
# (Xen's own xz inflate under TCG costs seconds every boot).
[ -f "$CACHE/xen" ] || zcat "$R"/boot/xen-4.17-amd64.gz > "$CACHE/xen"
if [ ! -f "$CACHE/vmlinux" ]; then
  BZ=$(ls "$R"/boot/vmlinuz-* | head -1)
  OFF=$(LC_ALL=C grep -obUaP '\xfd\x37\x7a\x58\x5a\x00' "$BZ" | head -1 | cut -d: -f1)
  [ -n "$OFF" ] || die "no xz stream in $BZ"
  tail -c +$((OFF + 1)) "$BZ" | xz -dcq --single-stream > "$CACHE/vmlinux.tmp" || true
  [ "$(head -c 4 "$CACHE/vmlinux.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] || die "could not extract vmlinux from $BZ"
  mv "$CACHE/vmlinux.tmp" "$CACHE/vmlinux"
fi

# ---- dom0 initramfs (the toolstack part is cached, guests added per run) ----
KV=$(ls "$R"/lib/modules | head -1)
BASE=$CACHE/dom0-base
if [ ! -f "$BASE/.complete-5" ]; then
  rm -rf "$BASE"; mkdir -p "$BASE"/{bin,sbin,dev,proc,sys,tmp,etc/xen/scripts,run/xen,var/lib/xen,var/log/xen/console,var/lib/xenstored,var/lock,lib64,lib/x86_64-linux-gnu,usr/lib/xen-4.17/bin,modules,guest}
  ln -s ../run "$BASE/var/run"
  cp "$R/bin/busybox" "$BASE/bin/"
  for a in $("$R/bin/busybox" --list); do [ -e "$BASE/bin/$a" ] || ln -s busybox "$BASE/bin/$a"; done
  for b in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper xenctx; do cp "$R/usr/lib/xen-4.17/bin/$b" "$BASE/usr/lib/xen-4.17/bin/"; done
  cp "$R/usr/bin/xenstore" "$BASE/bin/"
  for b in read write ls rm list exists chmod; do ln -sf xenstore "$BASE/bin/xenstore-$b"; done
  LIBDIRS="$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu"
  for f in "$BASE"/usr/lib/xen-4.17/bin/* "$BASE/bin/xenstore"; do
    LD_LIBRARY_PATH=$LIBDIRS ldd "$f" | awk '/=> \//{print $3}'
  done | sort -u | while read -r l; do cp -L "$l" "$BASE/lib/x86_64-linux-gnu/"; done
  cp -L /lib64/ld-linux-x86-64.so.2 "$BASE/lib64/"
  cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$BASE/lib/x86_64-linux-gnu/"   # xl: pthread_cancel
  : > "$BASE/etc/xen/xl.conf"
  for m in xen-privcmd xenfs/xenfs xen-evtchn xen-gntdev xen-gntalloc xen-netback/xen-netback; do
    f=$(find "$R/lib/modules/$KV/kernel/drivers" -name "$(basename $m).ko*" | head -1)
    [ -n "$f" ] || die "no module $m in $KPKG"
    case $f in *.xz) xz -dc "$f" > "$BASE/modules/$(basename $m).ko";; *) cp "$f" "$BASE/modules/";; esac
  done
  f=$(find "$R/lib/modules/$KV/kernel/drivers/block" -name "loop.ko*" | head -1)
  [ -z "$f" ] || { case $f in *.xz) xz -dc "$f" > "$BASE/modules/loop.ko";; *) cp "$f" "$BASE/modules/";; esac; }
  f=$(find "$R/lib/modules/$KV/kernel/drivers" -name "xen-blkback.ko*" | head -1)
  case $f in *.xz) xz -dc "$f" > "$BASE/modules/xen-blkback.ko";; *) cp "$f" "$BASE/modules/";; esac
  f=$(find "$R/lib/modules/$KV/kernel/net/bridge" -name "bridge.ko*" | head -1)
  [ -z "$f" ] || { case $f in *.xz) xz -dc "$f" > "$BASE/modules/bridge.ko";; *) cp "$f" "$BASE/modules/";; esac; }
  f=$(find "$R/lib/modules/$KV/kernel/net/802" -name "stp.ko*" | head -1)
  [ -z "$f" ] || { case $f in *.xz) xz -dc "$f" > "$BASE/modules/stp.ko";; *) cp "$f" "$BASE/modules/";; esac; }
  f=$(find "$R/lib/modules/$KV/kernel/net/llc" -name "llc.ko*" | head -1)
  [ -z "$f" ] || { case $f in *.xz) xz -dc "$f" > "$BASE/modules/llc.ko";; *) cp "$f" "$BASE/modules/";; esac; }
  touch "$BASE/.complete-5"
fi
flock -u 9

WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
D=$WORK/dom0
cp -a "$BASE" "$D"
HERE=$(dirname "$(realpath "$0")")
cp "$HERE/init.sh" "$D/init"; chmod +x "$D/init"
for s in vif-unik block-unik; do cp "$HERE/$s.sh" "$D/etc/xen/scripts/$s"; chmod +x "$D/etc/xen/scripts/$s"; done
for g in "$GUESTS"/*/; do
  g=${g%/}; n=$(basename "$g"); mkdir -p "$D/guest/$n"; cp -r "$g"/. "$D/guest/$n/"
done
(cd "$D" && find . | cpio -o -H newc --quiet) > "$WORK/dom0.cpio"

# The CPU: `max` for SVM with nested paging (Debian's Xen has no shadow
# paging); without SMAP (the PV dom0 crashes with it under TCG); without
# XSAVE: with it, dom0's processes died now and then of SIGSEGV/#GP
# (xl, grep, ld.so's lazy binding, which saves registers with XSAVEC) once
# guests had run: about one in twenty guest runs (0 in 48 without XSAVE).
timeout "${DOM0_TIMEOUT:-900}" qemu-system-x86_64 -M q35 -cpu "${XEN_CPU:-max,-smap,-xsave}" -m 1024 -smp 1 ${QEMU_EXTRA:-} \
  -nodefaults -nic none -display none -serial stdio -no-reboot \
  -kernel "$CACHE/xen" \
  -append "console=com1 com1=115200 dom0_mem=384M bootscrub=0 loglvl=all guest_loglvl=all ${XEN_EXTRA:-}" \
  -initrd "$CACHE/vmlinux console=hvc0 earlyprintk=xen quiet guest_timeout=${GUEST_TIMEOUT:-60},$WORK/dom0.cpio" \
  </dev/null
