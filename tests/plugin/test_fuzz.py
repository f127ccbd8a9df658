#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.fuzz: robustness, Wireshark's own way (its fuzz-test.sh): every
capture of the corpus, corrupted with `editcap -E 0.02 --seed S`, read by
tshark with the plugin on the paths that matter at once --

  tshark -2 -V -r CORRUPT -z tcpwm,prom

(first pass in order through the core, second pass replaying stored
results into a full tree, the tap's own monitor, the exposition). It
must not crash, abort, trip a sanitizer or leak (when the plugin is
built with ASan, see wstest.py), and never show a dissector bug or a
malformed-packet item of TCPWM. And since the corruption is in the
packet bytes, both readers still see the same records: the -z output
must equal tcp_window_monitor's on the corrupted file.

The ctest run is bounded (--seeds 2, the first 400 records of each
file); the full run is, e.g.:
  tests/plugin/test_fuzz.py --seeds 50 --frames 0 --plugin-dir ... (see README)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_zstat  # noqa: E402
import wstest  # noqa: E402

BAD_MARKS = ("Dissector bug, protocol TCPWM", "Malformed Packet: TCPWM",
             "[Malformed Packet: TCPWM")


def options(p):
    p.add_argument("--seeds", type=int, default=2, help="seeds per capture")
    p.add_argument("--first-seed", type=int, default=1)
    p.add_argument("--frames", type=int, default=400,
                   help="records kept from each capture (0: all)")
    p.add_argument("--probability", default="0.02")


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
    what = "%s seed %d" % (label, seed)
    res = []
    rc, text, err = suite.tshark("-2", "-V", "-r", out, "-z", "tcpwm,prom")
    crashed = rc not in (0, 2) or rc < 0
    bad = [m for m in BAD_MARKS if m in text]
    res.append((not crashed and not bad,
                "%s: tshark -2 -V -z tcpwm,prom survives (rc %d)" % (what, rc),
                "marks: %s\n%s" % (bad, err[-3000:])))
    src_rc, want, src_err = suite.standalone("-q", "-r", out, "--scope", "all")
    if test_zstat.refused(src_rc, src_err) is None:
        i = text.rfind("# HELP tcp_monitor_packets_total")
        got = text[i:] if i >= 0 else ""
        res.append((got == want, "%s: -z output == tcp_window_monitor on the corrupted file"
                    % what, wstest.diff(want, got)))
    os.unlink(out)
    return res


def main():
    args = wstest.parse_args(options)
    if not args.standalone:
        print("--standalone is required")
        sys.exit(2)
    suite = wstest.Suite(args, "fuzz")
    files = wstest.corpus(args.source_dir)
    if not files:
        suite.fatal("no captures under tests/pcaps")
    jobs = [(label, src, seed) for label, src in files
            for seed in range(args.first_seed, args.first_seed + args.seeds)]
    for res in suite.parallel(lambda j: one(suite, args, *j), jobs):
        for ok, what, detail in res:
            if ok == "skip":
                suite.skip(what, "")
            else:
                suite.check(ok, what, detail)
    suite.finish()


if __name__ == "__main__":
    main()
