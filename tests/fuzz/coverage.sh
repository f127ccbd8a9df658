#!/bin/sh
# SPDX-License-Identifier: MIT
# Source coverage of the core reached by fuzz corpora (the figures in
# docs/robustness.md).
#
#   tests/fuzz/coverage.sh BUILD_DIR MONITOR_CORPUS PCAPFILE_CORPUS
#
# Builds the replay drivers (fuzz_*_replay: the harnesses with a plain
# main) with clang's source-based coverage in BUILD_DIR, runs each over its
# corpus, and prints `llvm-cov report` for core/src. An input that breaks
# an invariant aborts its driver, and the measurement with it: run the
# corpus through the fuzzer first. Needs clang and llvm-14's llvm-profdata
# and llvm-cov (Debian: clang-14, llvm-14).
set -eu

die() {
    echo "coverage.sh: $*" >&2
    exit 1
}

[ $# -eq 3 ] || die "usage: coverage.sh BUILD_DIR MONITOR_CORPUS PCAPFILE_CORPUS"
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
mkdir -p "$1"
build=$(cd "$1" && pwd)
mon=$2
pcf=$3
profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata) || die "llvm-profdata not found"
cov=$(command -v llvm-cov-14 || command -v llvm-cov) || die "llvm-cov not found"

flags="-fprofile-instr-generate -fcoverage-mapping"
if [ ! -f "$build/CMakeCache.txt" ]; then
    CC=${CC:-clang} cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_C_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="$flags" \
        -DTCPWM_BUILD_PLUGIN=OFF >"$build.configure.log" 2>&1 ||
        die "configuring $build failed; see $build.configure.log"
fi
cmake --build "$build" --target fuzz_monitor_replay fuzz_pcapfile_replay >"$build/coverage-build.log" 2>&1 ||
    die "build failed; see $build/coverage-build.log"

bin=$build/tests/fuzz
rm -rf "$build/profiles"
mkdir -p "$build/profiles"
LLVM_PROFILE_FILE="$build/profiles/monitor-%p.profraw" "$bin/fuzz_monitor_replay" "$mon" 2>/dev/null
LLVM_PROFILE_FILE="$build/profiles/pcapfile-%p.profraw" "$bin/fuzz_pcapfile_replay" "$pcf" 2>/dev/null
"$profdata" merge -sparse "$build"/profiles/*.profraw -o "$build/fuzz.profdata"
"$cov" report "$bin/fuzz_monitor_replay" -object "$bin/fuzz_pcapfile_replay" \
    -instr-profile="$build/fuzz.profdata" "$src"/core/src/*.c
