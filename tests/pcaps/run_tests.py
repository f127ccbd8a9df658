#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Golden-file tests of tcp_window_monitor over the captures in tests/pcaps.

    run_tests.py BINARY [--update-missing] [NAME ...]
        For each TESTLIST line (or only the named tests), run
        `BINARY -r CAPTURE FLAGS...` and
          (a) check that every line of the .expect file beside the expected
              output (same name, .expect instead of .prom) appears exactly,
              as a whole line, in the output;
          (b) compare the output with the golden .prom file if it exists,
              printing a unified diff on a mismatch.
        --update-missing writes the golden file of a test that has none,
        and only when its .expect check passed. It never overwrites one.

    run_tests.py --check-generator
        Re-run gen_crafted.py into a temporary directory and check that
        every file it writes is byte-identical to the one in crafted/, and
        that every crafted test it defines is in TESTLIST.

    run_tests.py --wireshark [TSHARK]
        Compare the .expect files of the crafted captures with Wireshark's
        TCP analysis (docs/semantics.md section 4): missing == number of
        packets flagged tcp.analysis.lost_segment, and out_of_order +
        duplicate == packets flagged tcp.analysis.retransmission or
        tcp.analysis.out_of_order, except for the cases listed in
        crafted/wireshark-exceptions.txt.

TESTLIST format, after tcpdump's tests/TESTLIST: one test per line,
`name capture expected-output flags...`, paths relative to this directory;
blank lines and lines starting with '#' are ignored.

Each mode ends with "N passed, N failed" alone on a line and exits 1 if
anything failed.
"""

import difflib
import filecmp
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def read_testlist(path=None):
    tests = []
    with open(path or os.path.join(HERE, "TESTLIST"), encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) < 3:
                sys.exit("TESTLIST:%d: expected 'name capture expected-output flags...'" % n)
            tests.append((parts[0], parts[1], parts[2], parts[3:]))
    names = [t[0] for t in tests]
    dup = sorted({x for x in names if names.count(x) > 1})
    if dup:
        sys.exit("TESTLIST: duplicate test names: " + " ".join(dup))
    return tests


def expect_path(expected):
    return os.path.join(HERE, os.path.splitext(expected)[0] + ".expect")


def summary(passed, failed):
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


# --- golden tests -------------------------------------------------------------


def run_golden(binary, update_missing, only):
    tests = read_testlist()
    if only:
        unknown = set(only) - {t[0] for t in tests}
        if unknown:
            sys.exit("no such test: " + " ".join(sorted(unknown)))
        tests = [t for t in tests if t[0] in only]
    passed = failed = 0
    for name, capture, expected, flags in tests:
        problems = []
        cmd = [binary, "-r", os.path.join(HERE, capture)] + flags
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=120)
        except (OSError, subprocess.TimeoutExpired) as e:
            problems.append("could not run %s: %s" % (" ".join(cmd), e))
            proc = None
        out = ""
        if proc is not None:
            out = proc.stdout.decode("utf-8", "replace")
            if proc.returncode != 0:
                err = proc.stderr.decode("utf-8", "replace").strip()
                problems.append("exit status %d%s" % (proc.returncode,
                                                       (": " + err) if err else ""))
        # (a) every expected sample line is in the output, exactly.
        exp = expect_path(expected)
        expect_ok = proc is not None
        if proc is not None and os.path.exists(exp):
            lines = set(out.splitlines())
            with open(exp, encoding="utf-8") as fh:
                for want in fh.read().splitlines():
                    if want and want not in lines:
                        expect_ok = False
                        metric = re.split(r"[ {]", want, 1)[0]
                        got = [ln for ln in out.splitlines() if ln.startswith(metric)
                               and ln[len(metric):len(metric) + 1] in (" ", "{")]
                        key = want.rsplit(" ", 1)[0]
                        same = [ln for ln in got if ln.rsplit(" ", 1)[0] == key]
                        problems.append("expect: %s -- got %s" % (
                            want, same[0] if same else "no such sample"))
        # (b) the whole output against the golden file.
        golden = os.path.join(HERE, expected)
        if proc is not None and os.path.exists(golden):
            with open(golden, encoding="utf-8") as fh:
                want_text = fh.read()
            if want_text != out:
                problems.append("output differs from %s:\n%s" % (expected, "".join(
                    difflib.unified_diff(want_text.splitlines(True), out.splitlines(True),
                                         expected, "output"))))
        elif update_missing and proc is not None and proc.returncode == 0 and expect_ok:
            with open(golden, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(out)
            print("wrote %s" % expected)
        elif update_missing:
            problems.append("%s not written: the test does not pass" % expected)
        if problems:
            failed += 1
            print("FAIL %s: %s %s" % (name, capture, " ".join(flags)))
            for p in problems:
                print("  " + p.replace("\n", "\n  ").rstrip())
        else:
            passed += 1
            print("ok   %s" % name)
    return summary(passed, failed)


# --- the generator reproduces the committed corpus ------------------------------


def check_generator():
    crafted = os.path.join(HERE, "crafted")
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, os.path.join(HERE, "gen_crafted.py"), tmp])
        if proc.returncode != 0:
            print("FAIL gen_crafted.py exited with %d" % proc.returncode)
            return summary(0, 1)
        for fn in sorted(os.listdir(tmp)):
            mine = os.path.join(crafted, fn)
            if not os.path.exists(mine):
                print("FAIL %s: generated, but not in crafted/" % fn)
                failed += 1
            elif not filecmp.cmp(os.path.join(tmp, fn), mine, shallow=False):
                print("FAIL %s: differs from what gen_crafted.py writes" % fn)
                failed += 1
            else:
                passed += 1
        generated = set(os.listdir(tmp))
    # Files in crafted/ that the generator no longer writes (golden .prom
    # files are written by run_tests.py, not by the generator).
    for fn in sorted(os.listdir(crafted)):
        if fn not in generated and not fn.endswith(".prom"):
            print("FAIL %s: in crafted/ but not written by gen_crafted.py" % fn)
            failed += 1
    listed = {t[0] for t in read_testlist()}
    proc = subprocess.run([sys.executable, os.path.join(HERE, "gen_crafted.py"), "--testlist"],
                          stdout=subprocess.PIPE, universal_newlines=True)
    for line in proc.stdout.splitlines():
        if line.split()[0] not in listed:
            print("FAIL TESTLIST lacks: %s" % line)
            failed += 1
    return summary(passed, failed)


# --- Wireshark's view of the crafted captures -----------------------------------


def expect_values(path):
    vals = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            k, v = line.rsplit(" ", 1)
            vals[k] = v.strip()
    return vals


def tshark_count(tshark, capture, flt):
    proc = subprocess.run([tshark, "-n", "-r", capture, "-Y", flt, "-T", "fields", "-e",
                           "frame.number"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip())
    return len([ln for ln in proc.stdout.splitlines() if ln.strip()])


def run_wireshark(tshark):
    exceptions = {}
    with open(os.path.join(HERE, "crafted", "wireshark-exceptions.txt"), encoding="utf-8") as fh:
        for line in fh:
            if line.strip() and not line.startswith("#"):
                name, why = line.rstrip("\n").split("\t", 1)
                exceptions[name] = why
    passed = failed = 0
    seen = set()
    for name, capture, expected, flags in read_testlist():
        # One comparison per crafted capture, with the test that analyzes all of it.
        if not capture.startswith("crafted/") or capture in seen:
            continue
        if "--scope" not in flags or flags[flags.index("--scope") + 1] != "all":
            continue
        if any(f.startswith("--max-") for f in flags):
            continue
        seen.add(capture)
        exp = expect_path(expected)
        if not os.path.exists(exp):
            continue
        v = expect_values(exp)
        ours_missing = int(v["tcp_monitor_packet_loss_missing_total"])
        ours_retx = (int(v["tcp_monitor_packet_loss_out_of_order_total"])
                     + int(v["tcp_monitor_packet_loss_duplicate_total"]))
        path = os.path.join(HERE, capture)
        ws_missing = tshark_count(tshark, path, "tcp.analysis.lost_segment")
        ws_retx = tshark_count(tshark, path,
                               "tcp.analysis.retransmission || tcp.analysis.out_of_order")
        case = os.path.splitext(os.path.basename(capture))[0]
        line = "missing %d/%d, out_of_order+duplicate %d/%d (rules/Wireshark)" % (
            ours_missing, ws_missing, ours_retx, ws_retx)
        same = ours_missing == ws_missing and ours_retx == ws_retx
        if case in exceptions:
            print("exc  %s: %s; %s" % (case, line, exceptions[case]))
            if same:
                print("     (the exception no longer applies: they agree)")
            passed += 1
        elif same:
            print("ok   %s: %s" % (case, line))
            passed += 1
        else:
            print("FAIL %s: %s" % (case, line))
            failed += 1
    return summary(passed, failed)


def main(argv):
    args = argv[1:]
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args else 2
    if args[0] == "--check-generator":
        return check_generator()
    if args[0] == "--wireshark":
        return run_wireshark(args[1] if len(args) > 1 else "tshark")
    binary, rest = args[0], args[1:]
    update = "--update-missing" in rest
    only = [a for a in rest if a != "--update-missing"]
    return run_golden(binary, update, only)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
