#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.twopass: Wireshark dissects the first pass in order and later
passes in any order; the plugin runs the core on the first pass only and
replays each frame's stored result afterwards. So on every capture of the
corpus, for every frame, all tcpwm fields must read the same

  tshark -r F -T fields -e ...            (one pass: the core runs)
  tshark -2 -r F -T fields -e ...         (two passes: printed from the replay)

and a display filter must select the same frames both ways.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_fields  # noqa: E402
import wstest  # noqa: E402


def one_file(suite, label, src):
    path = suite.stage(src)
    fields = sum([["-e", f] for f in test_fields.ALL_FIELDS], [])
    base = ["-r", path, "-T", "fields", "-E", "separator=\t", "-e", "frame.number"] + fields
    rc1, one, err1 = suite.tshark(*base)
    rc2, two, err2 = suite.tshark("-2", *base)
    res = [(rc1 == rc2 and one == two and one != "",
            "%s: every tcpwm field, one pass == tshark -2 (%d frames)"
            % (label, len(one.splitlines())), wstest.diff(one, two) + err1[-500:] + err2[-500:])]
    flt = "tcpwm.loss.missing || tcpwm.loss.out_of_order || tcpwm.window.zero_window"
    _, a, _ = suite.tshark("-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number")
    _, b, _ = suite.tshark("-2", "-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number")
    res.append((a == b, "%s: -Y on events, one pass == tshark -2 (%d frames)"
                % (label, len(a.split())), wstest.diff(a, b)))
    return res


def main():
    args = wstest.parse_args()
    suite = wstest.Suite(args, "twopass")
    files = wstest.corpus(args.source_dir)
    if not files:
        suite.fatal("no captures under tests/pcaps")
    for res in suite.parallel(lambda f: one_file(suite, f[0], f[1]), files):
        for ok, what, detail in res:
            suite.check(ok, what, detail)
    suite.finish()


if __name__ == "__main__":
    main()
