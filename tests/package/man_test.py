# SPDX-License-Identifier: MIT
"""The manual page docs/tcp_window_monitor.1 against the program it
documents, one case per ctest test:

    python3 man_test.py BINARY MANPAGE CAPTURE CASE

flags    every flag --help prints (short and long) has an entry of its own
         in OPTIONS, every flag the page documents is one the program
         accepts, and the page's header names the program's version
render   man renders it without a warning (man-db's --warnings, in the C
         and a UTF-8 locale), groff -man -ww -z too, and no rendered line
         is wider than the 80 columns it is rendered for
metrics  every family a replay writes (CAPTURE), with its label names and
         every label value, is documented in METRICS

The page is read as man renders it (man -l, MANWIDTH=80), so what is
checked is what a reader sees, not the roff source.
"""
import os
import re
import subprocess
import sys

BIN, MAN, CAPTURE, CASE = sys.argv[1:5]
WIDTH = 80


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def render(locale="C.UTF-8", warnings=False):
    # Not a terminal: man-db writes plain text, without a pager.
    env = dict(os.environ, MANWIDTH=str(WIDTH), LANG=locale, LC_ALL=locale)
    env.pop("MAN_KEEP_FORMATTING", None)
    args = ["man"] + (["--warnings"] if warnings else []) + ["-l", MAN]
    p = subprocess.run(args, capture_output=True, env=env)
    check(p.returncode == 0, f"{' '.join(args)}: exit {p.returncode}: {p.stderr.decode()}")
    return p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def help_flags():
    """The flags of --help: an option line starts with a dash indented by
    2 to 6 spaces (6: a long flag without a short one), its specification
    ends where two spaces start the description; descriptions continue
    further right."""
    p = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    check(p.returncode == 0, f"--help: exit {p.returncode}")
    flags = set()
    for line in p.stdout.splitlines():
        if not re.match(r"^ {2,6}-", line):
            continue
        spec = line.lstrip(" ").split("  ")[0]
        flags.update(w for w in re.split(r"[ ,]+", spec) if w.startswith("-"))
    check(len(flags) >= 20, f"only {len(flags)} flags found in --help: {sorted(flags)}")
    return flags


def section(text, name):
    """The lines of one top-level section (headings start in column 0)."""
    m = re.search(r"^" + re.escape(name) + r"\n(.*?)(?=^\S)", text, re.M | re.S)
    check(m is not None, f"no section {name} in the rendered page")
    return m.group(1).splitlines()


def man_flags(text):
    """Flags that have an entry (a tag line of a .TP list) in OPTIONS: the
    tag is indented by 7 columns, and ends where two spaces start the text
    (a short tag shares its line with the text)."""
    flags = set()
    for line in section(text, "OPTIONS"):
        if re.match(r"^ {7}-", line):
            spec = line[7:].split("  ")[0]
            flags.update(w for w in re.split(r"[ ,]+", spec) if w.startswith("-"))
    return flags


def case_flags():
    # The page's header names the version it documents: the program's.
    version = subprocess.run([BIN, "--version"], capture_output=True, text=True).stdout.split()
    th = re.search(r'^\.TH \S+ 1 \S+ "tcpwm ([^"]+)"', open(MAN).read(), re.M)
    check(th is not None, ".TH line without \"tcpwm VERSION\"")
    check(len(version) >= 2 and th.group(1) == version[1],
          f"the page documents tcpwm {th.group(1)}, the program is {' '.join(version[:2])}")
    text, _ = render()
    documented = man_flags(text)
    missing = sorted(help_flags() - documented)
    check(not missing, f"flags of --help without an entry in the man page: {missing}")
    # The other way round: a flag the page documents and the program does
    # not know would be refused as "unknown option".
    for flag in sorted(documented):
        p = subprocess.run([BIN, flag], capture_output=True, text=True)
        check("unknown option" not in p.stderr,
              f"the man page documents {flag}, which the program refuses: {p.stderr.strip()}")


def case_render():
    for locale in ("C", "C.UTF-8"):
        text, err = render(locale, warnings=True)
        check(err == "", f"man --warnings ({locale}) says:\n{err}")
        check(len(text.splitlines()) > 200, f"{locale}: the rendered page is too short")
        wide = [line for line in text.splitlines() if len(line) > WIDTH]
        check(not wide, f"{locale}: lines wider than {WIDTH} columns:\n" + "\n".join(wide))
    p = subprocess.run(["groff", "-man", "-ww", "-z", MAN], capture_output=True, text=True)
    check(p.returncode == 0 and p.stderr == "",
          f"groff -man -ww -z: exit {p.returncode}:\n{p.stderr}")


def case_metrics():
    p = subprocess.run([BIN, "-q", "-r", CAPTURE], capture_output=True, text=True)
    check(p.returncode == 0, f"-r {CAPTURE}: exit {p.returncode}: {p.stderr}")
    families = {}  # name -> {label name -> set of values}
    for m in re.finditer(r"^# TYPE (\S+) (\S+)$", p.stdout, re.M):
        name = m.group(1)
        # Counter families are named without _total in OpenMetrics, with
        # it in the text format: the page uses the sample names.
        families[name] = {}
    check(len(families) >= 20, f"only {len(families)} families in the replay's output")
    for m in re.finditer(r"^([a-z_:]+)\{([^}]*)\} ", p.stdout, re.M):
        base = m.group(1)
        fam = next((f for f in families if base == f or
                    (base.startswith(f + "_") and base[len(f) + 1:] in ("bucket", "sum", "count"))),
                   None)
        check(fam is not None, f"sample {base} of no family")
        for lm in re.finditer(r'(\w+)="([^"]*)"', m.group(2)):
            if lm.group(1) != "le":
                families[fam].setdefault(lm.group(1), set()).add(lm.group(2))

    text, _ = render()
    entries = {}  # entry name -> its text, tag line to the next tag line
    current = None
    for line in section(text, "METRICS"):
        t = re.match(r"^ {7}(tcp_monitor_[a-z_]+)(\{([a-z_,]*)\})?", line)
        if t:
            current = t.group(1)
            entries[current] = {"labels": set(filter(None, (t.group(3) or "").split(","))),
                                "text": line}
        elif current and line.startswith(" " * 14):
            entries[current]["text"] += "\n" + line
        else:
            current = None
    problems = []
    for fam, labels in sorted(families.items()):
        e = entries.get(fam)
        if e is None:
            problems.append(f"{fam}: no entry")
            continue
        if e["labels"] != set(labels):
            problems.append(f"{fam}: labels {sorted(labels)} written, "
                            f"{sorted(e['labels'])} documented")
        words = set(re.findall(r"[a-z0-9_]+", e["text"]))
        for label, values in labels.items():
            undocumented = sorted(v for v in values if v not in words)
            if undocumented:
                problems.append(f"{fam}: {label} values not documented: {undocumented}")
    check(not problems, "METRICS does not match the replay's output:\n  " + "\n  ".join(problems))


CASES = {"flags": case_flags, "render": case_render, "metrics": case_metrics}

if __name__ == "__main__":
    try:
        CASES[CASE]()
    except Failure as e:
        print(f"FAIL {CASE}: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"ok {CASE}")
