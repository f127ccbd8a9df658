#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.zstat: tshark -q -z tcpwm,prom prints, byte for byte, what
tcp_window_monitor -r FILE --scope all (replay's default) prints, on every capture of
tests/pcaps/ (and of ../shared/pcaps when it exists). Also, on each crafted
capture (tests/pcaps/crafted):

  -z tcpwm,openmetrics            == --format openmetrics --scope all
  -2 -z tcpwm,prom                == the one-pass output
  -z tcpwm,prom,frame             == no filter (a filter that takes all)
  -o tcpwm.scope:global           == --scope global
  -o tcpwm.max_holes:1 -o tcpwm.idle_timeout:1
                                  == --max-holes 1 --idle-timeout 1 --scope all
  -o tcpwm.vxlan_ports:4789,8472 -o tcpwm.geneve_ports:6082
                                  == --vxlan-port 8472,4789 --geneve-port 6082
                                  (captures named for a tunnel)
  -o tcpwm.service_ports:80,443   == --service-ports 443,80 (the port label)
  -z tcpwm,prom,tcp.len>0         counts exactly the frames the filter passes
                                  (those tshark -Y tcp.len>0 shows)

Files the standalone refuses (a link type it does not decode, a format
libpcap cannot read, pcapng interfaces of mixed link types or snap
lengths) are skipped, with its message as the reason: there is nothing to
compare with. A capture cut short (a truncated last record) is compared:
both stop at the same record and print what they analyzed.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wstest  # noqa: E402


def refused(rc, err):
    """The standalone's reason for not reading a file at all, or None."""
    if rc == 0 or "truncated" in err:
        return None
    return err.strip().split("\n")[-1]


def same(what, want, got, err=""):
    return (want == got and want != "", what, wstest.diff(want, got) + err[-2000:])


def one_file(suite, label, src, quick):
    """All checks of one capture: a list of (ok, what, detail), or a
    string: why it is skipped."""
    rc, want, err = suite.standalone("-q", "-r", src, "--scope", "all")
    why = refused(rc, err)
    if why is not None:
        return "the standalone refuses it: " + why
    res = []
    path = suite.stage(src)
    _, got, terr = suite.tshark("-r", path, "-q", "-z", "tcpwm,prom")
    res.append(same("%s: -z tcpwm,prom == tcp_window_monitor --scope all" % label, want, got,
                    terr))
    if quick:
        return res

    _, want_om, _ = suite.standalone("-q", "-r", src, "--scope", "all", "--format",
                                     "openmetrics")
    _, got_om, terr = suite.tshark("-r", path, "-q", "-z", "tcpwm,openmetrics")
    res.append(same("%s: -z tcpwm,openmetrics == --format openmetrics" % label, want_om,
                    got_om, terr))

    _, got2, terr = suite.tshark("-2", "-r", path, "-q", "-z", "tcpwm,prom")
    res.append(same("%s: tshark -2 -z tcpwm,prom == one pass" % label, want, got2, terr))

    _, gotf, terr = suite.tshark("-r", path, "-q", "-z", "tcpwm,prom,frame")
    res.append(same("%s: -z tcpwm,prom,frame == no filter" % label, want, gotf, terr))

    _, want_g, _ = suite.standalone("-q", "-r", src, "--scope", "global")
    _, got_g, terr = suite.tshark("-r", path, "-q", "-o", "tcpwm.scope:global", "-z",
                                  "tcpwm,prom")
    res.append(same("%s: -o tcpwm.scope:global == --scope global" % label, want_g, got_g, terr))

    _, want_k, _ = suite.standalone("-q", "-r", src, "--scope", "all", "--max-holes", "1",
                                    "--idle-timeout", "1")
    _, got_k, terr = suite.tshark("-r", path, "-q", "-o", "tcpwm.max_holes:1", "-o",
                                  "tcpwm.idle_timeout:1", "-z", "tcpwm,prom")
    res.append(same("%s: max_holes/idle_timeout prefs == --max-holes 1 --idle-timeout 1"
                    % label, want_k, got_k, terr))

    if "vxlan" in label or "geneve" in label or "tun_" in label:
        # The tunnel-port preferences replace the default list as the flags do.
        _, want_p, _ = suite.standalone("-q", "-r", src, "--scope", "all", "--vxlan-port",
                                        "8472,4789", "--geneve-port", "6082")
        _, got_p, terr = suite.tshark("-r", path, "-q", "-o", "tcpwm.vxlan_ports:4789,8472", "-o",
                                      "tcpwm.geneve_ports:6082", "-z", "tcpwm,prom")
        res.append(same("%s: vxlan_ports/geneve_ports prefs == --vxlan-port/--geneve-port"
                        % label, want_p, got_p, terr))

    # The service ports preference gives the port label as the flag does
    # (docs/semantics.md 8), whatever order the list is in.
    _, want_s, _ = suite.standalone("-q", "-r", src, "--scope", "all", "--service-ports",
                                    "443,80")
    _, got_s, terr = suite.tshark("-r", path, "-q", "-o", "tcpwm.service_ports:80,443", "-z",
                                  "tcpwm,prom")
    res.append(same("%s: -o tcpwm.service_ports:80,443 == --service-ports 443,80" % label,
                    want_s, got_s, terr))

    flt = "tcp.len>0"
    _, out, terr = suite.tshark("-r", path, "-q", "-z", "tcpwm,prom," + flt)
    m = re.search(r"^tcp_monitor_packets_total (\d+)$", out, re.M)
    _, frames, _ = suite.tshark("-r", path, "-Y", flt, "-T", "fields", "-e", "frame.number")
    n = len(frames.split())
    res.append((m is not None and int(m.group(1)) == n,
                "%s: -z tcpwm,prom,%s counts the %d frames -Y %s shows" % (label, flt, n, flt),
                out[:300] + terr[-1000:]))
    return res


def main():
    args = wstest.parse_args(lambda p: p.add_argument(
        "--quick", action="store_true", help="only the Prometheus identity"))
    suite, files = wstest.corpus_suite(args, "zstat")
    # Every capture gets the identity that matters, -z tcpwm,prom == the
    # standalone. The variants check how preferences, formats and filters
    # reach the core, which does not depend on the traffic: the crafted
    # captures (made to exercise every rule) get them all, the recordings
    # and the public corpus (most of the tshark time) only the identity.
    for _, checks in suite.per_file(lambda label, path: one_file(
            suite, label, path, args.quick or not label.startswith("tests/pcaps/crafted/")), files):
        suite.check_all(checks)
    suite.finish()


if __name__ == "__main__":
    main()
