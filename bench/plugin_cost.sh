#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/plugin_cost.sh: what the Wireshark plugin costs tshark. On one big
# synthetic capture (bench/gen_capture), interleaved over ROUNDS rounds,
# median wall time of
#   base:   tshark -r big.pcap -q -z io,stat,0      no plugin loaded
#   plugin: tshark -r big.pcap -q -z tcpwm,prom     the tcpwm plugin loaded
# Both dissect every frame without a tree; the plugin adds the postdissector
# (the core on the first pass, each frame's result kept for later passes)
# and the -z statistic's own monitor. Target: plugin <= 1.25 x base.
# The plugin's output is also checked against tcp_window_monitor --scope all.
#
# tshark run as root loads plugins from the system directory only, so when
# run as root this runs tshark as uid 65534 (setpriv), with
# WIRESHARK_PLUGIN_DIR set to an empty directory (base) or to a copy of the
# build tree's plugin directory (plugin): neither run loads the system's
# plugins, so the difference is ours alone.
# A measurement, not a test: exits 0 whatever the figures (1 if something
# could not be run at all).
#
# Usage: bench/plugin_cost.sh [--packets N] [--flows N] [--rounds N]
#                             [--build-dir DIR] [--no-build]
set -euo pipefail
export LC_ALL=C

BENCH_NAME=plugin_cost.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PACKETS=1000000
FLOWS=25000
SEED=1
ROUNDS=5
LIMIT=1.25

usage() {
    sed -n '3,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
    --packets) PACKETS=$2; shift ;;
    --flows) FLOWS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --build-dir) BUILD_DIR=$2; BUILD=0; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "plugin_cost.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bench_positive PACKETS FLOWS ROUNDS
command -v tshark >/dev/null || die "tshark not found (apt-get install tshark)"

bench_build tcp_window_monitor gen_capture tcpwm_plugin
TCPWM=$BUILD_DIR/tcp_window_monitor
GEN=$BUILD_DIR/bench/gen_capture
bench_need "$TCPWM" "$GEN"
SO=$(ls "$BUILD_DIR"/plugin/wsplugins/*/epan/tcpwm.so 2>/dev/null | head -n 1 || true)
[ -n "$SO" ] || die "no plugin in $BUILD_DIR/plugin/wsplugins (is wireshark-dev installed?)"
WSVER=$(basename "$(dirname "$(dirname "$SO")")")

# A private world readable by uid 65534.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-plugin-cost.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
mkdir -p "$WORK/home" "$WORK/none" "$WORK/with/$WSVER/epan"
cp "$SO" "$WORK/with/$WSVER/epan/"
chmod -R a+rX "$WORK"
chmod 777 "$WORK/home"

BIG=$(bench_gen "plugin-cost-n$PACKETS-f$FLOWS-s$SEED" -n "$PACKETS" -f "$FLOWS" -s "$SEED")
cp "$BIG" "$WORK/big.pcap"
chmod 644 "$WORK/big.pcap"
cat "$WORK/big.pcap" >/dev/null

# ts PLUGIN_DIR ARGS...: tshark as uid 65534 when root, output to $WORK/out
ts() {
    local dir=$1
    shift
    local run=(env -i PATH="$PATH" HOME="$WORK/home" LC_ALL=C WIRESHARK_PLUGIN_DIR="$dir" tshark "$@")
    if [ "$(id -u)" -eq 0 ]; then
        run=(setpriv --reuid=65534 --regid=65534 --clear-groups "${run[@]}")
    fi
    "${run[@]}" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; die "failed: tshark $*"; }
}
timed() {
    local t0=$EPOCHREALTIME
    "$@"
    T_WALL=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }')
}

# The plugin is loaded (or not) as intended, and prints what the standalone prints.
ts "$WORK/with" -G plugins
grep -q '^tcpwm\.so' "$WORK/out" || die "tshark does not load $SO"
ts "$WORK/none" -G plugins
! grep -q '^tcpwm\.so' "$WORK/out" || die "the base run loads the plugin"
echo "== check: -z tcpwm,prom == tcp_window_monitor --scope all" >&2
ts "$WORK/with" -r "$WORK/big.pcap" -q -z tcpwm,prom
"$TCPWM" -q -r "$WORK/big.pcap" --scope all -o "$WORK/want.prom"
if cmp -s "$WORK/out" "$WORK/want.prom"; then SAME=yes; else SAME=NO; fi

declare -a W_BASE W_PLUGIN
for ((r = 1; r <= ROUNDS; r++)); do
    echo "== round $r/$ROUNDS" >&2
    timed ts "$WORK/none" -r "$WORK/big.pcap" -q -z io,stat,0
    W_BASE+=("$T_WALL")
    timed ts "$WORK/with" -r "$WORK/big.pcap" -q -z tcpwm,prom
    W_PLUGIN+=("$T_WALL")
done
MB=$(median "${W_BASE[@]}")
MP=$(median "${W_PLUGIN[@]}")
RATIO=$(awk -v a="$MP" -v b="$MB" 'BEGIN { printf "%.3f", a / b }')
VERDICT=$(awk -v r="$RATIO" -v l="$LIMIT" 'BEGIN { print (r <= l) ? "PASS" : "FAIL" }')

echo
echo "tcpwm plugin cost  $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), Linux $(uname -r)"
echo "versions: $(tshark -v 2>/dev/null | head -n 1); plugin $SO"
echo "capture: $BIG ($(cat "$BIG.info" 2>/dev/null || echo "$PACKETS packets"))"
echo "rounds: $ROUNDS, interleaved; wall time of the whole tshark process, median"
echo
printf '%-52s %10s\n' "run" "wall s"
printf '%-52s %10.3f\n' "base:   tshark -r big.pcap -q -z io,stat,0 (no plugin)" "$MB"
printf '%-52s %10.3f\n' "plugin: tshark -r big.pcap -q -z tcpwm,prom" "$MP"
echo "per round (s): base ${W_BASE[*]}"
echo "               plugin ${W_PLUGIN[*]}"
echo
echo "plugin / base: ${RATIO}x (target <= ${LIMIT}x): $VERDICT"
echo "-z tcpwm,prom output == tcp_window_monitor -r big.pcap --scope all: $SAME"
exit 0
