#!/bin/sh
# libxl hotplug script for the harness's disks (Debian's block script needs
# bash): the target is already a loop device; tell blkback its numbers.
case "$1" in
  add)
    dev=$(xenstore-read "$XENBUS_PATH/params")
    mm=$(stat -L -c '%t:%T' "$dev") || exit 1
    xenstore-write "$XENBUS_PATH/physical-device" "$mm" &&
    xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
esac
exit 0
