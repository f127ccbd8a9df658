# SPDX-License-Identifier: MIT
"""Compressed captures through tcp_window_monitor, one case per ctest test:

    python3 compressed_test.py BINARY CASE

The captures of tests/pcaps are compressed at test time by the real tools
(gzip, zstd, lz4, xz); a missing tool fails the case. The rule checked
(README, issue 9 item 2): a compressed capture, read from a file or
through `-r -` from a pipe, recognised by its magic bytes whatever its
name, gives byte for byte the output of the same capture uncompressed; a
damaged one is bad input like any other: one line on stderr naming the
file and the reason, exit 1, and the counts of everything before the
damage still printed.
"""
import lzma
import os
import re
import subprocess
import sys
import tempfile
import zlib

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
PCAPS = os.path.join(os.path.dirname(HERE), "pcaps")
WORK = tempfile.mkdtemp(prefix="tcpwm-compressed-")
PROG = "tcp_window_monitor"

# name, file extension, command compressing stdin to stdout.
CODECS = [
    ("gzip", "gz", ["gzip", "-6", "-c"]),
    ("zstd", "zst", ["zstd", "-q", "-3", "-c"]),
    ("lz4", "lz4", ["lz4", "-q", "-c"]),
    ("xz", "xz", ["xz", "-6", "-c"]),
]

# A few captures of each kind: real recordings, crafted edge cases, pcapng.
CAPTURES = [
    "real/reorder-htb.pcap",
    "real/router-any-sll2.pcap",
    "real/bulk-random-drop-rx.pcap",
    "crafted/capture_gap.pcap",
    "crafted/hole_cap.pcap",
    "crafted/link_pcapng.pcapng",
]


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def path(name):
    return os.path.join(WORK, name)


def compress(cmd, data):
    p = subprocess.run(cmd, input=data, capture_output=True, check=True)
    return p.stdout


def write(name, data):
    with open(path(name), "wb") as fh:
        fh.write(data)
    return path(name)


def run(*args, stdin=None):
    return subprocess.run([BIN, "--scope", "all", "-q", *args], capture_output=True,
                          input=stdin)


def packets(out):
    m = re.search(rb"^tcp_monitor_packets_total (\d+)$", out, re.M)
    check(m is not None, "no tcp_monitor_packets_total in the output")
    return int(m.group(1))


def same(ref, got, what):
    check(got.returncode == ref.returncode,
          f"{what}: exit {got.returncode}, uncompressed {ref.returncode}\n"
          f"stderr: {got.stderr.decode(errors='replace')}")
    check(got.stdout == ref.stdout, f"{what}: output differs from the uncompressed capture's")


def one_error_line(p, name, reason, what):
    check(p.returncode == 1, f"{what}: exit {p.returncode}, expected 1")
    lines = p.stderr.decode(errors="replace").splitlines()
    check(len(lines) == 1, f"{what}: {len(lines)} lines on stderr, expected 1: {lines}")
    check(lines[0].startswith(f"{PROG}: {name}: {reason}"),
          f"{what}: stderr {lines[0]!r}, expected '{PROG}: {name}: {reason}...'")


# ---- Cases ----------------------------------------------------------------------

def case_identical():
    """Each codec, by file and by pipe: the uncompressed capture's output."""
    for cap in CAPTURES:
        src = os.path.join(PCAPS, cap)
        with open(src, "rb") as fh:
            data = fh.read()
        ref = run("-r", src)
        check(ref.returncode == 0, f"{cap}: exit {ref.returncode} uncompressed")
        base = os.path.basename(cap)
        for name, ext, cmd in CODECS:
            z = write(f"{base}.{ext}", compress(cmd, data))
            same(ref, run("-r", z), f"{cap} as {name}")
            with open(z, "rb") as fh:
                zdata = fh.read()
            same(ref, run("-r", "-", stdin=zdata), f"{cap} as {name} through -r -")
        # The plain capture through a pipe, too (the buffered reader).
        same(ref, run("-r", "-", stdin=data), f"{cap} through -r -")


def case_concatenated():
    """Members / frames / streams one after another, cut at arbitrary bytes
    (not at record boundaries): as `cat a.gz b.gz` or a rotation."""
    src = os.path.join(PCAPS, "real/bulk-random-drop-tx.pcap")
    with open(src, "rb") as fh:
        data = fh.read()
    ref = run("-r", src)
    cuts = [0, 1000, 1001, len(data) // 3, len(data) // 2 + 7, len(data)]
    for name, ext, cmd in CODECS:
        z = b"".join(compress(cmd, data[a:b]) for a, b in zip(cuts, cuts[1:]))
        same(ref, run("-r", write(f"cat.{ext}", z)), f"concatenated {name}")
        same(ref, run("-r", "-", stdin=z), f"concatenated {name} through -r -")


def case_several_files():
    """-r given several times, compressed and not, through one tracker."""
    a = os.path.join(PCAPS, "real/reorder-htb.pcap")
    b = os.path.join(PCAPS, "real/shrink-window.pcap")
    ref = run("-r", a, "-r", b)
    with open(b, "rb") as fh:
        bz = write("b.pcap.zst", compress(["zstd", "-q", "-c"], fh.read()))
    with open(a, "rb") as fh:
        az = write("a.pcap.gz", compress(["gzip", "-c"], fh.read()))
    same(ref, run("-r", az, "-r", bz), "a.gz then b.zst")
    same(ref, run("-r", a, "-r", bz), "a then b.zst")


def case_not_by_name():
    """The magic bytes decide, never the name."""
    src = os.path.join(PCAPS, "real/reorder-htb.pcap")
    with open(src, "rb") as fh:
        data = fh.read()
    ref = run("-r", src)
    same(ref, run("-r", write("plain.pcap.gz", data)), "a plain capture named .gz")
    same(ref, run("-r", write("zstd.pcap", compress(["zstd", "-q", "-c"], data))),
         "a zstd capture named .pcap")
    same(ref, run("-r", write("xz.pcap.gz", compress(["xz", "-c"], data))),
         "an xz capture named .gz")


def case_truncated():
    """Cut in the middle: what decompresses before the cut is analyzed, as
    the same bytes uncompressed would be; then one line, exit 1."""
    src = os.path.join(PCAPS, "real/tbf-bottleneck.pcap")
    with open(src, "rb") as fh:
        data = fh.read()
    full = packets(run("-r", src).stdout)
    # The decompressed prefix, by Python's own zlib and lzma (the same
    # libraries, used the documented way): the reference for gzip and xz.
    prefix_of = {
        "gzip": lambda z: zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(z),
        "xz": lambda z: lzma.LZMADecompressor().decompress(z),
    }
    for name, ext, cmd in CODECS:
        if name == "lz4":
            cmd = cmd + ["-B4"]  # 64 KiB blocks: an LZ4 block decodes only whole
        z = compress(cmd, data)
        # zstd decodes a block (128 KiB of capture) only whole: cut past
        # the first one.
        for frac in (0.5, 0.8):
            cut = z[:int(len(z) * frac)]
            f = write(f"cut.{ext}", cut)
            what = f"{name} cut at {frac:.0%}"
            p = run("-r", f)
            one_error_line(p, f, f"truncated {name} stream", what)
            n = packets(p.stdout)
            check(0 < n < full, f"{what}: {n} packets analyzed, of {full}")
            if name in prefix_of:
                plain = write("prefix.pcap", prefix_of[name](cut))
                check(p.stdout == run("-r", plain).stdout,
                      f"{what}: output differs from that of the decompressed prefix")
            q = run("-r", "-", stdin=cut)
            one_error_line(q, "standard input", f"truncated {name} stream", what + " by pipe")
            check(q.stdout == p.stdout, f"{what}: by pipe, not the file's output")


def case_corrupt():
    """A damaged second member: the first member's capture is analyzed
    whole, then one line, exit 1."""
    src = os.path.join(PCAPS, "real/many-short-flows.pcap")
    with open(src, "rb") as fh:
        data = fh.read()
    half = len(data) // 2
    ref_first = run("-r", write("first.pcap", data[:half]))
    for name, ext, cmd in CODECS:
        first = compress(cmd, data[:half])
        second = bytearray(compress(cmd, data[half:]))
        second[0] ^= 0xAA  # its magic number
        f = write(f"bad.{ext}", first + bytes(second))
        p = run("-r", f)
        one_error_line(p, f, f"corrupt {name} stream", f"{name}, second member damaged")
        check(p.stdout == ref_first.stdout,
              f"{name}: the first member's records are not analyzed as the same bytes plain")
        # A byte flipped inside the data: an error naming the format.
        second[0] ^= 0xAA
        second[len(second) // 2] ^= 0x08
        f = write(f"bad2.{ext}", first + bytes(second))
        p = run("-r", f)
        check(p.returncode == 1, f"{name}, data damaged: exit {p.returncode}")
        err = p.stderr.decode(errors="replace")
        check(re.match(rf"{PROG}: {re.escape(f)}: .*{name}", err) is not None or
              "record" in err or "block" in err,
              f"{name}, data damaged: {err!r}")
        check(packets(p.stdout) >= packets(ref_first.stdout),
              f"{name}, data damaged: fewer packets than in the first member")


def case_empty():
    """A compressed empty file holds no capture: the reader's own words for
    an empty input, as for an empty plain file."""
    ref = run("-r", write("empty.pcap", b""))
    for name, ext, cmd in CODECS:
        p = run("-r", write(f"empty.{ext}", compress(cmd, b"")))
        check(p.returncode == ref.returncode == 1, f"empty {name}: exit {p.returncode}")
        check(p.stderr.replace(f"empty.{ext}".encode(), b"empty.pcap") == ref.stderr,
              f"empty {name}: {p.stderr!r}, plain: {ref.stderr!r}")


def main():
    name = sys.argv[2]
    fn = globals().get("case_" + name)
    if fn is None:
        print(f"unknown case {name}", file=sys.stderr)
        return 2
    try:
        fn()
    except Failure as e:
        print(f"FAIL {name}: {e}", file=sys.stderr)
        return 1
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"FAIL {name}: {e} (are gzip, zstd, lz4 and xz-utils installed?)",
              file=sys.stderr)
        return 1
    finally:
        subprocess.run(["rm", "-rf", WORK])
    print(f"ok {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
