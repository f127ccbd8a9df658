# SPDX-License-Identifier: MIT
"""Hostile captures against tcp_window_monitor (stdlib only).

    hostile.py BINARY GROUP [CASE...]

GROUP is one of:
  truncation  a small pcap and a small pcapng cut at every offset
  cases       malformed files and frames, one case each (below)
  regress     the captures in tests/pcaps/regress under several flag sets

Every capture is written on the fly into a temporary folder. Each run must
end with exit 0, or with exit 1 and exactly one error line naming the file
(-q keeps the stats lines out of the way); never with a signal or a
sanitizer report (under the asan-ubsan preset BINARY is the sanitized
build). The metrics printed are checked exactly against docs/semantics.md
section 1: every frame counts once in tcp_monitor_packets_total, and the
decode errors by reason are given in full (every reason not named must be
0). Prints "N passed, N failed" at the end and exits 1 if anything failed.
"""
import concurrent.futures
import ipaddress
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REGRESS = os.path.join(HERE, "..", "pcaps", "regress")
PROG = "tcp_window_monitor"
T0 = 1_700_000_000_000_000_000  # ns

REASONS = ["unsupported_linktype", "truncated_link", "truncated_ip", "bad_ip_version",
           "bad_ipv4_header_length", "bad_ip_length", "bad_ipv6_extension",
           "truncated_tcp", "bad_tcp_data_offset", "bad_tcp_option"]

SANITIZER_MARKS = ("runtime error:", "AddressSanitizer", "LeakSanitizer",
                   "UndefinedBehaviorSanitizer", "==ERROR")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

A4, B4, C4 = "20.0.0.1", "30.0.0.2", "40.0.0.3"
A6, B6 = "2600::1", "2a00::2"


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


# ---- Frames -------------------------------------------------------------------

def tcp(sport=40000, dport=80, seq=1000, ack=0, flags=ACK, win=65535, doff=None,
        options=b"", payload=b""):
    """A TCP header (+ options, padded to 4 bytes unless doff is forced)."""
    if doff is None:
        options += bytes(-len(options) % 4)
        doff = 5 + len(options) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                       (doff & 0xF) << 4, flags, win, 0, 0) + options + payload


def ipv4(src, dst, payload, proto=6, ihl=5, total=None, frag=0x4000, options=b""):
    hdr_len = 20 + len(options)
    if total is None:
        total = hdr_len + len(payload)
    return struct.pack("!BBHHHBBH4s4s", 0x40 | (ihl & 0xF), 0, total & 0xFFFF, 0, frag, 64,
                       proto, 0, ipaddress.ip_address(src).packed,
                       ipaddress.ip_address(dst).packed) + options + payload


def ipv6(src, dst, payload, nh=6, plen=None, ext=b""):
    if plen is None:
        plen = len(ext) + len(payload)
    return struct.pack("!IHBB16s16s", 6 << 28, plen & 0xFFFF, nh, 64,
                       ipaddress.ip_address(src).packed,
                       ipaddress.ip_address(dst).packed) + ext + payload


def ext_hdr(nxt, ext_len=0):
    """An options-type extension header (hop-by-hop, routing, dstopts)."""
    n = (ext_len + 1) * 8
    return struct.pack("!BB", nxt, ext_len) + bytes(n - 2)


def frag_hdr(nxt, offset, more=False):
    return struct.pack("!BBHI", nxt, 0, (offset << 3) | (1 if more else 0), 0x1234)


def eth(payload, ethertype=0x0800):
    return bytes.fromhex("020000000002020000000001") + struct.pack("!H", ethertype) + payload


def eth4(src=A4, dst=B4, **kw):
    """Ethernet + IPv4 + TCP; tcp() keywords in kw."""
    return eth(ipv4(src, dst, tcp(**kw)))


# ---- Files ----------------------------------------------------------------------

def pcap_header(linktype=1, snaplen=262144, magic=0xA1B23C4D):
    return struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(ts, frame, caplen=None, wirelen=None):
    caplen = len(frame) if caplen is None else caplen
    wirelen = len(frame) if wirelen is None else wirelen
    return struct.pack("<IIII", (ts // 10**9) & 0xFFFFFFFF, ts % 10**9, caplen, wirelen) + frame


def pcap(records, linktype=1, snaplen=262144):
    """records: (ts_ns, frame) or (ts_ns, frame, caplen, wirelen)."""
    return pcap_header(linktype, snaplen) + b"".join(pcap_record(*r) for r in records)


def ng_block(btype, body, total=None):
    body += bytes(-len(body) % 4)
    n = 12 + len(body) if total is None else total
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def ng_shb():
    return ng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))


def ng_idb(linktype=1):
    tsresol = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
    return ng_block(1, struct.pack("<HHI", linktype, 0, 262144) + tsresol)


def ng_epb(ts, frame, iface=0):
    return ng_block(6, struct.pack("<IIIII", iface, ts >> 32, ts & 0xFFFFFFFF, len(frame),
                                   len(frame)) + frame)


# ---- Running ----------------------------------------------------------------------

class Run:
    def __init__(self, args, proc):
        self.args = args
        self.rc = proc.returncode
        self.out = proc.stdout.decode(errors="replace")
        self.err = proc.stderr.decode(errors="replace")
        self.metrics = {}
        for line in self.out.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                self.metrics[name] = float(value)

    def m(self, name):
        # A failure before the first frame prints no exposition (an
        # exposition of zeros would read as a clean capture): every count
        # is 0 then, by that rule.
        if self.rc == 1 and self.out == "":
            return 0.0
        check(name in self.metrics, f"no sample {name} in the output")
        return self.metrics[name]


class Ctx:
    def __init__(self, binary, work):
        self.binary = binary
        self.work = work

    def path(self, name):
        return os.path.join(self.work, name)

    def write(self, name, data):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def run(self, *args, scope="all"):
        argv = [self.binary, "-q", *args]
        if scope:
            argv += ["--scope", scope]
        proc = subprocess.run(argv, capture_output=True, timeout=300)
        r = Run(argv, proc)
        check(r.rc >= 0, f"{argv}: killed by signal {-r.rc}\n{r.err}")
        for mark in SANITIZER_MARKS:
            check(mark not in r.err, f"{argv}: sanitizer report:\n{r.err}")
        check(r.rc in (0, 1), f"{argv}: exit {r.rc}\n{r.err}")
        if r.rc == 1 and r.out != "" and "--timeline" not in args:
            check(r.m("tcp_monitor_packets_total") > 0,
                  f"{argv}: failed before the first frame but printed an exposition")
        return r

    def ok(self, path, *args, **kw):
        """A run that must succeed, silently."""
        r = self.run("-r", path, *args, **kw)
        check(r.rc == 0, f"{os.path.basename(path)}: exit {r.rc}, expected 0\n{r.err}")
        check(r.err == "", f"{os.path.basename(path)}: unexpected stderr:\n{r.err}")
        return r

    def fails(self, path, *args, bad=None, contains=None, **kw):
        """A run that must fail with one error line naming `bad` (default path)."""
        bad = bad or path
        r = self.run(*(["-r", path] if path else []), *args, **kw)
        check(r.rc == 1, f"{os.path.basename(bad)}: exit {r.rc}, expected 1\n{r.err}")
        lines = r.err.splitlines()
        check(len(lines) == 1, f"{os.path.basename(bad)}: expected one error line, got:\n{r.err}")
        check(lines[0].startswith(f"{PROG}: {bad}: "),
              f"error line does not name the file {bad}: {lines[0]!r}")
        if contains:
            check(contains in lines[0], f"error line lacks {contains!r}: {lines[0]!r}")
        return r


def expect(r, packets, tcp_packets=None, errors=None, **samples):
    """Exact packet count, decode errors by reason (all others 0) and any
    further samples (name=value, with __ for the braces of one label)."""
    check(r.m("tcp_monitor_packets_total") == packets,
          f"packets_total {r.m('tcp_monitor_packets_total'):g}, expected {packets}")
    if tcp_packets is not None:
        check(r.m("tcp_monitor_tcp_packets_total") == tcp_packets,
              f"tcp_packets_total {r.m('tcp_monitor_tcp_packets_total'):g}, expected {tcp_packets}")
    errors = errors or {}
    for reason in REASONS:
        name = f'tcp_monitor_decode_errors_total{{reason="{reason}"}}'
        want = errors.get(reason, 0)
        check(r.m(name) == want, f"decode_errors{{{reason}}} {r.m(name):g}, expected {want}")
    for key, want in samples.items():
        name = key
        if "__" in key:  # gap_bytes_bucket__le_128 -> ..._bucket{le="128"}
            base, _, label = key.partition("__")
            lname, _, lvalue = label.partition("_")
            if re.fullmatch(r"[0-9_]+", lvalue):  # le_0_0001 -> le="0.0001"
                lvalue = lvalue.replace("_", ".")
            name = f'tcp_monitor_{base}{{{lname}="{lvalue}"}}'
        else:
            name = "tcp_monitor_" + key
        check(r.m(name) == want, f"{name} {r.m(name):g}, expected {want}")


# ---- Group: truncation ------------------------------------------------------------

def small_conversation():
    """Handshake, data with one segment missing, data back: 7 frames."""
    c, s = dict(src=A4, dst=B4), dict(src=B4, dst=A4)
    cs, sc = dict(sport=40000, dport=80), dict(sport=80, dport=40000)
    frames = [
        eth4(**c, **cs, seq=1000, flags=SYN, options=b"\x02\x04\x05\xb4\x01\x03\x03\x07"),
        eth4(**s, **sc, seq=5000, ack=1001, flags=SYN | ACK,
             options=b"\x02\x04\x05\xb4\x01\x03\x03\x07"),
        eth4(**c, **cs, seq=1001, ack=5001, flags=ACK, win=512),
        eth4(**c, **cs, seq=1001, ack=5001, flags=ACK | PSH, win=512, payload=bytes(20)),
        eth4(**c, **cs, seq=1041, ack=5001, flags=ACK | PSH, win=512, payload=bytes(20)),
        eth4(**s, **sc, seq=5001, ack=1061, flags=ACK, win=500, payload=bytes(10)),
        eth4(**c, **cs, seq=1021, ack=5011, flags=ACK | PSH, win=512, payload=bytes(20)),
    ]
    return [(T0 + i * 1_000_000, f) for i, f in enumerate(frames)]


def truncation_sweep(ctx, name, data, boundaries, first_clean):
    """Cut `data` at every offset. boundaries[i] is the offset at which
    record i+1 ends; a cut at a boundary (or at first_clean: the header
    alone) is a clean end of file. Every other cut is an error, and the
    metrics are those of the records before the cut, exactly."""
    # The output each prefix must give: a clean file of its records.
    prefix_out = {}
    for n, end in enumerate([first_clean] + boundaries):
        r = ctx.ok(ctx.write(f"{name}.prefix{n}", data[:end]))
        expect(r, n)
        prefix_out[n] = r.out

    def one(k):
        p = ctx.write(f"{name}.cut{k}", data[:k])
        n = sum(1 for b in boundaries if b <= k)
        try:
            if k == first_clean or k in boundaries:
                r = ctx.ok(p)
            else:
                r = ctx.fails(p)
            # A fault before the first frame prints nothing at all.
            want = "" if n == 0 and r.rc == 1 else prefix_out[n]
            check(r.out == want,
                  f"cut at {k}: metrics differ from those of the first {n} records")
            return None
        except Failure as e:
            return f"cut at {k} of {len(data)}: {e}"
        finally:
            os.unlink(p)

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        errors = [e for e in ex.map(one, range(len(data) + 1)) if e]
    check(not errors, f"{len(errors)} cuts failed; first ones:\n" + "\n".join(errors[:5]))
    return f"{len(data) + 1} cuts, {len(boundaries) + 1} of them clean"


def case_truncated_pcap(ctx):
    recs = small_conversation()
    data = pcap(recs)
    ends, at = [], 24
    for _ts, f in recs:
        at += 16 + len(f)
        ends.append(at)
    return truncation_sweep(ctx, "trunc.pcap", data, ends, 24)


def case_truncated_pcapng(ctx):
    recs = small_conversation()
    head = ng_shb() + ng_idb()
    data, ends = head, []
    for ts, f in recs:
        data += ng_epb(ts, f)
        ends.append(len(data))
    return truncation_sweep(ctx, "trunc.pcapng", data, ends, len(head))


TRUNCATION = [case_truncated_pcap, case_truncated_pcapng]


# ---- Group: cases -----------------------------------------------------------------

def case_bad_magic(ctx):
    good = pcap(small_conversation())
    p = ctx.write("bad_magic.pcap", struct.pack("<I", 0xDEADBEEF) + good[4:])
    expect(ctx.fails(p, contains="unknown file format"), 0)
    # Too short to have a magic at all.
    p = ctx.write("three_bytes.pcap", b"\xd4\xc3\xb2")
    expect(ctx.fails(p), 0)
    # A good file, then the bad one: the good one's metrics are kept.
    g = ctx.write("good.pcap", good)
    r = ctx.fails(g, "-r", ctx.path("bad_magic.pcap"), bad=ctx.path("bad_magic.pcap"))
    expect(r, 7, 7, packet_loss_missing_total=1)


def case_caplen_over_snaplen(ctx):
    # libpcap reads the whole record and keeps the first snaplen bytes.
    f = eth4(seq=1000, flags=SYN)  # 54 bytes
    p = ctx.write("caplen_gt_snaplen.pcap",
                  pcap([(T0, f), (T0 + 1, eth4(seq=1001))], snaplen=40))
    expect(ctx.ok(p), 2, 0, {"truncated_tcp": 2})
    # Cut inside the payload only: still a whole TCP header.
    data = eth4(seq=1000, flags=ACK, payload=bytes(100))
    p = ctx.write("caplen_gt_snaplen_payload.pcap", pcap([(T0, data)], snaplen=60))
    expect(ctx.ok(p), 1, 1)


def case_caplen_over_256k(ctx):
    good = small_conversation()[:2]
    big = 300_000
    data = pcap(good) + struct.pack("<IIII", 1_700_000_001, 0, big, big) + bytes(big)
    p = ctx.write("caplen_300k.pcap", data)
    expect(ctx.fails(p, contains="invalid packet capture length"), 2, 2)
    # Claimed but not there.
    data = pcap(good) + struct.pack("<IIII", 1_700_000_001, 0, big, big) + bytes(64)
    p = ctx.write("caplen_300k_short.pcap", data)
    expect(ctx.fails(p), 2, 2)
    # 2^32 - 1.
    data = pcap(good) + struct.pack("<IIII", 1_700_000_001, 0, 0xFFFFFFFF, 0xFFFFFFFF)
    p = ctx.write("caplen_4g.pcap", data)
    expect(ctx.fails(p), 2, 2)
    # Exactly 256 KiB is allowed (zeros: EtherType 0, not TCP).
    data = pcap(good + [(T0 + 10, bytes(262144))])
    expect(ctx.ok(ctx.write("caplen_256k.pcap", data)), 3, 2)


def case_zero_length_records(ctx):
    recs = [(T0, b"", 0, 0), (T0 + 1, b"", 0, 60), (T0 + 2, eth4(seq=1, flags=SYN)),
            (T0 + 3, b"", 0, 1514)]
    expect(ctx.ok(ctx.write("zero_eth.pcap", pcap(recs))), 4, 1, {"truncated_link": 3})
    # Raw IP: nothing to read the version from.
    recs = [(T0, b"", 0, 0), (T0 + 1, ipv4(A4, B4, tcp(flags=SYN)))]
    expect(ctx.ok(ctx.write("zero_raw.pcap", pcap(recs, linktype=101))), 2, 1,
           {"truncated_ip": 1})
    # Linux cooked v2 and BSD loopback.
    expect(ctx.ok(ctx.write("zero_sll2.pcap", pcap([(T0, b"", 0, 0)], linktype=276))), 1, 0,
           {"truncated_link": 1})
    expect(ctx.ok(ctx.write("zero_null.pcap", pcap([(T0, b"", 0, 0)], linktype=0))), 1, 0,
           {"truncated_link": 1})


def case_timestamps_backwards(ctx):
    S = 10**9
    c = dict(src=A4, dst=B4, sport=40000, dport=80)
    recs = [
        (T0 + 10 * S, eth4(**c, seq=1000, payload=bytes(100))),       # first
        (T0 + 11 * S, eth4(**c, seq=1200, payload=bytes(100))),       # missing: hole of 100
        (T0 + 5 * S, eth4(**c, seq=1100, payload=bytes(100))),        # fills it "6 s earlier"
        (T0 + 4 * S, eth4(src=B4, dst=A4, sport=80, dport=40000, seq=9000, ack=1300)),
        # Another flow much later: the first one idles out (300 s)...
        (T0 + 1000 * S, eth4(src=C4, dst=B4, sport=50000, dport=80, seq=1, flags=SYN)),
        # ... and a packet of it stamped before all that opens it anew.
        (T0 + 2 * S, eth4(**c, seq=1300, payload=bytes(10))),
    ]
    r = ctx.ok(ctx.write("ts_backwards.pcap", pcap(recs)))
    # A fill cannot take negative time: observed as 0.
    expect(r, 6, 6, packet_loss_missing_total=1, packet_loss_out_of_order_total=1,
           packet_loss_duplicate_total=0, connections_opened_total=3,
           active_connections=2,
           flows_evicted_total__reason_idle=1,
           hole_fill_seconds_count=1, hole_fill_seconds_sum=0,
           hole_fill_seconds_bucket__le_0_0001=1,
           packet_loss_gap_bytes_sum=100, packet_loss_gap_bytes_bucket__le_64=0,
           packet_loss_gap_bytes_bucket__le_128=1)


def case_ipv4_ihl_below_5(ctx):
    recs = [(T0 + i, eth(ipv4(A4, B4, tcp(seq=i), ihl=i))) for i in range(5)]
    # IHL 5 with a total length below 20, for contrast: bad_ip_length.
    recs.append((T0 + 5, eth(ipv4(A4, B4, tcp(), total=19))))
    expect(ctx.ok(ctx.write("ihl.pcap", pcap(recs))), 6, 0,
           {"bad_ipv4_header_length": 5, "bad_ip_length": 1})
    # IHL 15: 40 bytes of options announced. Cut by the snap length after
    # the fixed header, with the whole datagram on the wire: the capture
    # ends inside the options. The same 20 bytes as the whole frame on the
    # wire: the link carried less than the header (section 1: the IP length
    # is bounded by what the link carried).
    f = eth(ipv4(A4, B4, b"", ihl=15, total=80))
    recs = [(T0, f, len(f), 14 + 80), (T0 + 1, f)]
    expect(ctx.ok(ctx.write("ihl15.pcap", pcap(recs))), 2, 0,
           {"truncated_ip": 1, "bad_ip_length": 1})


def case_tcp_data_offset(ctx):
    recs = [(T0 + d, eth4(seq=d, doff=d)) for d in range(5)]
    # Offset 15 (60 bytes) with the IP length covering it, 20 bytes
    # captured of a frame that was whole on the wire: the capture ends
    # inside the options, which is not an error (semantics.md 2, "TCP
    # options cut by the capture"): the segment is analyzed. The same
    # frame short on the wire too: the IP length is cut to the 40 bytes
    # carried, and the offset lies beyond it.
    f = eth(ipv4(A4, B4, tcp(doff=15), total=20 + 60))
    recs.append((T0 + 5, f, len(f), 14 + 80))
    recs.append((T0 + 5, f))
    # Offset 6 on a 24-byte IP payload, cut by the snap length after 20:
    # analyzed too.
    f = eth4(seq=7, options=b"\x01\x01\x01\x01")
    recs.append((T0 + 6, f[:54], 54, len(f)))
    # Offset 15 beyond the IP payload (20 bytes): malformed, whatever the
    # capture holds.
    recs.append((T0 + 7, eth(ipv4(A4, B4, tcp(doff=15) + bytes(40), total=20 + 20))))
    # IPv6: offset 4, and 15 beyond the payload length.
    recs.append((T0 + 8, eth(ipv6(A6, B6, tcp(doff=4)), 0x86DD)))
    recs.append((T0 + 9, eth(ipv6(A6, B6, tcp(doff=15) + bytes(40), plen=20), 0x86DD)))
    expect(ctx.ok(ctx.write("doff.pcap", pcap(recs))), 11, 2, {"bad_tcp_data_offset": 9})


def case_tcp_options(ctx):
    bad = [
        b"\x1e\x00\x00\x00",                  # unknown kind, length 0
        b"\x1e\x01\x00\x00",                  # length 1
        b"\x08\x28" + bytes(10),              # timestamps claiming 40 bytes in 12
        b"\x01\x01\x01\x02",                  # a kind with no length byte left
        b"\x01\x03\x03\x07\x02\x06\x05",      # a good option, then one cut short
    ]
    odd = [
        b"\x02\x03\x05\x00",                  # MSS of length 3
        b"\x03\x04\x07\x00",                  # window scale of length 4
        b"\x05\x09" + bytes(7) + b"\x00\x00\x00",  # SACK of 7 data bytes
        b"\x04\x03\x00\x00",                  # SACK-permitted of length 3
        b"\x00\xff\xff\xff",                  # EOL, then anything
    ]
    recs = [(T0 + i, eth4(sport=41000 + i, seq=i, flags=SYN, options=o))
            for i, o in enumerate(bad + odd)]
    r = ctx.ok(ctx.write("options.pcap", pcap(recs)))
    # A bad option is counted, and the segment is still analyzed.
    expect(r, 10, 10, {"bad_tcp_option": 5}, connections_opened_total=10)


def case_ipv6_extensions(ctx):
    t = tcp(flags=SYN)
    recs = []

    def add(ext, nh, plen=None, payload=t):
        recs.append((T0 + len(recs), eth(ipv6(A6, B6, payload, nh=nh, ext=ext, plen=plen),
                                         0x86DD)))

    # Eight destination-options headers, each naming the next one: the most
    # walked. Then TCP: fine.
    add(b"".join(ext_hdr(60 if i < 7 else 6) for i in range(8)), 60)
    # Nine: a chain that loops (each names its own kind again) is cut off.
    add(b"".join(ext_hdr(60) for _ in range(9)), 60)
    # Routing headers pointing at themselves, 20 of them.
    add(b"".join(ext_hdr(43) for _ in range(20)), 43)
    # Hop-by-hop claiming 2048 bytes in a 100-byte packet.
    add(struct.pack("!BB", 6, 255) + bytes(6), 0, plen=100)
    # Longer than the payload length says, all of it captured.
    add(ext_hdr(6, 3), 60, plen=24)
    # The capture ends inside the fixed part of an extension header.
    add(b"\x06", 60, plen=100, payload=b"")
    # Fragments: a later fragment of TCP is held for reassembly, of UDP is
    # not TCP; a first fragment of 20 bytes with M set is malformed (RFC
    # 8200 4.5: not a multiple of 8) and ignored; an atomic fragment is
    # decoded (RFC 6946). No datagram completes: one TCP packet from them.
    add(frag_hdr(6, 100, more=True), 44, payload=bytes(40))
    add(frag_hdr(17, 100), 44, payload=bytes(40))
    add(frag_hdr(6, 0, more=True), 44)
    add(frag_hdr(6, 0), 44)
    r = ctx.ok(ctx.write("ipv6_ext.pcap", pcap(recs)))
    expect(r, 10, 2, {"bad_ipv6_extension": 5},
           fragments_ignored_total__reason_malformed=1)


def case_payload_claims(ctx):
    recs = []

    def add(ip, seg, claim, snapped, ethertype=0x0800):
        """A 60-byte (IPv4) or 80-byte (IPv6) frame claiming `claim` bytes
        of IP length. snapped: the record says the whole datagram was on
        the wire (a snap length cut it); else the frame is all there was."""
        if ip == 4:
            frame = eth(ipv4(A4, B4, seg, total=claim), ethertype)
        else:
            frame = eth(ipv6(A6, B6, seg, plen=claim), 0x86DD)
        wire = 14 + claim + (40 if ip == 6 else 0) if snapped else len(frame)
        check(len(frame) == (60 if ip == 4 else 80), f"frame of {len(frame)} bytes")
        recs.append((T0 + len(recs) * 1000, frame, len(frame), wire))

    def seg(sport, seq):
        return tcp(sport=sport, dport=80, seq=seq, payload=bytes(6))

    # 65 535-byte IPv4 packets captured as 60-byte frames (snap length):
    # the payload is what the IP header says (65 495), not what was
    # captured.
    add(4, seg(40000, 1000), 65535, True)                      # first
    add(4, seg(40000, 1000 + 65495), 65535, True)              # in order
    add(4, seg(40000, 1000), 65535, True)                      # seen: duplicate
    add(4, seg(40000, 1000 + 2 * 65495 + 68010), 46, True)     # 68 010 skipped
    # The same over IPv6: payload length 65 535, 80 bytes captured.
    add(6, seg(40001, 7000), 65535, True)
    add(6, seg(40001, 7000 + 65515), 65535, True)
    add(6, seg(40001, 7000 + 2 * 65515 + 1), 65535, True)      # 1 skipped
    # 60-byte frames that were only 60 bytes on the wire: the claim is cut
    # to what the link carried (6 bytes of payload), so the next segment,
    # 65 495 bytes further on, skipped 65 489 of them.
    add(4, seg(40002, 1000), 65535, False)
    add(4, seg(40002, 1000 + 65495), 65535, False)             # 65 489 skipped
    add(6, seg(40003, 1000), 65535, False)
    add(6, seg(40003, 1000 + 65515), 65535, False)             # 65 509 skipped
    r = ctx.ok(ctx.write("claims.pcap", pcap(recs)))
    expect(r, 11, 11, packet_loss_missing_total=4, packet_loss_duplicate_total=1,
           packet_loss_out_of_order_total=0,
           packet_loss_gap_bytes_sum=68010 + 1 + 65489 + 65509,
           packet_loss_gap_bytes_bucket__le_64=1, packet_loss_gap_bytes_bucket__le_65536=3,
           packet_loss_gap_bytes_bucket__le_131072=4)


def case_unsupported_linktype(ctx):
    # Counted as a decode error; the file goes on.
    p = ctx.write("lt147.pcap", pcap([(T0, eth4()), (T0 + 1, eth4())], linktype=147))
    expect(ctx.ok(p), 2, 0, {"unsupported_linktype": 2})


def case_odd_snaplen(ctx):
    f = eth4(seq=1, flags=SYN)
    # libpcap takes 0 and values above its maximum as "no limit", and cuts
    # every record to any other snap length, however small.
    for snap, tcp_packets, errors in ((0, 1, {}), (1, 0, {"truncated_link": 1}),
                                      (14, 0, {"truncated_ip": 1}), (0x80000000, 1, {}),
                                      (0xFFFFFFFF, 1, {})):
        p = ctx.write(f"snap{snap}.pcap", pcap([(T0, f)], snaplen=snap))
        try:
            expect(ctx.ok(p), 1, tcp_packets, errors)
        except Failure as e:
            raise Failure(f"snap length {snap}: {e}")
    # caplen > len: the wire length is taken as caplen.
    p = ctx.write("caplen_gt_len.pcap", pcap([(T0, f, len(f), 10)]))
    expect(ctx.ok(p), 1, 1)


def case_pcapng_blocks(ctx):
    good = ng_shb() + ng_idb() + ng_epb(T0, eth4(seq=1, flags=SYN))
    epb2 = ng_epb(T0 + 1, eth4(seq=2))
    cases = {
        "short_block": good + struct.pack("<II", 6, 8) + bytes(8),
        "odd_block": good + epb2[:4] + struct.pack("<I", len(epb2) + 1) + epb2[8:] + b"\x00",
        "huge_block": good + struct.pack("<II", 6, 0x7FFFFFF0) + bytes(64),
        "bad_iface": good + ng_epb(T0 + 1, eth4(seq=2), iface=5),
        "trailer_mismatch": good + epb2[:-4] + struct.pack("<I", len(epb2) + 4),
        "epb_caplen_past_block": good + ng_block(6, struct.pack("<IIIII", 0, 0, 0, 4000, 4000)
                                                 + bytes(40)),
    }
    for name, data in cases.items():
        p = ctx.write(name + ".pcapng", data)
        try:
            # The good packet before the bad block stays counted.
            expect(ctx.fails(p), 1, 1)
        except Failure as e:
            raise Failure(f"{name}: {e}")
    # An interface of a link type the monitor does not read, next to one it
    # reads: its frames are decode errors, the others are analyzed.
    p = ctx.write("lt147.pcapng", ng_shb() + ng_idb(147) + ng_idb() + ng_epb(T0, eth4())
                  + ng_epb(T0 + 1, eth4(seq=1, flags=SYN), iface=1))
    expect(ctx.ok(p), 2, 1, {"unsupported_linktype": 1})


def case_time_extremes(ctx):
    """Capture times at the ends of what the formats can say. Each file's
    frames must all be counted (or the file refused with one error line),
    under every flag set, with no sanitizer report: the reproductions of
    bugs 2, 3 and 5 of docs/robustness.md."""
    def ng_idb_opts(opts):
        return ng_block(1, struct.pack("<HHI", 1, 0, 262144) + opts + struct.pack("<HH", 0, 0))

    def tsoffset(sec):
        return struct.pack("<HHq", 14, 8, sec)

    def tsresol(v):
        return struct.pack("<HHB3x", 9, 1, v)

    def epb(units, frame):
        return ng_block(6, struct.pack("<IIIII", 0, (units >> 32) & 0xFFFFFFFF,
                                       units & 0xFFFFFFFF, len(frame), len(frame)) + frame)

    c = dict(src=A4, dst=B4, sport=40000, dport=80)
    s = dict(src=B4, dst=A4, sport=80, dport=40000)
    syn, synack = eth4(**c, seq=1000, flags=SYN), eth4(**s, seq=5000, ack=1001, flags=SYN | ACK)

    def data(seq, n=100):
        return eth4(**c, seq=seq, payload=bytes(n))

    files = {
        # Microseconds past the year 2262: seconds * 10^9 leaves int64_t.
        "ts_2262.pcapng": (ng_shb() + ng_idb_opts(b"") + epb(1_700_000_000 * 10**6, syn)
                           + epb(0xFFFFFFFF00000000, synack), 2),
        # Resolution of whole seconds: 2^64 - 1 s does not even fit time_t.
        "ts_seconds.pcapng": (ng_shb() + ng_idb_opts(tsresol(0)) + epb(1_700_000_000, syn)
                              + epb(0xFFFFFFFFFFFFFFFF, synack), 2),
        # if_tsoffset -9e9 s: -9e18 ns, then +9e18 ns; each fits, their
        # difference does not.
        "ts_span.pcapng": (ng_shb() + ng_idb_opts(tsoffset(-9 * 10**9)) + epb(0, syn)
                           + epb(18 * 10**9 * 10**6, synack), 2),
        # The same span inside one flow kept alive (--idle-timeout 1e9 s) by
        # a packet every 0.5e18 ns, a hole opened at the start and filled at
        # the end: the fill's age overflows.
        "ts_fill_age.pcapng": (ng_shb() + ng_idb_opts(tsoffset(-9 * 10**9))
                               + epb(0, data(1000)) + epb(0, data(2000))
                               + b"".join(epb(i * 5 * 10**14, data(2100, 0))
                                          for i in range(1, 37))
                               + epb(182 * 10**14, data(1100, 900)), 39),
        # Classic pcap: the largest unsigned seconds (2106), then 0.
        "ts_2106.pcap": (pcap([(0xFFFFFFFF * 10**9 + 999_999_999, syn), (0, synack)]), 2),
    }
    flag_sets = [[], ["--timeline"], ["--idle-timeout", "1000000000"], ["-v", "--top", "2"]]
    for name, (blob, want) in files.items():
        p = ctx.write(name, blob)
        for flags in flag_sets:
            what = f"{name} {' '.join(flags)}"
            r = ctx.run("-r", p, *flags)
            if "--timeline" in flags:
                check(r.out.endswith("# EOF\n"), f"{what}: the timeline does not end with # EOF")
                continue
            if "-v" in flags:
                continue  # the per-packet lines share stderr with any error
            if r.rc == 0:
                check(r.err == "", f"{what}: unexpected stderr:\n{r.err}")
                check(r.m("tcp_monitor_packets_total") == want,
                      f"{what}: {r.m('tcp_monitor_packets_total'):g} frames counted of {want}")
            else:
                lines = r.err.splitlines()
                check(len(lines) == 1 and lines[0].startswith(f"{PROG}: {p}: "),
                      f"{what}: exit 1 without one error line naming the file:\n{r.err}")
                check(r.m("tcp_monitor_packets_total") < want, f"{what}: all frames counted")


CASES = [case_bad_magic, case_caplen_over_snaplen, case_caplen_over_256k,
         case_zero_length_records, case_timestamps_backwards, case_ipv4_ihl_below_5,
         case_tcp_data_offset, case_tcp_options, case_ipv6_extensions, case_payload_claims,
         case_unsupported_linktype, case_odd_snaplen, case_pcapng_blocks, case_time_extremes]


# ---- Group: regress ---------------------------------------------------------------

FLAG_SETS = [[], ["--timeline"], ["-v"], ["--top", "3"], ["--max-holes", "1"],
             ["--format", "openmetrics"], ["--scope", "global"],
             ["--idle-timeout", "1000000000", "--max-flows", "2"]]


def regress_cases():
    out = []
    if os.path.isdir(REGRESS):
        for name in sorted(os.listdir(REGRESS)):
            if name.endswith((".pcap", ".pcapng")):
                out.append(name)
    return out


def make_regress_case(name):
    def case(ctx):
        p = os.path.join(REGRESS, name)
        for flags in FLAG_SETS:
            scope = None if "--scope" in flags else "all"
            r = ctx.run("-r", p, *flags, scope=scope)
            if r.rc == 1:
                lines = [line for line in r.err.splitlines()
                         if line.startswith(f"{PROG}: {p}: ")]
                check(lines, f"{flags}: exit 1 without an error line naming the file:\n{r.err}")
            if "--timeline" not in flags and not (r.rc == 1 and r.out == ""):
                check("tcp_monitor_packets_total" in r.out, f"{flags}: no metrics printed")
    case.__name__ = "regress_" + name
    return case


# ---- Main ---------------------------------------------------------------------------

def main(argv):
    if len(argv) < 2 or argv[1] not in ("truncation", "cases", "regress"):
        sys.stderr.write(__doc__)
        return 2
    binary, group, only = argv[0], argv[1], set(argv[2:])
    if group == "truncation":
        cases = TRUNCATION
    elif group == "cases":
        cases = CASES
    else:
        cases = [make_regress_case(n) for n in regress_cases()]
        if not cases:
            print(f"no captures in {REGRESS}")
    passed = failed = 0
    with tempfile.TemporaryDirectory(prefix="tcpwm-hostile-") as work:
        ctx = Ctx(binary, work)
        for case in cases:
            name = case.__name__.removeprefix("case_")
            if only and name not in only:
                continue
            try:
                detail = case(ctx)
                passed += 1
                print(f"PASS {name}" + (f" ({detail})" if detail else ""))
            except Failure as e:
                failed += 1
                print(f"FAIL {name}: {e}")
            except subprocess.TimeoutExpired as e:
                failed += 1
                print(f"FAIL {name}: timed out: {e.cmd}")
            sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
