#!/bin/sh
# SPDX-License-Identifier: MIT
# Quick start, step 1: install what tcpwm needs from Debian 12, build it,
# and run it on a capture shipped in tests/pcaps.
#
#   ./scripts/setup.sh            as root (or: sudo ./scripts/setup.sh)
#   ./scripts/setup.sh --deps     only install the packages
#
# Everything comes from Debian's archive; nothing is downloaded elsewhere.
set -eu

cd "$(dirname "$0")/.."

# Build: compiler, CMake, pkg-config. Standalone: libpcap, libmicrohttpd.
# Plugin: Wireshark's development files. Tests: python3, tshark (and its
# editcap), tcpdump, promtool and a Prometheus server (package prometheus),
# iproute2, nftables and setcap for the live tests in network namespaces,
# clang with its libFuzzer runtime for the fuzz harnesses, valgrind.
# Benchmarks: tcpreplay for bench/live_load.sh, time (/usr/bin/time, peak
# RSS) for bench/run.sh and bench/syn_flood.sh.
PACKAGES="build-essential cmake pkg-config libpcap-dev libmicrohttpd-dev
  wireshark-dev libwireshark-dev tshark tcpdump prometheus python3
  iproute2 nftables util-linux libcap2-bin clang clang-14 libclang-rt-14-dev
  valgrind tcpreplay time"
# Standalone: compressed captures (standalone/instream.c): gzip, zstd, lz4
# frame and xz decompression libraries.
PACKAGES="$PACKAGES zlib1g-dev libzstd-dev liblz4-dev liblzma-dev"
# Standalone: --web.config.file (standalone/webconfig.c, http.c): libyaml for
# the file, GnuTLS for certificates (libmicrohttpd's TLS), libxcrypt for
# bcrypt. Tests: curl and openssl as TLS clients and to make certificates.
PACKAGES="$PACKAGES libyaml-dev libgnutls28-dev libcrypt-dev curl openssl"
# Tests: the gzip, zstd, lz4 and xz tools that compress captures for the
# instream and compressed-input tests.
PACKAGES="$PACKAGES gzip zstd lz4 xz-utils"
# Tests: python3-jsonschema checks the flow documents (--flows-json, GET
# /flows) against docs/flows.schema.json (draft 2020-12).
PACKAGES="$PACKAGES python3-jsonschema"
# Packaging (cmake --workflow --preset package, packaging/): dpkg-dev for
# dpkg-shlibdeps, which turns the libraries linked into the packages'
# dependencies, and lintian to check the packages; man-db and groff-base
# render the man page for its test (tests/package).
PACKAGES="$PACKAGES dpkg-dev lintian man-db groff-base"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup.sh: these packages are missing:$missing" >&2
        echo "setup.sh: run me as root (sudo ./scripts/setup.sh) to install them" >&2
        exit 1
    fi
    echo "setup.sh: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

[ "${1:-}" = "--deps" ] && exit 0

cmake --workflow --preset release
capture=tests/pcaps/real/bulk-random-drop-rx.pcap
echo
echo "== ./build/release/tcp_window_monitor -r $capture --scope all --top 3"
./build/release/tcp_window_monitor -r "$capture" --scope all --top 3
