# SPDX-License-Identifier: MIT
"""The bash completion (scripts/tcp_window_monitor.bash-completion), run in
a real bash as bash runs it on <Tab>: COMP_WORDS and COMP_CWORD set, the
function called, COMPREPLY read back.

    python3 completion_test.py BINARY COMPLETION

Expected values come from the program itself (its --help) and from the
system (/sys/class/net, a folder of files made here), not from the script.
"""
import os
import re
import subprocess
import sys
import tempfile

BIN, SCRIPT = sys.argv[1], sys.argv[2]
failures = []


def complete(*words):
    """COMPREPLY for the command line BIN words..., the cursor at the end of
    the last word. bash splits --flag=value at '=' (COMP_WORDBREAKS), so
    the caller passes "--format", "=", "op" as bash would."""
    cmd = [BIN, *words]
    script = (f". {SCRIPT!r}\n"
              "COMP_WORDS=(\"$@\")\n"
              "COMP_CWORD=$(($# - 1))\n"
              "_tcp_window_monitor\n"
              "printf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "-c", script, "bash", *cmd], capture_output=True, text=True)
    if p.returncode != 0:
        failures.append(f"{words}: bash exit {p.returncode}: {p.stderr}")
    return [w for w in p.stdout.splitlines() if w]


def expect(words, want, exact=True):
    got = complete(*words)
    ok = sorted(got) == sorted(want) if exact else set(want) <= set(got)
    if not ok:
        failures.append(f"{' '.join(words)!r}: got {sorted(got)}, expected "
                        f"{'' if exact else 'at least '}{sorted(want)}")


def help_flags():
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True, check=True).stdout
    flags = set()
    for line in out.splitlines():
        if re.match(r"^ {2,6}-", line):
            spec = line.lstrip(" ").split("  ")[0]
            flags.update(w for w in re.split(r"[ ,]+", spec) if w.startswith("-"))
    return flags


flags = help_flags()
longs = sorted(f for f in flags if f.startswith("--"))
shorts = sorted(f for f in flags if not f.startswith("--"))
if len(longs) < 15 or len(shorts) < 10:
    failures.append(f"--help gave too few flags: {sorted(flags)}")

# Every flag of --help, and nothing else.
expect(["--"], longs)
expect(["-"], longs + shorts)
expect(["--ver"], [f for f in longs if f.startswith("--ver")])
# Values with a fixed set.
expect(["-r", "x.pcap", "--format", ""], ["prometheus", "openmetrics"])
expect(["--format", "open"], ["openmetrics"])
expect(["--format", "=", "p"], ["prometheus"])
expect(["--format", "="], ["prometheus", "openmetrics"])
expect(["--scope", ""], ["all", "global"])
expect(["-i", "eth0", "--scope", "g"], ["global"])
expect(["--top", "5", "--top-by", ""], ["loss", "retransmissions", "rtt"])
expect(["--top-by", "r"], ["retransmissions", "rtt"])
# Interfaces: what the kernel has, and "any".
ifaces = sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else []
expect(["-i", ""], ["any", *ifaces])
expect(["--interface", "an"], ["any"])
if "lo" in ifaces:
    expect(["-i", "l"], [i for i in ifaces if i.startswith("l")])
# Files for -r, -o, -w and the words after the flags (-r *.pcap).
with tempfile.TemporaryDirectory(prefix="tcpwm-compl-") as d:
    for name in ("a.pcap", "a.pcapng", "b.pcap"):
        open(os.path.join(d, name), "w").close()
    os.mkdir(os.path.join(d, "sub"))
    expect(["-r", os.path.join(d, "a")], [os.path.join(d, n) for n in ("a.pcap", "a.pcapng")])
    expect(["--read", os.path.join(d, "")],
           [os.path.join(d, n) for n in ("a.pcap", "a.pcapng", "b.pcap", "sub")])
    expect(["-r", "x", os.path.join(d, "b")], [os.path.join(d, "b.pcap")])
    expect(["-i", "lo", "-w", os.path.join(d, "s")], [os.path.join(d, "sub")])
# A flag whose value is a number or an address: nothing to offer.
expect(["--max-flows", ""], [])
expect(["-p", ""], [])
expect(["--listen", ""], [])

if failures:
    print("FAIL completion:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
print(f"ok completion ({len(longs)} long and {len(shorts)} short flags)")
