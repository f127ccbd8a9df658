# SPDX-License-Identifier: MIT
"""Valgrind memcheck over the replay of the capture corpus (stdlib only).

    valgrind.py BINARY SANITIZED [DIR...]

Runs `valgrind --error-exitcode=1 --leak-check=full BINARY -q -r CAPTURE
--scope all` on every capture (*.pcap, *.pcapng) under each DIR, plus a few
of the shared corpus when $TCPWM_SHARED_PCAPS (default /work/shared/pcaps)
exists: the smallest VALGRIND_SHARED (default 8) of those under 1 MiB.

SANITIZED is the build's TCPWM_SANITIZE: when ON, exits 77 at once (ctest's
SKIP_RETURN_CODE), since valgrind cannot run an AddressSanitizer binary.
Without valgrind installed (Debian package valgrind) it fails, not skips.

A capture passes when memcheck reports no error and no leak ("ERROR
SUMMARY: 0 errors"); the monitor's own exit status may be 0 or 1 (a
capture of the corpus may be deliberately broken), never a signal. Prints
"N passed, N failed" and exits 1 if anything failed.
"""
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
EXTS = (".pcap", ".pcapng")


def captures(dirs):
    out = []
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            subdirs.sort()
            out += [os.path.join(root, f) for f in sorted(files) if f.endswith(EXTS)]
    return out


def shared_few():
    d = os.environ.get("TCPWM_SHARED_PCAPS", "/work/shared/pcaps")
    if not os.path.isdir(d):
        return []
    n = int(os.environ.get("VALGRIND_SHARED", "8"))
    found = [p for p in captures([d]) if os.path.getsize(p) < (1 << 20)]
    found.sort(key=lambda p: (os.path.getsize(p), p))
    return found[:n]


def one(binary, capture, logdir):
    log = os.path.join(logdir, re.sub(r"[^A-Za-z0-9_.-]", "_", capture) + ".log")
    argv = ["valgrind", "--error-exitcode=1", "--leak-check=full", "--log-file=" + log,
            binary, "-q", "-r", capture, "--scope", "all", "-o", os.devnull]
    p = subprocess.run(argv, capture_output=True, timeout=1800)
    with open(log, encoding="utf-8", errors="replace") as f:
        text = f.read()
    clean = re.search(r"ERROR SUMMARY: 0 errors from 0 contexts", text) is not None
    leaks = re.search(r"definitely lost: [1-9]|indirectly lost: [1-9]", text)
    if p.returncode < 0:
        return False, f"killed by signal {-p.returncode}"
    if not clean or leaks:
        return False, "memcheck:\n" + text[-4000:]
    if p.returncode not in (0, 1):
        return False, f"exit {p.returncode}\n{p.stderr.decode(errors='replace')}"
    return True, f"exit {p.returncode}"


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    binary, sanitized, dirs = argv[0], argv[1], argv[2:]
    if sanitized.upper() in ("ON", "1", "TRUE", "YES"):
        print("sanitized build: valgrind cannot run it; skipped")
        return SKIP
    if shutil.which("valgrind") is None:
        print("valgrind not found: install the Debian package valgrind")
        return 1
    files = captures(dirs) + shared_few()
    if not files:
        print("no captures found")
        return 1
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="tcpwm-valgrind-") as logdir:
        with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
            futures = {ex.submit(one, binary, f, logdir): f for f in files}
            results = {futures[fu]: fu.result() for fu in concurrent.futures.as_completed(futures)}
    for f in files:
        ok, detail = results[f]
        if ok:
            passed += 1
            print(f"PASS {f} ({detail})")
        else:
            failed += 1
            print(f"FAIL {f}: {detail}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
