#!/bin/sh
# SPDX-License-Identifier: MIT
# Run each libFuzzer harness for SECONDS, seeded from the captures.
#
#   tests/fuzz/run.sh SECONDS [BUILD_DIR]
#
# BUILD_DIR (default build/fuzz) is a clang build tree with TCPWM_FUZZ=ON;
# when it has no CMakeCache.txt yet it is configured here:
#   CC=clang cmake -S . -B BUILD_DIR -DTCPWM_FUZZ=ON -DTCPWM_SANITIZE=ON \
#       -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPWM_BUILD_PLUGIN=OFF
# and the two harnesses are (re)built either way. The seed corpus (from
# tests/pcaps and, when present, $TCPWM_SHARED_PCAPS, default
# /work/shared/pcaps) is written to a temporary folder each run, so the
# repository is never touched.
#
# Environment:
#   FUZZ_PARALLEL=1   run the harnesses at the same time instead of in turn
#   FUZZ_KEEP=DIR     keep the evolved corpora and the logs in DIR
#   FUZZ_CORPUS=DIR   start from a kept corpus too (DIR/<harness>.corpus)
#   FUZZ_HARNESSES    which to run (default "fuzz_monitor fuzz_pcapfile fuzz_instream fuzz_reasm
#                     fuzz_decode")
#   FUZZ_CC           the compiler for a new BUILD_DIR (default clang; $CC is
#                     ignored, since a CI's CC=gcc cannot build libFuzzer)
#
# Exit status 0 when no harness crashed or broke an invariant, 1 otherwise
# (also when clang or its libFuzzer runtime is missing: that is a failure,
# not a skip). Crash inputs are kept in BUILD_DIR/fuzz-artifacts/.
set -eu

die() {
    echo "run.sh: $*" >&2
    exit 1
}

[ $# -ge 1 ] || die "usage: run.sh SECONDS [BUILD_DIR]"
secs=$1
case $secs in
'' | *[!0-9]*) die "SECONDS must be a whole number, not '$secs'" ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${2:-$src/build/fuzz}
harnesses=${FUZZ_HARNESSES:-fuzz_monitor fuzz_pcapfile fuzz_instream fuzz_reasm fuzz_decode}
shared=${TCPWM_SHARED_PCAPS:-/work/shared/pcaps}
python=$(command -v python3) || die "python3 not found"

# ---- Build -------------------------------------------------------------------
if [ ! -f "$build/CMakeCache.txt" ]; then
    cc=${FUZZ_CC:-clang}
    command -v "$cc" >/dev/null 2>&1 ||
        die "$cc not found: the fuzz harnesses need clang (Debian: apt-get install clang-14 libclang-rt-14-dev)"
    echo "run.sh: configuring $build with $cc"
    CC=$cc cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DTCPWM_FUZZ=ON -DTCPWM_SANITIZE=ON -DTCPWM_BUILD_PLUGIN=OFF >"$build.configure.log" 2>&1 ||
        die "configuring $build failed; see $build.configure.log"
fi
build=$(cd "$build" && pwd)
# shellcheck disable=SC2086
if ! cmake --build "$build" --target $harnesses >"$build/fuzz-build.log" 2>&1; then
    tail -n 20 "$build/fuzz-build.log" >&2
    die "building $harnesses in $build failed (is it a clang tree with TCPWM_FUZZ=ON, and is clang's libFuzzer runtime, Debian libclang-rt-14-dev, installed?)"
fi
bindir=$build/tests/fuzz
for h in $harnesses; do
    [ -x "$bindir/$h" ] || die "$bindir/$h was not built"
done

# ---- Seeds ---------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
seed_src=$src/tests/pcaps
[ -d "$shared" ] && seed_src="$seed_src $shared"
for h in $harnesses; do
    kind=${h#fuzz_}
    if [ "$kind" = reasm ]; then
        # Fragment programs, not captures: the fuzzer starts from an empty
        # one (one byte of options) and the regression inputs below.
        mkdir -p "$work/$h.corpus"
        printf '\004' >"$work/$h.corpus/empty"
    elif [ "$kind" = instream ]; then
        # Captures compressed by the real tools, not captures.
        # shellcheck disable=SC2086
        sh "$here/instream_seeds.sh" "$work/$h.corpus" $seed_src >/dev/null || die "no seeds for $h"
    else
        # fuzz_decode reads capture files, as fuzz_pcapfile does.
        seeds=$kind
        [ "$kind" != decode ] || seeds=pcapfile
        # shellcheck disable=SC2086
        "$python" "$here/seeds.py" "$seeds" "$work/$h.corpus" $seed_src || die "no seeds for $h"
    fi
    # Earlier crashes are seeds too: the fuzzer starts next to them.
    for f in "$here/regress/$kind"/*; do
        [ -f "$f" ] && cp "$f" "$work/$h.corpus/"
    done
    # An earlier run's corpus (FUZZ_KEEP of that run), to go on from it.
    if [ -n "${FUZZ_CORPUS:-}" ] && [ -d "$FUZZ_CORPUS/$h.corpus" ]; then
        cp "$FUZZ_CORPUS/$h.corpus"/* "$work/$h.corpus/"
    fi
done
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"

# ---- Fuzz ------------------------------------------------------------------------
# -max_len: the monitor's frames are small; whole files get 16 KiB, as the
# seeds (seeds.py PCAP_LIMIT). -timeout: any single input taking over 10 s
# is a hang. -rss_limit_mb: ASan's shadow plus the fuzzer's corpus.
fuzz_one() {
    h=$1
    case $h in
    fuzz_monitor) maxlen=8192 ;;
    fuzz_reasm) maxlen=1024 ;;
    *) maxlen=16384 ;;
    esac
    "$bindir/$h" "$work/$h.corpus" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/$h-" \
        >"$work/$h.log" 2>&1
}

summary() {
    h=$1 rc=$2
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$h.log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$work/$h.log" | tail -n 1 || true)
    echo "run.sh: $h: exit $rc, ${execs:-?} executions in ${secs} s; last status: $last"
    if [ "$rc" -ne 0 ]; then
        echo "run.sh: $h FAILED; the end of its log:" >&2
        tail -n 60 "$work/$h.log" >&2
        # shellcheck disable=SC2012 # newest first; the names are ours
        ls -t "$artifacts/$h-"* 2>/dev/null | head -n 3 | sed 's/^/run.sh: crash input: /' >&2
    fi
}

failed=0
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
    pids=""
    for h in $harnesses; do
        (
            rc=0
            fuzz_one "$h" || rc=$?
            echo "$rc" >"$work/$h.rc"
        ) &
        pids="$pids $!"
    done
    # shellcheck disable=SC2086
    wait $pids
    for h in $harnesses; do
        rc=$(cat "$work/$h.rc")
        summary "$h" "$rc"
        [ "$rc" -eq 0 ] || failed=1
    done
else
    for h in $harnesses; do
        rc=0
        fuzz_one "$h" || rc=$?
        summary "$h" "$rc"
        [ "$rc" -eq 0 ] || failed=1
    done
fi

if [ -n "${FUZZ_KEEP:-}" ]; then
    mkdir -p "$FUZZ_KEEP"
    for h in $harnesses; do
        rm -rf "${FUZZ_KEEP:?}/$h.corpus"
        cp -r "$work/$h.corpus" "$work/$h.log" "$FUZZ_KEEP/"
    done
    echo "run.sh: corpora and logs kept in $FUZZ_KEEP"
fi
[ "$failed" -eq 0 ] || die "a harness failed"
echo "run.sh: no crash in $secs s per harness"
