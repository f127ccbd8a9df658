#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""core/src/wsan.c against tshark's TCP analysis, frame by frame.

    wsan_check.py --driver WSAN_CHECK [--tshark PATH] [--skip-absent] [-v] DIR_OR_FILE...

For every capture (.pcap/.pcapng/.cap, .gz too) it runs the driver
(tests/identity/wsan_check.c) and

    tshark -r F -T fields -e frame.number -e tcp.analysis.duplicate_ack
           -e tcp.analysis.fast_retransmission -e tcp.analysis.spurious_retransmission
           -e tcp.analysis.retransmission -e tcp.analysis.out_of_order
           -e tcp.options.sack.dsack -e tcp.analysis.ack_rtt -e tcp.analysis.initial_rtt

with an empty configuration folder (default preferences, one pass), and
compares per frame: dup_ack, retransmission kind (fast / spurious / other =
retransmission without the two), reordered (out_of_order), dsack, ack_rtt
(present on the same frames, equal within 1 us) and the handshake RTT (the
frame where tshark first shows initial_rtt in a stream, same value within
1 us). One line per capture and field with the frames that agree and
disagree.

The driver runs the module as the monitor will: outstanding segments in
the shared pool with the monitor's default caps. It must agree on every
field except where EXCEPTIONS says why not, and must not leave a segment
untracked (a cap reached): every ACK RTT sample tshark shows, we show too.
The pool's busiest moment per capture is printed (records, bytes).

Exit status: 0 all agree, 1 a disagreement, 2 usage, 77 --skip-absent and
nothing to check.
"""
import argparse
import gzip
import os
import shutil
import subprocess
import sys
import tempfile

EXTENSIONS = (".pcap", ".pcapng", ".cap")
FIELDS = ("dup_ack", "retx", "reordered", "dsack", "ack_rtt", "handshake_rtt")
KINDS = {0: "none", 1: "fast", 2: "spurious", 3: "other"}
US = 1000  # ns: RTTs equal within 1 us

# Captures whose differences are explained (docs/semantics.md section 7,
# "Where tcpwm and tshark differ"): name -> reason. Still run and printed.
EXCEPTIONS = {
    # IP fragments: tshark reassembles them before TCP; the driver only
    # reads plain frames (the monitor reassembles, as tshark does).
    "frag-after-router.pcap": "IP fragments (driver does not reassemble)",
    "frag-after-router-s128.pcap": "IP fragments (driver does not reassemble)",
    "frag-before-router.pcap": "IP fragments (driver does not reassemble)",
    "bad_fragment.pcap": "IP fragments (driver does not reassemble)",
    # Tunnel headers RFC 2784/7348/8926 say to discard (bad_encapsulation):
    # tshark decodes the TCP inside anyway, we do not analyze it.
    "tun_bad.pcap": "tunnel headers we discard, tshark decodes",
    # Interface 1's timestamps lie beyond 2262 (tshark prints 18446744073204 s):
    # the reader clamps capture times to the int64 nanoseconds of
    # semantics.md, so every RTT on that interface is 0 (no sample); frame
    # 3 acknowledges a frame stamped 46 years later (tshark: a negative RTT).
    "PcapPlusPlus__pcapng-example.pcapng": "timestamps beyond 2262 and going back 46 years",
    # Frame 24 has a SACK option of length 2, no block (RFC 2018 needs one):
    # tshark's dissector throws "Malformed" there and prints no analysis for
    # the frame, though its state took the ACK; we show the RTT sample.
    "suricata-verify__tcp-empty-sack__tcp-opt.pcap": "malformed SACK: tshark prints no analysis",
    # Frame 158, a SYN-ACK with a new ISN after an RST: Wireshark starts a
    # new stream there; semantics.md section 3 (and the monitor) start one
    # only at a SYN without ACK, so frames 160, 259, 264, 269 are
    # retransmissions of the old stream's sequence space for us.
    "suricata-verify__tls-subjectaltname__input.pcap":
        "Wireshark's new stream at a SYN-ACK with a new ISN",
    # Capture time running backwards by years: tshark shows negative RTTs of
    # 20 years; our times are differences modulo 2^32 us.
    "suricata-verify__bug-1450-04__tls_DER-incomplete-header.pcap": "timestamps going back years",
    "suricata-verify__bug-6887-defrag-ppp-ipv4-tcp-syn__frag-ppp-ip-tcp-syn.pcap":
        "IP fragments (driver does not reassemble)",
}


def tshark_rows(tshark, env, capture):
    cmd = [tshark, "-n", "-r", capture, "-T", "fields", "-E", "separator=/t",
           "-E", "occurrence=f",
           "-e", "frame.number", "-e", "tcp.stream",
           "-e", "tcp.analysis.duplicate_ack", "-e", "tcp.analysis.fast_retransmission",
           "-e", "tcp.analysis.spurious_retransmission", "-e", "tcp.analysis.retransmission",
           "-e", "tcp.analysis.out_of_order", "-e", "tcp.options.sack.dsack",
           "-e", "tcp.analysis.ack_rtt", "-e", "tcp.analysis.initial_rtt"]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       stdin=subprocess.DEVNULL, env=env, timeout=900)
    rows = {}
    first_hs = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        c = line.split("\t")
        if len(c) < 10 or c[1] == "":
            continue  # not TCP
        frame = int(c[0])
        if c[3]:
            kind = "fast"
        elif c[4]:
            kind = "spurious"
        elif c[5]:
            kind = "other"
        else:
            kind = "none"
        rtt = round(float(c[8]) * 1e9) if c[8] else None
        if c[9] and c[1] not in first_hs:
            first_hs[c[1]] = frame
        hs = round(float(c[9]) * 1e9) if c[9] and first_hs.get(c[1]) == frame else None
        STREAM[frame] = c[1]
        rows[frame] = {"dup_ack": bool(c[2]), "retx": kind, "reordered": bool(c[6]),
                       "dsack": bool(c[7]), "ack_rtt": rtt, "handshake_rtt": hs}
    return rows


def driver_rows(driver, capture):
    p = subprocess.run([driver, capture], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=900)
    rows = {}
    overflow = 0
    pool = (0, 0)
    for line in p.stdout.decode().splitlines():
        f = line.split()
        if f and f[0] == "#":
            pool = (int(f[2]), int(f[3]))
            continue
        rtt, hs = int(f[5]), int(f[6])
        rows[int(f[0])] = {"dup_ack": f[1] == "1", "retx": KINDS[int(f[2])],
                           "reordered": f[3] == "1", "dsack": f[4] == "1",
                           "ack_rtt": rtt if rtt >= 0 else None,
                           "handshake_rtt": hs if hs >= 0 else None}
        overflow += int(f[7])
    return rows, overflow, p.returncode, pool


def same(field, a, b):
    if field in ("ack_rtt", "handshake_rtt"):
        if a is None or b is None:
            return a is None and b is None
        return abs(a - b) <= US
    return a == b


NONE = {"dup_ack": False, "retx": "none", "reordered": False, "dsack": False,
        "ack_rtt": None, "handshake_rtt": None}


STREAM = {}


def compare(ws, ours):
    """{field: (agree, [disagreeing frames])} over the frames tshark calls TCP;
    the handshake RTT per tshark stream (tshark shows initial_rtt from the
    first frame whose analysis tree it prints, not always the completing
    ACK): (agree, [streams])."""
    out = {}
    w_hs = {STREAM[f]: w["handshake_rtt"] for f, w in ws.items() if w["handshake_rtt"] is not None}
    o_hs = {}
    for f, o in ours.items():
        if o["handshake_rtt"] is not None and f in STREAM:
            o_hs.setdefault(STREAM[f], o["handshake_rtt"])
    streams = set(w_hs) | set(o_hs)
    bad = sorted(st for st in streams if not same("handshake_rtt", w_hs.get(st), o_hs.get(st)))
    out["handshake_rtt"] = (len(streams) - len(bad), bad)
    for field in FIELDS[:-1]:
        agree, bad = 0, []
        for frame, w in ws.items():
            o = ours.get(frame, NONE)
            if same(field, w[field], o[field]):
                agree += 1
            else:
                bad.append(frame)
        out[field] = (agree, bad)
    return out


def collect(paths, tmp):
    out = []
    for top in paths:
        files = [top] if os.path.isfile(top) else [
            os.path.join(d, n) for d, _, names in os.walk(top) for n in names]
        for f in sorted(files):
            base = os.path.basename(f)
            if base.endswith(".gz") and base[:-3].endswith(EXTENSIONS):
                plain = os.path.join(tmp, base[:-3])
                with gzip.open(f, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                out.append((base[:-3], plain))
            elif base.endswith(EXTENSIONS):
                out.append((base, f))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--tshark", default=shutil.which("tshark"))
    ap.add_argument("--skip-absent", action="store_true")
    ap.add_argument("-v", action="store_true", help="print the disagreeing frames")
    ap.add_argument("paths", nargs="+")
    a = ap.parse_args()
    paths = [p for p in a.paths if os.path.exists(p)]
    if not a.tshark:
        print("wsan_check: tshark not found, skipped")
        return 77
    if len(paths) < len(a.paths):
        if a.skip_absent and not paths:
            print("wsan_check: no capture folder present, skipped")
            return 77
        if not a.skip_absent:
            print("wsan_check: missing: " + " ".join(set(a.paths) - set(paths)))
            return 2
    tmp = tempfile.mkdtemp(prefix="tcpwm-wsan-")
    conf = tempfile.mkdtemp(prefix="tcpwm-wsan-ws-")
    env = dict(os.environ, WIRESHARK_CONFIG_DIR=conf)
    failed = passed = excepted = 0
    totals = {f: [0, 0] for f in FIELDS}
    try:
        for name, path in collect(paths, tmp):
            ws = tshark_rows(a.tshark, env, path)
            ours, untracked, rc, pool = driver_rows(a.driver, path)
            res = compare(ws, ours)
            bad_fields = [f for f in FIELDS if res[f][1]]
            n_ws = sum(1 for w in ws.values() if w["ack_rtt"] is not None)
            n_us = sum(1 for o in ours.values() if o["ack_rtt"] is not None)
            mon_note = f"; ack_rtt samples {n_us}/{n_ws}, pool peak {pool[0]} records"
            mon_bad = []
            if untracked:
                mon_bad.append(f"{untracked} segments untracked (a pool cap reached)")
            if rc != 0:
                mon_bad.append(f"driver exit status {rc}")
            STREAM.clear()
            for f in FIELDS:
                totals[f][0] += res[f][0]
                totals[f][1] += len(res[f][1])
            detail = ", ".join(f"{f} {res[f][0]}/{res[f][0] + len(res[f][1])}" for f in FIELDS)
            if name in EXCEPTIONS and (bad_fields or mon_bad):
                status = "EXCEPT"
                excepted += 1
            elif bad_fields or mon_bad:
                status = "FAIL"
                failed += 1
            else:
                status = "ok"
                passed += 1
            print(f"{status:6} {name}: {len(ws)} TCP frames; agree {detail}{mon_note}"
                  + (f" [{EXCEPTIONS[name]}]" if status == "EXCEPT" else ""))
            if status != "ok" or a.v:
                for f in bad_fields:
                    frames = res[f][1]
                    if f == "handshake_rtt":
                        print(f"         handshake_rtt differs on {len(frames)} streams: "
                              + " ".join(frames[:8]))
                        continue
                    print(f"         {f} differs on {len(frames)} frames: "
                          + " ".join(f"{fr}(ws={ws[fr][f]},us={ours.get(fr, NONE)[f]})"
                                     for fr in frames[:8]))
                for m in mon_bad:
                    print(f"         {m}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(conf, ignore_errors=True)
    print("per field over all frames (agree/disagree): "
          + ", ".join(f"{f} {v[0]}/{v[1]}" for f, v in totals.items()))
    print(f"{passed} passed, {failed} failed, {excepted} excepted")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
