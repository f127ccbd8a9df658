#!/bin/sh
# SPDX-License-Identifier: MIT
# Seeds for fuzz_instream.c: the start (12 KiB, under run.sh's -max_len of
# 16 KiB) of some captures, plain and compressed by the real tools in their
# variants: gzip, and gzip members one after another; zstd with and
# without its checksum; lz4 frames with small blocks, block checksums and
# the content size; xz with its checks; and each compressed empty input.
#
#   instream_seeds.sh OUT SRC...
#
# SRC: folders of captures (*.pcap, *.pcapng), one in five taken. Needs
# gzip, zstd, lz4 and xz (scripts/setup.sh installs them).
set -eu

[ $# -ge 2 ] || {
    echo "usage: instream_seeds.sh OUT SRC..." >&2
    exit 1
}
out=$1
shift
mkdir -p "$out"

seed() { # NAME: compress $out/NAME (plain) every way
    p=$out/$1
    gzip -6 -c "$p" >"$p.gz"
    zstd -q -3 -c "$p" >"$p.zst"
    zstd -q -1 --no-check -c "$p" >"$p.nocheck.zst"
    lz4 -q -B4 -c "$p" >"$p.lz4"
    lz4 -q -B4 -BX --content-size -c "$p" >"$p.bx.lz4"
    xz -1 -c "$p" >"$p.xz"
    xz -1 --check=crc32 -c "$p" >"$p.crc32.xz"
}

n=0
find "$@" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort | awk 'NR % 5 == 1' >"$out/.list"
while IFS= read -r f; do
    b=$(basename "$f")
    head -c 12000 "$f" >"$out/$b"
    seed "$b"
    # Two gzip members, cut inside a record.
    head -c 5000 "$out/$b" | gzip -c >"$out/$b.cat.gz"
    tail -c +5001 "$out/$b" | gzip -c >>"$out/$b.cat.gz"
    n=$((n + 1))
done <"$out/.list"
rm -f "$out/.list"
: >"$out/empty"
seed empty
echo "instream_seeds.sh: $n captures, $(find "$out" -type f | wc -l) seeds in $out"
