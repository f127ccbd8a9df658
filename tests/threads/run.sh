#!/bin/sh
# SPDX-License-Identifier: MIT
# threads.tsan (CMakeLists.txt): tcp_window_monitor built with
# ThreadSanitizer replays, each way its threads meet, and must give the
# same exposition as the tested build with no report:
#   - the shipped real captures together, with --top and --flows-json (the
#     flow-end callback runs on the analysis thread);
#   - a generated capture of 300,000 packets and 20,000 flows: plain (read
#     ahead on the reading thread) and zstd (decompressed there), the
#     analysis run by whichever of the two threads would wait
#     (offload_start_shared); through a pipe (read on the replay's thread,
#     the analysis on a thread of its own: offload_start); and with
#     service ports (the analysis' per-service blocks). The zstd replay
#     must also give the plain one's exposition and top flows.
# Usage: run.sh SOURCE_DIR WORK_DIR TESTED_BINARY GEN_CAPTURE
set -eu
SRC=$1
WORK=$2
REF=$3
GEN=$4

mkdir -p "$WORK"
BUILD=$WORK/build
echo "== building tcp_window_monitor with -fsanitize=thread in $BUILD"
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread \
    -DTCPWM_BUILD_PLUGIN=OFF >"$WORK/configure.log" 2>&1 ||
    { tail -20 "$WORK/configure.log"; exit 1; }
cmake --build "$BUILD" --target tcp_window_monitor test_offload -j2 >"$WORK/build.log" 2>&1 ||
    { tail -20 "$WORK/build.log"; exit 1; }
TSAN=$BUILD/tcp_window_monitor

# The analysis thread only runs with a second CPU (offload.h).
if [ "$(nproc)" -lt 2 ]; then
    echo "one CPU: the replay runs on one thread, nothing to check" >&2
fi

CAP=$WORK/gen.pcap
"$GEN" -o "$CAP" -n 300000 -f 20000 -s 7
zstd -q -f -o "$CAP.zst" "$CAP"

FAILED=0
# check NAME ARGS...: both builds, same exposition, no ThreadSanitizer report.
check() {
    name=$1
    shift
    rc=0
    TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$WORK/tsan.$name" \
        "$TSAN" "$@" -o "$WORK/$name.tsan.prom" >"$WORK/$name.out" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL $name: the ThreadSanitizer build failed (exit $rc; 66: a report)"
        cat "$WORK"/tsan."$name"* 2>/dev/null | head -60
        tail -5 "$WORK/$name.out"
        FAILED=1
        return
    fi
    "$REF" "$@" -o "$WORK/$name.prom" >/dev/null 2>&1
    if ! cmp -s "$WORK/$name.prom" "$WORK/$name.tsan.prom"; then
        echo "FAIL $name: the expositions differ (diff $WORK/$name.prom $WORK/$name.tsan.prom)"
        FAILED=1
        return
    fi
    echo "ok   $name"
}

rm -f "$WORK"/tsan.*
# offload.c's shared mode, batches run by two threads (test_offload.c).
if TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$WORK/tsan.offload" \
    "$BUILD/tests/threads/test_offload" >"$WORK/offload.out" 2>&1; then
    echo "ok   offload ($(tail -1 "$WORK/offload.out"))"
else
    echo "FAIL offload"
    cat "$WORK"/tsan.offload* 2>/dev/null | head -60
    tail -5 "$WORK/offload.out"
    FAILED=1
fi
check real -r "$SRC"/tests/pcaps/real/*.pcap* --scope all -q --top 5 \
    --flows-json "$WORK/flows.json"
check plain -r "$CAP" --scope all -q --top 10
check zstd -r "$CAP.zst" --scope all -q --top 10
# Same packets, so the same figures, whichever thread ran which batch.
if cmp -s "$WORK/plain.prom" "$WORK/zstd.tsan.prom" &&
    grep -v 'tcp_window_monitor:' "$WORK/plain.out" >"$WORK/plain.top" &&
    grep -v 'tcp_window_monitor:' "$WORK/zstd.out" >"$WORK/zstd.top" &&
    [ -s "$WORK/zstd.top" ] && cmp -s "$WORK/plain.top" "$WORK/zstd.top"; then
    echo "ok   zstd = plain"
else
    echo "FAIL zstd = plain: diff $WORK/plain.prom $WORK/zstd.tsan.prom, $WORK/plain.top $WORK/zstd.top"
    FAILED=1
fi
check services -r "$CAP" --scope all -q --service-ports 443,993 --flows-json "$WORK/f2.json"
# A pipe (not a file on standard input, which is read ahead): read on the
# replay's thread, the analysis on a thread of its own.
if cat "$CAP" | TSAN_OPTIONS="halt_on_error=1 exitcode=66 log_path=$WORK/tsan.pipe" \
    "$TSAN" -r - --scope all -q -o "$WORK/pipe.tsan.prom" >"$WORK/pipe.out" 2>&1 &&
    "$REF" -r "$CAP" --scope all -q -o "$WORK/pipe.prom" && cmp -s "$WORK/pipe.prom" "$WORK/pipe.tsan.prom"; then
    echo "ok   pipe"
else
    echo "FAIL pipe"
    cat "$WORK"/tsan.pipe* 2>/dev/null | head -60
    FAILED=1
fi
exit $FAILED
