#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/run.sh: replay throughput and memory of tcp_window_monitor, measured
# side by side in one run against
#   - the floor: a bare libpcap read loop over the same file (bench/pcap_floor),
#   - tshark doing its TCP sequence analysis (on a prefix of the file: it is
#     two orders of magnitude slower),
# and memory per tracked flow, from the process's peak RSS and from the core
# itself (bench/flow_memory). Prints packets/s, wall time, peak RSS, the
# ratios, and PASS/FAIL against the targets of the issues:
#   replay >= 0.5x the floor (the core issue) and >= 0.7x (the hardening
#   issue), >= 50x tshark, <= 256 bytes per tracked flow, memory flat over
#   a long replay; and the input-coverage issue's: replay of the classic
#   pcap >= 1.0x its libpcap loop, of the pcapng form >= 1.0x libpcap's loop
#   over the classic form, of the .zst and .gz forms <= 1.2x the longer of
#   the decompressor alone and the plain replay. --baseline-rev REV puts an
#   older build in the same rounds (what a change costs).
# It is a measurement, not a test: it exits 0 whatever the figures (1 only
# if something could not be run at all).
#
# Usage: bench/run.sh [--quick] [OPTION...]   (bench/run.sh --help)
set -euo pipefail
export LC_ALL=C

BENCH_NAME=run.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PACKETS=5000000
FLOWS=125000
SEED=1
ROUNDS=5
TS_PACKETS=500000
MEM_PACKETS=4000000
MEM_FLOWS=500000
FM_MAX=1048576
QUICK=0
BASE_REV=

usage() {
    cat <<EOF
Usage: bench/run.sh [OPTION...]

Generates a synthetic capture (cached in \$TCPWM_BENCH_CACHE, default
\${TMPDIR:-/tmp}/tcpwm-bench), then measures, interleaved over ROUNDS
rounds (medians reported): pcap_floor and tcp_window_monitor on the whole
file, and pcap_floor, tcp_window_monitor and tshark on its first
TSHARK_PACKETS packets; then memory per tracked flow.

  --quick             smoke run: 200 k packets, 5 k flows, 3 rounds
  --packets N         packets in the capture (default $PACKETS)
  --flows N           distinct flows to aim for (default $FLOWS)
  --seed N            generator seed (default $SEED)
  --rounds N          measurement rounds (default $ROUNDS)
  --tshark-packets N  prefix measured with tshark (default $TS_PACKETS)
  --mem-packets N     packets of the memory capture, flows never closed
                      (default $MEM_PACKETS)
  --mem-flows N       flows of the memory capture (default $MEM_FLOWS)
  --cap N             flow-table cap for bench/flow_memory (default $FM_MAX;
                      it feeds 2*N distinct SYNs)
  --baseline-rev REV  also build tcp_window_monitor at git revision REV (a
                      release build in the cache) and measure it on the
                      capture in the same rounds: what the commits since
                      REV cost (e.g. the revision before tunnels, or before
                      Wireshark's analysis)
$(bench_usage_build)
  -h, --help          this help
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick)
        QUICK=1
        PACKETS=200000 FLOWS=5000 ROUNDS=3 TS_PACKETS=50000
        MEM_PACKETS=200000 MEM_FLOWS=25000 FM_MAX=65536
        ;;
    --packets) PACKETS=$2; shift ;;
    --flows) FLOWS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --tshark-packets) TS_PACKETS=$2; shift ;;
    --mem-packets) MEM_PACKETS=$2; shift ;;
    --mem-flows) MEM_FLOWS=$2; shift ;;
    --cap) FM_MAX=$2; shift ;;
    --baseline-rev) BASE_REV=$2; shift ;;
    --build-dir) BUILD_DIR=$2; BUILD=0; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bench_positive PACKETS FLOWS SEED ROUNDS TS_PACKETS MEM_PACKETS MEM_FLOWS FM_MAX
[ "$TS_PACKETS" -le "$PACKETS" ] || TS_PACKETS=$PACKETS

# ---- tools ----
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (Debian package 'time': apt-get install time)"
HAVE_TSHARK=1
for t in tshark editcap; do
    command -v $t >/dev/null || HAVE_TSHARK=0
done
[ $HAVE_TSHARK = 1 ] || echo "run.sh: tshark/editcap not found (apt-get install tshark): the tshark comparison is skipped" >&2

bench_build tcp_window_monitor gen_capture pcap_floor flow_memory
TCPWM=$BUILD_DIR/tcp_window_monitor
GEN=$BUILD_DIR/bench/gen_capture
FLOOR=$BUILD_DIR/bench/pcap_floor
FLOWMEM=$BUILD_DIR/bench/flow_memory
bench_need "$TCPWM" "$GEN" "$FLOOR" "$FLOWMEM"
for t in zstd gzip; do
    command -v $t >/dev/null || die "$t not found (apt-get install $t)"
done

# The baseline: REV's tree from git, built once into the cache.
BASE=
if [ -n "$BASE_REV" ]; then
    BASE_ID=$(git -C "$ROOT" rev-parse --short=12 "$BASE_REV^{commit}") || die "no such revision: $BASE_REV"
    BASE_DIR=$CACHE/baseline-$BASE_ID
    BASE=$BASE_DIR/build/tcp_window_monitor
    if [ ! -x "$BASE" ]; then
        echo "== baseline: build $BASE_REV ($BASE_ID) into $BASE_DIR" >&2
        rm -rf "$BASE_DIR" && mkdir -p "$BASE_DIR/src"
        git -C "$ROOT" archive "$BASE_ID" | tar -x -C "$BASE_DIR/src"
        (cmake -S "$BASE_DIR/src" -B "$BASE_DIR/build" -DCMAKE_BUILD_TYPE=Release &&
            cmake --build "$BASE_DIR/build" --target tcp_window_monitor -j "$(nproc)") \
            >"$BASE_DIR/build.log" 2>&1 || { tail -30 "$BASE_DIR/build.log" >&2; die "baseline build failed"; }
    fi
fi

# ---- captures (cached: bench_gen) ----
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-bench-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
MAIN=$(bench_gen "main-n$PACKETS-f$FLOWS-s$SEED" -n "$PACKETS" -f "$FLOWS" -s "$SEED")
# The baseline of the memory figure: as many packets as the memory capture
# but 20 flows, so that what does not depend on the flows (the reader's
# buffers: four 1 MiB chunks on the read-ahead thread) is subtracted.
FEW=$(bench_gen "few-n$MEM_PACKETS-s$SEED" -n "$MEM_PACKETS" -f 20 -c 16 -k -s "$SEED")
MEMCAP=$(bench_gen "mem-n$MEM_PACKETS-f$MEM_FLOWS-s$SEED" -n "$MEM_PACKETS" -f "$MEM_FLOWS" -c 20000 -k -s "$SEED")
# The same packets as pcapng (what dumpcap and Wireshark write) and
# compressed (zstd and gzip at their default levels): the reader's targets
# of the input-coverage issue.
MAIN_NG=${MAIN%.pcap}.pcapng
if [ ! -s "$MAIN_NG" ]; then
    command -v editcap >/dev/null || die "editcap not found (apt-get install tshark)"
    editcap -F pcapng "$MAIN" "$MAIN_NG.tmp" && mv "$MAIN_NG.tmp" "$MAIN_NG"
fi
MAIN_ZST=$MAIN.zst
[ -s "$MAIN_ZST" ] || { zstd -q -f "$MAIN" -o "$MAIN_ZST.tmp" && mv "$MAIN_ZST.tmp" "$MAIN_ZST"; }
MAIN_GZ=$MAIN.gz
[ -s "$MAIN_GZ" ] || { gzip -c "$MAIN" >"$MAIN_GZ.tmp" && mv "$MAIN_GZ.tmp" "$MAIN_GZ"; }
PREFIX=$CACHE/prefix-n$PACKETS-f$FLOWS-s$SEED-p$TS_PACKETS-$GEN_HASH.pcap
if [ ! -s "$PREFIX" ]; then
    rm -f "$CACHE/prefix-n$PACKETS-f$FLOWS-s$SEED-p$TS_PACKETS"-*.pcap*
    if [ $HAVE_TSHARK = 1 ]; then
        editcap -r "$MAIN" "$PREFIX.tmp" "1-$TS_PACKETS" && mv "$PREFIX.tmp" "$PREFIX"
    else # same seed, fewer packets: the generator's output is a prefix
        "$GEN" -n "$TS_PACKETS" -f "$FLOWS" -s "$SEED" -o "$PREFIX" >/dev/null 2>&1
    fi
fi

# ---- measurement helpers ----
# timed CMD... : runs CMD, stdout to $WORK/out; sets T_WALL (s), T_CPU (user +
# system of CMD, s, from bash's time) and T_RSS (peak RSS, kB, /usr/bin/time)
timed() {
    local t0 t1 rc=0 TIMEFORMAT='%3U %3S'
    t0=$EPOCHREALTIME
    { time /usr/bin/time -f %M -o "$WORK/rss" "$@" >"$WORK/out" 2>"$WORK/err"; } 2>"$WORK/cpu" || rc=$?
    t1=$EPOCHREALTIME
    if [ $rc != 0 ]; then
        cat "$WORK/err" >&2
        die "failed: $*"
    fi
    T_WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
    T_CPU=$(awk '{ printf "%.3f", $1 + $2 }' "$WORK/cpu")
    T_RSS=$(tail -n 1 "$WORK/rss")
}
fmt_pps() { awk -v p="$1" 'BEGIN { if (p >= 1e6) printf "%.2f M", p / 1e6; else printf "%.1f k", p / 1e3 }'; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

# ---- warm up: page cache, CPU ----
echo "== warm the page cache" >&2
for f in "$MAIN" "$MAIN_NG" "$MAIN_ZST" "$MAIN_GZ" "$PREFIX" "$FEW" "$MEMCAP"; do cat "$f" >/dev/null; done
"$FLOOR" "$MAIN" >/dev/null
"$TCPWM" -r "$PREFIX" --scope all -q -o /dev/null

N_MAIN=$("$FLOOR" "$MAIN" | sed -n 's/^packets=\([0-9]*\).*/\1/p')
N_PREFIX=$("$FLOOR" "$PREFIX" | sed -n 's/^packets=\([0-9]*\).*/\1/p')

# ---- rounds: floor / tcpwm / ... interleaved, so that noise hits all alike ----
declare -a W_FLOOR W_TCPWM W_FLOORP W_TCPWMP W_TSHARK R_FLOOR R_TCPWM R_FLOORP R_TCPWMP R_TSHARK
declare -a C_FLOOR C_TCPWM C_FLOORP C_TCPWMP C_TSHARK
declare -a W_FLOORNG W_TCPWMNG W_ZSTD W_TCPWMZ W_GZIP W_TCPWMG W_BASE
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
TS_FRAMES=""
for ((r = 1; r <= ROUNDS; r++)); do
    echo "== round $r/$ROUNDS" >&2
    timed "$FLOOR" "$MAIN"
    W_FLOOR+=("$T_WALL"); R_FLOOR+=("$T_RSS"); C_FLOOR+=("$T_CPU")
    timed "$TCPWM" -r "$MAIN" --scope all -q -o "$WORK/main.prom"
    W_TCPWM+=("$T_WALL"); R_TCPWM+=("$T_RSS"); C_TCPWM+=("$T_CPU")
    timed "$FLOOR" "$MAIN_NG"
    W_FLOORNG+=("$T_WALL")
    timed "$TCPWM" -r "$MAIN_NG" --scope all -q -o "$WORK/ng.prom"
    W_TCPWMNG+=("$T_WALL")
    cmp -s "$WORK/ng.prom" "$WORK/main.prom" || die "the pcapng form gave another exposition"
    timed zstd -dcq "$MAIN_ZST"
    W_ZSTD+=("$T_WALL")
    timed "$TCPWM" -r "$MAIN_ZST" --scope all -q -o /dev/null
    W_TCPWMZ+=("$T_WALL")
    timed gzip -dc "$MAIN_GZ"
    W_GZIP+=("$T_WALL")
    timed "$TCPWM" -r "$MAIN_GZ" --scope all -q -o /dev/null
    W_TCPWMG+=("$T_WALL")
    if [ -n "$BASE" ]; then
        timed "$BASE" -r "$MAIN" --scope all -q -o /dev/null
        W_BASE+=("$T_WALL")
    fi
    timed "$FLOOR" "$PREFIX"
    W_FLOORP+=("$T_WALL"); R_FLOORP+=("$T_RSS"); C_FLOORP+=("$T_CPU")
    timed "$TCPWM" -r "$PREFIX" --scope all -q -o /dev/null
    W_TCPWMP+=("$T_WALL"); R_TCPWMP+=("$T_RSS"); C_TCPWMP+=("$T_CPU")
    if [ $HAVE_TSHARK = 1 ]; then
        timed tshark -n -o tcp.analyze_sequence_numbers:TRUE -r "$PREFIX" -q -z io,stat,0
        W_TSHARK+=("$T_WALL"); R_TSHARK+=("$T_RSS"); C_TSHARK+=("$T_CPU")
        TS_FRAMES=$(awk -F'|' '/<>/ { gsub(/ /, "", $3); print $3 }' "$WORK/out")
    fi
done

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- memory over a long replay: the first 25/50/75/100% of the capture ----
echo "== memory over the replay: tcp_window_monitor on the first 25/50/75/100% of the capture" >&2
declare -a LONG_RSS LONG_PKTS LONG_OPEN
for q in 1 2 3 4; do
    k=$((N_MAIN * q / 4))
    off=$("$FLOOR" -c "$k" "$MAIN" | sed -n 's/.*offset=\([0-9]*\).*/\1/p')
    head -c "$off" "$MAIN" | /usr/bin/time -f %M -o "$WORK/rss" "$TCPWM" -r - --scope all -q -o "$WORK/long.prom" ||
        die "tcp_window_monitor failed on the first $k packets"
    LONG_RSS+=("$(tail -n 1 "$WORK/rss")")
    LONG_PKTS+=("$k")
    LONG_OPEN+=("$(metric tcp_monitor_active_connections "$WORK/long.prom")")
done

# ---- memory per tracked flow ----
echo "== memory: tcp_window_monitor on 20 flows and on many flows that never close, as many packets" >&2
timed "$TCPWM" -r "$FEW" --scope all -q -o "$WORK/few.prom"
RSS_FEW=$T_RSS
FEW_TRACKED=$(metric tcp_monitor_active_connections "$WORK/few.prom")
timed "$TCPWM" -r "$MEMCAP" --scope all -q -o "$WORK/mem.prom"
RSS_MEM=$T_RSS
MEM_TRACKED=$(metric tcp_monitor_active_connections "$WORK/mem.prom")
MEM_EVICTED=$(awk '/^tcp_monitor_flows_evicted_total/ { s += $2 } END { print s + 0 }' "$WORK/mem.prom")
BPF_RSS=$(div "$(((RSS_MEM - RSS_FEW) * 1024))" "$((MEM_TRACKED - FEW_TRACKED))" %.1f)
echo "== memory: bench/flow_memory -m $FM_MAX" >&2
"$FLOWMEM" -m "$FM_MAX" >"$WORK/flowmem.txt"

# ---- report ----
MF=$(median "${W_FLOOR[@]}"); MT=$(median "${W_TCPWM[@]}")
MFP=$(median "${W_FLOORP[@]}"); MTP=$(median "${W_TCPWMP[@]}")
PPS_F=$(div "$N_MAIN" "$MF" %.0f); PPS_T=$(div "$N_MAIN" "$MT" %.0f)
PPS_FP=$(div "$N_PREFIX" "$MFP" %.0f); PPS_TP=$(div "$N_PREFIX" "$MTP" %.0f)
if [ $HAVE_TSHARK = 1 ]; then
    MS=$(median "${W_TSHARK[@]}"); PPS_S=$(div "$N_PREFIX" "$MS" %.0f)
fi
kb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { if (v == "n/a") print "n/a"; else if ((op == ">=" && v + 0 >= t) || (op == "<=" && v + 0 <= t)) print "PASS"; else print "FAIL" }'; }

MAIN_FLOWS=$(metric tcp_monitor_connections_opened_total "$WORK/main.prom")
MAIN_MISSING=$(metric tcp_monitor_packet_loss_missing_total "$WORK/main.prom")
MAIN_OOO=$(metric tcp_monitor_packet_loss_out_of_order_total "$WORK/main.prom")
MAIN_DUP=$(metric tcp_monitor_packet_loss_duplicate_total "$WORK/main.prom")
MAIN_GAP=$(metric tcp_monitor_capture_gap_total "$WORK/main.prom")
MAIN_ACTIVE=$(metric tcp_monitor_active_connections "$WORK/main.prom")

echo
echo "tcpwm replay benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "versions: $("$TCPWM" --version 2>&1 | head -n 1); $(dpkg-query -W -f '${Package} ${Version}' libpcap0.8 2>/dev/null || echo libpcap ?); $( [ $HAVE_TSHARK = 1 ] && tshark -v 2>/dev/null | head -n 1 || echo 'no tshark'); $(cc --version | head -n 1)"
echo "capture: $MAIN"
echo "  $(cat "$MAIN.info"); $(du -m "$MAIN" | cut -f1) MB"
echo "  tcpwm saw: $MAIN_FLOWS flows opened, $MAIN_ACTIVE open at the end; missing $MAIN_MISSING, out_of_order $MAIN_OOO, duplicate $MAIN_DUP, capture_gap $MAIN_GAP"
echo "prefix for tshark: first $N_PREFIX packets${TS_FRAMES:+ (tshark counted $TS_FRAMES frames)}"
echo "rounds: $ROUNDS, interleaved; medians; wall time of the whole process (start-up included),"
echo "        cpu = user + system; load average $LOAD_START at the start, $LOAD_END at the end"
awk -v l="${LOAD_START%% *}" -v c="$(nproc)" 'BEGIN { if (l > 0.5) printf "NOTE: the machine was busy (load %s on %d cores): other processes share the cores and caches, the figures are noisy\n", l, c }'
echo
printf '%-36s %9s %9s %12s %8s %10s\n' "tool" "packets" "wall s" "packets/s" "cpu s" "peak RSS"
printf '%-36s %9s %9s %12s %8s %10s\n' "------------------------------------" "---------" "---------" "------------" "--------" "----------"
row() { printf '%-36s %9s %9.3f %12s %8.3f %10s\n' "$1" "$2" "$3" "$(fmt_pps "$4")" "$5" "$(kb "$(median "${@:6}")")"; }
row "floor: pcap_floor (full)" "$N_MAIN" "$MF" "$PPS_F" "$(median "${C_FLOOR[@]}")" "${R_FLOOR[@]}"
row "tcp_window_monitor -r (full)" "$N_MAIN" "$MT" "$PPS_T" "$(median "${C_TCPWM[@]}")" "${R_TCPWM[@]}"
row "floor: pcap_floor (prefix)" "$N_PREFIX" "$MFP" "$PPS_FP" "$(median "${C_FLOORP[@]}")" "${R_FLOORP[@]}"
row "tcp_window_monitor -r (prefix)" "$N_PREFIX" "$MTP" "$PPS_TP" "$(median "${C_TCPWMP[@]}")" "${R_TCPWMP[@]}"
[ $HAVE_TSHARK = 1 ] && row "tshark -r, TCP analysis (prefix)" "$N_PREFIX" "$MS" "$PPS_S" "$(median "${C_TSHARK[@]}")" "${R_TSHARK[@]}"
echo
MNGF=$(median "${W_FLOORNG[@]}"); MNG=$(median "${W_TCPWMNG[@]}")
MZD=$(median "${W_ZSTD[@]}"); MZ=$(median "${W_TCPWMZ[@]}")
MGD=$(median "${W_GZIP[@]}"); MG=$(median "${W_TCPWMG[@]}")
row2() { printf '%-36s %9s %9.3f %12s\n' "$1" "$N_MAIN" "$2" "$(fmt_pps "$(div "$N_MAIN" "$2" %.0f)")"; }
row2 "floor: pcap_floor (full, pcapng)" "$MNGF"
row2 "tcp_window_monitor -r (pcapng)" "$MNG"
row2 "zstd -dc (full.zst)" "$MZD"
row2 "tcp_window_monitor -r (full.zst)" "$MZ"
row2 "gzip -dc (full.gz)" "$MGD"
row2 "tcp_window_monitor -r (full.gz)" "$MG"
if [ -n "$BASE" ]; then
    MB=$(median "${W_BASE[@]}")
    row2 "baseline $BASE_REV ($BASE_ID) -r" "$MB"
fi
echo
echo "wall s per round: floor  ${W_FLOOR[*]}"
echo "                  tcpwm  ${W_TCPWM[*]}"
[ $HAVE_TSHARK = 1 ] && echo "                  tshark ${W_TSHARK[*]}"
echo

R_FLOOR_X=$(div "$PPS_T" "$PPS_F")
R_FLOOR_XP=$(div "$PPS_TP" "$PPS_FP")
if [ $HAVE_TSHARK = 1 ]; then
    R_TS_X=$(div "$PPS_T" "$PPS_S" %.1f)
    R_TS_XP=$(div "$PPS_TP" "$PPS_S" %.1f)
else
    R_TS_X=n/a R_TS_XP=n/a
fi
FM_CAP_LINE=$(grep 'pct=100' "$WORK/flowmem.txt")
FM_HALF_LINE=$(grep 'pct=50' "$WORK/flowmem.txt")
fmv() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$2"; }
FM_BPF=$(fmv bytes_per_flow "$FM_CAP_LINE")
FM_HWM50=$(fmv vmhwm_kb "$FM_HALF_LINE"); FM_HWM100=$(fmv vmhwm_kb "$FM_CAP_LINE")
LONG_GROWTH=$(awk -v a="${LONG_RSS[1]}" -v b="${LONG_RSS[3]}" 'BEGIN { printf "%.2f", (b - a) * 100 / a }')
FM_GROWTH=$(awk -v a="$FM_HWM50" -v b="$FM_HWM100" 'BEGIN { printf "%.2f", (b - a) * 100 / a }')

printf '%-56s %12s  %-10s %s\n' "figure" "value" "target" "verdict"
printf '%-56s %12s  %-10s %s\n' "--------------------------------------------------------" "------------" "----------" "-------"
printf '%-56s %11sx  %-10s %s\n' "replay speed: tcpwm / floor, full file" "$R_FLOOR_X" ">= 0.5x" "$(verdict "$R_FLOOR_X" 0.5 '>=')"
printf '%-56s %11sx  %-10s %s\n' "  (the hardening issue's target)" "$R_FLOOR_X" ">= 0.7x" "$(verdict "$R_FLOOR_X" 0.7 '>=')"
printf '%-56s %11sx  %-10s %s\n' "  (same on the prefix)" "$R_FLOOR_XP" "" ""
printf '%-56s %11sx  %-10s %s\n' "  (full file, fastest round of each)" "$(div "$(minimum "${W_FLOOR[@]}")" "$(minimum "${W_TCPWM[@]}")")" "" ""
printf '%-56s %11sx  %-10s %s\n' "  (full file, by cpu time instead of wall time)" "$(div "$(median "${C_FLOOR[@]}")" "$(median "${C_TCPWM[@]}")")" "" ""
R_PLAIN=$(div "$MF" "$MT")
R_NG=$(div "$MF" "$MNG")
R_NGNG=$(div "$MNGF" "$MNG")
R_ZST=$(awk -v z="$MZ" -v d="$MZD" -v t="$MT" 'BEGIN { m = d > t ? d : t; printf "%.2f", z / m }')
R_GZ=$(awk -v g="$MG" -v d="$MGD" -v t="$MT" 'BEGIN { m = d > t ? d : t; printf "%.2f", g / m }')
printf '%-56s %11sx  %-10s %s\n' "issue 9: classic pcap replay / its libpcap loop" "$R_PLAIN" ">= 1.0x" "$(verdict "$R_PLAIN" 1.0 '>=')"
printf '%-56s %11sx  %-10s %s\n' "issue 9: pcapng replay / libpcap loop on classic pcap" "$R_NG" ">= 1.0x" "$(verdict "$R_NG" 1.0 '>=')"
printf '%-56s %11sx  %-10s %s\n' "  (pcapng replay / libpcap loop on the same pcapng)" "$R_NGNG" "" ""
printf '%-56s %11sx  %-10s %s\n' "issue 9: -r .zst / max(zstd -dc, plain replay), time" "$R_ZST" "<= 1.2x" "$(verdict "$R_ZST" 1.2 '<=')"
printf '%-56s %11sx  %-10s %s\n' "issue 9: -r .gz / max(gzip -dc, plain replay), time" "$R_GZ" "<= 1.2x" "$(verdict "$R_GZ" 1.2 '<=')"
if [ -n "$BASE" ]; then
    printf '%-56s %11sx  %-10s %s\n' "this tree's replay time / $BASE_REV's" "$(div "$MT" "$MB")" "" ""
fi
printf '%-56s %11sx  %-10s %s\n' "vs tshark: tcpwm pps (full) / tshark pps (prefix)" "$R_TS_X" ">= 50x" "$(verdict "$R_TS_X" 50 '>=')"
printf '%-56s %11sx  %-10s %s\n' "  (same input: tcpwm pps (prefix) / tshark pps (prefix))" "$R_TS_XP" "" ""
[ $HAVE_TSHARK = 1 ] && printf '%-56s %11sx  %-10s %s\n' "  (fastest round of each: full-file pps / prefix pps)" "$(awk -v nt="$N_MAIN" -v wt="$(minimum "${W_TCPWM[@]}")" -v ns="$N_PREFIX" -v ws="$(minimum "${W_TSHARK[@]}")" 'BEGIN { printf "%.1f", (nt / wt) / (ns / ws) }')" "" ""
[ $HAVE_TSHARK = 1 ] && printf '%-56s %11sx  %-10s %s\n' "  (by cpu time: full-file pps / prefix pps)" "$(awk -v nt="$N_MAIN" -v ct="$(median "${C_TCPWM[@]}")" -v ns="$N_PREFIX" -v cs="$(median "${C_TSHARK[@]}")" 'BEGIN { if (ct > 0 && cs > 0) printf "%.1f", (nt / ct) / (ns / cs); else print "n/a" }')" "" ""
printf '%-56s %12s  %-10s %s\n' "memory/flow, RSS: ($(kb "$RSS_MEM") - $(kb "$RSS_FEW")) / $((MEM_TRACKED - FEW_TRACKED)) flows" "$BPF_RSS B" "<= 256 B" "$(verdict "$BPF_RSS" 256 '<=')"
printf '%-56s %12s  %-10s %s\n' "memory/flow, core: tcpwm_monitor_memory() / flows at cap" "$FM_BPF B" "<= 256 B" "$(verdict "$FM_BPF" 256 '<=')"
printf '%-56s %11s%%  %-10s %s\n' "flat: flow_memory peak RSS growth, cap reached -> end" "$FM_GROWTH" "<= 1%" "$(verdict "$FM_GROWTH" 1 '<=')"
printf '%-56s %11s%%  %-10s %s\n' "flat: tcpwm peak RSS growth, half -> whole capture" "$LONG_GROWTH" "<= 5%" "$(verdict "$LONG_GROWTH" 5 '<=')"
printf '%-56s %12s\n' "  peak RSS after 25/50/75/100% of the capture" "$(for v in "${LONG_RSS[@]}"; do printf '%s ' "$(kb "$v" | cut -d' ' -f1)"; done)MB"
printf '%-56s %12s\n' "  open flows at those points" "${LONG_OPEN[*]}"
echo
echo "memory capture: $(cat "$MEMCAP.info"); tcpwm tracked $MEM_TRACKED flows (evicted $MEM_EVICTED), peak RSS $(kb "$RSS_MEM"); 20-flow capture of as many packets: peak RSS $(kb "$RSS_FEW")"
echo "bench/flow_memory -m $FM_MAX ($((2 * FM_MAX)) distinct SYNs, cap $FM_MAX):"
sed 's/^/  /' "$WORK/flowmem.txt"
[ $QUICK = 1 ] && echo && echo "(--quick: a smoke run; the targets are judged on a full run)"
exit 0
