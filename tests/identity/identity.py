#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Wireshark identity: our loss counters against tshark's TCP analysis flags.

    identity.py BINARY DIR_OR_FILE... [--tshark PATH] [--skip-absent] [-j N]
    identity.py BINARY --frames CAPTURE [--tshark PATH]

docs/semantics.md section 4 ("Relation to Wireshark"): on the same capture,
with every TCP packet analyzed (`--scope all`),

    missing                == packets with tcp.analysis.lost_segment
    duplicate+out_of_order == packets with tcp.analysis.retransmission or
                              tcp.analysis.out_of_order

and, so that both are known to have read the same input, the frames read
(tcp_monitor_packets_total) == the frames tshark prints.

(tshark 4.0 sets tcp.analysis.retransmission on fast and spurious
retransmissions too, so those two need no term of their own.)

docs/semantics.md section 7 (Wireshark's analysis), on the same run:

    duplicate_acks_total               == frames with tcp.analysis.duplicate_ack
    retransmissions_total{kind=fast}   == tcp.analysis.fast_retransmission
    retransmissions_total{kind=spurious} == tcp.analysis.spurious_retransmission
    retransmissions_total{kind=other}  == tcp.analysis.retransmission minus those two
    reordered_segments_total           == tcp.analysis.out_of_order
    dsack_total                        == frames with tcp.options.sack.dsack
    ack_rtt_seconds_count              == frames with tcp.analysis.ack_rtt,
    ack_rtt_seconds_sum                   their sum within 1 us per sample
    handshake_rtt_seconds_count        == streams with tcp.analysis.initial_rtt,
    handshake_rtt_seconds_sum             their sum within 1 us per stream
    rtt_segments_untracked_total       == 0 (the pool's caps never reached)

with their own exceptions (ANALYSIS_EXCEPTIONS), under the same rules.

Every .pcap/.pcapng/.cap file under the given folders is checked (a .gz one
is decompressed into a temporary folder first). A capture named in
EXCEPTIONS below is still run and its numbers printed, but a difference
does not fail; an exception that no longer differs does fail, so the table
cannot go stale. One line per capture, then "N passed, N failed, N skipped"
(skipped = excepted); the exit status is 1 if anything failed.

--skip-absent: exit 77 (ctest's SKIP_RETURN_CODE) when no folder given
exists, for the shared corpus that only CI and developers' machines have.

--frames CAPTURE: the per-frame view for digging into a difference: every
frame where tshark or `BINARY -v` reports a loss event, side by side
(frames are matched by timestamp; `-v` prints no frame numbers).

tshark runs with an empty configuration folder, so no personal preference
changes its TCP analysis, and with tcp.analyze_sequence_numbers on (the
default). Its VLAN-related preference in 4.0,
protocols.strict_conversation_tracking_heuristics (default off), only adds
VLAN IDs to ICMP/ICMPv6 conversations and IPv4 reassembly: TCP streams
ignore VLANs whatever it says, so copies of a connection on two VLANs are
one stream to Wireshark and two flows to us (semantics.md section 3).
"""

import argparse
import concurrent.futures
import datetime
import gzip
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

SKIP = 77
EXTENSIONS = (".pcap", ".pcapng", ".cap")

# Captures whose numbers legitimately differ: file name -> reason. Each one
# is a real, explained difference between Wireshark's model and ours
# (semantics.md section 4), never a way to make a failure go away.
EXCEPTIONS = {
    # crafted/ (tests/pcaps/gen_crafted.py; same cases and reasons as
    # crafted/wireshark-exceptions.txt)
    "vlan_mirror.pcap": "one connection on two VLANs: Wireshark ignores VLAN IDs and flags every "
    "second copy as a retransmission; the rules see two clean flows (semantics.md 3)",
    "qinq_mirror.pcap": "one connection on two QinQ VLAN pairs: Wireshark merges the copies into "
    "one stream and flags the second of each as a retransmission (semantics.md 3)",
    "tso_len0.pcap": "IPv6 payload length 0 (BIG TCP): Wireshark marks the frame malformed unless "
    "ipv6.tso_support is on (off by default) and reports the next segment as 'previous segment "
    "not captured'; the rules take the length from the frame (semantics.md 1)",
    "tun_copies.pcap": "one connection seen plain and in three VXLAN encapsulations: Wireshark keys "
    "TCP streams by the inner addresses and ports and flags the later copies as retransmissions; "
    "the encapsulation is part of the rules' flow key: four clean flows (semantics.md 3)",
    # real/ (scripts/capture-real.sh)
    "frag-after-router-s128.pcap": "IPv4 fragments cut to 128 bytes: Wireshark reassembles only "
    "fragments whose bytes it has, so it analyzes first fragments alone and misses the loss; the "
    "rules reassemble byte ranges and see the counters of frag-after-router.pcap (semantics.md 1, "
    "4)",
    # The shared corpus (<repo>/../shared/pcaps, MANIFEST.tsv there).
    "zeek__vlan-collisions.pcap": "one connection seen untagged, on VLAN 42 and on QinQ 10/20: "
    "Wireshark merges the three copies and flags the 18 later copies as retransmissions; the rules "
    "see three clean flows (semantics.md 3)",
    "zeek__ipv6-http-atomic-frag.pcap": "frame 6 acknowledges the 15 bytes that frame 8 carries "
    "(frame 8 is stamped earlier: the capture is out of time order); Wireshark flags any segment "
    "the peer has already acknowledged as a spurious retransmission, the rules count a duplicate "
    "only for bytes the capture has shown before (semantics.md 4), and frame 8 shows them first",
}


# Captures where the section 7 identities legitimately differ: file name
# -> reason (the same differences as tests/identity/wsan_check.py's
# EXCEPTIONS, where they reach the monitor; semantics.md 7, "Where tshark
# differs"). Stale entries fail, as above.
ANALYSIS_EXCEPTIONS = {
    # crafted/
    "vlan_mirror.pcap": "one connection on two VLANs: Wireshark's one stream flags the second "
    "copies as retransmissions and duplicate ACKs and times one handshake; the rules see two "
    "clean flows, each with its RTTs (semantics.md 3)",
    "qinq_mirror.pcap": "one connection on two QinQ VLAN pairs: Wireshark merges the copies into "
    "one stream (retransmissions, duplicate ACKs, one handshake); two flows for us (semantics.md 3)",
    "tun_copies.pcap": "one connection plain and in three VXLAN encapsulations: one stream to "
    "Wireshark (the copies are retransmissions and duplicate ACKs), four flows to us "
    "(semantics.md 3)",
    "tun_bad.pcap": "tunnel headers RFC 2784/7348/8926 say to discard: tshark decodes the TCP "
    "inside and finds duplicate ACKs, we do not analyze it (semantics.md 1; wsan_check.py too)",
    "tun_mpls.pcap": "the Ethernet pseudowire with a control word: tshark does not decode TCP in "
    "its 10 frames (20 TCP frames to our 30), so the third connection's RTTs are ours alone",
    "link_nflog.pcap": "the big-endian NFLOG TLVs: tshark does not decode TCP in those 10 frames "
    "(20 TCP frames to our 30), so the third connection's RTTs are ours alone",
    "link_ipoib.pcap": "tshark decodes no TCP in this LINKTYPE_IPOIB capture (RFC 4391 header "
    "without the 40-byte pseudo-header tshark expects), we do: all its RTTs are ours alone",
    "closed_linger.pcap": "the closed flow leaves after the 60 s linger (semantics.md 3) and its "
    "analysis state with it; the late ACK at 120 s starts a new flow, while Wireshark's stream "
    "never ends and calls that ACK a duplicate ACK",
    # The shared corpus: wsan_check.py's exceptions that reach the monitor.
    "PcapPlusPlus__pcapng-example.pcapng": "interface 1's timestamps lie beyond 2262 and go back "
    "46 years: capture times are clamped (semantics.md 1), tshark prints them raw",
    "suricata-verify__bug-1450-04__tls_DER-incomplete-header.pcap": "capture time running "
    "backwards by years: tshark shows a negative ACK RTT, we give no sample (semantics.md 7)",
    "suricata-verify__tcp-empty-sack__tcp-opt.pcap": "frame 24's SACK option has no block: "
    "tshark stops dissecting it as malformed and prints no ACK RTT; we keep the real sample",
    "suricata-verify__tls-subjectaltname__input.pcap": "frame 158, a SYN-ACK with a new ISN after "
    "an RST, starts a new stream in Wireshark 4.0; we start one only at a SYN without ACK "
    "(semantics.md 3), so four later segments are other retransmissions",
    "zeek__vlan-collisions.pcap": "one connection untagged, on VLAN 42 and on QinQ 10/20: one "
    "stream to Wireshark (retransmissions, a duplicate ACK, one handshake), three flows to us "
    "(semantics.md 3)",
    # The shared corpus, monitor only: the two directions on different
    # VLANs are two one-way flows (semantics.md 3), one stream to Wireshark.
    "zeek__gap-data-missing.pcapng": "the directions travel on VLANs 81 and 80: two one-way flows "
    "to us (semantics.md 3), so no ACK meets the segment it acknowledges; one stream to Wireshark",
    "suricata-verify__bug-4376__syn_retransmit_with_ts.pcap": "one direction on VLAN 3136, the "
    "other untagged: two one-way flows to us (semantics.md 3), so no ACK RTT and the kinds "
    "(which need the peer's ACKs and times) differ; one stream to Wireshark",
    # <repo>/../shared/pcaps-encap: the directions in different tunnels,
    # two one-way flows to us (the encapsulation is part of the key,
    # semantics.md 3), one stream to Wireshark: no ACK meets its segment.
    "tcpdump__geneve.pcap": "the directions in Geneve VNI 10 and VNI 11: two one-way flows to "
    "us (semantics.md 3), so no ACK RTT; one stream to Wireshark",
    "zeek__erspan.pcap": "each direction under its own GRE key (0 one way, 33554432 the other): "
    "one-way flows to us (semantics.md 3), so no ACK RTT; one stream each to Wireshark",
    # real/
    "frag-after-router-s128.pcap": "IPv4 fragments cut to 128 bytes: Wireshark analyzes first "
    "fragments alone (no retransmissions, few ACK RTTs); we reassemble byte ranges and see "
    "frag-after-router.pcap's analysis (semantics.md 1)",
}


def die(msg):
    sys.stderr.write("identity: %s\n" % msg)
    sys.exit(2)


# ---------------------------------------------------------------- our side

METRICS = {
    "tcp_monitor_packet_loss_missing_total": "missing",
    "tcp_monitor_packet_loss_duplicate_total": "duplicate",
    "tcp_monitor_packet_loss_out_of_order_total": "out_of_order",
}
# Section 7's families (with their label set): key in counts.
ANALYSIS_METRICS = {
    "tcp_monitor_duplicate_acks_total": "dup_ack",
    'tcp_monitor_retransmissions_total{kind="fast"}': "fast",
    'tcp_monitor_retransmissions_total{kind="spurious"}': "spurious",
    'tcp_monitor_retransmissions_total{kind="other"}': "other",
    "tcp_monitor_reordered_segments_total": "reordered",
    "tcp_monitor_dsack_total": "dsack",
    "tcp_monitor_rtt_segments_untracked_total": "untracked",
    "tcp_monitor_ack_rtt_seconds_count": "ack_rtt_count",
    "tcp_monitor_ack_rtt_seconds_sum": "ack_rtt_sum",
    "tcp_monitor_handshake_rtt_seconds_count": "hs_rtt_count",
    "tcp_monitor_handshake_rtt_seconds_sum": "hs_rtt_sum",
}
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def ours(binary, capture):
    """Run the CLI: (counts or None, frames read, error line or "").

    A file that ends in the middle of a record still gets its metrics
    printed (exit 1): the counts cover the frames read before the error,
    as tshark's do, and are compared like any other. A file the CLI refuses
    (link type, mixed pcapng interfaces) reads fewer frames than tshark, or
    none, and so never agrees."""
    p = subprocess.run(
        [binary, "-r", capture, "--scope", "all", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    err = ""
    if p.returncode != 0:
        lines = p.stderr.decode("utf-8", "replace").strip().splitlines()
        err = "exit %d: %s" % (p.returncode, lines[-1] if lines else "(no message)")
    counts = {v: 0 for v in METRICS.values()}
    counts.update({v: 0 for v in ANALYSIS_METRICS.values()})
    seen = set()
    frames = None
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        key = m.group(1) + (m.group(2) or "")
        if key in ANALYSIS_METRICS:
            counts[ANALYSIS_METRICS[key]] = float(m.group(3))
            seen.add(key)
        elif m.group(1) in METRICS:
            counts[METRICS[m.group(1)]] += int(float(m.group(3)))
            seen.add(m.group(1))
        elif m.group(1) == "tcp_monitor_packets_total":
            frames = int(float(m.group(3)))
    if seen != set(METRICS) | set(ANALYSIS_METRICS) or frames is None:
        return None, None, err or "no loss samples in the output"
    return counts, frames, err


# ---------------------------------------------------------- Wireshark side

FLAGS = (
    "tcp.analysis.lost_segment",
    "tcp.analysis.retransmission",
    "tcp.analysis.out_of_order",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
)


# Section 7's fields, after FLAGS: values, not only presence. With
# occurrence=a a field of several TCP layers prints "a,b": the first is
# the frame's own (the outer TCP of a tunnel carrying TCP is not ours).
ANALYSIS_FIELDS = ("tcp.stream", "tcp.analysis.duplicate_ack", "tcp.options.sack.dsack",
                   "tcp.analysis.ack_rtt", "tcp.analysis.initial_rtt")


def analysis_counts(rows):
    """Section 7's identities, tshark's side, from frames() rows."""
    c = {"dup_ack": 0, "fast": 0, "spurious": 0, "other": 0, "reordered": 0, "dsack": 0,
         "ack_rtt_count": 0, "ack_rtt_sum": 0.0, "hs_rtt_count": 0, "hs_rtt_sum": 0.0}
    hs = {}
    for _, _, fl, extra in rows:
        ex = [(extra[i].split(",")[0] if i < len(extra) else "")
              for i in range(len(ANALYSIS_FIELDS))]
        stream, dup, dsack, ack_rtt, init_rtt = ex
        if fl["tcp.analysis.fast_retransmission"]:
            c["fast"] += 1
        elif fl["tcp.analysis.spurious_retransmission"]:
            c["spurious"] += 1
        elif fl["tcp.analysis.retransmission"]:
            c["other"] += 1
        c["reordered"] += fl["tcp.analysis.out_of_order"]
        c["dup_ack"] += dup != ""
        c["dsack"] += dsack != ""
        if ack_rtt:
            c["ack_rtt_count"] += 1
            c["ack_rtt_sum"] += float(ack_rtt)
        # tshark prints initial_rtt on every frame of a stream from the
        # handshake on: once per stream, the first value.
        if init_rtt and stream not in hs:
            hs[stream] = float(init_rtt)
    c["hs_rtt_count"] = len(hs)
    c["hs_rtt_sum"] = sum(hs.values())
    return c


def analysis_same(us, ws):
    """(agree, text) for section 7's identities."""
    names = ("dup_ack", "fast", "spurious", "other", "reordered", "dsack")
    bad = ["%s %d/%d" % (n, us[n], ws[n]) for n in names if int(us[n]) != ws[n]]
    for n in ("ack_rtt", "hs_rtt"):
        cnt = int(us[n + "_count"])
        if cnt != ws[n + "_count"]:
            bad.append("%s_count %d/%d" % (n, cnt, ws[n + "_count"]))
        # 1 us per sample, and a little for the decimal printing of sums.
        elif abs(us[n + "_sum"] - ws[n + "_sum"]) > 1e-6 * cnt + 1e-9 * (cnt + 1):
            bad.append("%s_sum %.9f/%.9f" % (n, us[n + "_sum"], ws[n + "_sum"]))
    if us["untracked"]:
        bad.append("untracked %d" % us["untracked"])
    text = "analysis " + ("agrees (dup_ack %d, fast %d, spurious %d, other %d, reordered %d, "
                          "dsack %d, ack_rtt %d, handshake %d)" % (
                              ws["dup_ack"], ws["fast"], ws["spurious"], ws["other"],
                              ws["reordered"], ws["dsack"], ws["ack_rtt_count"],
                              ws["hs_rtt_count"])
                          if not bad else "differs (tcpwm/wireshark): " + ", ".join(bad))
    return not bad, text


class Tshark:
    def __init__(self, path):
        self.path = path
        # An empty personal configuration: Wireshark's default preferences.
        self.confdir = tempfile.mkdtemp(prefix="tcpwm-identity-ws-")
        self.env = dict(os.environ, WIRESHARK_CONFIG_DIR=self.confdir)

    def close(self):
        shutil.rmtree(self.confdir, ignore_errors=True)

    def frames(self, capture, extra=()):
        """One tshark pass: [(frame, epoch, {flag: bool})], return code, error."""
        cmd = [self.path, "-n", "-r", capture, "-o", "tcp.analyze_sequence_numbers:TRUE",
               "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a",
               "-e", "frame.number", "-e", "frame.time_epoch"]
        for f in FLAGS + tuple(extra):
            cmd += ["-e", f]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, env=self.env, timeout=600)
        rows = []
        for line in p.stdout.decode("utf-8", "replace").splitlines():
            cols = line.split("\t")
            if len(cols) < 2 + len(FLAGS):
                continue
            # A present FT_NONE flag prints as "1" (once per TCP layer).
            flags = {f: cols[2 + i] != "" for i, f in enumerate(FLAGS)}
            rows.append((int(cols[0]), cols[1], flags, cols[2 + len(FLAGS):]))
        err = [l for l in p.stderr.decode("utf-8", "replace").splitlines()
               if l.strip() and "Running as user" not in l]
        return rows, p.returncode, (err[-1] if err else "")

    def counts(self, capture):
        rows, rc, err = self.frames(capture, extra=ANALYSIS_FIELDS)
        lost = sum(1 for r in rows if r[2]["tcp.analysis.lost_segment"])
        retrans = sum(1 for r in rows
                      if r[2]["tcp.analysis.retransmission"] or r[2]["tcp.analysis.out_of_order"])
        # The claim that fast and spurious retransmissions carry the
        # retransmission flag as well is checked, not assumed.
        loose = [r[0] for r in rows
                 if (r[2]["tcp.analysis.fast_retransmission"]
                     or r[2]["tcp.analysis.spurious_retransmission"])
                 and not r[2]["tcp.analysis.retransmission"]]
        out = {"lost": lost, "retrans": retrans, "frames": len(rows), "rc": rc, "err": err,
               "loose": loose}
        out.update(analysis_counts(rows))
        return out


# ------------------------------------------------------------------- checks

def collect(paths, tmp):
    """(display name, readable path) for every capture under paths."""
    out = []
    for top in paths:
        files = []
        if os.path.isfile(top):
            files = [top]
        else:
            for d, _, names in os.walk(top):
                files += [os.path.join(d, n) for n in names]
        for f in sorted(files):
            base = os.path.basename(f)
            if base.endswith(".gz") and base[:-3].endswith(EXTENSIONS):
                plain = os.path.join(tmp, base[:-3])
                with gzip.open(f, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                out.append((os.path.relpath(f, top) if f != top else base, plain))
            elif base.endswith(EXTENSIONS):
                out.append((os.path.relpath(f, top) if f != top else base, f))
    return out


def check(binary, tshark, name, path):
    """Return (status, line); status is 'pass', 'fail' or 'skip'."""
    ws = tshark.counts(path)
    us, frames, err = ours(binary, path)
    base = os.path.basename(name)
    if base.endswith(".gz"):
        base = base[:-3]
    reason = EXCEPTIONS.get(base)
    a_reason = ANALYSIS_EXCEPTIONS.get(base)
    a_same, a_txt = False, "analysis not compared"
    ws_txt = "wireshark lost=%d retrans|ooo=%d" % (ws["lost"], ws["retrans"])
    if us is None:
        us_txt = "tcpwm refused it (%s)" % err
        same = False
    else:
        us_txt = "tcpwm missing=%d dup+ooo=%d (dup %d, ooo %d)" % (
            us["missing"], us["duplicate"] + us["out_of_order"], us["duplicate"],
            us["out_of_order"])
        # Both must have read the same frames: tcp_monitor_packets_total
        # counts every frame read, TCP or not, as tshark prints a line for each.
        same = (frames == ws["frames"] and us["missing"] == ws["lost"]
                and us["duplicate"] + us["out_of_order"] == ws["retrans"])
        a_same, a_txt = analysis_same(us, ws)
        a_same = a_same and frames == ws["frames"]
        if err or ws["rc"] != 0 or frames != ws["frames"]:
            us_txt += " (%s, %d frames read)" % (err or "exit 0", frames)
            ws_txt += " (%d frames read)" % ws["frames"]
    if ws["rc"] != 0:
        ws_txt += " (tshark exit %d: %s)" % (ws["rc"], ws["err"])
    text = "%s: %s; %s; %s" % (name, us_txt, ws_txt, a_txt)
    if ws["loose"]:
        # Not a difference between the tools, but the premise of the
        # comparison failing: report it loudly.
        return "fail", "FAIL %s; fast/spurious retransmission without the retransmission flag " \
            "in frames %s" % (text, ws["loose"][:10])
    if reason is not None and same:
        return "fail", "FAIL %s; listed as an exception but agrees: remove it" % text
    if a_reason is not None and a_same:
        return "fail", "FAIL %s; listed as an analysis exception but agrees: remove it" % text
    if (not same and reason is None) or (not a_same and a_reason is None):
        return "fail", "FAIL " + text
    if reason is not None or a_reason is not None:
        return "skip", "EXCEPTION %s; %s" % (text, "; ".join(
            r for r in (reason, a_reason) if r is not None))
    return "pass", "ok   " + text


def run_corpus(args):
    paths = [p for p in args.paths if os.path.exists(p)]
    if not paths:
        if args.skip_absent:
            print("identity: none of %s exists; skipped" % ", ".join(args.paths))
            return SKIP
        die("none of %s exists" % ", ".join(args.paths))
    if not shutil.which(args.tshark):
        print("identity: tshark not found (%s); skipped" % args.tshark)
        return SKIP
    tshark = Tshark(args.tshark)
    tmp = tempfile.mkdtemp(prefix="tcpwm-identity-")
    try:
        caps = collect(paths, tmp)
        if not caps:
            die("no captures under %s" % ", ".join(paths))
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            results = list(pool.map(lambda c: check(args.binary, tshark, *c), caps))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        tshark.close()
    tally = {"pass": 0, "fail": 0, "skip": 0}
    for status, line in results:
        tally[status] += 1
        print(line)
    print("%d passed, %d failed, %d skipped" % (tally["pass"], tally["fail"], tally["skip"]))
    return 1 if tally["fail"] else 0


# --------------------------------------------------------- per-frame view

VERBOSE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$")


def iso(epoch):
    """tshark's frame.time_epoch ("1700000000.123456000") as `-v` prints it."""
    sec, _, frac = epoch.partition(".")
    t = datetime.datetime.fromtimestamp(int(sec), datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + (frac + "000000000")[:9] + "Z"


def run_frames(args):
    tshark = Tshark(args.tshark)
    try:
        rows, rc, err = tshark.frames(args.frames, extra=("tcp.stream", "tcp.seq_raw",
                                                          "tcp.len", "tcp.flags.str"))
    finally:
        tshark.close()
    p = subprocess.run([args.binary, "-r", args.frames, "--scope", "all", "-q", "-v"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    ev = {}
    for line in p.stderr.decode("utf-8", "replace").splitlines():
        m = VERBOSE.match(line)
        if m:
            words = m.group(2).split()
            kinds = [w for w in words if w in ("missing", "duplicate", "out_of_order")]
            if kinds:
                ev.setdefault(m.group(1), []).append(" ".join(kinds) + "  | " + m.group(2))
    # Frames with the same timestamp form one group; compare per group.
    groups = {}
    for r in rows:
        groups.setdefault(iso(r[1]), []).append(r)
    print("frame  stream seq_raw len flags | wireshark | tcpwm -v")
    diff = 0
    for when in sorted(set(groups) | set(ev)):
        ws = []
        for frame, _, flags, extra in groups.get(when, []):
            names = [f.split(".")[-1] for f in FLAGS if flags[f]]
            if names:
                ws.append("%d %s %s" % (frame, " ".join(extra), ",".join(names)))
        us = ev.get(when, [])
        nws_l = sum(1 for w in ws if "lost_segment" in w)
        nws_r = sum(1 for w in ws if "retransmission" in w or "out_of_order" in w)
        nus_m = sum(1 for u in us if "missing" in u.split("|")[0])
        nus_r = sum(1 for u in us if "duplicate" in u.split("|")[0]
                    or "out_of_order" in u.split("|")[0])
        if not ws and not us:
            continue
        mark = "  " if (nws_l, nws_r) == (nus_m, nus_r) else "!!"
        diff += mark == "!!"
        if mark == "!!" or args.all:
            print("%s %s" % (mark, when))
            for w in ws:
                print("     ws: %s" % w)
            for u in us:
                print("     us: %s" % u)
    print("%d timestamps differ (tshark exit %d%s)" % (diff, rc, ": " + err if err else ""))
    return 1 if diff else 0


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends us quietly
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("binary", help="path to tcp_window_monitor")
    ap.add_argument("paths", nargs="*", help="capture folders or files")
    ap.add_argument("--tshark", default=shutil.which("tshark") or "tshark")
    ap.add_argument("--skip-absent", action="store_true")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--frames", metavar="CAPTURE")
    ap.add_argument("--all", action="store_true", help="with --frames: show agreeing frames too")
    args = ap.parse_intermixed_args()
    if not os.access(args.binary, os.X_OK):
        die("%s is not an executable" % args.binary)
    if args.frames:
        return run_frames(args)
    if not args.paths:
        die("give capture folders or files")
    return run_corpus(args)


if __name__ == "__main__":
    sys.exit(main())
