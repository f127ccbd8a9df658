#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.analysis: docs/semantics.md section 7 in Wireshark itself. The
plugin's per-packet fields of Wireshark's analysis must equal tshark's own
on the same frames, in ONE tshark run per capture printing both:

  tcpwm.dup_ack          == tcp.analysis.duplicate_ack
  tcpwm.retrans.kind     fast     == tcp.analysis.fast_retransmission
                         spurious == tcp.analysis.spurious_retransmission
                         other    == tcp.analysis.retransmission without the two
  tcpwm.reordered        == tcp.analysis.out_of_order
  tcpwm.dsack            == tcp.options.sack.dsack
  tcpwm.rtt.ack          == tcp.analysis.ack_rtt, within 1 us
  tcpwm.rtt.handshake    once per tshark stream that has
                         tcp.analysis.initial_rtt, on a frame showing it,
                         the same value within 1 us

over tests/pcaps/crafted and tests/pcaps/real (the shared corpus is
identity.analysis.shared's: the plugin runs the same monitor, and its
tshark time is better spent there). tshark runs with default preferences
(an empty home).

The plugin runs the monitor, so the differences allowed are the monitor's:
tests/identity/identity.py's ANALYSIS_EXCEPTIONS (the section 7 ones of
wsan_check.py's EXCEPTIONS that reach the monitor, and the monitor's own
flows), imported from there, not copied. A listed capture is reported, not
failed; a listed capture that agrees on every frame fails as stale.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "identity"))
import identity  # noqa: E402
import wstest  # noqa: E402

WS = ["tcp.stream", "tcp.analysis.duplicate_ack", "tcp.analysis.fast_retransmission",
      "tcp.analysis.spurious_retransmission", "tcp.analysis.retransmission",
      "tcp.analysis.out_of_order", "tcp.options.sack.dsack", "tcp.analysis.ack_rtt",
      "tcp.analysis.initial_rtt"]
OURS = ["tcpwm.dup_ack", "tcpwm.retrans.kind", "tcpwm.reordered", "tcpwm.dsack",
        "tcpwm.rtt.ack", "tcpwm.rtt.handshake"]
FIELDS = ["frame.number"] + WS + OURS
NS_1US = 1000


def retx_labels(source_dir):
    """tcpwm.retrans.kind's numbers -> labels, from the core's enum
    tcpwm_retx_kind (NONE = 0, then FAST, SPURIOUS, OTHER) and the label
    function next to it: the values tshark -T fields prints."""
    text = open(os.path.join(source_dir, "core", "include", "tcpwm", "metrics.h")).read()
    body = text[text.index("typedef enum tcpwm_retx_kind"):]
    names = re.findall(r"TCPWM_RETX_(\w+)", body[:body.index("}")])
    return {str(i): n.lower() for i, n in enumerate(names) if i > 0}


def ns(s):
    return round(float(s) * 1e9) if s else None


def rows_of(out, kinds):
    """frame -> {field: value} for both sides, first occurrence of each."""
    rows = {}
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) < len(FIELDS):
            continue
        v = dict(zip(FIELDS, c))
        fr = int(v["frame.number"])
        if v["tcp.analysis.fast_retransmission"]:
            ws_kind = "fast"
        elif v["tcp.analysis.spurious_retransmission"]:
            ws_kind = "spurious"
        elif v["tcp.analysis.retransmission"]:
            ws_kind = "other"
        else:
            ws_kind = ""
        rows[fr] = {
            "stream": v["tcp.stream"],
            "ws": {"dup_ack": bool(v["tcp.analysis.duplicate_ack"]), "retx": ws_kind,
                   "reordered": bool(v["tcp.analysis.out_of_order"]),
                   "dsack": bool(v["tcp.options.sack.dsack"]),
                   "ack_rtt": ns(v["tcp.analysis.ack_rtt"])},
            "us": {"dup_ack": bool(v["tcpwm.dup_ack"]),
                   "retx": kinds.get(v["tcpwm.retrans.kind"], v["tcpwm.retrans.kind"]),
                   "reordered": bool(v["tcpwm.reordered"]), "dsack": bool(v["tcpwm.dsack"]),
                   "ack_rtt": ns(v["tcpwm.rtt.ack"])},
            "initial_rtt": ns(v["tcp.analysis.initial_rtt"]),
            "handshake": ns(v["tcpwm.rtt.handshake"]),
        }
    return rows


def same(field, a, b):
    if field == "ack_rtt" and a is not None and b is not None:
        return abs(a - b) <= NS_1US
    return a == b


def compare(rows):
    """{field: [disagreeing frames or streams]} and the number compared."""
    bad = {f: [] for f in ("dup_ack", "retx", "reordered", "dsack", "ack_rtt", "handshake")}
    for fr, r in sorted(rows.items()):
        for f in r["ws"]:
            if not same(f, r["ws"][f], r["us"][f]):
                bad[f].append("%d(ws=%s,us=%s)" % (fr, r["ws"][f], r["us"][f]))
    # The handshake RTT: tshark repeats initial_rtt on every frame of the
    # stream from the one it first computes it on; ours is on one frame.
    first = {}
    for fr, r in sorted(rows.items()):
        if r["initial_rtt"] is not None and r["stream"] not in first:
            first[r["stream"]] = r["initial_rtt"]
    ours = {}
    for fr, r in sorted(rows.items()):
        if r["handshake"] is None:
            continue
        if r["initial_rtt"] is None:
            bad["handshake"].append("frame %d has ours, tshark shows none" % fr)
        elif r["stream"] in ours:
            bad["handshake"].append("stream %s twice (frame %d)" % (r["stream"], fr))
        ours.setdefault(r["stream"], r["handshake"])
    for st in sorted(set(first) | set(ours), key=lambda s: int(s) if s.isdigit() else -1):
        w, u = first.get(st), ours.get(st)
        if w is None or u is None or abs(w - u) > NS_1US:
            bad["handshake"].append("stream %s(ws=%s,us=%s)" % (st, w, u))
    return bad, len(rows), len(first)


def one_file(suite, label, src, kinds):
    path = suite.stage(src)
    rc, out, err = suite.tshark("-r", path, "-T", "fields", "-E", "separator=\t",
                                "-E", "occurrence=f", *sum([["-e", f] for f in FIELDS], []))
    if rc != 0 and not out:
        return "tshark cannot read it: " + err.strip().split("\n")[-1]
    rows = rows_of(out, kinds)
    bad, n, hs = compare(rows)
    return bad, n, hs


# Our expert infos and the severities of their tcp.analysis counterparts
# (Wireshark's Note for retransmissions and duplicate ACKs, Warning for
# out-of-order); D-SACK is only a Chat: the receiver telling what it got.
EXPERTS = [
    ("fast_retransmission", "Note", "tcp.analysis.fast_retransmission"),
    ("spurious_retransmission", "Note", "tcp.analysis.spurious_retransmission"),
    ("retransmission", "Note", "tcp.analysis.retransmission && "
     "!tcp.analysis.fast_retransmission && !tcp.analysis.spurious_retransmission"),
    ("reordered", "Warning", "tcp.analysis.out_of_order"),
    ("dup_ack", "Note", "tcp.analysis.duplicate_ack"),
    ("dsack", "Chat", "tcp.options.sack.dsack"),
]


def test_experts(suite, source_dir):
    """Each expert info on exactly the frames of its tcp.analysis
    counterpart, with its severity, in group Sequence; with and without
    a tree (-Y needs one; -q -z expert runs without)."""
    src = os.path.join(source_dir, "tests", "pcaps", "real", "reorder-htb.pcap")
    path = suite.stage(src)

    def frames(flt):
        _, out, _ = suite.tshark("-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number")
        return [int(x) for x in out.split()]
    counts = {}
    for name, sev, ws in EXPERTS:
        ours = frames('tcpwm.expert.%s && _ws.expert.severity == "%s" && '
                      '_ws.expert.group == "Sequence"' % (name, sev))
        theirs = frames(ws)
        counts[name] = len(ours)
        suite.check(ours == theirs and (ours or name == "reordered" or name == "dsack"),
                    "reorder-htb: expert tcpwm.expert.%s, a %s, on the %d frames of %s"
                    % (name, sev, len(theirs), ws.split(" ")[0]),
                    "ours %s\ntshark %s" % (ours[:20], theirs[:20]))
    _, out, err = suite.tshark("-r", path, "-q", "-z", "expert")
    bad = [n for n, c in counts.items() if c and not re.search(
        r"^\s+%d\s+Sequence\s+TCPWM\s" % c, out, re.M)]
    suite.check(not bad, "reorder-htb: tshark -q -z expert (no tree) counts them alike",
                "%s\n%s" % (bad, out[-3000:]))


def main():
    args = wstest.parse_args()
    suite = wstest.Suite(args, "analysis")
    kinds = retx_labels(args.source_dir)
    files = [(lab, p) for lab, p in wstest.corpus(args.source_dir, shared=False)
             if lab.startswith(("tests/pcaps/crafted/", "tests/pcaps/real/"))]
    if not files:
        suite.fatal("no captures under tests/pcaps/crafted or tests/pcaps/real")
    test_experts(suite, args.source_dir)
    for label, (bad, n, hs) in suite.per_file(
            lambda label, path: one_file(suite, label, path, kinds), files):
        base = os.path.basename(label)
        base = base[:-3] if base.endswith(".gz") else base
        reason = identity.ANALYSIS_EXCEPTIONS.get(base)
        differ = {f: v for f, v in bad.items() if v}
        what = "%s: %d frames, %d handshakes: tcpwm's analysis == tshark's" % (label, n, hs)
        detail = "\n".join("%s differs on %d: %s" % (f, len(v), " ".join(v[:8]))
                           for f, v in differ.items())
        if reason is None:
            suite.check(not differ, what, detail)
        elif differ:
            suite.skip(what, "listed in identity.py ANALYSIS_EXCEPTIONS: %s\n      %s"
                       % (reason, detail.replace("\n", "\n      ")))
        else:
            suite.fail(what + " (listed as an exception but agrees: remove it from "
                       "identity.py ANALYSIS_EXCEPTIONS)")
    suite.finish()


if __name__ == "__main__":
    main()
