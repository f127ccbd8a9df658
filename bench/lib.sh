# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# bench/lib.sh: what the bench scripts share. Sourced (never run) by each
# script after it has set BENCH_NAME (its name, for messages):
#   ROOT, BUILD_DIR, CACHE, BUILD   the tree, the release build tree, the
#                                   cache of generated captures
#                                   ($TCPWM_BENCH_CACHE), and whether to build
#   GEN_HASH                        a hash of bench/gen_capture.c, part of
#                                   the name of every cached capture
#   die MESSAGE                     "NAME: MESSAGE" on stderr, exit 1
#   bench_usage_build               help lines of --build-dir / --no-build
#   bench_positive VAR...           exit 2 unless each VAR holds an integer > 0
#   bench_build TARGET...           build those targets of the release preset
#                                   (unless --no-build), exit 1 if it fails
#   bench_need FILE...              exit 1 unless each FILE is executable
#   bench_gen NAME GEN_FLAGS...     print the path of a cached capture made
#                                   by bench/gen_capture, generating it first
#                                   if needed ($GEN must be set)
#   median X... / minimum X...      of numbers ("n/a" for none)
#   div A B [FORMAT]                A / B printed with FORMAT (%.2f), n/a if B is 0
# The scripts parse --build-dir DIR (sets BUILD_DIR, BUILD=0) and
# --no-build (BUILD=0) themselves, with their other options.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # read by the scripts that source this file
BUILD_DIR=$ROOT/build/release
CACHE=${TCPWM_BENCH_CACHE:-${TMPDIR:-/tmp}/tcpwm-bench}
BUILD=1
GEN_HASH=$(sha256sum "$ROOT/bench/gen_capture.c" | cut -c1-12)

die() {
    echo "$BENCH_NAME: $*" >&2
    exit 1
}

bench_usage_build() {
    cat <<EOF
  --build-dir DIR     use the binaries of this build tree (implies --no-build)
  --no-build          use the binaries already in the build tree (default:
                      configure and build the release preset's targets)
EOF
}

bench_positive() {
    local v
    for v in "$@"; do
        [[ ${!v} =~ ^[0-9]+$ && ${!v} -gt 0 ]] ||
            { echo "$BENCH_NAME: bad value for $v: '${!v}'" >&2; exit 2; }
    done
}

# The release preset (what `cmake --workflow --preset release` runs), only
# the targets a script uses: a test that does not compile does not stop a
# benchmark.
bench_build() {
    [ "$BUILD" = 1 ] || return 0
    local log=${TMPDIR:-/tmp}/tcpwm-$BENCH_NAME-build.log
    echo "== build: cmake --preset release; cmake --build --preset release --target $*" >&2
    (cd "$ROOT" && cmake --preset release && cmake --build --preset release --target "$@") \
        >"$log" 2>&1 || { tail -30 "$log" >&2; die "build failed (log: $log)"; }
}

bench_need() {
    local f
    for f in "$@"; do
        [ -x "$f" ] || die "$f not built (run without --no-build, or cmake --workflow --preset release)"
    done
}

# The capture's name carries the generator's flags (NAME) and GEN_HASH: a
# capture made by another version of the generator is replaced, not
# reused. NAME.info holds the generator's summary line.
bench_gen() {
    local name=$1
    shift
    local f=$CACHE/$name-$GEN_HASH.pcap
    if [ ! -s "$f" ]; then
        mkdir -p "$CACHE"
        rm -f "$CACHE/$name"-*.pcap*
        echo "== generate: gen_capture $* -o $f" >&2
        "$GEN" "$@" -o "$f.tmp" >"$f.info" 2>"$f.log" || { cat "$f.log" >&2; die "gen_capture failed"; }
        cat "$f.log" >&2
        mv "$f.tmp" "$f"
    fi
    echo "$f"
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) print "n/a"; else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
minimum() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { print } END { if (NR == 0) print "n/a" }'; }
div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b == 0) print "n/a"; else printf f, a / b }'; }
