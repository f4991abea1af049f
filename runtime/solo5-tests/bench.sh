#!/bin/sh
# Prints the Solo5 target figures: spt and hvt boot to first console line,
# image sizes. Needs root (network namespace for hvt) and /dev/kvm.
set -e
cd "$(dirname "$0")"
exec cargo run --release --example bench -- "${1:-30}"
