#!/bin/sh
# dom0 /init of the nested-Xen harness (see dom0.sh): bring up the
# toolstack, a bridge for the guests' vifs, then run each /guest/*/ in turn.
# Markers on the console (hvc0 -> QEMU serial) delimit each guest's results.
export PATH=/usr/lib/xen-4.17/bin:/bin:/sbin
export LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
up() { cut -d' ' -f1 /proc/uptime; }
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mkdir -p /dev/pts && mount -t devpts devpts /dev/pts       # xenconsoled needs ptys
GUEST_TIMEOUT=60
for a in $(cat /proc/cmdline); do case $a in guest_timeout=*) GUEST_TIMEOUT=${a#guest_timeout=};; esac; done
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc llc stp bridge loop xen-netback xen-blkback; do
  [ -f /modules/$m.ko ] && { insmod /modules/$m.ko || echo "=== DOM0 ERROR insmod $m"; }
done
mount -t xenfs xenfs /proc/xen
xenstored --pid-file /run/xen/xenstored.pid || echo "=== DOM0 ERROR xenstored"
xen-init-dom0 >/dev/null || echo "=== DOM0 ERROR xen-init-dom0"
xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console || echo "=== DOM0 ERROR xenconsoled"
ip link set lo up
# A fixed address: a bridge otherwise takes its ports' (netback vifs are all fe:ff:ff:ff:ff:ff).
brctl addbr xenbr0 && ip link set xenbr0 address 02:00:0a:00:00:01 && ip addr add 10.0.0.1/24 dev xenbr0 && ip link set xenbr0 up || echo "=== DOM0 ERROR bridge"
echo "=== DOM0 READY up=$(up)"
# One run of a guest; timed_out=1 when it had to be destroyed.
run_guest() {
  timed_out=0
  dir=${dir%/}; id=$(basename $dir)
  xl=$(ls $dir/*.xl | head -1); img=$(ls $dir/*.xen | head -1)
  name=$(sed -n 's/^name = "\(.*\)"$/\1/p' $xl)
  cfg=/tmp/$id.xl
  # The image and disks are where dom0 has them; the vifs use the
  # harness's hotplug script (Debian's needs bash); TCG's nested SVM
  # needs the native TSC mode (see the research notes).
  sed -e "s|^kernel = .*|kernel = \"$img\"|" -e 's|"bridge=|"script=vif-unik,bridge=|' -e '/^cmdline = /d' $xl > $cfg
  [ -f $dir/args ] && cat $dir/args >> $cfg
  if [ -f $dir/disk.img ]; then
    loop=$(losetup -f); losetup $loop $dir/disk.img
    sed -i -e "s|target=[^\"]*\"|target=$loop\"|" -e 's|"format=raw,|"backendtype=phy,script=block-unik,format=raw,|' $cfg
  fi
  echo 'tsc_mode = "native"' >> $cfg
  echo "=== GUEST $id BEGIN name=$name"
  log=/var/log/xen/console/guest-$name.log
  # xenconsoled appends to the log of an earlier domain of that name: this
  # guest's output starts after s0 bytes.
  s0=$(stat -c %s $log 2>/dev/null || echo 0)
  t0=$(up)
  echo "=== GUEST $id CREATE up=$t0"
  # `xl create -F` (as `unikc run -t xen`): xl stays in the foreground as
  # the domain's monitor until the domain is gone and cleaned up.
  if [ -f $dir/attach ]; then
    # As `unikc run -t xen` does: the console on xl's stdout, no terminal.
    # xenconsole stops at the end of its input, not when the domain is
    # gone: its input stays open until the domain has come and gone.
    ( i=0; while ! xl domid $name >/dev/null 2>&1 && [ $i -lt 200 ]; do usleep 100000; i=$((i+1)); done
      while xl domid $name >/dev/null 2>&1; do usleep 100000; done; usleep 300000 ) |
      timeout $GUEST_TIMEOUT xl create -F -c $cfg >/tmp/$id.attach 2>&1 || echo "=== GUEST $id CREATE FAILED"
    echo "=== GUEST $id CREATED up=$(up)"
    echo "=== GUEST $id ATTACH BEGIN"; cat /tmp/$id.attach; echo "=== GUEST $id ATTACH END"
    xlpid=""
  else
    # A guest with prep.sh is created paused, prepared, then unpaused.
    paused=""; [ -f $dir/prep.sh ] && paused=-p
    xl create -F $paused $cfg >/tmp/$id.create 2>&1 &
    xlpid=$!
    if [ -f $dir/timing ]; then
      # Benchmarks: when the first console byte reaches xenconsoled's log.
      i=0; while [ $(stat -c %s $log 2>/dev/null || echo 0) -le $s0 ] && kill -0 $xlpid 2>/dev/null && [ $i -lt 6000 ]; do usleep 10000; i=$((i+1)); done
      echo "=== GUEST $id FIRST-LINE up=$(up)"
    fi
    # Created: xl -F says it waits for the domain to die once the domain
    # runs (a short guest may be gone again by the time we look).
    i=0; while ! grep -q '^Waiting for domain' /tmp/$id.create && kill -0 $xlpid 2>/dev/null && [ $i -lt 1200 ]; do usleep 50000; i=$((i+1)); done
    grep -q '^Waiting for domain' /tmp/$id.create || { kill $xlpid 2>/dev/null; wait $xlpid; echo "=== GUEST $id CREATE FAILED"; xlpid=""; }
    cat /tmp/$id.create; seen=$(grep -c '' /tmp/$id.create)
    echo "=== GUEST $id CREATED up=$(up)"
    if [ -n "$paused" ] && [ -n "$xlpid" ]; then
      echo "=== GUEST $id PREP BEGIN"
      sh $dir/prep.sh $name $(xl domid $name) 2>&1
      echo "=== GUEST $id PREP END status=$?"
      xl unpause $name
    fi
  fi
  log=/var/log/xen/console/guest-$name.log
  if [ -f $dir/check.sh ]; then
    echo "=== GUEST $id CHECK BEGIN"
    sh $dir/check.sh $name $log 2>&1
    echo "=== GUEST $id CHECK END status=$?"
  fi
  deadline=$(( $(cut -d. -f1 /proc/uptime) + GUEST_TIMEOUT ))
  while xl list $name >/dev/null 2>&1; do
    if [ $(cut -d. -f1 /proc/uptime) -ge $deadline ]; then
      echo "=== GUEST $id TIMEOUT"
      timed_out=1
      # Where the guest is stuck: its registers and Xen's view of its vCPU
      # and event channels.
      echo "=== GUEST $id STUCK BEGIN"
      for k in 1 2 3; do xenctx -a -S $(xl domid $name) 2>&1 | head -60; usleep 300000; done
      xl debug-keys q >/dev/null 2>&1; xl debug-keys e >/dev/null 2>&1
      xl dmesg 2>&1 | tail -60
      echo "=== GUEST $id STUCK END"
      xl destroy $name; break
    fi
    usleep 50000
  done
  echo "=== GUEST $id GONE up=$(up)"
  # xl (the domain's monitor) finishes its device clean-up before the
  # next xl create (they race otherwise); its messages after creation.
  i=0; while pidof xl >/dev/null && [ $i -lt 50 ]; do usleep 100000; i=$((i+1)); done
  if [ -n "$xlpid" ]; then
    kill $xlpid 2>/dev/null; wait $xlpid; st=$?
    echo "=== GUEST $id XL BEGIN"; tail -n +$((seen + 1)) /tmp/$id.create; echo "=== GUEST $id XL END status=$st"
  fi
  # xenconsoled may still be writing the last bytes
  usleep 200000
  echo "=== GUEST $id CONSOLE BEGIN"
  [ -f $log ] && tail -c +$((s0 + 1)) $log
  echo "=== GUEST $id CONSOLE END"
  if [ -f $dir/disk.img ]; then
    losetup -d $loop
    echo "=== GUEST $id DISK BEGIN"
    hexdump -C $dir/disk.img
    echo "=== GUEST $id DISK END"
  fi
  echo "=== GUEST $id END"
}
# A guest that hangs is dumped (STUCK), destroyed and run once more, so one
# hang in the nested environment does not hide the other results; the
# tests read the last run and report the retry (see the xen chapter).
for dir in /guest/*/; do
  run_guest
  if [ $timed_out = 1 ] && [ ! -f $dir/expect_timeout ]; then echo "=== GUEST $(basename ${dir%/}) RETRY"; run_guest; fi
done
echo "=== XEN DMESG BEGIN"
xl dmesg | grep -E '\(d[0-9]+\)'
echo "=== XEN DMESG END"
# Processes dom0's kernel killed (their fault addresses and error codes).
echo "=== DOM0 SEGFAULTS BEGIN"
dmesg | grep -E 'segfault|general protection|trap ' || true
echo "=== DOM0 SEGFAULTS END"
echo "=== DOM0 DONE up=$(up)"
echo o > /proc/sysrq-trigger
sleep 10
