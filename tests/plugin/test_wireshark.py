#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.wireshark: docs/semantics.md section 4, "Relation to Wireshark",
checked in ONE tshark run per capture, frame by frame:

  frames with tcpwm.loss.missing
      == frames with tcp.analysis.lost_segment
  frames with tcpwm.loss.out_of_order or tcpwm.loss.duplicate
      == frames with tcp.analysis.out_of_order or tcp.analysis.retransmission

(fast and spurious retransmissions carry tcp.analysis.retransmission too).
Where the capture breaks the rules' assumptions the two legitimately
differ; every such capture is listed, with the reason, in
wireshark-exceptions.txt beside this file. A listed capture is reported,
not failed; a listed capture that agrees is reported as a stale entry.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wstest  # noqa: E402

FIELDS = ["frame.number", "tcpwm.loss.missing", "tcp.analysis.lost_segment",
          "tcpwm.loss.out_of_order", "tcpwm.loss.duplicate", "tcp.analysis.out_of_order",
          "tcp.analysis.retransmission"]


def load_exceptions(source_dir):
    """{(label, identity): reason}: ours (label<TAB>identity<TAB>reason),
    and the crafted corpus's own list (case<TAB>reason, both identities)."""
    ex = {}
    ours = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wireshark-exceptions.txt")
    crafted = os.path.join(source_dir, "tests", "pcaps", "crafted", "wireshark-exceptions.txt")
    for path, prefix in ((ours, None), (crafted, "tests/pcaps/crafted/")):
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.startswith("#"):
                    continue
                if prefix is None:
                    label, ident, reason = line.split("\t", 2)
                else:
                    case, reason = line.split("\t", 1)
                    label, ident = prefix + case + ".pcap", "*"
                ex[(label, ident)] = reason
    return ex


def one_file(suite, label, src):
    path = suite.stage(src)
    rc, out, err = suite.tshark("-r", path, "-T", "fields", "-E", "separator=\t",
                                *sum([["-e", f] for f in FIELDS], []))
    if rc != 0 and not out:
        return "tshark cannot read it: " + err.strip().split("\n")[-1]
    ours_m, ws_m, ours_r, ws_r = set(), set(), set(), set()
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) < len(FIELDS):
            continue
        n = int(c[0])
        if c[1]:
            ours_m.add(n)
        if c[2]:
            ws_m.add(n)
        if c[3] or c[4]:
            ours_r.add(n)
        if c[5] or c[6]:
            ws_r.add(n)
    return [("missing", ours_m, ws_m), ("retrans", ours_r, ws_r)]


def show(a, b):
    return "only tcpwm: %s; only Wireshark: %s" % (sorted(a - b)[:12], sorted(b - a)[:12])


def main():
    args = wstest.parse_args()
    suite = wstest.Suite(args, "wireshark")
    ex = load_exceptions(args.source_dir)
    # regress/ holds fuzz findings, malformed on purpose: agreement with
    # Wireshark's analysis means nothing there (the -z identity still runs).
    files = [f for f in wstest.corpus(args.source_dir) if "/regress/" not in f[1]]
    if not files:
        suite.fatal("no captures under tests/pcaps")
    used, differed = set(), set()
    names = {"missing": "missing == lost_segment",
             "retrans": "out_of_order + duplicate == out_of_order + retransmission"}
    for label, res in suite.per_file(lambda label, path: one_file(suite, label, path), files):
        for ident, ours, ws in res:
            what = "%s: %s (%d vs %d frames)" % (label, names[ident], len(ours), len(ws))
            key = (label, ident) if (label, ident) in ex else (label, "*")
            reason = ex.get(key)
            if reason is None:
                suite.check(ours == ws, what, show(ours, ws))
                continue
            used.add(key)
            if ours != ws:
                differed.add(key)
                print("XDIFF %s: %s\n      %s" % (what, show(ours, ws), reason))
                what += " [listed exception]"
            suite.ok(what)
    for key in sorted(used - differed):
        print("NOTE  exception %s/%s: the capture agrees now; remove the entry" % key)
    for key in sorted(set(ex) - used):
        print("NOTE  exception %s/%s: no such capture in this corpus" % key)
    suite.finish()


if __name__ == "__main__":
    main()
