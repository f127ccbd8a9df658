#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.fuzz: robustness, Wireshark's own way (its fuzz-test.sh): every
capture of the corpus, corrupted with `editcap -E 0.02 --seed S`, read by
tshark with the plugin on the paths that matter at once --

  tshark -2 -V -r CORRUPT -z tcpwm,prom -z tcpwm,flows

(first pass in order through the core, second pass replaying stored
results into a full tree, the taps' own monitors, the exposition, the
table of flows). It
must not crash, abort, trip a sanitizer or leak (when the plugin is
built with ASan, see wstest.py), and never show a dissector bug or a
malformed-packet item of TCPWM. And since the corruption is in the
packet bytes, both readers still see the same records: the -z output
must equal tcp_window_monitor's on the corrupted file.

With --invocations all, each corrupted file is also read the other ways
users read it, one pass each (the first pass's verdicts printed as they
are computed):

  tshark -r CORRUPT -T fields -e frame.number -e tcpwm... (every field)
  tshark -r CORRUPT -Y "tcpwm.loss.missing || ..."        (summary lines)

The ctest run is bounded (--seeds 2, the first 400 records of each
file, the -z run only); the long run recorded in docs/robustness.md
(section 5) is, from the repository:
  tests/plugin/test_fuzz.py --seeds 5 --frames 0 --invocations all --jobs 1 \
      --tshark /usr/bin/tshark --editcap /usr/bin/editcap --source-dir . \
      --plugin-dir build/dev/plugin/wsplugins --standalone build/dev/tcp_window_monitor
It ends with one line counting the tshark runs, the distinct corrupted
files and the crashes.
"""
import hashlib
import os
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_fields  # noqa: E402
import test_zstat  # noqa: E402
import wstest  # noqa: E402

BAD_MARKS = ("Dissector bug, protocol TCPWM", "Malformed Packet: TCPWM",
             "[Malformed Packet: TCPWM")
# The -Y run: frames with an event, as a user hunting for loss types it.
EVENT_FILTER = ("tcpwm.loss.missing || tcpwm.loss.duplicate || tcpwm.loss.out_of_order"
                " || tcpwm.loss.capture_gap || tcpwm.window.shrink || tcpwm.window.zero_window"
                " || tcpwm.decode_error")

# Tally of the whole run (worker threads add to it).
TALLY = {"runs": 0, "crashes": 0, "hangs": 0, "sanitizer": 0, "files": 0}
DIGESTS = set()
TALLY_LOCK = threading.Lock()


def options(p):
    p.add_argument("--seeds", type=int, default=2, help="seeds per capture")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--frames", type=int, default=400,
                   help="records kept from each capture (0: all)")
    p.add_argument("--probability", default="0.02")
    p.add_argument("--invocations", choices=("zstat", "all"), default="zstat",
                   help="zstat: tshark -2 -V -z tcpwm,prom only; all: also -T fields "
                        "and -Y on one pass")
    p.add_argument("--jobs", type=int, default=0,
                   help="tshark runs at once (0: the suite's default, 2 to 8)")


def run_tshark(suite, what, *targs):
    """One tshark run over a corrupted file: (ok, what, detail, rc, stdout).
    A signal, an exit status other than 0 or 2 (2: the file ends inside a
    record), a hang or a sanitizer report is a crash."""
    try:
        rc, text, err = suite.tshark(*targs, timeout=900)
    except subprocess.TimeoutExpired:
        with TALLY_LOCK:
            TALLY["runs"] += 1
            TALLY["hangs"] += 1
        return False, "%s: tshark %s hung (900 s)" % (what, " ".join(targs)), "", -1, ""
    crashed = rc not in (0, 2)
    sanitized = any(m in err for m in wstest.SANITIZER_MARKS)
    bad = [m for m in BAD_MARKS if m in text]
    with TALLY_LOCK:
        TALLY["runs"] += 1
        TALLY["crashes"] += crashed
        TALLY["sanitizer"] += sanitized
    return (not crashed and not sanitized and not bad,
            "%s: tshark %s survives (rc %d)" % (what, " ".join(targs), rc),
            "marks: %s\n%s" % (bad, err[-3000:]), rc, text)


def one(suite, args, label, src, seed):
    out = suite.new_file("fuzz-%d-%s.pcapng" % (seed, os.path.basename(src)))
    cmd = [args.editcap, "-F", "pcapng", "-E", args.probability, "--seed", str(seed)]
    if args.frames > 0:  # -r: keep (not drop) the records listed after the files
        cmd += ["-r", src, out, "1-%d" % args.frames]
    else:
        cmd += [src, out]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0 or not os.path.exists(out):
        return [("skip", "%s seed %d: editcap cannot rewrite it: %s"
                 % (label, seed, p.stderr.decode(errors="replace").strip()[-200:]), "")]
    os.chmod(out, 0o644)
    with open(out, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with TALLY_LOCK:
        TALLY["files"] += 1
        DIGESTS.add(digest)
    what = "%s seed %d" % (label, seed)
    res = []
    ok, msg, detail, rc, text = run_tshark(suite, what, "-2", "-V", "-r", out,
                                           "-z", "tcpwm,prom", "-z", "tcpwm,flows")
    res.append((ok, msg.replace(" -r " + out, "").replace(out, "FILE"), detail))
    if args.invocations == "all":
        fields = sum([["-e", f] for f in test_fields.ALL_FIELDS], [])
        for targs in (["-r", out, "-T", "fields", "-e", "frame.number"] + fields,
                      ["-r", out, "-Y", EVENT_FILTER]):
            ok2, msg2, detail2, _, _ = run_tshark(suite, what, *targs)
            short = "-T fields -e tcpwm..." if "fields" in targs else "-Y EVENTS"
            res.append((ok2, "%s: tshark %s survives" % (what, short), detail2))
    src_rc, want, src_err = suite.standalone("-q", "-r", out, "--scope", "all")
    if test_zstat.refused(src_rc, src_err) is None:
        i = text.rfind("# HELP tcp_monitor_packets_total")
        got = text[i:] if i >= 0 else ""
        # tshark draws the -z statistics last first; the table's rule of
        # '=' would follow the exposition otherwise.
        j = got.find("\n=====")
        got = got[:j] if j >= 0 else got
        res.append((got == want, "%s: -z output == tcp_window_monitor on the corrupted file"
                    % what, wstest.diff(want, got)))
    os.unlink(out)
    return res


def main():
    args = wstest.parse_args(options)
    suite, files = wstest.corpus_suite(args, "fuzz")
    jobs = [(label, src, seed) for label, src in files
            for seed in range(args.first_seed, args.first_seed + args.seeds)]
    for res in suite.parallel(lambda j: one(suite, args, *j), jobs, workers=args.jobs or None):
        for ok, what, detail in res:
            if ok == "skip":
                suite.skip(what, "")
            else:
                suite.check(ok, what, detail)
    print("tshark runs over corrupted captures: %d (%d corrupted files, %d distinct); "
          "crashes (signal or exit status other than 0/2): %d, hangs: %d, "
          "sanitizer reports: %d" % (TALLY["runs"], TALLY["files"], len(DIGESTS),
                                     TALLY["crashes"], TALLY["hangs"], TALLY["sanitizer"]))
    suite.finish()


if __name__ == "__main__":
    main()
