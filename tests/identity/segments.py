#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Does tcpwm read every TCP segment tshark reads? Per shared capture.

    segments.py BINARY SHARED_DIR [--skip-absent] [-j N]

SHARED_DIR/docs/tshark-tcp-segments.tsv lists, for every capture of
SHARED_DIR/pcaps and SHARED_DIR/pcaps-encap, the frames tshark 4.0 shows
with the display filter `tcp` (`tshark -r F -Y tcp`; a reassembled IP
datagram is one, at its last fragment). For each, `BINARY -r F --scope all`
must count the same in tcp_monitor_tcp_packets_total: a frame tshark reads
as TCP and we do not is a frame the tool cannot read (issue 9), and one we
read and tshark does not needs a reason.

The only differences allowed are DELIBERATE below, each a rule of
docs/semantics.md (section 1, "Where tshark 4.0 counts TCP segments
differently"), with both counts exact: an entry whose numbers change, or
that no longer differs, fails, so the table cannot go stale. A capture in
the table but not in the TSV fails too.

--skip-absent: exit 77 (ctest's SKIP_RETURN_CODE) when the TSV is absent,
as it is outside the machines that have the shared corpus.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

SKIP = 77
TSV = os.path.join("docs", "tshark-tcp-segments.tsv")

# file (as in the TSV) -> (ours, tshark's, why; docs/semantics.md section 1)
DELIBERATE = {
    "pcaps/tcpdump__bigtcp-ipv6.pcap": (
        1, 0, "IPv6 payload length 0 (BIG TCP): the rules take the length from the link; "
        "tshark marks the frame malformed unless ipv6.tso_support is on (off by default)"),
    "pcaps-encap/zeek__fragmented-4.pcap": (
        2, 3, "a fragment partly overlapping held bytes discards its datagram (RFC 5722, as "
        "Linux does for IPv4 too); Wireshark reassembles it and shows its TCP segment"),
    "pcaps/tcpdump__tcp_header_heapoverflow.pcap": (
        0, 1, "12 of the fixed 20 TCP header bytes captured: no data offset, flags or window, "
        "so truncated_tcp; tshark's filter matches its ports-only TCP layer, which gets no "
        "stream and no analysis"),
}

SAMPLE = re.compile(r"^tcp_monitor_tcp_packets_total (\d+)$", re.M)


def ours(binary, path):
    """tcp_monitor_tcp_packets_total, or None and why not."""
    p = subprocess.run([binary, "-r", path, "--scope", "all", "-q"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=600)
    m = SAMPLE.search(p.stdout.decode("utf-8", "replace"))
    if m is None:
        err = p.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, "exit %d: %s" % (p.returncode, err[-1] if err else "(no message)")
    return int(m.group(1)), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary")
    ap.add_argument("shared")
    ap.add_argument("--skip-absent", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    tsv = os.path.join(args.shared, TSV)
    if not os.path.isfile(tsv):
        if args.skip_absent:
            print("segments: %s does not exist; skipped" % tsv)
            return SKIP
        sys.exit("segments: %s does not exist" % tsv)
    rows = []
    with open(tsv, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            cols = line.rstrip("\n").split("\t")
            if n == 1 or not line.strip():
                continue  # the header
            if len(cols) != 2 or not cols[1].isdigit():
                sys.exit("segments: %s:%d: expected 'file<TAB>count'" % (tsv, n))
            rows.append((cols[0], int(cols[1])))

    def one(row):
        name, theirs = row
        return name, theirs, ours(args.binary, os.path.join(args.shared, name))

    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, rows))
    failed = passed = deliberate = 0
    for name, theirs, (mine, err) in results:
        want = DELIBERATE.get(name)
        if mine is None:
            status, text = "FAIL", "%s: tshark %d, tcpwm printed no count (%s)" % (name, theirs,
                                                                                 err)
        elif want is not None:
            if (mine, theirs) == want[:2]:
                status, text = "DELIB", "%s: tcpwm %d, tshark %d; %s" % (name, mine, theirs,
                                                                         want[2])
            else:
                status, text = "FAIL", "%s: tcpwm %d, tshark %d; listed as deliberate with " \
                    "%d and %d: update or remove the entry" % (name, mine, theirs, *want[:2])
        elif mine == theirs:
            status, text = "ok", "%s: %d" % (name, mine)
        else:
            status, text = "FAIL", "%s: tcpwm %d, tshark %d" % (name, mine, theirs)
        failed += status == "FAIL"
        passed += status == "ok"
        deliberate += status == "DELIB"
        print("%-5s %s" % (status, text))
    for name in sorted(set(DELIBERATE) - {r[0] for r in rows}):
        failed += 1
        print("FAIL  %s: listed as deliberate but not in %s" % (name, TSV))
    print("%d passed, %d failed, %d deliberate" % (passed, failed, deliberate))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
