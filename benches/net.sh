#!/usr/bin/env bash
# TCP throughput each way and UDP echo packets/s: the direct stack on a tap against the same
# workload through socket_stackv4 (Linux), printed as ratios from the same run; then TCP each
# way between Linux and the direct stack in an spt image under unikc-spt (the negotiated
# virtio_net_hdr path and plain Solo5 frames), over IPv4 and over IPv6 (the guest's dual
# stack), as ratios to the unix target's direct stack and to Linux from this run (IPv6 to
# their IPv6 figures) and, for IPv6, to the same image over IPv4.
# Needs root, /dev/net/tun, iproute2 and ethtool. Usage: benches/net.sh [MEGABYTES [SECONDS]]
set -euo pipefail
cd "$(dirname "$0")/.."
mb="${1:-200}"
cargo build --release -q -p unik-net --example net_bench
target="${CARGO_TARGET_DIR:-target}"
out=$("$target/release/examples/net_bench" "$mb" "${2:-3}")
echo "$out"

# The spt image and the tenders build in runtime/solo5-tests (their own workspace).
(cd runtime/solo5-tests && cargo build --release -q --locked --example net_spt)
spt_target="${CARGO_TARGET_DIR:-runtime/solo5-tests/target}"
spt=$("$spt_target/release/examples/net_spt" "$mb" 1500)
echo
echo "spt under unikc-spt, tap MTU 1500 (vnet: the negotiated virtio_net_hdr path; plain: Solo5 frames):"
# `spt-tcp PATH MTU IN OUT` (IPv4) and `spt-tcp6 …` (IPv6) against the unix direct stack
# (MTU 1500) and Linux with offloads, each in its family.
SPT="$spt" awk '
    /^direct, tap MTU 1500 / { din = $(NF-5); dout = $(NF-3) }
    /^socket, veth \+ offloads / { lin = $(NF-5); lout = $(NF-3) }
    /^IPv6 direct, tap MTU 1500 / { din6 = $(NF-5); dout6 = $(NF-3) }
    /^IPv6 socket, veth \+ offl/ { lin6 = $(NF-5); lout6 = $(NF-3) }
    END {
        n = split(ENVIRON["SPT"], lines, "\n")
        for (i = 1; i <= n; i++) {
            split(lines[i], s, " ")
            if (s[1] == "spt-tcp") {
                v4in[s[2]] = s[4]; v4out[s[2]] = s[5]
                printf "  IPv4 %-5s TCP Linux -> spt %6.0f MB/s, spt -> Linux %6.0f MB/s", s[2], s[4], s[5]
                printf "; vs unix direct %3.0f %% / %3.0f %%", 100 * s[4] / din, 100 * s[5] / dout
                printf "; vs Linux sockets %3.0f %% / %3.0f %%\n", 100 * s[4] / lin, 100 * s[5] / lout
            } else if (s[1] == "spt-tcp6") {
                printf "  IPv6 %-5s TCP Linux -> spt %6.0f MB/s, spt -> Linux %6.0f MB/s", s[2], s[4], s[5]
                printf "; vs unix direct %3.0f %% / %3.0f %%", 100 * s[4] / din6, 100 * s[5] / dout6
                printf "; vs Linux sockets %3.0f %% / %3.0f %%", 100 * s[4] / lin6, 100 * s[5] / lout6
                if (s[2] in v4in)
                    printf "; vs spt IPv4 %3.0f %% / %3.0f %%", 100 * s[4] / v4in[s[2]], 100 * s[5] / v4out[s[2]]
                printf "\n"
            }
        }
    }' <<<"$out"
