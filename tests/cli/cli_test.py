# SPDX-License-Identifier: MIT
"""End-to-end tests of tcp_window_monitor, one case per ctest test:

    python3 cli_test.py BINARY PROMTOOL CASE

Captures are crafted on the fly with pcapgen.py into a temporary folder.
The addresses are global unicast, so either --scope sees them (replay's
default is all); the scope cases use private addresses.
"""
import decimal
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flowschema  # noqa: E402
import pcapgen  # noqa: E402
from flowschema import FLOW_TOTALS, RETX_TOTALS  # noqa: E402

BIN, PROMTOOL = sys.argv[1], sys.argv[2]
T0 = 1_700_000_000_200_000_000  # 2023-11-14T22:13:20.2Z
A, B, C = "20.0.0.1", "30.0.0.2", "40.0.0.3"
WORK = tempfile.mkdtemp(prefix="tcpwm-cli-")


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def path(name):
    return os.path.join(WORK, name)


def run(*args, code=0, stdin=None):
    p = subprocess.run([BIN, *args], capture_output=True, stdin=stdin)
    if code is not None and p.returncode != code:
        raise Failure(f"{args}: exit {p.returncode}, expected {code}\n"
                      f"stderr:\n{p.stderr.decode(errors='replace')}")
    return p


def metric(text, name):
    """The value of an untimestamped sample: name with its labels, if any,
    as the exposition writes them."""
    m = re.search(rb"^" + re.escape(name.encode()) + rb" (\S+)$", text, re.M)
    check(m is not None, f"no sample {name} in the output")
    return float(m.group(1))


def err_lines(p):
    return p.stderr.decode().splitlines()


def capture(name, records, ng=False):
    (pcapgen.write_pcapng if ng else pcapgen.write_pcap)(path(name), records)
    return path(name)


def lossy(name="lossy.pcap"):
    """One flow, 10 data segments, segments 3 and 6 not captured."""
    return capture(name, pcapgen.conversation(A, B, 40000, 80, T0, 10, drop={3, 6}))


def two_ports(name="two_ports.pcap"):
    """A flow to port 80 (1 loss) and a later one to port 443 (3 losses)."""
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 8, drop={2})
    recs += pcapgen.conversation(C, B, 40001, 443, T0 + 5 * 10**9, 12, drop={1, 4, 8})
    return capture(name, recs)


MS = 1_000_000
D, E = "50.0.0.4", "60.0.0.5"


def retx_flow(cli, srv, cport, sport, t0):
    """One retransmission of each of Wireshark's kinds (docs/semantics.md 7,
    rule 3) and five ACK RTT samples (rule 6): 10, 10, 40, 87 and 440 ms.
    The handshake RTT is 20 ms (SYN to the client's ACK, rule 7)."""
    cs, ss, mss = 1000, 5000, 1000
    out = []

    def seg(ms, from_cli, seq, ack, flags, payload=0):
        src, dst, sp, dp = (cli, srv, cport, sport) if from_cli else (srv, cli, sport, cport)
        out.append((t0 + ms * MS, pcapgen.tcp_frame(src, dst, sp, dp, seq, ack, flags,
                                                    payload=payload)))

    A_, P = pcapgen.ACK, pcapgen.PSH
    seg(0, True, cs, 0, pcapgen.SYN)
    seg(10, False, ss, cs + 1, pcapgen.SYN | A_)         # RTT 10 ms (the SYN)
    seg(20, True, cs + 1, ss + 1, A_)                    # RTT 10 ms (the SYN-ACK)
    for i in range(4):                                   # segments 1-4 at 30-33 ms
        seg(30 + i, True, cs + 1 + i * mss, ss + 1, A_ | P, mss)
    seg(70, False, ss + 1, cs + 1 + mss, A_)             # RTT 40 ms (segment 1)
    for i in range(3):                                   # three duplicate ACKs (rule 2)
        seg(71 + i, False, ss + 1, cs + 1 + mss, A_)
    # Segment 2 again at the duplicate ACKs' number, 7 ms after the
    # latest: fast (3b).
    seg(80, True, cs + 1 + mss, ss + 1, A_ | P, mss)
    seg(120, False, ss + 1, cs + 1 + 4 * mss, A_)        # RTT 87 ms (segment 4)
    # Segment 3 again, all of it acknowledged: spurious (3a).
    seg(500, True, cs + 1 + 2 * mss, ss + 1, A_ | P, mss)
    seg(510, True, cs + 1 + 4 * mss, ss + 1, A_ | P, mss)
    # Segment 5 again, 390 ms after nextseq moved (more than the handshake
    # RTT, so not reordered), no duplicate ACKs: other (3d).
    seg(900, True, cs + 1 + 4 * mss, ss + 1, A_ | P, mss)
    seg(950, False, ss + 1, cs + 1 + 5 * mss, A_)        # RTT 440 ms (segment 5's first copy)
    return out


def one_way(cli, srv, cport, sport, t0, segments):
    """Data segments of a connection seen mid-stream, one direction, never
    acknowledged: no ACK RTT sample."""
    return [(t0 + i * 10 * MS, pcapgen.tcp_frame(cli, srv, cport, sport, 1 + i * 1000, 1,
                                                 pcapgen.ACK | pcapgen.PSH, payload=1000))
            for i in range(segments)]


def ranked(name="ranked.pcap"):
    """two_ports' flows (no retransmission, both ACK RTT samples 100 ms:
    the handshake's), retx_flow's (3 retransmissions, RTT 10 to 440 ms)
    and a one-way flow without any RTT sample."""
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 8, drop={2})
    recs += pcapgen.conversation(C, B, 40001, 443, T0 + 5 * 10**9, 12, drop={1, 4, 8})
    recs += retx_flow(D, B, 40005, 80, T0 + 20 * 10**9)
    recs += one_way(E, B, 40006, 80, T0 + 30 * 10**9, 3)
    return capture(name, recs)


# ---- usage ---------------------------------------------------------------

def case_usage():
    f = lossy()
    bad = [
        [],                                            # no -r
        ["-r"],                                        # missing value
        ["-x", "-r", f],                               # unknown short option
        ["--bogus", "-r", f],                          # unknown long option
        ["-i", "lo", "-r", f],                         # -i and -r are exclusive
        ["-r", f, "--format", "json"],
        ["-r", f, "--scope", "local"],
        ["-r", f, "-s", "0"],
        ["-r", f, "-s", "-1"],
        ["-r", f, "-s", "abc"],
        ["-r", f, "-s", "0.0000000001"],
        ["-r", f, "--top", "0"],
        ["-r", f, "--top", "3", "--top-by", "packets"],
        ["-r", f, "--top", "3", "--top-by", ""],
        ["-r", f, "--top-by", "rtt"],                # ranks nothing without --top
        ["-r", f, "--max-holes", "256"],
        ["-r", f, "--max-flows", "0"],
        ["-r", f, "--idle-timeout", "x"],
        ["-r", f, "--timeline", "--format", "prometheus"],
    ]
    for args in bad:
        p = run(*args, code=2)
        lines = err_lines(p)
        check(len(lines) == 2 and lines[0].startswith("tcp_window_monitor: ")
              and "--help" in lines[1], f"{args}: usage error text: {lines}")
        check(p.stdout == b"", f"{args}: usage error wrote to stdout")
    p = run("--help")
    check(b"Usage: tcp_window_monitor" in p.stdout and p.stderr == b"", "--help text")
    p = run("-h")
    check(b"--timeline" in p.stdout, "-h text")
    p = run("--version")
    check(re.match(rb"tcp_window_monitor \d+\.\d+\.\d+ ", p.stdout), f"--version: {p.stdout}")
    # Accepted forms.
    run("-r", f, "-q", "-s", "0.5", "--scope", "all", "--max-flows", "10", "--max-holes", "1",
        "--idle-timeout", "2.5", "--format", "openmetrics", "--timeline")


# ---- input errors: one line, what was read is still printed, exit 1 ------

def expect_input_error(args, reason_re, packets, lines_expected=1):
    """A fault after `packets` frames: one line naming it, exit 1, and the
    frames read before it still reported; none read: nothing on stdout
    (an exposition of zeros would read as a clean capture)."""
    p = run("-q", *args, code=1)
    lines = err_lines(p)
    check(len(lines) == lines_expected,
          f"{args}: expected {lines_expected} stderr line(s), got {lines}")
    check(re.search(reason_re, lines[0]), f"{args}: {lines[0]!r} !~ {reason_re!r}")
    check(lines[0].startswith("tcp_window_monitor: "), f"prefix: {lines[0]!r}")
    if packets == 0:
        check(p.stdout == b"", f"{args}: a fault before the first frame printed metrics")
    else:
        check(metric(p.stdout, "tcp_monitor_packets_total") == packets,
              f"{args}: packets before the fault")
    return p


def case_missing_file():
    expect_input_error(["-r", path("nope.pcap")],
                       r"^tcp_window_monitor: \S*nope\.pcap: No such file or directory$", 0)


def case_truncated():
    f = lossy()
    data = open(f, "rb").read()
    cut = path("cut.pcap")
    with open(cut, "wb") as o:
        o.write(data[:-10])  # the last record loses its tail
    n = len(pcapgen.conversation(A, B, 40000, 80, T0, 10, drop={3, 6}))
    expect_input_error(["-r", cut], r"cut\.pcap: .*truncated", n - 1)
    with open(cut, "wb") as o:
        o.write(data[:10])   # inside the file header
    expect_input_error(["-r", cut], r"cut\.pcap: .*truncated", 0)
    with open(cut, "wb") as o:
        o.write(b"this is not a capture file at all")
    expect_input_error(["-r", cut], r"cut\.pcap: ", 0)


def case_bad_filter():
    expect_input_error(["-r", lossy(), "port", "and"], r"lossy\.pcap: .*'port and'", 0)


def case_unsupported_linktype():
    # A frame of a link type the decoder does not read is counted as a
    # decode error and the file goes on (a pcapng file may mix link types).
    f = path("user0.pcap")
    pcapgen.write_pcap(f, [(T0, b"\x00" * 40), (T0 + 1, b"\x00" * 40)], linktype=147)
    out = run("-q", "-r", f).stdout
    check(metric(out, "tcp_monitor_packets_total") == 2, "both frames counted")
    m = re.search(rb'^tcp_monitor_decode_errors_total\{reason="unsupported_linktype"\} (\S+)$',
                  out, re.M)
    check(m is not None and float(m.group(1)) == 2, "two unsupported_linktype decode errors")


def case_stop_at_first_failure():
    f = lossy()
    n = len(pcapgen.conversation(A, B, 40000, 80, T0, 10, drop={3, 6}))
    p = expect_input_error(["-r", f, "-r", path("nope.pcap"), "-r", path("other.pcap")],
                           r"nope\.pcap", n, lines_expected=2)
    last = err_lines(p)[1]
    check(re.fullmatch(r"tcp_window_monitor: not read: \S*other\.pcap \(1 more file after the "
                       r"one that failed\)", last), f"files not read: {last!r}")


def case_no_exposition():
    """Issue 12, item 3: nothing read, nothing printed; -o leaves no
    valid-looking file of zeros either."""
    empty = path("zero-bytes.pcap")
    open(empty, "wb").close()
    text = path("notes.txt")
    with open(text, "w") as fh:
        fh.write("these are my notes, not a capture\n" * 20)
    cases = [
        (["-r", path("nope.pcap")], r"nope\.pcap: No such file"),
        (["-r", WORK], re.escape(WORK) + ": "),
        (["-r", empty], r"zero-bytes\.pcap: "),
        (["-r", text], r"notes\.txt: "),
        (["-r", lossy(), "port", "and"], r"lossy\.pcap: bad filter"),
    ]
    for args, reason in cases:
        for extra in ([], ["--format", "openmetrics"], ["--timeline"], ["--top", "3"]):
            p = run(*args, *extra, code=1)
            lines = err_lines(p)
            check(p.stdout == b"", f"{args} {extra}: printed {len(p.stdout)} bytes")
            check(len(lines) == 1 and re.search(reason, lines[0]),
                  f"{args} {extra}: stderr {lines}")
        out = path("out.prom")
        run(*args, "-o", out, code=1)
        check(os.path.getsize(out) == 0, f"{args}: -o wrote {os.path.getsize(out)} bytes")
    # A valid capture with no packet is not a failure: zeros are the truth.
    p = run("-q", "-r", capture("header-only.pcap", []))
    check(metric(p.stdout, "tcp_monitor_packets_total") == 0, "empty capture")


def case_files_after_options():
    """Issue 12, item 2: `-r *.pcap` gives -r a.pcap b.pcap c.pcap."""
    a = lossy("a.pcap")
    b = two_ports("b.pcap")
    c = capture("c.pcapng", pcapgen.conversation(C, B, 40009, 22, T0 + 9 * 10**9, 4, drop={1}),
                ng=True)
    want = run("-q", "-r", a, "-r", b, "-r", c).stdout
    check(run("-q", "-r", a, b, c).stdout == want, "-r a b c differs from -r a -r b -r c")
    # Relative names too, as a glob in the capture folder gives them.
    p = subprocess.run([BIN, "-q", "-r", "a.pcap", "b.pcap", "c.pcapng"], capture_output=True,
                       cwd=WORK)
    check(p.returncode == 0 and p.stdout == want, f"relative names: {p.stderr!r}")
    # A missing name that looks like a capture is a missing file, in its turn.
    p = run("-q", "-r", a, path("gone.pcapng"), b, code=1)
    lines = err_lines(p)
    check(len(lines) == 2 and "gone.pcapng: No such file" in lines[0] and "not read" in lines[1],
          f"missing glob member: {lines}")
    check(metric(p.stdout, "tcp_monitor_packets_total") == 11, "a.pcap was read")
    # Files and filter words mixed: said, not guessed.
    p = run("-q", "-r", a, b, "port", "80", code=2)
    lines = err_lines(p)
    check(len(lines) == 2 and "b.pcap' after the options is a file" in lines[0]
          and "-r" in lines[0], f"mixed words: {lines}")
    # A filter is still a filter, before or after the options; a file named
    # like a filter word ("port", no dot) never hides one.
    open(path("port"), "wb").close()
    p = subprocess.run([BIN, "-q", "-r", "a.pcap", "port", "80"], capture_output=True, cwd=WORK)
    check(p.returncode == 0 and metric(p.stdout, "tcp_monitor_packets_total") == 11,
          f"filter with a file named 'port' around: {p.stderr!r}")
    p = run("-q", "-r", b, "port", "443")
    check(metric(p.stdout, "tcp_monitor_packets_total") == 12, "filter after -r")


def private_capture():
    """Lab addresses: one flow between private addresses with one loss,
    one between global ones with two."""
    recs = pcapgen.conversation("10.0.0.1", "192.168.1.2", 40000, 80, T0, 6, drop={2})
    recs += pcapgen.conversation(A, B, 40001, 80, T0 + 10**9, 6, drop={1, 4})
    return capture("lab.pcap", recs)


def case_scope():
    """Issue 12, item 1: never "no loss" about packets not analyzed."""
    f = private_capture()
    n_private = 3 + 5  # handshake + 6 segments, one dropped
    n_global = 3 + 4
    # Replay analyzes every TCP packet by default.
    p = run("-r", f)
    check(metric(p.stdout, "tcp_monitor_packet_loss_missing_total") == 3, "default scope: all")
    lines = err_lines(p)
    check(len(lines) == 1 and f"analyzed {n_private + n_global}," in lines[0]
          and "outside" not in lines[0], f"default scope stats: {lines}")
    # --scope global leaves the private flow out, and says so: one note
    # naming --scope all, and the count on the final line.
    p = run("-r", f, "--scope", "global", "-s", "0.001")
    lines = err_lines(p)
    notes = [line for line in lines if "note:" in line]
    check(len(notes) == 1 and "--scope all" in notes[0], f"scope note: {lines}")
    final = [line for line in lines if ": final: " in line]
    check(len(final) == 1 and f"analyzed {n_global} ({n_private} outside --scope global)"
          in final[0], f"final line: {final}")
    check(metric(p.stdout, "tcp_monitor_packet_loss_missing_total") == 2, "global flow only")
    # -q drops the stats lines, not the note.
    p = run("-q", "-r", f, "--scope", "global")
    check(err_lines(p) == notes, f"-q: {err_lines(p)}")
    # Nothing left out: no note.
    p = run("-r", lossy(), "--scope", "global")
    check(not any("note:" in line for line in err_lines(p)), "note without cause")


# ---- output ---------------------------------------------------------------

def case_output_file():
    f = lossy()
    out = path("out.prom")
    p = run("-q", "-r", f, "-o", out)
    check(p.stdout == b"", "-o still wrote to stdout")
    check(open(out, "rb").read() == run("-q", "-r", f).stdout, "-o differs from stdout")
    run("-q", "-r", f, "--output", out, "--format", "openmetrics")
    check(open(out, "rb").read().endswith(b"\n# EOF\n"), "-o openmetrics")
    p = run("-q", "-r", f, "-o", path("no/such/dir/out.prom"), code=1)
    check(len(err_lines(p)) == 1 and "no/such/dir" in err_lines(p)[0], "unwritable -o")
    # "-" is standard output, as -r - is standard input: no file named "-".
    p = subprocess.run([BIN, "-q", "-r", f, "-o", "-"], capture_output=True, cwd=WORK)
    check(p.returncode == 0 and p.stdout == run("-q", "-r", f).stdout, "-o - is stdout")
    check(not os.path.exists(path("-")), "-o - created a file named '-'")
    if os.path.exists("/dev/full"):
        p = run("-q", "-r", f, "-o", "/dev/full", code=1)
        check("/dev/full" in p.stderr.decode(), "write error names the file")
        with open("/dev/full", "wb") as full:
            p = subprocess.run([BIN, "-q", "-r", f], stdout=full, stderr=subprocess.PIPE)
        check(p.returncode == 1 and b"standard output" in p.stderr, "stdout write error")


def case_openmetrics():
    p = run("-q", "-r", lossy(), "--format", "openmetrics")
    check(p.stdout.endswith(b"\n# EOF\n"), "OpenMetrics must end with # EOF")
    check(b"# EOF" not in p.stdout[:-6], "one # EOF only")
    p = run("-q", "-r", lossy())
    check(b"# EOF" not in p.stdout, "Prometheus text has no # EOF")


def case_determinism():
    f = two_ports()
    for extra in ([], ["--format", "openmetrics"], ["--timeline"], ["--scope", "all"]):
        a = run("-q", "-r", f, *extra).stdout
        b = run("-q", "-r", f, *extra).stdout
        check(a == b and len(a) > 0, f"{extra}: two runs differ")
    # Nothing about the run (path, clock) leaks into the output.
    other = path("renamed.pcap")
    os.link(f, other)
    check(run("-q", "-r", other).stdout == run("-q", "-r", f).stdout, "path in output")


def case_promtool_check():
    check(os.access(PROMTOOL, os.X_OK), f"promtool not found ({PROMTOOL}): install prometheus")
    for extra in ([], ["--service-ports", "80,443,5432"]):
        out = run("-q", "-r", two_ports(), "--format", "prometheus", *extra).stdout
        p = subprocess.run([PROMTOOL, "check", "metrics"], input=out, capture_output=True)
        check(p.returncode == 0, f"{extra} promtool check metrics: {p.stdout!r} {p.stderr!r}")


# ---- --timeline -----------------------------------------------------------

def expected_timeline(times, iv):
    """A sample stamped t counts every packet at or before t; the stamps are
    the multiples of iv passed by the packets, then the last packet's time."""
    first = -(-times[0] // iv) * iv
    want = [(b, sum(1 for t in times if t <= b)) for b in range(first, times[-1], iv)]
    return want + [(times[-1], len(times))]


def timeline_samples(text):
    """(ts_ns, value) of every tcp_monitor_packets_total sample."""
    got = []
    for m in re.finditer(rb"^tcp_monitor_packets_total (\S+) (\S+)$", text, re.M):
        got.append((int(decimal.Decimal(m.group(2).decode()) * 10**9), int(m.group(1))))
    check(got, "no timestamped samples")
    return got


def case_timeline():
    check(os.access(PROMTOOL, os.X_OK), f"promtool not found ({PROMTOOL}): install prometheus")
    step = 300_000_000
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 17, drop={5}, step=step)
    f = capture("tl.pcap", recs)
    out = path("tl.om")
    run("-q", "-r", f, "--timeline", "-o", out)
    text = open(out, "rb").read()
    check(text.endswith(b"\n# EOF\n"), "timeline ends with # EOF")

    times = [ts for ts, _ in recs]
    check(timeline_samples(text) == expected_timeline(times, 10**9), "timeline at 1 s")

    db = path("tsdb")
    p = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", out, db],
                       capture_output=True)
    check(p.returncode == 0, f"promtool create-blocks-from: {p.stdout!r} {p.stderr!r}")

    text = run("-q", "-r", f, "--timeline", "-s", "0.5").stdout
    check(timeline_samples(text) == expected_timeline(times, 5 * 10**8), "timeline at 0.5 s")

    # A jump over more than 10000 intervals is one snapshot, and said so.
    jump = recs[:3] + [(ts + 20000 * 10**9, fr) for ts, fr in recs[3:]]
    f = capture("jump.pcap", jump)
    p = run("-r", f, "--timeline", "-o", out)
    check(any("jumps" in line for line in err_lines(p)), f"no jump warning: {err_lines(p)}")
    n = len(re.findall(rb"^tcp_monitor_packets_total ",  open(out, "rb").read(), re.M))
    check(n < 100, f"jump gave {n} snapshots")
    p = subprocess.run([PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", out,
                        path("tsdb2")], capture_output=True)
    check(p.returncode == 0, f"promtool on the jump: {p.stdout!r} {p.stderr!r}")

    # No packet at all: still a valid document.
    empty = capture("empty.pcap", [])
    check(run("-q", "-r", empty, "--timeline").stdout == b"# EOF\n", "empty timeline")


# ---- analysis through the CLI -------------------------------------------

def case_filter():
    f = two_ports()
    total = metric(run("-q", "-r", f).stdout, "tcp_monitor_packets_total")
    only80 = metric(run("-q", "-r", f, "port", "80").stdout, "tcp_monitor_packets_total")
    only443 = metric(run("-q", "-r", f, "--", "tcp port 443").stdout, "tcp_monitor_packets_total")
    check(total == 3 + 7 + 3 + 9, f"total {total}")
    check(only80 == 10 and only443 == 12, f"filtered: {only80}, {only443}")
    miss80 = metric(run("-q", "port", "80", "-r", f).stdout, "tcp_monitor_packet_loss_missing_total")
    check(miss80 == 1, f"missing with port 80: {miss80}")


TOP_COLUMNS = ("packets", "loss_events", "missing", "duplicate", "out_of_order", "capture_gap",
               "window_shrinks", "min_window_bytes", "retx_fast", "retx_spurious", "retx_other",
               "ack_rtt_median_ms", "ack_rtt_max_ms")


def top_rows(p):
    """--top's rows: [(flow text, {column: text})]; the flow text holds
    spaces, the columns after it do not."""
    rows = []
    for line in err_lines(p):
        m = re.match(r"^\s+\d+\s\s(.*)$", line)
        if m:
            words = m.group(1).split()
            rows.append((" ".join(words[:-len(TOP_COLUMNS)]),
                         dict(zip(TOP_COLUMNS, words[-len(TOP_COLUMNS):]))))
    return rows


def ms_within(text, lo_ms, hi_ms):
    """A --top RTT column (3 significant digits) between lo and hi ms, as
    printed to 3 significant digits."""
    def sig3(v):
        return float(f"{v:.3g}")
    return sig3(lo_ms) <= float(text) <= sig3(hi_ms)


def case_top():
    p = run("-r", two_ports(), "--top", "5")
    lines = err_lines(p)
    head = [line for line in lines if line.lstrip().startswith("#")]
    check(len(head) == 1 and re.fullmatch(r"\s+#\s+flow\s+" + r"\s+".join(TOP_COLUMNS), head[0]),
          f"--top header: {head}")
    rows = [line for line in lines if re.match(r"^\s+\d+\s", line)]
    check(len(rows) == 2, f"--top rows: {lines}")
    check(re.match(r"^\s+1\s+40\.0\.0\.3:40001 > 30\.0\.0\.2:443\s+12\s+3\s+3\s", rows[0]),
          f"first row: {rows[0]!r}")
    check(re.match(r"^\s+2\s+20\.0\.0\.1:40000 > 30\.0\.0\.2:80\s", rows[1]),
          f"second row: {rows[1]!r}")
    # --top 1 keeps the lossier flow, also when it left the table early
    # (evicted by the next flow with --max-flows 1).
    recs = pcapgen.conversation(C, B, 40001, 443, T0, 12, drop={1, 4, 8})
    recs += pcapgen.conversation(A, B, 40000, 80, T0 + 5 * 10**9, 8, drop={2})
    p = run("-q", "-r", capture("rev.pcap", recs), "--top", "1", "--max-flows", "1")
    rows = [line for line in err_lines(p) if re.match(r"^\s+\d+\s", line)]
    check(len(rows) == 1 and "40.0.0.3:40001" in rows[0], f"--top 1: {rows}")
    # Loss events are missing + duplicate + out_of_order, as the README's
    # loss ratio: the server then ACKs everything, so each of the two holes
    # is also a capture gap, and must not count twice.
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 10, drop={3, 6})
    recs.append((recs[-1][0] + 10**8, pcapgen.tcp_frame(B, A, 80, 40000, 5001, 1001 + 10 * 1000,
                                                        pcapgen.ACK)))
    p = run("-q", "-r", capture("gaps.pcap", recs), "--top", "1")
    rows = [line for line in err_lines(p) if re.match(r"^\s+\d+\s", line)]
    check(len(rows) == 1 and re.search(r"\s12\s+2\s+2\s+0\s+0\s+2\s", rows[0]),
          f"capture gaps are not loss events: {rows}")

    # Retransmissions by kind and the ACK RTT (retx_flow: 1 of each kind,
    # samples 10 to 440 ms; both figures kept to 1/1024 of their value,
    # rounded down, so 440 ms still prints as 440), a one-way flow
    # without a sample ("-"), two_ports' flows without a retransmission.
    f = ranked()
    p = run("-q", "-r", f, "--top", "10", "--top-by", "retransmissions")
    check(re.search(r"^top 4 of 4 flows by retransmissions \(fast \+ spurious \+ other",
                    p.stderr.decode(), re.M), f"--top-by retransmissions title: {err_lines(p)}")
    rows = top_rows(p)
    check(len(rows) == 4 and rows[0][0] == f"{D}:40005 > {B}:80", f"most retransmitted: {rows}")
    first = rows[0][1]
    check((first["retx_fast"], first["retx_spurious"], first["retx_other"]) == ("1", "1", "1"),
          f"one retransmission of each kind: {first}")
    check(first["ack_rtt_max_ms"] == "440" and ms_within(first["ack_rtt_median_ms"], 10, 440),
          f"ACK RTT 10 to 440 ms: {first}")
    # The others tie at 0: endpoints ascending.
    check([r[0] for r in rows[1:]] == [f"{A}:40000 > {B}:80", f"{C}:40001 > {B}:443",
                                       f"{E}:40006 > {B}:80"], f"ties by endpoints: {rows}")
    check(all((r[1]["retx_fast"], r[1]["retx_spurious"], r[1]["retx_other"]) == ("0", "0", "0")
              for r in rows[1:]), f"no retransmissions elsewhere: {rows}")
    # two_ports' two samples are 100 ms each (handshake, step 100 ms).
    check(all(ms_within(r[1][c], 100 * (1 - 1 / 1024), 100) for r in rows[1:3]
              for c in ("ack_rtt_median_ms", "ack_rtt_max_ms")), f"100 ms handshakes: {rows}")
    check((rows[3][1]["ack_rtt_median_ms"], rows[3][1]["ack_rtt_max_ms"]) == ("-", "-"),
          f"no sample: {rows[3]}")
    # By ACK RTT: the flow without a sample last, the others by their
    # median estimate, then maximum, as printed.
    p = run("-q", "-r", f, "--top", "10", "--top-by", "rtt")
    check(re.search(r"^top 4 of 4 flows by ACK RTT \(the median estimate, then the maximum",
                    p.stderr.decode(), re.M), f"--top-by rtt title: {err_lines(p)}")
    rows = top_rows(p)
    check(len(rows) == 4 and rows[3][0] == f"{E}:40006 > {B}:80", f"no sample last: {rows}")
    keys = [(float(r[1]["ack_rtt_median_ms"]), float(r[1]["ack_rtt_max_ms"])) for r in rows[:3]]
    check(keys == sorted(keys, reverse=True), f"by median, then maximum: {rows}")
    # --top-by loss is the default.
    check(top_rows(run("-q", "-r", f, "--top", "10", "--top-by", "loss")) ==
          top_rows(run("-q", "-r", f, "--top", "10")), "--top-by loss is the default")


# ---- --flows-json -----------------------------------------------------------

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pcaps")


def flows_doc(v, *args):
    """Replay with --flows-json: (metrics, document bytes, document),
    the document checked against the schema and, when ranked, its order."""
    out = path("flows.json")
    p = run("-q", *args, "--flows-json", out)
    with open(out, "rb") as fh:
        raw = fh.read()
    doc = json.loads(raw)
    why = flowschema.first_error(v, doc)
    check(not why, f"{args}: not valid against flows.schema.json: {why}")
    if doc["order"] != "table":
        bad = flowschema.misordered(doc)
        check(not bad, f"{args}: not in {doc['order']} order: {bad}")
    return p.stdout, raw, doc


def case_flows_json():
    v = flowschema.validator()
    # Two flows, on port 80 (1 loss) and on port 443 (3 losses), neither
    # closed (no FIN, no RST): handshake and data only.
    f = two_ports()
    metrics, raw, doc = flows_doc(v, "-r", f)
    check(doc["source"] == "replay" and doc["order"] == "table" and doc["top"] is None
          and doc["flows_in_table"] == 2 and doc["flows_left"] == 0 and len(doc["flows"]) == 2,
          f"head: {doc}")
    check(raw.count(b"\n") == 4 and raw.endswith(b"\n]}\n"), "one flow a line")
    by_port = {fl["endpoints"][1]["port"]: fl for fl in doc["flows"]}
    web = by_port[443]
    check(web["endpoints"] == [{"address": C, "port": 40001}, {"address": B, "port": 443}],
          f"endpoint 0 is the client, whose SYN came first: {web['endpoints']}")
    check(web["family"] == 4 and web["vlans"] == [] and web["encapsulation"] == []
          and web["text"] == f"{C}:40001 > {B}:443" and web["closed"] is False
          and web["packets"] == 3 + 12 - 3 and web["min_window_bytes"] == 65535,
          f"flow fields: {web}")
    # The client's latest window is its last segment's 65535; the server
    # sent only its SYN-ACK, whose window is not analyzed (semantics.md 5).
    check(web["current_window_bytes"] == [65535, None],
          f"current windows: {web['current_window_bytes']}")
    check(web["counters"]["missing"] == 3 and by_port[80]["counters"]["missing"] == 1
          and web["loss_events"] == sum(web["counters"][k] for k in
                                        ("missing", "duplicate", "out_of_order")),
          f"per-flow missing: {web['counters']}, {by_port[80]['counters']}")
    # Ages count to the latest frame of the replay: the 443 flow's last.
    # Its first packet came at 22:13:25.2; the record keeps whole seconds
    # (docs/semantics.md 7, "Per-flow figures").
    check(doc["time"] == web["last_seen"] and web["idle_seconds"] == 0
          and web["first_seen"] == "2023-11-14T22:13:25.000000000Z" and
          by_port[80]["idle_seconds"] > 0, f"times: {doc['time']}, {web}")
    check(all(web["counters"][k] == metric(metrics, FLOW_TOTALS[k])
              - by_port[80]["counters"][k] for k in FLOW_TOTALS), "the two flows add up")
    # Payload: 1000 bytes a data segment captured (12 less 3 dropped, 8
    # less 1); no retransmission; the ACK RTT samples are the handshake's
    # two, 100 ms each (pcapgen's step), kept to 1/1024 rounded down.
    check(web["bytes"] == 9000 and by_port[80]["bytes"] == 7000,
          f"bytes: {web['bytes']}, {by_port[80]['bytes']}")
    check(all(fl["retransmissions"] == {"fast": 0, "spurious": 0, "other": 0}
              for fl in doc["flows"]), "no retransmission")
    check(all(0.1 * (1 - 1 / 1024) <= fl["ack_rtt"][k] <= 0.1 for fl in doc["flows"]
              for k in ("median_seconds", "max_seconds")),
          f"ACK RTT 100 ms: {[fl['ack_rtt'] for fl in doc['flows']]}")
    # Same input, same bytes.
    check(flows_doc(v, "-r", f)[1] == raw, "--flows-json is deterministic")
    # --top N: the N worst by loss events, worst first.
    _, raw1, doc1 = flows_doc(v, "-r", f, "--top", "1")
    check(doc1["order"] == "loss" and doc1["top"] == 1 and doc1["flows_in_table"] == 2
          and len(doc1["flows"]) == 1 and doc1["flows"][0] == web, f"--top 1: {doc1}")
    _, _, doc5 = flows_doc(v, "-r", f, "--top", "5")
    check([fl["endpoints"][1]["port"] for fl in doc5["flows"]] == [443, 80],
          f"--top 5: worst first: {doc5['flows']}")
    # --top-by: the document says its order, and flows_doc checks it.
    g = ranked()
    _, _, dr = flows_doc(v, "-r", g, "--top", "10", "--top-by", "retransmissions")
    retx = dr["flows"][0]
    check(dr["order"] == "retransmissions" and retx["text"] == f"{D}:40005 > {B}:80"
          and retx["retransmissions"] == {"fast": 1, "spurious": 1, "other": 1},
          f"by retransmissions: {dr['flows']}")
    # retx_flow: samples 10, 10, 40, 87 and 440 ms; 8 data segments.
    check(440e-3 * (1 - 1 / 1024) <= retx["ack_rtt"]["max_seconds"] <= 440e-3
          and 10e-3 * (1 - 1 / 1024) <= retx["ack_rtt"]["median_seconds"] <= 440e-3
          and retx["bytes"] == 8000, f"retx_flow: {retx}")
    _, _, dt = flows_doc(v, "-r", g, "--top", "3", "--top-by", "rtt")
    check(dt["order"] == "rtt" and len(dt["flows"]) == 3
          and f"{E}:40006" not in [fl["text"].split()[0] for fl in dt["flows"]],
          f"by rtt, the flow without a sample is not among 3 of 4: {dt['flows']}")
    _, _, dt = flows_doc(v, "-r", g, "--top", "4", "--top-by", "rtt")
    check(dt["flows"][3]["text"] == f"{E}:40006 > {B}:80" and "ack_rtt" not in dt["flows"][3]
          and all("ack_rtt" in fl for fl in dt["flows"][:3]),
          f"by rtt, no sample last and no ack_rtt: {dt['flows']}")
    check(flows_doc(v, "-r", f, "--top", "1")[1] == raw1, "--top is deterministic")
    # --top's table still counts flows that left; --flows-json holds the
    # table: with --max-flows 1 the first flow was evicted by the second.
    _, _, ev = flows_doc(v, "-r", f, "--max-flows", "1", "--top", "2")
    check(ev["flows_in_table"] == 1 and ev["flows_left"] == 1 and len(ev["flows"]) == 1
          and ev["flows"][0]["endpoints"][1]["port"] == 443, f"eviction: {ev}")
    # A VLAN, IPv6, and a flow inside a tunnel.
    recs = pcapgen.conversation("2a00:1450::1", "2a00:1450::2", 40002, 443, T0, 5, drop={3})
    recs += pcapgen.conversation(A, B, 40004, 80, T0 + 10**9, 5, drop={1}, vlan=7)
    _, _, d = flows_doc(v, "-r", capture("v6vlan.pcap", recs), "--top", "2")
    check([(fl["family"], fl["vlans"]) for fl in d["flows"]] == [(4, [7]), (6, [])]
          or [(fl["family"], fl["vlans"]) for fl in d["flows"]] == [(6, []), (4, [7])],
          f"families and VLANs: {d['flows']}")
    _, _, d = flows_doc(v, "-r", os.path.join(CORPUS, "real", "vxlan-underlay.pcap"))
    check(d["flows"] and all(fl["encapsulation"][0]["type"] == "vxlan"
                             and fl["encapsulation"][0]["vni"] == 42
                             and fl["text"].startswith("vxlan ") for fl in d["flows"]),
          f"VXLAN: {[fl['encapsulation'] for fl in d['flows']]}")
    # Usage: replay only, and not on the metrics' stream.
    for args in (["-r", f, "--flows-json", "-"], ["-i", "lo", "--flows-json", "x.json"],
                 ["-r", f, "--flows-json", ""]):
        lines = err_lines(run(*args, code=2))
        check(len(lines) == 2 and "--flows-json" in lines[0], f"{args}: {lines}")
    p = run("-q", "-r", f, "-o", path("m.prom"), "--flows-json", "-")
    check(p.stdout.startswith(b'{"format":"tcpwm-flows/1"'), "--flows-json - with -o FILE")
    # An unwritable path fails before the analysis: exit 1, nothing else.
    p = run("-q", "-r", f, "--flows-json", path("no/such/dir.json"), code=1)
    check(p.stdout == b"" and len(err_lines(p)) == 1, f"unwritable: {err_lines(p)}")


def case_flows_sums():
    """While no flow has left the table, each per-flow counter summed over
    the flows equals its total, each kind of retransmissions its
    tcp_monitor_retransmissions_total, and packets the TCP packets (every
    TCP packet is analyzed with --scope all, each in its flow)."""
    v = flowschema.validator()
    whole = 0
    retx = dict.fromkeys(RETX_TOTALS, 0)
    for sub in ("real", "crafted", "encap", "regress"):
        for name in sorted(os.listdir(os.path.join(CORPUS, sub))):
            if not name.endswith((".pcap", ".pcapng")):
                continue
            f = os.path.join(CORPUS, sub, name)
            metrics, _, doc = flows_doc(v, "-r", f, "--scope", "all")
            check(doc["flows_in_table"] == len(doc["flows"]), f"{name}: every flow is written")
            if doc["flows_left"] > 0:
                continue
            whole += sub == "real"
            for k, total in FLOW_TOTALS.items():
                got = sum(fl["counters"][k] for fl in doc["flows"])
                check(got == metric(metrics, total), f"{name}: sum of {k} {got} != {total}")
            for k, total in RETX_TOTALS.items():
                got = sum(fl["retransmissions"][k] for fl in doc["flows"])
                check(got == metric(metrics, total), f"{name}: sum of {k} {got} != {total}")
                retx[k] += got
            got = sum(fl["packets"] for fl in doc["flows"])
            check(got == metric(metrics, "tcp_monitor_tcp_packets_total"),
                  f"{name}: sum of packets {got}")
    check(whole >= 10, f"only {whole} real captures keep every flow in the table")
    check(all(retx.values()), f"every kind of retransmission was summed somewhere: {retx}")
    # many-short-flows reuses its client ports: 80 of its 100 connections
    # left the table at the reuse, every one having started with a
    # handshake the recording holds.
    metrics, _, doc = flows_doc(v, "-r", os.path.join(CORPUS, "real", "many-short-flows.pcap"))
    check(doc["flows_left"] + doc["flows_in_table"] ==
          metric(metrics, "tcp_monitor_connections_opened_total"),
          f"many-short-flows: left {doc['flows_left']} + in table {doc['flows_in_table']}")


# Real captures whose flows are tshark's streams: retransmissions of every
# kind among them, no tunnel header, no IP fragment (docs/semantics.md 7,
# "Where tshark differs"); many-short-flows' 100 connections reuse 20
# 4-tuples (a flow and a stream are the same connection when their
# endpoints and the capture time of their latest packet are).
TSHARK_CAPTURES = ("tbf-bottleneck.pcap", "bulk-random-drop-rx.pcap", "bulk-random-drop-tx.pcap",
                   "reorder-htb.pcap", "shrink-window.pcap", "router-any-sll2.pcap",
                   "vxlan-inner.pcap", "many-short-flows.pcap", "delay-spike.pcap",
                   "rto-blackout.pcap")
TSHARK_FIELDS = ("tcp.stream", "frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
                 "ipv6.dst",
                 "tcp.dstport", "tcp.len", "tcp.analysis.fast_retransmission",
                 "tcp.analysis.spurious_retransmission", "tcp.analysis.retransmission",
                 "tcp.analysis.ack_rtt")


def endpoints_of(pairs):
    """A connection's two endpoints, either way round."""
    import ipaddress
    return frozenset((ipaddress.ip_address(a), int(p)) for a, p in pairs)


def rfc3339_ns(text):
    """The flows document's "2023-11-14T22:13:20.200000000Z" in ns."""
    import calendar
    import time
    whole, frac = text.rstrip("Z").split(".")
    return (calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) * 10**9
            + int(frac.ljust(9, "0")))


def tshark_streams(f):
    """tshark's view of each TCP stream of f, by its endpoints and the
    capture time of its latest frame (ns): payload bytes (tcp.len),
    retransmissions by kind (as docs/semantics.md 7 maps tshark's fields
    onto ours) and ACK RTT samples in seconds."""
    import shutil
    tshark = shutil.which("tshark")
    check(tshark is not None, "tshark is needed (Debian package tshark)")
    cmd = [tshark, "-n", "-r", f, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=f"]
    for field in TSHARK_FIELDS:
        cmd += ["-e", field]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"tshark -r {f}: exit {p.returncode}: {p.stderr.strip()}")
    streams, ends, last = {}, {}, {}
    for line in p.stdout.splitlines():
        c = dict(zip(TSHARK_FIELDS, line.split("\t")))
        if not c.get("tcp.stream"):
            continue
        st = streams.setdefault(c["tcp.stream"], {"bytes": 0, "fast": 0, "spurious": 0,
                                                   "other": 0, "rtt": []})
        ends[c["tcp.stream"]] = endpoints_of([(c["ip.src"] or c["ipv6.src"], c["tcp.srcport"]),
                                              (c["ip.dst"] or c["ipv6.dst"], c["tcp.dstport"])])
        last[c["tcp.stream"]] = max(last.get(c["tcp.stream"], 0),
                                    int(decimal.Decimal(c["frame.time_epoch"]) * 10**9))
        st["bytes"] += int(c["tcp.len"] or 0)
        if c["tcp.analysis.fast_retransmission"]:
            st["fast"] += 1
        elif c["tcp.analysis.spurious_retransmission"]:
            st["spurious"] += 1
        elif c["tcp.analysis.retransmission"]:
            st["other"] += 1
        if c["tcp.analysis.ack_rtt"]:
            st["rtt"].append(float(c["tcp.analysis.ack_rtt"]))
    return {(ends[k], last[k]): st for k, st in streams.items()}


def case_flows_tshark():
    """Each flow's bytes, retransmissions by kind and ACK RTT against
    tshark's stream of the same endpoints: bytes and kinds equal, the
    largest sample within 0.1 % + 1 us (the core keeps 1/1024 of it), the
    median estimate between the stream's smallest and largest sample
    (with the same margin) and, with 20 samples or more, within a factor
    of 2 of the exact median of the last 32 or with at most 75% of those
    on either side; and the documents ranked by retransmissions
    and by ACK RTT in their documented order (flows_doc checks it)."""
    v = flowschema.validator()
    compared = with_rtt = kinds = 0
    for name in TSHARK_CAPTURES:
        f = os.path.join(CORPUS, "real", name)
        _, _, doc = flows_doc(v, "-r", f, "--scope", "all")
        ts = tshark_streams(f)
        for fl in doc["flows"]:
            what = f"{name}: {fl['text']} until {fl['last_seen']}"
            key = (endpoints_of((e["address"], e["port"]) for e in fl["endpoints"]),
                   rfc3339_ns(fl["last_seen"]))
            check(not fl["encapsulation"] and key in ts, f"{what}: no such tshark stream")
            st = ts[key]
            compared += 1
            check(fl["bytes"] == st["bytes"], f"{what}: bytes {fl['bytes']}, tshark {st['bytes']}")
            tk = {k: st[k] for k in ("fast", "spurious", "other")}
            check(fl["retransmissions"] == tk,
                  f"{what}: retransmissions {fl['retransmissions']}, tshark {tk}")
            kinds |= sum(1 << i for i, k in enumerate(tk) if tk[k])
            if not st["rtt"]:
                check("ack_rtt" not in fl, f"{what}: ack_rtt {fl.get('ack_rtt')} without a sample")
                continue
            with_rtt += 1
            lo, hi = min(st["rtt"]), max(st["rtt"])
            rtt = fl.get("ack_rtt")
            check(rtt is not None, f"{what}: no ack_rtt, tshark has {len(st['rtt'])} samples")
            check(abs(rtt["max_seconds"] - hi) <= hi * 1e-3 + 1e-6,
                  f"{what}: max ACK RTT {rtt['max_seconds']}, tshark {hi}")
            check(lo * (1 - 1e-3) - 1e-6 <= rtt["median_seconds"] <= hi * (1 + 1e-3) + 1e-6,
                  f"{what}: median estimate {rtt['median_seconds']} not within tshark's "
                  f"{lo} .. {hi}")
            # With enough samples the estimate is a neighbour of the median
            # of the flow's recent samples (its steps stop shrinking after
            # 32: semantics.md 7, "Per-flow figures"), in time or in rank:
            # within a factor of 2 of the exact median of tshark's last 32
            # samples, or with at most 75% of them on either side (samples
            # in clusters far apart: between two clusters any value has the
            # same rank). Margins of 1/1024 and 1 us: the core keeps its
            # code, tshark microseconds.
            recent = st["rtt"][-32:]
            if len(st["rtt"]) >= 20:
                m, exact = rtt["median_seconds"], statistics.median(recent)
                below = sum(x < m * (1 - 1e-3) - 1e-6 for x in recent) / len(recent)
                above = sum(x > m * (1 + 1e-3) + 1e-6 for x in recent) / len(recent)
                check(exact / 2 <= m <= exact * 2 or (below <= 0.75 and above <= 0.75),
                      f"{what}: median estimate {m}, exact median of the last "
                      f"{len(recent)} samples {exact}, {below:.0%} of them below, "
                      f"{above:.0%} above")
        for by in ("retransmissions", "rtt"):
            _, _, ranked_doc = flows_doc(v, "-r", f, "--scope", "all", "--top", "1000",
                                         "--top-by", by)
            check(ranked_doc["order"] == by and
                  sorted(fl["text"] for fl in ranked_doc["flows"]) ==
                  sorted(fl["text"] for fl in doc["flows"]), f"{name}: --top-by {by}: every flow")
    # 31 flows: many-short-flows keeps 20 of its 100 in the table.
    check(compared >= 25 and with_rtt >= 25 and kinds == 7,
          f"only {compared} flows compared, {with_rtt} with ACK RTT samples, kinds seen {kinds:b}")


# ---- --service-ports (docs/semantics.md 8) -----------------------------------

# The families that carry the port label: those counting events of one flow.
PER_FLOW_FAMILIES = {
    "tcp_monitor_packet_loss_missing_total", "tcp_monitor_packet_loss_duplicate_total",
    "tcp_monitor_packet_loss_out_of_order_total", "tcp_monitor_capture_gap_total",
    "tcp_monitor_keepalive_total", "tcp_monitor_zero_window_probe_total",
    "tcp_monitor_zero_window_total", "tcp_monitor_window_shrink_total",
    "tcp_monitor_window_right_edge_retreat_total",
    "tcp_monitor_window_scale_unknown_packets_total", "tcp_monitor_connections_opened_total",
    "tcp_monitor_connections_closed_total", "tcp_monitor_duplicate_acks_total",
    "tcp_monitor_retransmissions_total", "tcp_monitor_reordered_segments_total",
    "tcp_monitor_dsack_total", "tcp_monitor_packet_loss_gap_bytes",
    "tcp_monitor_hole_fill_seconds", "tcp_monitor_ack_rtt_seconds",
    "tcp_monitor_handshake_rtt_seconds",
}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (\S+))?$')


def samples(text):
    """{(name, labels without port, ts): {port or None: value}} and the family
    of each name (the text format's TYPE lines name the sample family)."""
    out, fam = {}, {}
    family = None
    for line in text.decode().splitlines():
        if line.startswith("# TYPE "):
            family = line.split()[2]
            continue
        if line.startswith("#") or not line:
            continue
        m = SAMPLE.match(line)
        check(m is not None, f"cannot parse {line!r}")
        name, labels, value, ts = m.groups()
        pairs = re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels or "")
        port = dict(pairs).get("port")
        rest = tuple((k, v) for k, v in pairs if k != "port")
        out.setdefault((name, rest, ts), {})[port] = decimal.Decimal(value)
        fam[name] = family
    return out, fam


def base_family(family):
    """The family as the per-flow list names it (text format: counters with
    _total; OpenMetrics: without)."""
    return family if family in PER_FLOW_FAMILIES else family + "_total"


def check_service_sums(plain, labelled, ports, what):
    """Every unlabelled sample of `plain` is the sum over the ports of
    `labelled` (per-flow families), or the same sample (the others)."""
    want_labels = {str(p) for p in ports} | {"other"}
    a, fam = samples(plain)
    b, fam_b = samples(labelled)
    check(a.keys() == b.keys(), f"{what}: the series differ: {set(a) ^ set(b)}")
    for key, vals in a.items():
        per_flow = base_family(fam[key[0]]) in PER_FLOW_FAMILIES
        got = b[key]
        if per_flow:
            check(set(got) == want_labels,
                  f"{what}: {key} has ports {sorted(got, key=str)}, want {sorted(want_labels)}")
            check(sum(got.values()) == vals[None],
                  f"{what}: {key} sums to {sum(got.values())} over the ports, "
                  f"{vals[None]} without --service-ports")
        else:
            check(got == vals, f"{what}: {key} is {got}, without --service-ports {vals}")
    labelled_families = {base_family(fam_b[k[0]]) for k, v in b.items() if None not in v}
    check(labelled_families == PER_FLOW_FAMILIES,
          f"{what}: labelled families {sorted(labelled_families ^ PER_FLOW_FAMILIES)} differ")


def service_capture():
    """Flows whose service port each rule decides, with --service-ports
    80,443; each with its own number of missing events:
      A:40000 -> B:80 with its SYN: 80 (1 missing)
      A:443 -> C:9999 with its SYN: other, the SYN's destination (2)
      C:40002 -> B:443 mid-stream: 443, the listed port (3)
      C:443 -> A:80 mid-stream: 80, both listed, the lower (4)
      B:40003 -> C:8080 mid-stream: other (5)"""
    def mid(recs):
        return recs[3:]  # no handshake: the capture starts in the data
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 8, drop={2})
    recs += pcapgen.conversation(A, C, 443, 9999, T0 + 1, 8, drop={2, 4})
    recs += mid(pcapgen.conversation(C, B, 40002, 443, T0 + 2, 10, drop={2, 4, 6}))
    recs += mid(pcapgen.conversation(C, A, 443, 80, T0 + 3, 12, drop={2, 4, 6, 8}))
    recs += mid(pcapgen.conversation(B, C, 40003, 8080, T0 + 4, 14, drop={2, 4, 6, 8, 10}))
    recs.sort(key=lambda r: r[0])
    return capture("services.pcap", recs)


def case_service_ports():
    f = service_capture()
    plain = run("-q", "-r", f).stdout
    out = run("-q", "-r", f, "--service-ports", "443,80").stdout
    check_service_sums(plain, out, (80, 443), "crafted")
    missing = {port: v for (n, _, _), vals in samples(out)[0].items()
               if n == "tcp_monitor_packet_loss_missing_total" for port, v in vals.items()}
    check(missing == {"80": 1 + 4, "443": 3, "other": 2 + 5}, f"missing by port: {missing}")
    opened = samples(out)[0][("tcp_monitor_connections_opened_total", (), None)]
    check(opened == {"80": 2, "443": 1, "other": 2}, f"connections by port: {opened}")
    # Order and repetition do not matter; OpenMetrics and the timeline too.
    check(run("-q", "-r", f, "--service-ports", "80", "--service-ports", "443").stdout == out,
          "--service-ports 80 --service-ports 443 differs from 443,80")
    for extra in (["--format", "openmetrics"], ["--timeline", "-s", "0.5"]):
        check_service_sums(run("-q", "-r", f, *extra).stdout,
                           run("-q", "-r", f, "--service-ports", "80,443", *extra).stdout,
                           (80, 443), f"crafted {extra}")
    # The flows JSON says each flow's label.
    v = flowschema.validator()
    _, _, doc = flows_doc(v, "-r", f, "--service-ports", "80,443")
    got = sorted((fl["endpoints"][0]["port"], fl["endpoints"][1]["port"], fl["service_port"])
                 for fl in doc["flows"])
    check(got == [(443, 80, "80"), (443, 9999, "other"), (40000, 80, "80"),
                  (40002, 443, "443"), (40003, 8080, "other")], f"flows JSON: {got}")
    _, _, doc = flows_doc(v, "-r", f)
    check(all("service_port" not in fl for fl in doc["flows"]), "service_port without the flag")
    # 64 ports are fine, a port label for each.
    many = ",".join(str(p) for p in range(1, 65))
    out = run("-q", "-r", f, "--service-ports", many).stdout
    check(out.count(b"tcp_monitor_dsack_total{port=") == 65, "64 ports and other")


def case_service_ports_usage():
    f = lossy()
    bad = {
        "": "expected a list of ports",
        "0": "'0' is not a port",
        "65536": "'65536' is not a port",
        "http": "'http' is not a port",
        "80,": "comma-separated",
        ",80": "comma-separated",
        "80,,443": "comma-separated",
        "80;443": "'80;443' is not a port",
        "-1": "'-1' is not a port",
        "80,443,80": "port 80 is listed twice",
        ",".join(str(p) for p in range(1, 66)): "at most 64 ports",
    }
    for arg, why in bad.items():
        p = run("-r", f, "--service-ports", arg, code=2)
        lines = err_lines(p)
        check(len(lines) == 2 and lines[0].startswith("tcp_window_monitor: --service-ports: ")
              and why in lines[0] and "--help" in lines[1], f"{arg!r}: {lines}")
        check(p.stdout == b"", f"{arg!r}: wrote to stdout")
    p = run("-r", f, "--service-ports", "80", "--service-ports", "80", code=2)
    check("listed twice" in err_lines(p)[0], "a port repeated across flags")


def case_service_ports_corpus():
    """On every capture of the corpus, the sum over the ports of each
    per-flow series equals its value without --service-ports, and the other
    series are unchanged (text format; the crafted case covers the others)."""
    n = 0
    for sub in ("real", "crafted", "encap", "regress"):
        for name in sorted(os.listdir(os.path.join(CORPUS, sub))):
            if not name.endswith((".pcap", ".pcapng")):
                continue
            f = os.path.join(CORPUS, sub, name)
            plain = run("-q", "-r", f, code=None)
            labelled = run("-q", "-r", f, "--service-ports", "22,80,443,5001,8080",
                           code=None)
            check(plain.returncode == labelled.returncode, f"{name}: exit status differs")
            if plain.stdout:
                check_service_sums(plain.stdout, labelled.stdout, (22, 80, 443, 5001, 8080),
                                   name)
            n += sub == "real"
    check(n >= 10, f"only {n} real captures")


def case_verbose():
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 5, drop={2})
    recs += pcapgen.conversation("2a00:1450::1", "2a00:1450::2", 40002, 443, T0 + 10**9, 5,
                                 drop={3})
    recs += pcapgen.conversation(A, B, 40004, 80, T0 + 2 * 10**9, 5, drop={1}, vlan=7)
    f = capture("verbose.pcap", recs)
    p = run("-q", "-v", "-r", f)
    lines = [line for line in err_lines(p) if "missing" in line]
    check(len(lines) == 3, f"-v lines: {err_lines(p)}")
    ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"
    check(re.fullmatch(ts + r" 20\.0\.0\.1:40000 > 30\.0\.0\.2:80 missing gap=1000", lines[0]),
          f"IPv4 line: {lines[0]!r}")
    check(lines[0].startswith("2023-11-14T22:13:20.800000000Z "), f"time: {lines[0]!r}")
    check(re.fullmatch(ts + r" \[2a00:1450::1\]:40002 > \[2a00:1450::2\]:443 missing gap=1000",
                       lines[1]), f"IPv6 line: {lines[1]!r}")
    check(re.fullmatch(ts + r" vlan 7 20\.0\.0\.1:40004 > 30\.0\.0\.2:80 missing gap=1000",
                       lines[2]), f"VLAN line: {lines[2]!r}")
    # The first window of a direction has no earlier one: was=-, not was=0.
    recs = [(T0, pcapgen.tcp_frame(A, B, 40000, 80, 1000, 5000, pcapgen.ACK, win=0)),
            (T0 + 10**8, pcapgen.tcp_frame(A, B, 40000, 80, 1000, 5000, pcapgen.ACK, win=0))]
    lines = err_lines(run("-q", "-v", "-r", capture("zw-first.pcap", recs)))
    check(len(lines) == 2 and lines[0].endswith(" zero_window window=0 was=- scale=?")
          and lines[1].endswith(" zero_window window=0 was=0 scale=?"), f"-v was=: {lines}")
    # Without -v, nothing of the sort.
    check(run("-q", "-r", f).stderr == b"", "-q without -v is silent")
    # A retransmission's line carries its flow's running figures: the
    # counts by kind are those of the flow's retransmission lines so far,
    # and at the end they are the flow's in --flows-json.
    real = os.path.join(CORPUS, "real", "tbf-bottleneck.pcap")
    out = os.path.join(WORK, "verbose-flows.json")
    p = run("-q", "-v", "-r", real, "--scope", "all", "--flows-json", out)
    seen, last = {}, {}
    pat = re.compile(r" (\S+ [<>] \S+|\S+ > \S+) .*retransmission=(fast|spurious|other) "
                     r"flow_retransmissions=fast:(\d+),spurious:(\d+),other:(\d+)"
                     r"(?: flow_ack_rtt=median:([\d.]+)s,max:([\d.]+)s)?")
    nlines = 0
    for line in err_lines(p):
        m = pat.search(line)
        if not m:
            check("retransmission=" not in line, f"-v retransmission line: {line!r}")
            continue
        nlines += 1
        ends = tuple(sorted(re.split(r" [<>] ", m.group(1))))
        counts = seen.setdefault(ends, {"fast": 0, "spurious": 0, "other": 0})
        counts[m.group(2)] += 1
        got = dict(zip(("fast", "spurious", "other"), map(int, m.group(3, 4, 5))))
        check(got == counts, f"running counts {got}, lines so far {counts}: {line!r}")
        last[ends] = (got, m.group(6), m.group(7))
    with open(out, encoding="utf-8") as fh:
        flows = json.load(fh)["flows"]
    check(nlines >= 10 and len(last) >= 1, f"{nlines} retransmission lines in {real}")
    for fl in flows:
        ends = tuple(sorted(f"{e['address']}:{e['port']}" if fl["family"] == 4 else
                            f"[{e['address']}]:{e['port']}" for e in fl["endpoints"]))
        if ends in last:
            got, med, mx = last.pop(ends)
            check(got == fl["retransmissions"], f"{ends}: last -v counts {got}, "
                  f"flows JSON {fl['retransmissions']}")
            check(med is not None and float(mx) <= fl["ack_rtt"]["max_seconds"] + 1e-9,
                  f"{ends}: -v ACK RTT max {mx}, at the end {fl['ack_rtt']}")
    check(not last, f"-v flows missing from the flows JSON: {list(last)}")


def case_stats_line():
    p = run("-r", lossy())
    lines = err_lines(p)
    check(len(lines) == 1 and "final" in lines[0] and "packets 11" in lines[0]
          and "analyzed 11," in lines[0] and "missing 2" in lines[0]
          and "zero_window 0" in lines[0] and "window_shrink 0" in lines[0],
          f"final stats line: {lines}")
    # A window monitor's line shows window events (issue 12, item 6): the
    # server's window goes 65535 -> 0 (SYN-ACK windows are never compared,
    # semantics.md 5): one shrink, one zero window.
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 2)
    recs.append((T0 + 10**9, pcapgen.tcp_frame(B, A, 80, 40000, 5001, 2001, pcapgen.ACK)))
    recs.append((T0 + 2 * 10**9, pcapgen.tcp_frame(B, A, 80, 40000, 5001, 3001, pcapgen.ACK,
                                                   win=0)))
    lines = err_lines(run("-r", capture("zw.pcap", recs)))
    check(len(lines) == 1 and "zero_window 1," in lines[0] and "window_shrink 1," in lines[0],
          f"window events in the stats line: {lines}")


def case_multiple_files():
    a = lossy("a.pcap")
    b = capture("b.pcapng",
                pcapgen.conversation(C, B, 40001, 443, T0 + 60 * 10**9, 12, drop={1, 4, 8}),
                ng=True)
    pa, pb = run("-q", "-r", a).stdout, run("-q", "-r", b).stdout
    pab = run("-q", "-r", a, "-r", b).stdout
    for name in ("tcp_monitor_packets_total", "tcp_monitor_tcp_packets_total",
                 "tcp_monitor_packet_loss_missing_total",
                 "tcp_monitor_connections_opened_total"):
        check(metric(pab, name) == metric(pa, name) + metric(pb, name), f"{name} does not add up")
    check(metric(pab, "tcp_monitor_packet_loss_missing_total") == 5, "missing 2 + 3")


def case_pcapng():
    recs = pcapgen.conversation(A, B, 40000, 80, T0, 10, drop={3, 6})
    a = capture("same.pcap", recs)
    b = capture("same.pcapng", recs, ng=True)
    for extra in ([], ["--timeline"]):
        check(run("-q", "-r", a, *extra).stdout == run("-q", "-r", b, *extra).stdout,
              f"pcap and pcapng of the same packets differ ({extra})")


def case_file_and_stdin():
    """A file on disk is read ahead on a second thread (instream.h), the
    same bytes on standard input through a buffer. Both must give the same
    output, exit status and (file name aside) error, whatever the byte
    order, resolution or damage of the file."""
    def both(f, *args):
        with open(f, "rb") as fh:
            a, b = run("-q", "-r", f, *args, code=None), run("-q", "-r", "-", *args, code=None,
                                                            stdin=fh)
        err_a = a.stderr.decode().replace(f, "FILE")
        err_b = b.stderr.decode().replace("standard input", "FILE")
        check(a.returncode == b.returncode and a.stdout == b.stdout and err_a == err_b,
              f"{os.path.basename(f)} {args}: file and standard input differ:\n"
              f"exit {a.returncode} / {b.returncode}\n{err_a}\n{err_b}")
        return a

    recs = pcapgen.conversation(A, B, 40000, 80, T0, 10, drop={3, 6})
    outs = set()
    for order in "<>":
        for nano in (True, False):
            f = path(f"v{order == '<'}{nano}.pcap")
            pcapgen.write_pcap(f, recs, order=order, nano=nano)
            outs.add(both(f).stdout)
            both(f, "tcp", "port", "80")
    check(len(outs) == 1, "byte order or resolution changed the result")
    # Past 2038 (seconds >= 2^31): libpcap takes them as negative in the
    # host's byte order, as unsigned in the other; both readers must agree.
    late = pcapgen.conversation(A, B, 40000, 80, (2**31 + 5) * 10**9, 10, drop={3, 6})
    for order in "<>":
        f = path(f"late{order == '<'}.pcap")
        pcapgen.write_pcap(f, late, order=order)
        both(f, "--timeline")
    check(metric(outs.pop(), "tcp_monitor_packet_loss_missing_total") == 2,
          "the conversation's two losses")

    # Damage: a record longer than the file's snap length, a record cut by
    # the end of the file, a cut record header, a huge caplen.
    f = path("snap.pcap")
    pcapgen.write_pcap(f, recs, snaplen=60)
    both(f)
    whole = path("v" + "True" + "True.pcap")
    with open(whole, "rb") as fh:
        data = fh.read()
    for cut in (len(data) - 1, len(data) - 30, len(data) - 70):
        g = path(f"cut{cut}.pcap")
        with open(g, "wb") as fh:
            fh.write(data[:cut])
        check(both(g).returncode == 1, f"a file cut at {cut} of {len(data)} is an error")
    g = path("huge.pcap")
    with open(g, "wb") as fh:
        fh.write(data[:24 + 8] + (300000).to_bytes(4, "little") + data[24 + 12:])
    check(both(g).returncode == 1, "a 300000-byte caplen is an error")

    # Every capture of the corpus.
    corpus = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pcaps")
    n = 0
    for dirpath, _, names in os.walk(corpus):
        for name in sorted(names):
            if name.endswith((".pcap", ".pcapng")):
                both(os.path.join(dirpath, name), "--scope", "all")
                n += 1
    check(n > 50, f"only {n} corpus captures found")


def main():
    name = sys.argv[3]
    fn = globals().get("case_" + name)
    if fn is None:
        print(f"unknown case {name}", file=sys.stderr)
        return 2
    try:
        fn()
    except Failure as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        return 1
    finally:
        subprocess.run(["rm", "-rf", WORK])
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
