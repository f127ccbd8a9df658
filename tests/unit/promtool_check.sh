#!/bin/sh
# SPDX-License-Identifier: MIT
# Check the exposition writers' output with Prometheus' own parsers.
#
#   promtool_check.sh TEST_EXPO MODE WORKDIR
#
# TEST_EXPO is the test_expo binary; it writes the document with
# `--dump MODE FILE`. MODE is one of:
#   prometheus   text format 0.0.4 -> `promtool check metrics` (parser + linter)
#   openmetrics  OpenMetrics 1.0.0 -> promtool's OpenMetrics parser (see below)
#   timeline     OpenMetrics with 3 timestamped snapshots -> backfilled with
#                `promtool tsdb create-blocks-from openmetrics`, as a
#                --timeline file would be
#   services     as prometheus, with --service-ports' port label
#   services-timeline  as timeline, with the port label
#
# `promtool check metrics` only reads the text format 0.0.4 (OpenMetrics'
# counter metadata without _total and its info type are errors there), and
# promtool reaches its OpenMetrics parser only through the backfill, which
# wants a timestamp on every sample. So the openmetrics dump is stamped
# (" 1700000000" appended to each sample line: OpenMetrics makes the
# timestamp an optional last field, so nothing else about a line changes)
# and backfilled.
#
# For the backfills, every sample of the document must land in the block:
# `promtool tsdb dump` prints one line per sample.
#
# A missing promtool fails the test: the setup installs it (Debian package
# "prometheus"); a skipped check would look like a passed one. Set PROMTOOL
# to use another binary.
set -eu

if [ $# -ne 3 ]; then
    echo "usage: $0 TEST_EXPO prometheus|openmetrics|timeline|services|services-timeline WORKDIR" >&2
    exit 2
fi
test_expo=$1
mode=$2
work=$3
promtool=${PROMTOOL:-promtool}

fail() {
    echo "promtool_check ($mode): $*" >&2
    exit 1
}

command -v "$promtool" >/dev/null 2>&1 ||
    fail "promtool not found (install Debian's 'prometheus' package or set PROMTOOL)"

rm -rf "$work"
mkdir -p "$work"
dump=$work/dump.txt
"$test_expo" --dump "$mode" "$dump" || fail "test_expo --dump $mode failed"

# backfill FILE: create blocks from an OpenMetrics file with timestamps and
# check that a block exists and holds every sample of FILE.
backfill() {
    db=$work/tsdb
    "$promtool" tsdb create-blocks-from openmetrics "$1" "$db" ||
        fail "promtool tsdb create-blocks-from openmetrics rejected $1"
    found=no
    for meta in "$db"/*/meta.json; do
        [ -f "$meta" ] && found=yes
    done
    [ "$found" = yes ] || fail "no block written under $db"
    # promtool 2.42's `tsdb dump` refuses a directory without a WAL.
    mkdir -p "$db/wal"
    "$promtool" tsdb dump "$db" >"$work/samples.txt" || fail "promtool tsdb dump failed"
    want=$(grep -vc '^#' "$1" || true)
    got=$(grep -c . "$work/samples.txt" || true)
    [ "$want" = "$got" ] || fail "$want samples written, $got in the block"
    echo "promtool_check ($mode): $got samples backfilled"
}

case $mode in
prometheus | services)
    "$promtool" check metrics <"$dump" || fail "promtool check metrics rejected $dump"
    echo "promtool_check ($mode): promtool check metrics passed"
    ;;
openmetrics)
    [ "$(tail -n 1 "$dump")" = "# EOF" ] || fail "the document does not end with # EOF"
    awk '/^#/ { print; next } { print $0 " 1700000000" }' "$dump" >"$work/stamped.txt"
    backfill "$work/stamped.txt"
    # The label value with a backslash, a quote and a newline came through
    # the parser intact (tsdb dump re-quotes it the way Go's strconv does,
    # which for these characters is the exposition's own escaping).
    grep -F 'file="C:\\caps\\\"odd\"\nx.pcap"' "$work/samples.txt" >/dev/null ||
        fail "escaped label value did not round-trip"
    ;;
timeline | services-timeline)
    backfill "$dump"
    ;;
*)
    fail "unknown mode"
    ;;
esac
