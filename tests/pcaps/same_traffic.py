#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Captures of the same traffic must give the same TCP counters.

    same_traffic.py BINARY

Runs `BINARY -r CAPTURE --scope all` on each group of captures that carry
the same TCP segments and compares the exposition sample by sample. What
may differ, and why (docs/semantics.md):

  - tcp_monitor_tunneled_packets_total{encap}: the tunnels crossed (1,
    "Tunnels and labels");
  - tcp_monitor_fragments_total / _fragments_ignored_total: fragmentation
    is what some of the captures add (1, "IP fragment reassembly");
  - tcp_monitor_packets_total, where a group says so: a router's fragments
    are more frames for the same segments, an underlay carries ARP;
  - tcp_monitor_hole_fill_seconds (a histogram of capture-time spans),
    between captures taken at two points of the path (before and after a
    router, underlay and inner interface): each point sees the packets at
    its own times. Captures of one point (one file rewritten: cut by a snap
    length, wrapped in a tunnel) must agree on it too;
  - for the same reason, between two points, the ACK and handshake RTT
    histograms and the split of Wireshark's verdicts into reordered and
    retransmission kinds (semantics 7, rules 3b and 3c compare capture
    times with 20 ms and the handshake RTT); their sum is the loss
    counters' duplicate + out_of_order, which must still agree;
  - the flows' identities (the encapsulation is part of the flow key, 3),
    which the exposition does not show.

The groups:
  - real/vxlan-underlay.pcap (VXLAN, loss and reordering put on the
    underlay) and real/vxlan-inner.pcap (the same connection, captured on
    the inner interface);
  - real/frag-before-router.pcap and real/frag-after-router.pcap (the
    router fragments every TCP segment): after reassembly, the same
    segments;
  - real/frag-after-router.pcap, the same cut to 128 bytes
    (-s128: the rules reassemble byte ranges, so the snap length changes
    nothing), and encap/gre-csum__frag-after-router.pcap (the fragments in
    GRE with checksums);
  - every encap/ENCAP__SOURCE.pcap and real/SOURCE.pcap (encap/README.md:
    the inner packets are SOURCE's byte for byte).

Prints one line per comparison and "N passed, N failed"; exit 1 on any
failure."""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MAY_DIFFER = re.compile(r"^tcp_monitor_(tunneled_packets_total|fragments_total|"
                        r"fragments_ignored_total)\{")
TIMING = re.compile(r"^(tcp_monitor_hole_fill_seconds_|tcp_monitor_ack_rtt_seconds_|"
                    r"tcp_monitor_handshake_rtt_seconds_|tcp_monitor_reordered_segments_total|"
                    r"tcp_monitor_retransmissions_total)")


def samples(binary, capture):
    r = subprocess.run([binary, "-r", os.path.join(HERE, capture), "--scope", "all"],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (capture, r.returncode, r.stderr.strip()))
    out = {}
    for line in r.stdout.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = value
    return out


def groups():
    """(captures, two capture points?): the first is the reference."""
    yield ["real/vxlan-underlay.pcap", "real/vxlan-inner.pcap"], True
    yield ["real/frag-before-router.pcap", "real/frag-after-router.pcap"], True
    yield ["real/frag-after-router.pcap", "real/frag-after-router-s128.pcap",
           "encap/gre-csum__frag-after-router.pcap"], False
    for name in sorted(os.listdir(os.path.join(HERE, "encap"))):
        if name.endswith(".pcap") and "__" in name:
            yield ["real/" + name.split("__", 1)[1], "encap/" + name], False


def main(argv):
    if len(argv) != 2:
        sys.exit("usage: same_traffic.py BINARY")
    binary = argv[1]
    passed = failed = 0
    for caps, two_points in groups():
        try:
            ref = samples(binary, caps[0])
            for other in caps[1:]:
                got = samples(binary, other)
                bad = []
                for key in sorted(set(ref) | set(got)):
                    if MAY_DIFFER.match(key):
                        continue
                    if two_points and (key == "tcp_monitor_packets_total" or TIMING.match(key)):
                        continue
                    if ref.get(key) != got.get(key):
                        bad.append("  %s: %s %s, %s %s" % (key, caps[0], ref.get(key), other,
                                                            got.get(key)))
                # The counters compared must not all be zero: the group must
                # carry analyzed TCP.
                if ref.get("tcp_monitor_tcp_packets_total", "0") == "0":
                    bad.append("  %s: no TCP packets" % caps[0])
                if bad:
                    failed += 1
                    print("FAIL %s == %s" % (other, caps[0]))
                    print("\n".join(bad))
                else:
                    passed += 1
                    print("ok   %s == %s" % (other, caps[0]))
        except RuntimeError as e:
            failed += 1
            print("FAIL %s" % e)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
