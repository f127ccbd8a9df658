#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""plugin.profile: plugin/profile/, installed as the README says
(~/.config/wireshark/profiles/tcpwm), works:

  tshark -G currentprefs -C tcpwm     its columns and tcpwm preferences load
  tshark -C tcpwm -r F                the one-line output has the verdict,
                                      scaled window and gap columns (and
                                      the retransmission and ACK RTT ones)
  tshark -C tcpwm -r F --color        every coloring rule compiles, and the
                                      events get their colors (on a tty)
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import craft  # noqa: E402
import wstest  # noqa: E402


def rgb(s):
    """'[r,g,b]' 16-bit -> 'r;g;b' 8-bit as in a 24-bit color escape."""
    return ";".join(str(int(x) >> 8) for x in s.strip("[]").split(","))


def main():
    args = wstest.parse_args()
    suite = wstest.Suite(args, "profile")
    src = os.path.join(args.source_dir, "plugin", "profile")
    dst = suite.profile_dir("tcpwm")
    for name in os.listdir(src):
        shutil.copyfile(os.path.join(src, name), os.path.join(dst, name))
        os.chmod(os.path.join(dst, name), 0o644)

    recs, _ = craft.scenario_loss()
    path = suite.new_file("loss.pcap")
    craft.write_pcap(path, recs)
    os.chmod(path, 0o644)

    rc, out, err = suite.tshark("-G", "currentprefs", "-C", "tcpwm")
    suite.check(rc == 0 and '"%Cus:tcpwm.verdict:0:R"' in out
                and '"%Cus:tcpwm.window.size:0:R"' in out
                and '"%Cus:tcpwm.loss.gap_bytes:0:R"' in out
                and '"%Cus:tcpwm.retrans.kind:0:R"' in out
                and '"%Cus:tcpwm.rtt.ack:0:R"' in out,
                "the profile's columns load (verdict, scaled window, gap, retransmission, "
                "ACK RTT)", out[-800:] + err)
    suite.check(not err.strip(), "no complaint loading the profile", err)

    rc, out, err = suite.tshark("-C", "tcpwm", "-r", path)
    lines = {int(line.split()[0]): line for line in out.splitlines() if line.strip()}
    suite.check(rc == 0 and " missing 65536 100 " in lines.get(5, ""),
                "tshark -C tcpwm: frame 5 shows 'missing', window 65536, gap 100",
                lines.get(5, out[-500:]) + err)
    suite.check(" out_of_order 65536 " in lines.get(7, "") and
                " in_order 0 " in lines.get(13, ""),
                "tshark -C tcpwm: frame 7 out_of_order, frame 13 window 0",
                "%s\n%s" % (lines.get(7), lines.get(13)))

    # Coloring: a bad rule makes tshark warn "Could not compile"; colors
    # are printed only to a terminal, so run under script(1).
    rc, out, err = suite.tshark("-C", "tcpwm", "-r", path, "--color")
    suite.check(rc == 0 and "Could not compile" not in err and "colorfilters" not in err,
                "every coloring rule of the profile compiles", err)
    rules = {}
    for line in open(os.path.join(src, "colorfilters")):
        m = re.match(r"@([^@]*)@([^@]*)@(\[[\d,]+\])(\[[\d,]+\])", line)
        if m:
            rules[m.group(1)] = (rgb(m.group(3)), rgb(m.group(4)))
    script = shutil.which("script")
    if script is None:
        suite.skip("colors on a terminal", "script(1) is not installed")
    else:
        cmd = suite.command([script, "-qec", "%s -C tcpwm -r %s --color" % (args.tshark, path),
                             "/dev/null"])
        cmd.insert(cmd.index("-i") + 1, "COLORTERM=truecolor")  # 24-bit color escapes
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        tty = p.stdout.decode("utf-8", "replace")
        if p.returncode != 0 and b"failed to create pseudo-terminal" in p.stderr:
            # A chroot with /dev bound but not /dev/pts: no terminal to test.
            suite.skip("colors on a terminal", p.stderr.decode("utf-8", "replace").strip())
            suite.finish()  # exits
        suite.sanitizer_check(tty, ["--color"])
        colored = {}
        for line in tty.splitlines():
            m = re.search(r"\x1b\[38;2;([\d;]+)m\x1b\[48;2;([\d;]+)m\s*(\d+)\s", line)
            if m:
                colored[int(m.group(3))] = {m.group(1), m.group(2)}
        for frame, rule in ((5, "tcpwm missing"), (7, "tcpwm out-of-order"),
                            (8, "tcpwm duplicate"), (11, "tcpwm capture gap"),
                            (13, "tcpwm zero window"), (12, "tcpwm window shrink")):
            want = set(rules[rule])
            suite.check(colored.get(frame) == want,
                        "frame %d is colored by the rule '%s'" % (frame, rule),
                        "got %s, want %s" % (colored.get(frame), want))
    suite.finish()


if __name__ == "__main__":
    main()
