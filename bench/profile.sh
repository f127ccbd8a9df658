#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/profile.sh: where a replay's time goes, by function, from perf's
# software clock. These machines (virtual, shared) give perf no hardware
# counters, but the cpu-clock event samples fine: its shares include the
# time a load waits for memory, which cachegrind's instruction counts
# (bench/analysis_cost.sh) cannot show. A function's share is where the
# CPU was, not why: a stall is charged to the instruction after the load
# that waited (see `perf annotate`).
# Prints the CPU seconds sampled, the share of each thread when there is
# more than one (compressed input is decompressed on its own thread) and
# the top functions. Keeps perf.data in the work directory it names with
# --keep, for `perf report -i` / `perf annotate -i`.
# A measurement, not a test: exits 0 whatever the figures.
#
# Usage: bench/profile.sh [--file CAPTURE] [--packets N] [--flows N]
#                         [--top N] [--keep] [--no-build | --build-dir DIR]
#   default capture: bench/run.sh's main one (5 M packets, 125 k flows)
set -euo pipefail
export LC_ALL=C

BENCH_NAME=profile.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PACKETS=5000000
FLOWS=125000
SEED=1
TOP=15
FILE=
KEEP=0

usage() {
    sed -n '3,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    bench_usage_build
}

while [ $# -gt 0 ]; do
    case $1 in
    --file) FILE=$2; shift ;;
    --packets) PACKETS=$2; shift ;;
    --flows) FLOWS=$2; shift ;;
    --top) TOP=$2; shift ;;
    --keep) KEEP=1 ;;
    --build-dir) BUILD_DIR=$2; BUILD=0; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "$BENCH_NAME: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bench_positive PACKETS FLOWS TOP
command -v perf >/dev/null || die "perf not found (Debian: linux-perf)"

bench_build tcp_window_monitor gen_capture
TCPWM=$BUILD_DIR/tcp_window_monitor
GEN=$BUILD_DIR/bench/gen_capture
bench_need "$TCPWM"
if [ -z "$FILE" ]; then
    bench_need "$GEN"
    FILE=$(bench_gen "main-n$PACKETS-f$FLOWS-s$SEED" -n "$PACKETS" -f "$FLOWS" -s "$SEED")
fi
[ -r "$FILE" ] || die "$FILE: cannot read"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-profile.XXXXXX")
[ "$KEEP" = 1 ] || trap 'rm -rf "$WORK"' EXIT
cat "$FILE" >/dev/null # in the page cache, as for the other benchmarks
perf record -q -e cpu-clock -F 2000 -o "$WORK/perf.data" \
    "$TCPWM" -r "$FILE" --scope all -q -o /dev/null 2>"$WORK/record.log" ||
    { cat "$WORK/record.log" >&2; die "perf record failed"; }

report() {
    perf report -i "$WORK/perf.data" --no-children --stdio "$@" 2>/dev/null
}
# perf's event count for cpu-clock is in nanoseconds.
NS=$(report --sort pid | sed -n 's/^# Event count (approx.): *//p')
echo "profile: $(basename "$FILE"), load $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v ns="$NS" 'BEGIN { printf "  CPU time sampled: %.3f s (cpu-clock, 2000 Hz)\n", ns / 1e9 }'
THREADS=$(report --sort pid | grep -cE '^ +[0-9.]+%' || true)
if [ "$THREADS" -gt 1 ]; then
    echo "  by thread:"
    report --sort pid | grep -E '^ +[0-9.]+%' | sed 's/^ */    /'
fi
echo "  top functions (share of the CPU time):"
report --sort dso,sym | grep -E '^ +[0-9.]+%' | head -n "$TOP" | sed 's/^ */    /'
[ "$KEEP" = 1 ] && echo "  perf data: $WORK/perf.data"
exit 0
