#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.fields: the postdissector's fields, filters, expert info and
preferences on crafted captures, through the invocations users type:

  tshark -r F -T fields -e tcpwm...        every field on the right frames
  tshark -r F -Y tcpwm.loss.missing        each flag selects exactly its frames
  tshark -2 -r F ...                       the same output on two passes
  tshark -r F -V -O tcpwm -Y ...           the tree and its summary line
  tshark -r F -q -z expert                 expert infos (group Sequence)
  tshark -r F -q -z io,stat,...            fields usable in IO graphs
  tshark -o tcpwm.scope:global ...         the preferences
  tshark -r F -q                           no dissection at all: no output
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import craft  # noqa: E402
import wstest  # noqa: E402

# Flags that mark an event: present exactly on the frames that list them.
EVENT_FLAGS = [
    "tcpwm.loss.missing", "tcpwm.loss.duplicate", "tcpwm.loss.out_of_order",
    "tcpwm.loss.capture_gap", "tcpwm.loss.keepalive", "tcpwm.loss.zero_window_probe",
    "tcpwm.loss.hole_forgotten", "tcpwm.window.shrink", "tcpwm.window.right_edge_retreat",
    "tcpwm.window.zero_window", "tcpwm.conn.opened", "tcpwm.conn.closed",
]
# Every field the issue asks for, and the ones we add.
ALL_FIELDS = [
    "tcpwm", "tcpwm.verdict", "tcpwm.direction", "tcpwm.global", "tcpwm.decode_error",
    "tcpwm.loss.gap_bytes", "tcpwm.loss.holes_filled", "tcpwm.loss.fill_time",
    "tcpwm.loss.capture_gap_holes", "tcpwm.window.size", "tcpwm.window.scale_known",
    "tcpwm.window.scale_unknown", "tcpwm.window.scale", "tcpwm.window.delta",
    "tcpwm.flow.packets", "tcpwm.flow.missing", "tcpwm.flow.duplicate",
    "tcpwm.flow.out_of_order", "tcpwm.flow.capture_gap", "tcpwm.flow.window_shrink",
    "tcpwm.flow.right_edge_retreat", "tcpwm.flow.zero_window", "tcpwm.flow.min_window",
    # Wireshark's analysis (semantics.md 7; their values: test_analysis.py)
    "tcpwm.retrans.kind", "tcpwm.reordered", "tcpwm.dup_ack", "tcpwm.dsack", "tcpwm.rtt.ack",
    "tcpwm.rtt.handshake",
] + EVENT_FLAGS


def label_maps(source_dir):
    """Label -> number for verdicts and decode errors, from the core's
    X-macro tables (the values tshark -T fields prints)."""
    def table(path, macro):
        text = open(os.path.join(source_dir, "core", "include", "tcpwm", path)).read()
        body = text[text.index("#define " + macro):]
        body = body[:body.index("\n\n")]
        return {lab: i for i, (_, lab) in enumerate(re.findall(r'XX\((\w+),\s*"([^"]+)"\)', body))}
    return {"tcpwm.verdict": table("monitor.h", "TCPWM_VERDICT_MAP"),
            "tcpwm.decode_error": table("decode.h", "TCPWM_DECODE_ERROR_MAP")}


def fields_table(suite, path, fields, *extra):
    rc, out, err = suite.tshark("-r", path, "-T", "fields", "-E", "separator=\t",
                                "-e", "frame.number", *sum([["-e", f] for f in fields], []),
                                *extra)
    rows = {}
    for line in out.splitlines():
        cols = line.split("\t")
        rows[int(cols[0])] = dict(zip(fields, cols[1:]))
    return rc, out, err, rows


def frames_matching(suite, path, dfilter, *extra):
    rc, out, err = suite.tshark("-r", path, "-Y", dfilter, "-T", "fields", "-e", "frame.number",
                                *extra)
    return rc, [int(x) for x in out.split()], err


def check_expectations(suite, what, rows, expect, maps, nframes):
    bad = []
    for fr, exp in sorted(expect.items()):
        row = rows.get(fr, {})
        for field, want in exp.items():
            got = row.get(field, "")
            if want is None:
                ok = got == ""
            elif want == 1 and field in EVENT_FLAGS + ["tcpwm.global",
                                                        "tcpwm.window.scale_known",
                                                        "tcpwm.window.scale_unknown"]:
                ok = got == "1"
            elif field in maps:
                ok = got == str(maps[field][want])
            else:
                ok = got == str(want)
            if not ok:
                bad.append("frame %d: %s = %r, expected %r" % (fr, field, got, want))
    for flag in EVENT_FLAGS:
        for fr in range(1, nframes + 1):
            listed = expect.get(fr, {}).get(flag) == 1
            present = rows.get(fr, {}).get(flag, "") != ""
            if present and not listed:
                bad.append("frame %d: %s present, not expected" % (fr, flag))
    suite.check(not bad, what, "\n".join(bad))


def test_loss(suite, maps):
    recs, expect = craft.scenario_loss()
    path = suite.new_file("loss.pcap")
    craft.write_pcap(path, recs)
    os.chmod(path, 0o644)
    fields = sorted(set(ALL_FIELDS) | {f for e in expect.values() for f in e})

    rc, out1, err, rows = fields_table(suite, path, fields)
    suite.check(rc == 0 and len(rows) == len(recs), "loss: tshark -T fields runs (%d frames)"
                % len(rows), err)
    check_expectations(suite, "loss: every field on the right frame", rows, expect, maps,
                       len(recs))

    rc, out2, err, _ = fields_table(suite, path, fields, "-2")
    suite.check(rc == 0 and out1 == out2, "loss: tshark -2 prints the same fields",
                wstest.diff(out1, out2))

    for flag in EVENT_FLAGS:
        want = sorted(f for f, e in expect.items() if e.get(flag) == 1)
        rc, got, err = frames_matching(suite, path, flag)
        suite.check(rc == 0 and got == want, "loss: -Y %s selects frames %s" % (flag, want),
                    "got %s\n%s" % (got, err))
    rc, got, err = frames_matching(suite, path, 'tcpwm.verdict == "missing"')
    suite.check(got == [5, 10], 'loss: -Y \'tcpwm.verdict == "missing"\' (by label)',
                "got %s\n%s" % (got, err))
    rc, got, err = frames_matching(suite, path, "tcpwm.loss.missing", "-2")
    suite.check(got == [5, 10], "loss: tshark -2 -Y tcpwm.loss.missing", "got %s" % got)

    # The tree as users read it.
    rc, out, err = suite.tshark("-r", path, "-Y", "tcpwm.loss.missing", "-V", "-O", "tcpwm")
    suite.check("TCP Window Monitor: missing, gap 100 bytes, window 65536" in out
                and "Expert Info (Warning/Sequence)" in out and "Flow totals:" in out,
                "loss: -V -O tcpwm shows the summary, expert info and totals", out[-3000:])

    # The default one-line output with the filter (what a user types first).
    rc, out, err = suite.tshark("-r", path, "-Y", "tcpwm.loss.missing")
    suite.check(rc == 0 and len(out.splitlines()) == 2,
                "loss: tshark -r F -Y tcpwm.loss.missing prints 2 lines", out + err)

    # Expert infos: group Sequence, warnings for loss, notes for the window.
    rc, got, err = frames_matching(
        suite, path, 'tcpwm.expert.missing && _ws.expert.group == "Sequence" && '
        '_ws.expert.severity == "Warning"')
    suite.check(got == [5, 10], "loss: expert missing is a Sequence warning", "got %s" % got)
    for ei, sev, frames in (("duplicate", "Warning", [8]), ("out_of_order", "Warning", [7]),
                            ("capture_gap", "Warning", [11]), ("window_shrink", "Note", [12, 13]),
                            ("zero_window", "Note", [13])):
        rc, got, err = frames_matching(suite, path, "tcpwm.expert.%s && _ws.expert.severity == "
                                       "\"%s\"" % (ei, sev))
        suite.check(got == frames, "loss: expert %s is a %s on %s" % (ei, sev, frames),
                    "got %s\n%s" % (got, err))
    rc, out, err = suite.tshark("-r", path, "-q", "-z", "expert")
    suite.check("Missing: bytes before this segment were never seen" in out
                and "Zero window" in out, "loss: tshark -q -z expert lists them", out)

    # IO graphs use the same machinery as -z io,stat. (tshark's io,stat
    # never frees its copies of its arguments: no leak check for this run.)
    rc, out, err = suite.tshark(
        "-r", path, "-q", "-z",
        "io,stat,0,COUNT(tcpwm.loss.missing)tcpwm.loss.missing,"
        "SUM(tcpwm.loss.gap_bytes)tcpwm.loss.gap_bytes,MIN(tcpwm.window.size)tcpwm.window.size,"
        "MAX(tcpwm.loss.fill_time)tcpwm.loss.fill_time", leaks=False)
    m = re.search(r"<>\s*[\w.]+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|\s*([\d.]+)", out)
    suite.check(m is not None and m.groups()[:3] == ("2", "200", "0")
                and abs(float(m.group(4)) - 0.03) < 1e-6,
                "loss: -z io,stat COUNT/SUM/MIN/MAX over tcpwm fields", out + err)

    # tshark -q alone dissects nothing and calls no postdissector.
    rc, out, err = suite.tshark("-r", path, "-q")
    suite.check(rc == 0 and out == "", "loss: tshark -r F -q prints nothing", out + err)


def test_outer_only(suite):
    recs, analyzed, not_analyzed, tunneled = craft.scenario_outer_only()
    path = suite.new_file("outer.pcap")
    craft.write_pcap(path, recs)
    os.chmod(path, 0o644)
    rc, out, err, rows = fields_table(suite, path, ["tcp.srcport", "tcpwm.verdict",
                                                    "tcpwm.loss.missing", "icmp.type"])
    suite.check(all(rows[f]["tcp.srcport"] for f in not_analyzed + tunneled),
                "outer: Wireshark dissects the TCP in ICMP, IP-in-IP and GRE (frames %s)"
                % (not_analyzed + tunneled), out)
    suite.check(all(rows[f]["tcpwm.verdict"] == "" for f in not_analyzed),
                "outer: the plugin does not analyze the TCP header an ICMP error quotes", out)
    # verdict 1 is "first": each tunnel's copy is a new flow, not a jump of
    # the real connection's sequence (which would be "missing").
    suite.check(all(rows[f]["tcpwm.verdict"] == "1" for f in tunneled),
                "outer: the IP-in-IP and GRE segments are each the first of a flow of its own",
                out)
    suite.check(all(rows[f]["tcpwm.verdict"] != "" for f in analyzed)
                and rows[8]["tcpwm.verdict"] == rows[9]["tcpwm.verdict"] == "2"
                and not any(rows[f]["tcpwm.loss.missing"] for f in rows),
                "outer: the real connection goes on in order, nothing missing", out)
    rc, prom, err = suite.tshark("-r", path, "-q", "-z", "tcpwm,prom")
    suite.check("tcp_monitor_packets_total 9\n" in prom
                and "tcp_monitor_tcp_packets_total 8\n" in prom
                and 'tcp_monitor_tunneled_packets_total{encap="ipip"} 1\n' in prom
                and 'tcp_monitor_tunneled_packets_total{encap="gre"} 1\n' in prom,
                "outer: -z counts 9 frames, 8 TCP, one IP-in-IP, one GRE", prom)


def test_misc(suite, maps):
    recs, expect = craft.scenario_misc()
    path = suite.new_file("misc.pcap")
    craft.write_pcap(path, recs)
    os.chmod(path, 0o644)
    fields = sorted(set(ALL_FIELDS))
    rc, out, err, rows = fields_table(suite, path, fields)
    check_expectations(suite, "misc: scope flag, unknown scale, decode error (defaults)", rows,
                       expect, maps, len(recs))
    rc, got, err = frames_matching(suite, path, "tcpwm.verdict")
    suite.check(got == [1, 2, 4, 5, 6, 7, 8], "misc: default scope all analyzes every TCP "
                "packet", "got %s" % got)
    rc, got, err = frames_matching(suite, path, "tcpwm.verdict", "-o", "tcpwm.scope:global")
    suite.check(got == [1, 2], "misc: -o tcpwm.scope:global analyzes global flows only",
                "got %s\n%s" % (got, err))
    rc, got, err = frames_matching(suite, path, "tcpwm.loss.hole_forgotten")
    suite.check(got == [], "misc: 32 holes by default: none forgotten", "got %s" % got)
    rc, got, err = frames_matching(suite, path, "tcpwm.loss.hole_forgotten",
                                   "-o", "tcpwm.max_holes:1")
    suite.check(got == [7, 8], "misc: -o tcpwm.max_holes:1 forgets the older holes",
                "got %s\n%s" % (got, err))
    rc, out, err = suite.tshark("-r", path, "-q", "-o", "tcpwm.idle_timeout:1", "-z",
                                "tcpwm,prom")
    suite.check('tcp_monitor_flows_evicted_total{reason="idle"} 0\n' in out,
                "misc: -o tcpwm.idle_timeout:1 accepted", out + err)


def test_registration(suite):
    rc, out, err = suite.tshark("-G", "plugins")
    suite.check(re.search(r"^tcpwm\.so\s+\S+\s+dissector", out, re.M) is not None,
                "tshark -G plugins lists tcpwm.so", out + err)
    rc, out, err = suite.tshark("-G", "fields")
    names = {line.split("\t")[2] for line in out.splitlines() if line.count("\t") >= 2}
    missing = [f for f in ALL_FIELDS if f not in names]
    suite.check(not missing, "tshark -G fields has every tcpwm field", "missing: %s" % missing)
    rc, out, err = suite.tshark("-G", "protocols")
    suite.check("TCP Window Monitor\tTCPWM\ttcpwm" in out, "protocol tcpwm, 'TCP Window Monitor'",
                err)
    rc, out, err = suite.tshark("-G", "defaultprefs")
    suite.check("#tcpwm.scope: all" in out and "#tcpwm.max_holes: 32" in out
                and "#tcpwm.idle_timeout: 300" in out,
                "preferences tcpwm.scope (all), max_holes (32), idle_timeout (300)",
                "\n".join(line for line in out.splitlines() if "tcpwm" in line))
    rc, out, err = suite.tshark("-z", "help")
    out += err  # tshark prints this list on standard error
    suite.check("tcpwm,prom" in out and "tcpwm,openmetrics" in out and "tcpwm,flows" in out,
                "tshark -z help lists tcpwm,prom, tcpwm,openmetrics and tcpwm,flows", out)


def main():
    args = wstest.parse_args()
    suite = wstest.Suite(args, "fields")
    maps = label_maps(args.source_dir)
    test_registration(suite)
    test_loss(suite, maps)
    test_outer_only(suite)
    test_misc(suite, maps)
    suite.finish()


if __name__ == "__main__":
    main()
