#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/analysis_cost.sh: what Wireshark's analysis (docs/semantics.md 7:
# duplicate ACKs, retransmission kinds, reordering, D-SACK, RTTs) costs the
# replay, measured on this tree alone: the release build against the same
# tree configured with TCPWM_BENCH_NO_ANALYSIS (the analysis compiled out:
# no analysis state, no jobs, no analysis thread; everything else
# identical), on the capture bench/run.sh replays. Issue
# 10's budget: the analysis costs at most 10% of replay time, so
#   with / without <= 1.10   (median wall time over interleaved rounds).
# The machine is shared and noisy, so the minimum of the rounds is printed
# too, and, when valgrind is installed, the instructions a packet of each
# build on a prefix of the capture (cachegrind: exact and repeatable).
# The two expositions must be equal but for the analysis' own metrics.
# A measurement, not a test: exits 0 whatever the figures (1 if something
# could not be run at all).
#
# Usage: bench/analysis_cost.sh [--packets N] [--flows N] [--rounds N]
#                               [--prefix N] [--no-build]
set -euo pipefail
export LC_ALL=C

BENCH_NAME=analysis_cost.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PACKETS=5000000
FLOWS=125000
SEED=1
ROUNDS=9
PREFIX_PACKETS=500000
LIMIT=1.10

usage() {
    sed -n '3,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
    --packets) PACKETS=$2; shift ;;
    --flows) FLOWS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --prefix) PREFIX_PACKETS=$2; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "$BENCH_NAME: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bench_positive PACKETS FLOWS ROUNDS PREFIX_PACKETS

# The second build tree sits next to the release one, same preset, one
# cache variable apart.
NOAN_DIR=$BUILD_DIR-no-analysis
bench_build tcp_window_monitor gen_capture
if [ "$BUILD" = 1 ]; then
    log=${TMPDIR:-/tmp}/tcpwm-$BENCH_NAME-noan.log
    echo "== build: cmake --preset release -B $NOAN_DIR -DTCPWM_BENCH_NO_ANALYSIS=ON" >&2
    (cd "$ROOT" && cmake --preset release -B "$NOAN_DIR" -DTCPWM_BENCH_NO_ANALYSIS=ON \
        -DTCPWM_BUILD_PLUGIN=OFF && cmake --build "$NOAN_DIR" --target tcp_window_monitor) \
        >"$log" 2>&1 || { tail -30 "$log" >&2; die "build failed (log: $log)"; }
fi
WITH=$BUILD_DIR/tcp_window_monitor
WITHOUT=$NOAN_DIR/tcp_window_monitor
GEN=$BUILD_DIR/bench/gen_capture
bench_need "$WITH" "$WITHOUT" "$GEN"

MAIN=$(bench_gen "main-n$PACKETS-f$FLOWS-s$SEED" -n "$PACKETS" -f "$FLOWS" -s "$SEED")
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-analysis-cost.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The analysis' own series: everything else must come out the same.
ANALYSIS_METRICS='^(# (HELP|TYPE) )?tcp_monitor_(duplicate_acks|retransmissions|reordered_segments|dsack|ack_rtt_seconds|handshake_rtt_seconds|rtt_segments_untracked)'
"$WITH" -r "$MAIN" --scope all -q -o "$WORK/with.prom"
"$WITHOUT" -r "$MAIN" --scope all -q -o "$WORK/without.prom"
grep -Ev "$ANALYSIS_METRICS" "$WORK/with.prom" >"$WORK/with.rest"
grep -Ev "$ANALYSIS_METRICS" "$WORK/without.prom" >"$WORK/without.rest"
cmp -s "$WORK/with.rest" "$WORK/without.rest" ||
    die "the builds disagree beyond the analysis' metrics (diff $WORK/with.rest $WORK/without.rest)"
grep -q '^tcp_monitor_ack_rtt_seconds_count [1-9]' "$WORK/with.prom" ||
    die "the release build took no ACK RTT sample: is its analysis compiled out?"

# "WALL CPU" seconds of one replay (CPU: user + system, all threads)
wall() {
    local TIMEFORMAT='%R %U %S'
    { time "$1" -r "$MAIN" --scope all -q -o /dev/null; } 2>&1 |
        awk '{ printf "%.6f %.6f\n", $1, $2 + $3 }'
}

cat "$MAIN" >/dev/null
declare -a W_WITH W_WITHOUT C_WITH C_WITHOUT
for ((r = 1; r <= ROUNDS; r++)); do
    echo "== round $r/$ROUNDS" >&2
    read -r w c < <(wall "$WITHOUT")
    W_WITHOUT+=("$w") C_WITHOUT+=("$c")
    read -r w c < <(wall "$WITH")
    W_WITH+=("$w") C_WITH+=("$c")
done

echo "analysis_cost: $(basename "$MAIN"), $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  %-34s median %8.3f s   min %8.3f s\n' "without the analysis" \
    "$(median "${W_WITHOUT[@]}")" "$(minimum "${W_WITHOUT[@]}")"
printf '  %-34s median %8.3f s   min %8.3f s\n' "with it (release)" \
    "$(median "${W_WITH[@]}")" "$(minimum "${W_WITH[@]}")"
RATIO=$(div "$(median "${W_WITH[@]}")" "$(median "${W_WITHOUT[@]}")" %.3f)
RATIO_MIN=$(div "$(minimum "${W_WITH[@]}")" "$(minimum "${W_WITHOUT[@]}")" %.3f)
VERDICT=$(awk -v r="$RATIO" -v l="$LIMIT" 'BEGIN { print (r <= l) ? "PASS" : "FAIL" }')
echo "  with / without: median $RATIO, min $RATIO_MIN   (target <= $LIMIT: $VERDICT)"
# The release build runs the analysis on the replay's second thread
# (standalone/offload.h) when there is a second CPU: the time it costs is
# then CPU time more than wall time, shown here so that neither hides.
printf '  %-34s without %.3f s, with %.3f s: ratio %.3f\n' "CPU time, all threads (median)" \
    "$(median "${C_WITHOUT[@]}")" "$(median "${C_WITH[@]}")" \
    "$(div "$(median "${C_WITH[@]}")" "$(median "${C_WITHOUT[@]}")" %.3f)"

if command -v valgrind >/dev/null; then
    # The first PREFIX_PACKETS packets: a classic pcap is a 24-byte header
    # and records of 16 bytes + caplen.
    PFX=$WORK/prefix.pcap
    python3 - "$MAIN" "$PFX" "$PREFIX_PACKETS" <<'EOF'
import struct, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, 'rb') as f, open(dst, 'wb') as g:
    g.write(f.read(24))
    for _ in range(n):
        h = f.read(16)
        if len(h) < 16:
            break
        g.write(h + f.read(struct.unpack('<I', h[8:12])[0]))
EOF
    irefs() {
        valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null \
            "$1" -r "$PFX" --scope all -q -o /dev/null 2>&1 |
            sed -n 's/.*I *refs: *\([0-9,]*\).*/\1/p' | tr -d ,
    }
    I_WITH=$(irefs "$WITH")
    I_WITHOUT=$(irefs "$WITHOUT")
    awk -v a="$I_WITH" -v b="$I_WITHOUT" -v n="$PREFIX_PACKETS" 'BEGIN {
        printf "  instructions a packet (cachegrind, first %d packets): without %.0f, with %.0f, ratio %.3f\n",
            n, b / n, a / n, a / b }'
fi
