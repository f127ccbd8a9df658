#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.flows: tshark -z tcpwm,flows, the table of flows that Wireshark
shows as Statistics > TCP Window Monitor (plugin/tap-tcpwm-flows.c).

On every capture of tests/pcaps/crafted and tests/pcaps/real, ONE tshark
run prints the per-frame ACK RTT field, -z tcpwm,prom and -z tcpwm,flows;
then, because the table and the exposition come from the same frames
through the same core:

  the rows' retransmissions by kind, reordered segments and duplicate ACKs
      add up to tcp_monitor_retransmissions_total{kind}, _reordered_
      segments_total and _duplicate_acks_total;
  the rows' missing, duplicate, out-of-order and capture gaps add up to
      the packet_loss_* counters and capture_gap_total, their packets to
      tcp_monitor_tcp_packets_total (every TCP segment is in some flow
      with the default scope "all");
  the "All flows" row holds those sums, the row count ("N flows"), the
      first row's first frame, the largest ACK RTT, and the median of
      every tcpwm.rtt.ack sample of the capture (exact: the mean of the two
      middle samples for an even count), printed in ms to 3 decimals;
  rows come in the order of their first frames (strictly increasing).

And on one recording with many flows: the table is the same with tshark -2
(a second pass) as with one, and a filter gives a table whose sums equal
-z tcpwm,prom with the same filter.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wstest  # noqa: E402

RULE = "=" * 20
PROM = re.compile(r'^(tcp_monitor_\w+?)(?:\{([^}]*)\})? (\S+)$')
COUNTS = {
    "Packets": ("tcp_monitor_tcp_packets_total", None),
    "Missing": ("tcp_monitor_packet_loss_missing_total", None),
    "Duplicate": ("tcp_monitor_packet_loss_duplicate_total", None),
    "Out-of-order": ("tcp_monitor_packet_loss_out_of_order_total", None),
    "Capture gaps": ("tcp_monitor_capture_gap_total", None),
    "Fast retx": ("tcp_monitor_retransmissions_total", 'kind="fast"'),
    "Spurious retx": ("tcp_monitor_retransmissions_total", 'kind="spurious"'),
    "Other retx": ("tcp_monitor_retransmissions_total", 'kind="other"'),
    "Reordered": ("tcp_monitor_reordered_segments_total", None),
    "Dup ACKs": ("tcp_monitor_duplicate_acks_total", None),
}


def prom_value(text, name, label):
    """The sum of a family's samples (those with label, if given)."""
    total, seen = 0, False
    for line in text.splitlines():
        m = PROM.match(line)
        if m and m.group(1) == name and (label is None or label in (m.group(2) or "")):
            total += int(float(m.group(3)))
            seen = True
    return total if seen else None


def parse_table(out):
    """(header, flow rows, total row) of the TCP Window Monitor table; rows
    as {column: text}. None if absent."""
    lines = out.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line == "TCP Window Monitor:")
    except StopIteration:
        return None
    header = [c.strip() for c in lines[start + 2].split("|")[:-1]]
    rows, total, section = [], None, None
    for line in lines[start + 3:]:
        if line.startswith(RULE):
            break
        if line in ("Flows", "All flows"):
            section = line
            continue
        # The flow's own text may hold " | " (a tunnel): it is what lies
        # between the first column and the fixed number after it.
        c = line.split("|")[:-1]
        rest = len(header) - 2
        c = [c[0], "|".join(c[1:len(c) - rest])] + c[len(c) - rest:]
        cells = dict(zip(header, (x.strip() for x in c)))
        if section == "Flows":
            rows.append(cells)
        else:
            total = cells
    return header, rows, total


def median_ms(samples):
    s = sorted(samples)
    n = len(s)
    if n == 0:
        return "-"
    mid = float(s[n // 2]) if n % 2 else (float(s[n // 2 - 1]) + float(s[n // 2])) / 2.0
    return "%.3f" % (mid / 1e6)


def check_table(label, out, prom):
    """[(ok, what, detail)] for one run's output."""
    res = []
    t = parse_table(out)
    if t is None:
        return [(False, "%s: -z tcpwm,flows prints its table" % label, out[-1500:])]
    header, rows, total = t
    samples = []
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) == 2 and c[0].isdigit() and c[1]:
            samples.append(round(float(c[1]) * 1e9))
    bad = []
    for col, (name, lab) in COUNTS.items():
        want = prom_value(prom, name, lab)
        got = sum(int(r[col]) for r in rows)
        if want is None or got != want or int(total[col]) != got:
            bad.append("%s: rows add up to %d, total row %s, %s%s = %s"
                       % (col, got, total[col], name, "{%s}" % lab if lab else "", want))
    res.append((not bad, "%s: %d flows add up to -z tcpwm,prom's counters" % (label, len(rows)),
                "\n".join(bad)))
    firsts = [int(r["First frame"]) for r in rows]
    res.append((all(a < b for a, b in zip(firsts, firsts[1:]))
                and total["Flow"] == "%d flow%s" % (len(rows), "" if len(rows) == 1 else "s")
                and int(total["First frame"]) == (firsts[0] if firsts else 0),
                "%s: rows in the order of their first frames; the total row counts them" % label,
                "first frames %s; total %s" % (firsts[:20], total)))
    want_med = median_ms(samples)
    want_max = "%.3f" % (max(samples) / 1e6) if samples else "-"
    res.append((total["ACK RTT median (ms)"] == want_med and total["ACK RTT max (ms)"] == want_max,
                "%s: total ACK RTT median and max of the %d tcpwm.rtt.ack samples"
                % (label, len(samples)),
                "table %s / %s, samples %s / %s" % (total["ACK RTT median (ms)"],
                                                    total["ACK RTT max (ms)"], want_med, want_max)))
    if len(rows) == 1:
        res.append((rows[0]["ACK RTT median (ms)"] == want_med
                    and rows[0]["ACK RTT max (ms)"] == want_max
                    and rows[0]["Min window"] == total["Min window"],
                    "%s: the one flow's RTT median, max and window are the totals'" % label,
                    "%s\n%s" % (rows[0], total)))
    return res


def split_prom(out):
    return "\n".join(line for line in out.splitlines() if line.startswith("tcp_monitor_"))


def one_file(suite, label, src):
    path = suite.stage(src)
    rc, out, err = suite.tshark("-r", path, "-T", "fields", "-E", "separator=\t",
                                "-e", "frame.number", "-e", "tcpwm.rtt.ack",
                                "-z", "tcpwm,prom", "-z", "tcpwm,flows")
    if rc != 0 and "TCP Window Monitor:" not in out:
        return "tshark cannot read it: " + err.strip().split("\n")[-1]
    return check_table(label, out, split_prom(out))


def table_text(out):
    lines = out.splitlines()
    i = lines.index("TCP Window Monitor:")
    return "\n".join(lines[i:])


def test_passes_and_filter(suite, source_dir):
    src = os.path.join(source_dir, "tests", "pcaps", "real", "many-short-flows.pcap")
    path = suite.stage(src)
    _, one, err = suite.tshark("-r", path, "-q", "-z", "tcpwm,flows")
    _, two, err2 = suite.tshark("-2", "-r", path, "-q", "-z", "tcpwm,flows")
    t = parse_table(one)
    suite.check(t is not None and len(t[1]) > 10 and table_text(one) == table_text(two),
                "many-short-flows: tshark -2 prints the same table of %d flows"
                % (len(t[1]) if t else 0), wstest.diff(one, two) + err + err2)
    flt = "tcp.port==40001"
    # tshark's table statistics keep a copy of their filter they never free
    # (16 bytes here, no frame of ours): no leak check for this run.
    _, out, err = suite.tshark("-r", path, "-q", "-z", "tcpwm,prom," + flt,
                               "-z", "tcpwm,flows," + flt, leaks=False)
    t = parse_table(out)
    ok = t is not None and 0 < len(t[1]) < 100
    bad = []
    if ok:
        for col, (name, lab) in COUNTS.items():
            want = prom_value(split_prom(out), name, lab)
            if sum(int(r[col]) for r in t[1]) != want:
                bad.append("%s: %s" % (col, want))
        bad += [r["Flow"] for r in t[1] if ":40001 " not in r["Flow"] + " "]
    suite.check(ok and not bad and "Filter for statistics: " + flt in out,
                "many-short-flows: -z tcpwm,flows,%s lists only those flows (%d), and they add "
                "up to -z tcpwm,prom,%s" % (flt, len(t[1]) if t else 0, flt),
                "\n".join(bad) + out[-2000:] + err)


def main():
    args = wstest.parse_args()
    suite = wstest.Suite(args, "flows")
    files = [(lab, p) for lab, p in wstest.corpus(args.source_dir, shared=False)
             if lab.startswith(("tests/pcaps/crafted/", "tests/pcaps/real/"))]
    if not files:
        suite.fatal("no captures under tests/pcaps/crafted or tests/pcaps/real")
    for _, checks in suite.per_file(lambda label, path: one_file(suite, label, path), files):
        suite.check_all(checks)
    test_passes_and_filter(suite, args.source_dir)
    suite.finish()


if __name__ == "__main__":
    main()
