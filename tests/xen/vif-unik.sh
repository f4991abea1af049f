#!/bin/sh
# libxl hotplug script for the harness's vifs (Debian's vif-bridge needs
# bash): put the backend interface on its bridge, or take it off.
# libxl sets $vif (interface) and $XENBUS_PATH (backend xenstore path).
bridge=$(xenstore-read "$XENBUS_PATH/bridge" 2>/dev/null || echo xenbr0)
case "$1" in
  online|add)
    ip link set "$vif" up && brctl addif "$bridge" "$vif" || exit 1
    # netback holds its Connected state until the script says so.
    xenstore-write "$XENBUS_PATH/hotplug-status" connected ;;
  offline|remove)
    brctl delif "$bridge" "$vif" 2>/dev/null; ip link set "$vif" down 2>/dev/null; true ;;
esac
