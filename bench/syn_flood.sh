#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/syn_flood.sh: memory under attack, through the real tool. A SYN
# flood (bench/gen_capture -F: every packet the SYN of a 4-tuple of its
# own, 2^21 of them by default) is replayed by
#   tcp_window_monitor -r - --scope all -q --max-flows CAP
# on its first 25/50/75/100%, for each CAP. At each point it prints the
# flows opened, tcp_monitor_flows_evicted_total by reason,
# tcp_monitor_active_connections (the flows in the table: a SYN-only flow
# never closes) and the process's peak RSS (/usr/bin/time -f %M); then the
# growth of the peak RSS from 50% to 100% of the capture. Once the table
# is full, every new SYN must evict one flow (counted) and the RSS must
# stay flat. With the default 2^21 packets and cap 2^20 the table fills
# exactly at the 50% point.
# Like bench/run.sh it is a measurement: it exits 0 whatever the figures
# (1 only if something could not be run at all).
#
# Usage: bench/syn_flood.sh [OPTION...]   (bench/syn_flood.sh --help)
set -euo pipefail
export LC_ALL=C

BENCH_NAME=syn_flood.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PACKETS=2097152
SEED=1
CAPS="1048576 100000"

usage() {
    cat <<EOF
Usage: bench/syn_flood.sh [OPTION...]

Generates a SYN flood of PACKETS distinct 4-tuples (cached in
\$TCPWM_BENCH_CACHE, default \${TMPDIR:-/tmp}/tcpwm-bench) and replays its
first 25/50/75/100% with tcp_window_monitor --max-flows CAP, for each CAP.

  --packets N         SYNs, each from a 4-tuple of its own (default $PACKETS)
  --seed N            generator seed (default $SEED)
  --caps "N M ..."    flow-table caps to run with (default "$CAPS")
$(bench_usage_build)
  -h, --help          this help
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --packets) PACKETS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --caps) CAPS=$2; shift ;;
    --build-dir) BUILD_DIR=$2; BUILD=0; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "syn_flood.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bench_positive PACKETS SEED
[ "$PACKETS" -ge 4 ] || { echo "syn_flood.sh: --packets must be at least 4" >&2; exit 2; }
for c in $CAPS; do
    [[ $c =~ ^[0-9]+$ && $c -gt 0 ]] || { echo "syn_flood.sh: bad cap: '$c'" >&2; exit 2; }
done

[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time': apt-get install time)"

bench_build tcp_window_monitor gen_capture pcap_floor
TCPWM=$BUILD_DIR/tcp_window_monitor
GEN=$BUILD_DIR/bench/gen_capture
FLOOR=$BUILD_DIR/bench/pcap_floor
bench_need "$TCPWM" "$GEN" "$FLOOR"

# ---- the capture (cached: bench_gen) ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-synflood-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FLOOD=$(bench_gen "synflood-n$PACKETS-s$SEED" -F -n "$PACKETS" -s "$SEED")
N=$("$FLOOR" "$FLOOD" | sed -n 's/^packets=\([0-9]*\).*/\1/p')
[ "$N" = "$PACKETS" ] || die "$FLOOD holds $N packets, not $PACKETS"

metric() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# Offsets of the 25/50/75/100% prefixes: `head -c OFFSET` is a valid capture.
declare -a PTS OFFS
for q in 1 2 3 4; do
    k=$((N * q / 4))
    PTS+=("$k")
    OFFS+=("$("$FLOOR" -c "$k" "$FLOOD" | sed -n 's/.*offset=\([0-9]*\).*/\1/p')")
done
cat "$FLOOD" >/dev/null # warm the page cache

# The RSS of the tool with an almost empty table, for reference.
"$GEN" -F -n 1 -s "$SEED" -o "$WORK/one.pcap" >/dev/null 2>&1
/usr/bin/time -f %M -o "$WORK/rss" "$TCPWM" -r "$WORK/one.pcap" --scope all -q -o /dev/null
RSS_ONE=$(tail -n 1 "$WORK/rss")

echo
echo "tcpwm SYN flood: memory under attack  $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "versions: $("$TCPWM" --version 2>&1 | head -n 1); $(dpkg-query -W -f '${Package} ${Version}' libpcap0.8 2>/dev/null || echo libpcap ?)"
echo "capture: $FLOOD"
echo "  $(cat "$FLOOD.info"); $(du -m "$FLOOD" | cut -f1) MB"
echo "run: head -c OFFSET capture | /usr/bin/time -f %M tcp_window_monitor -r - --scope all -q --max-flows CAP"
echo "peak RSS with one flow (--max-flows default): $(mb "$RSS_ONE") MB"

for cap in $CAPS; do
    declare -a RSS=()
    echo
    echo "--max-flows $cap"
    printf '  %5s %9s %9s %10s %10s %9s %9s %10s %8s\n' "point" "packets" "opened" "evicted" "evicted" "active" "closed" "peak RSS" "wall s"
    printf '  %5s %9s %9s %10s %10s %9s %9s %10s\n' "" "" "" "max_flows" "idle" "" "" "MB"
    bad=0
    for i in 0 1 2 3; do
        k=${PTS[$i]}
        t0=$EPOCHREALTIME
        head -c "${OFFS[$i]}" "$FLOOD" |
            /usr/bin/time -f %M -o "$WORK/rss" "$TCPWM" -r - --scope all -q --max-flows "$cap" -o "$WORK/out.prom" ||
            die "tcp_window_monitor failed on the first $k packets (cap $cap)"
        t1=$EPOCHREALTIME
        RSS+=("$(tail -n 1 "$WORK/rss")")
        pk=$(metric tcp_monitor_packets_total "$WORK/out.prom")
        op=$(metric tcp_monitor_connections_opened_total "$WORK/out.prom")
        ev=$(metric 'tcp_monitor_flows_evicted_total{reason="max_flows"}' "$WORK/out.prom")
        ei=$(metric 'tcp_monitor_flows_evicted_total{reason="idle"}' "$WORK/out.prom")
        ac=$(metric tcp_monitor_active_connections "$WORK/out.prom")
        cl=$(metric tcp_monitor_connections_closed_total "$WORK/out.prom")
        printf '  %4s%% %9s %9s %10s %10s %9s %9s %10s %8.2f\n' $((25 * (i + 1))) "$pk" "$op" "$ev" "$ei" "$ac" "$cl" \
            "$(mb "${RSS[$i]}")" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')"
        # What the table must show: every SYN a flow, at most CAP of them
        # kept, each one past the cap an eviction.
        full=$((k < cap ? k : cap))
        [ "$pk" = "$k" ] && [ "$op" = "$k" ] && [ "$ac" = "$full" ] && [ "$ev" = "$((k - full))" ] || bad=1
    done
    growth=$(awk -v a="${RSS[1]}" -v b="${RSS[3]}" 'BEGIN { printf "%.2f", (b - a) * 100 / a }')
    at_cap=$(awk -v a="${RSS[3]}" -v o="$RSS_ONE" -v c="$cap" 'BEGIN { printf "%.0f", (a - o) * 1024 / c }')
    echo "  counts: $([ $bad = 0 ] && echo "PASS (opened = packets, active = min(packets, cap), evicted = packets - active)" || echo FAIL)"
    echo "  peak RSS growth from 50% to 100%: $growth% ($(mb "${RSS[1]}") -> $(mb "${RSS[3]}") MB)$(awk -v g="$growth" -v h="${PTS[1]}" -v c="$cap" 'BEGIN { if (h < c) printf "  (the table fills after the 50%% point)"; else if (g <= 1) printf "  flat: PASS (<= 1%%)"; else printf "  flat: FAIL (> 1%%)" }')"
    echo "  (peak RSS at 100% - peak RSS with one flow) / cap: $at_cap B per flow in the table"
done
exit 0
