# SPDX-License-Identifier: MIT
"""Writes the regression captures of tests/pcaps/regress/ (stdlib only).

    make_regress.py [OUTDIR]     (default: tests/pcaps/regress)

Each capture is the smallest clean reproduction of a bug the fuzzers found
(docs/robustness.md lists them with their stack traces). The tests that
replay them:

  fuzz.regress.pcapfile   the fuzz_pcapfile harness and its invariants
                          (max_flows 64, max_holes 4, 16 hole records)
  hostile.regress         tcp_window_monitor under several flag sets: exit
                          0 or 1, no signal, no sanitizer report

The output is deterministic: re-running this script rewrites the same bytes.
Each capture also agrees with Wireshark's TCP analysis (tests/identity walks
tests/pcaps, this folder included). Reproductions that need command-line
flags, or whose numbers legitimately differ from Wireshark's, are generated
by tests/hostile/hostile.py instead (case time_extremes).
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "hostile"))
import hostile as h  # noqa: E402  (frame and file builders)

MS = 1_000_000


def seg(seq, payload=100, **kw):
    return h.eth4(seq=seq, payload=bytes(payload), **kw)


def hole_split_cap():
    """Bug 1: one hole, then data inside it, not touching its edges: each
    such fill splits the hole and the per-direction cap (--max-holes, 4 in
    the harness) is never applied. Six holes after the fifth fill."""
    recs = [seg(1000), seg(20000)]                         # hole [1100, 20000)
    recs += [seg(s) for s in (2000, 4000, 6000, 8000, 10000)]
    # The receiver acknowledges everything: all six count as capture gaps.
    recs.append(h.eth4(src=h.B4, dst=h.A4, sport=80, dport=40000, seq=9000, ack=20100))
    return h.pcap([(h.T0 + i * MS, f) for i, f in enumerate(recs)])


def hole_count_wrap():
    """Bug 1, second face: 255 splits make 256 holes in one direction and
    the uint8_t hole count wraps to 0, so the acknowledgment that covers
    them all finds "no holes" and counts no capture gap."""
    recs = [seg(1000, 10), seg(1_000_000, 10)]              # hole [1010, 1000000)
    recs += [seg(2000 + 100 * i, 10) for i in range(255)]
    recs.append(h.eth4(src=h.B4, dst=h.A4, sport=80, dport=40000, seq=9000, ack=1_000_010))
    return h.pcap([(h.T0 + i * MS, f) for i, f in enumerate(recs)])


def pcapng_ts_2262():
    """Bug 2: a pcapng timestamp past the year 2262 (64-bit microseconds);
    standalone/replay.c's seconds * 10^9 overflows int64_t."""
    idb = h.ng_block(1, struct.pack("<HHI", 1, 0, 262144))  # default resolution: us
    t = 1_700_000_000 * 10**6
    now = h.ng_block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, 54, 54)
                     + h.eth4(seq=1000, flags=h.SYN))
    late = h.ng_block(6, struct.pack("<IIIII", 0, 0xFFFFFFFF, 0, 54, 54)
                      + h.eth4(src=h.B4, dst=h.A4, sport=80, dport=40000, seq=5000,
                               ack=1001, flags=h.SYN | h.ACK))
    return h.ng_shb() + idb + now + late


def pcapng_tsoffset_span():
    """Bug 3 (and 5 with --timeline): if_tsoffset -9e9 s puts the first
    packet at -9e18 ns and the second at +9e18 ns. Each is a valid int64_t;
    their difference is not: tcpwm_monitor_advance() overflows computing a
    flow's idle time (and timeline.c its interval count)."""
    opt = struct.pack("<HHq", 14, 8, -9 * 10**9) + struct.pack("<HH", 0, 0)
    idb = h.ng_block(1, struct.pack("<HHI", 1, 0, 262144) + opt)  # microseconds
    first = h.ng_block(6, struct.pack("<IIIII", 0, 0, 0, 54, 54) + h.eth4(seq=1000, flags=h.SYN))
    t = 18 * 10**9 * 10**6
    second = h.ng_block(6, struct.pack("<IIIII", 0, t >> 32, t & 0xFFFFFFFF, 54, 54)
                        + h.eth4(src=h.B4, dst=h.A4, sport=80, dport=40000, seq=5000,
                                 ack=1001, flags=h.SYN | h.ACK))
    return h.ng_shb() + idb + first + second


def segment_2g():
    """Bug 4: a hole, then a TSO-style segment (IPv4 total length 0) whose
    record header claims 2^31 bytes on the wire. `next` moves 2^31 bytes
    past the hole, which in serial arithmetic now lies *after* `next`; the
    retransmission that fills it counts as a second missing event with a
    gap of 2^31 - 1000 bytes."""
    big = h.eth(h.ipv4(h.A4, h.B4, h.tcp(seq=2000), total=0))
    recs = [(h.T0, seg(1000, 0)), (h.T0 + MS, seg(2000, 0)),
            (h.T0 + 2 * MS, big, len(big), len(big) + 2**31),
            # The retransmission that fills the hole now reads as a jump of
            # almost 2^31 bytes forward: "missing", not "out of order".
            (h.T0 + 3 * MS, seg(1000, 1000))]
    return h.pcap(recs)


CAPTURES = {
    "hole_split_cap.pcap": hole_split_cap,
    "hole_count_wrap.pcap": hole_count_wrap,
    "pcapng_ts_2262.pcapng": pcapng_ts_2262,
    "pcapng_tsoffset_span.pcapng": pcapng_tsoffset_span,
    "segment_2g.pcap": segment_2g,
}


def main(argv):
    out = argv[0] if argv else os.path.join(HERE, "..", "pcaps", "regress")
    os.makedirs(out, exist_ok=True)
    for name, make in CAPTURES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(make())
        print(os.path.join(out, name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
