#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the crafted half of the golden-test corpus: tests/pcaps/crafted/.

One small capture per case, each built to exercise one rule of
docs/semantics.md, and beside it <test>.expect: the metric samples those
rules predict, exactly as they appear in the Prometheus text output. The
expected values are written here, next to the packets that cause them,
each with a comment naming the rule (section numbers refer to
docs/semantics.md). They are never taken from the program.

    python3 gen_crafted.py [OUTDIR]      (default: crafted/ beside this file)
    python3 gen_crafted.py --testlist    print the TESTLIST lines of the cases

Deterministic: fixed timestamps, no randomness, no dependence on the
environment; run_tests.py / ctest check that a fresh run reproduces the
committed files byte for byte. Python 3 standard library only.

Conventions of every case unless it says otherwise:
  - sequence and acknowledgment numbers are written relative to the ISN of
    their direction, as Wireshark shows them: c(t, 1, 1, 'PA', 100) is the
    client's first 100 bytes [1, 101);
  - the client C sends first (endpoint 0), the server S answers;
  - each direction keeps one raw window for the whole case and its ack
    numbers never decrease, so no window event happens by accident;
  - a counter a case does not set is expected to be 0: none of the case's
    packets gives a rule of semantics.md occasion to count it.
"""

import decimal
import os
import struct
import sys
import ipaddress

# ---------------------------------------------------------------------------
# Time: all captures start at the same fixed instant; t arguments are ns.
T0 = 1_700_000_000 * 1_000_000_000


def ms(x):
    """Capture time x milliseconds after T0 (x may be a float of whole us)."""
    return T0 + round(x * 1_000_000)


def sec(x):
    return T0 + round(x * 1_000_000_000)


MASK32 = 0xFFFFFFFF

# ---------------------------------------------------------------------------
# Checksums and addresses


def inet_csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def addr(s):
    return ipaddress.ip_address(s).packed


# ---------------------------------------------------------------------------
# TCP


FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}


def tcp_flags(s):
    v = 0
    for ch in s:
        v |= FLAGS[ch]
    return v


def tcp_opts(*items):
    """TCP options, padded to a multiple of 4 with EOL.
    items: ('mss', n) ('ws', shift) ('sackok',) ('ts', val, ecr)
           ('sack', [(l, r), ...]) ('nop',) ('raw', bytes)"""
    out = b""
    for it in items:
        k = it[0]
        if k == "mss":
            out += struct.pack("!BBH", 2, 4, it[1])
        elif k == "ws":
            out += struct.pack("!BBB", 3, 3, it[1])
        elif k == "sackok":
            out += b"\x04\x02"
        elif k == "ts":
            out += struct.pack("!BBII", 8, 10, it[1], it[2])
        elif k == "sack":
            out += struct.pack("!BB", 5, 2 + 8 * len(it[1]))
            for left, right in it[1]:
                out += struct.pack("!II", left & MASK32, right & MASK32)
        elif k == "nop":
            out += b"\x01"
        elif k == "raw":
            out += it[1]
        else:
            raise ValueError(k)
    while len(out) % 4:
        out += b"\0"
    return out


def syn_opts(ws=7, ts=None):
    """What Linux puts on a SYN: MSS, SACK permitted, timestamps, NOP, wscale.
    ws=None leaves the window-scale option out."""
    items = [("mss", 1460), ("sackok",)]
    if ts is not None:
        items.append(("ts", ts, 0))
    if ws is not None:
        items += [("nop",), ("ws", ws)]
    return tcp_opts(*items)


def tcp_header(sport, dport, seq, ack, flags, win, opts=b"", doff=None, urg=0):
    if doff is None:
        doff = (20 + len(opts)) // 4
    return struct.pack("!HHIIBBHHH", sport, dport, seq & MASK32, ack & MASK32, doff << 4,
                       flags, win, 0, urg) + opts


def pseudo4(src, dst, length, proto=6):
    return src + dst + struct.pack("!BBH", 0, proto, length)


def pseudo6(src, dst, length, nh=6):
    return src + dst + struct.pack("!I3xB", length, nh)


def with_l4_csum(seg, pseudo, off):
    c = inet_csum(pseudo + seg[:off] + b"\0\0" + seg[off + 2:])
    return seg[:off] + struct.pack("!H", c) + seg[off + 2:]


def tcp_segment(src, dst, sport, dport, seq, ack, flags, win, opts=b"", payload=b"", doff=None):
    """A TCP header + payload with a correct checksum (src/dst: 4 or 16 bytes)."""
    seg = tcp_header(sport, dport, seq, ack, flags, win, opts, doff) + payload
    ps = pseudo4(src, dst, len(seg)) if len(src) == 4 else pseudo6(src, dst, len(seg))
    return with_l4_csum(seg, ps, 16)


def data(n):
    """n payload bytes (a fixed pattern)."""
    return bytes((0x41 + i % 26) for i in range(n))


# ---------------------------------------------------------------------------
# IP


def ipv4(src, dst, proto, payload, ident=1, ttl=64, df=True, mf=False, frag_off=0, opts=b"",
         total_length=None, ihl=None, version=4):
    """IPv4 header (+ options, padded) with a correct header checksum."""
    while len(opts) % 4:
        opts += b"\0"
    hlen = 20 + len(opts)
    if ihl is None:
        ihl = hlen // 4
    if total_length is None:
        total_length = hlen + len(payload)
    ff = (0x4000 if df else 0) | (0x2000 if mf else 0) | frag_off
    hdr = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 15), 0, total_length, ident, ff,
                      ttl, proto, 0, src, dst) + opts
    c = inet_csum(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ipv6(src, dst, nh, payload, plen=None, hlim=64, version=6):
    if plen is None:
        plen = len(payload)
    return struct.pack("!IHBB16s16s", (version << 28), plen, nh, hlim, src, dst) + payload


def v6_padn(n):
    if n == 0:
        return b""
    if n == 1:
        return b"\0"
    return bytes([1, n - 2]) + b"\0" * (n - 2)


def v6_chain(headers, upper_nh, upper):
    """Wrap `upper` (next header upper_nh) in IPv6 extension headers.
    headers, outermost first: ('hbh',) ('dst',) ('rt',) ('frag', offset8, mf, ident)
    ('rawext', nh_code, bytes_after_nh): a header whose bytes are given as is.
    Returns (first next-header value, bytes)."""
    nh, body = upper_nh, upper
    for h in reversed(headers):
        k = h[0]
        if k in ("hbh", "dst"):
            hdr = bytes([nh, 0]) + v6_padn(6)
            nh, body = (0 if k == "hbh" else 60), hdr + body
        elif k == "rt":
            # Routing type 253 (RFC 4727 experimental), segments left 0: RFC 8200
            # 4.4 says to ignore the header and go on to the next one.
            hdr = bytes([nh, 0, 253, 0]) + b"\0" * 4
            nh, body = 43, hdr + body
        elif k == "frag":
            _, off8, mf, ident = h
            hdr = struct.pack("!BBHI", nh, 0, (off8 << 3) | (1 if mf else 0), ident)
            nh, body = 44, hdr + body
        elif k == "rawext":
            _, code, rest = h
            nh, body = code, bytes([nh]) + rest + body
        else:
            raise ValueError(k)
    return nh, body


# ---------------------------------------------------------------------------
# Link layers

MAC_C = bytes.fromhex("020000000001")
MAC_S = bytes.fromhex("020000000002")
ET_IP4, ET_IP6, ET_VLAN, ET_QINQ, ET_PPPOE, ET_ARP = 0x0800, 0x86DD, 0x8100, 0x88A8, 0x8864, 0x0806

LINKTYPE = {"null": 0, "eth": 1, "raw12": 12, "raw14": 14, "raw": 101, "loop": 108, "sll": 113,
            "ipv4": 228, "ipv6": 229, "sll2": 276, "ppp": 9, "ppp_hdlc": 50, "chdlc": 104,
            "nflog": 239, "ipoib": 242}


def ether(payload, etype, tags=(), src=MAC_C, dst=MAC_S):
    """Ethernet II; tags: (tpid, vid) pairs, outermost first."""
    out = dst + src
    for tpid, vid in tags:
        out += struct.pack("!HH", tpid, vid)
    return out + struct.pack("!H", etype) + payload


def ip_family(pkt):
    return pkt[0] >> 4


class Link:
    """How IP packets are framed on one link type."""

    def __init__(self, kind="eth", tags=(), null_af6=30, null_big=False, wrap=None, pfc=False,
                 big=False, grh=False):
        self.kind = kind
        self.grh = grh            # ipoib_pseudo: the pseudo-header holds a GRH
        self.wrap = wrap          # kind "wrap": fn(ip packet, to_server) -> Ethernet frame
        self.pfc = pfc            # ppp: 1-byte protocol field (RFC 1661 6.5)
        self.big = big            # nflog: TLVs from a big-endian host
        self.linktype = LINKTYPE["eth" if kind in ("pppoe", "wrap") else
                                 "ipoib" if kind == "ipoib_pseudo" else kind]
        self.tags = tuple(tags)
        self.null_af6 = null_af6
        self.null_big = null_big

    def frame(self, pkt, to_server=True, fam=None):
        fam = fam or ip_family(pkt)
        src, dst = (MAC_C, MAC_S) if to_server else (MAC_S, MAC_C)
        k = self.kind
        if k == "eth":
            return ether(pkt, ET_IP4 if fam == 4 else ET_IP6, self.tags, src, dst)
        if k == "pppoe":
            ppp = struct.pack("!H", 0x0021 if fam == 4 else 0x0057) + pkt
            hdr = struct.pack("!BBHH", 0x11, 0x00, 0x1234, len(ppp))
            return ether(hdr + ppp, ET_PPPOE, self.tags, src, dst)
        if k == "sll":
            # packet type 0 (to us) / 4 (sent by us), ARPHRD_ETHER, 6-byte address
            return struct.pack("!HHH8sH", 4 if to_server else 0, 1, 6, src + b"\0\0",
                               ET_IP4 if fam == 4 else ET_IP6) + pkt
        if k == "sll2":
            return struct.pack("!HHIHBB8s", ET_IP4 if fam == 4 else ET_IP6, 0, 2, 1,
                               4 if to_server else 0, 6, src + b"\0\0") + pkt
        if k in ("raw", "raw12", "raw14", "ipv4", "ipv6"):
            return pkt
        if k == "null":
            af = 2 if fam == 4 else self.null_af6
            return struct.pack(">I" if self.null_big else "<I", af) + pkt
        if k == "loop":
            return struct.pack(">I", 2 if fam == 4 else 24) + pkt
        if k == "wrap":
            return self.wrap(pkt, to_server)
        proto = 0x0021 if fam == 4 else 0x0057            # RFC 1332, RFC 5072
        if k == "ppp":
            # LINKTYPE_PPP: the protocol field alone, or FF 03 first (RFC 1662 3.1);
            # with PFC the protocol is one byte (RFC 1661 6.5)
            return (bytes([proto]) if self.pfc else b"\xff\x03" + struct.pack("!H", proto)) + pkt
        if k == "ppp_hdlc":
            return b"\xff\x03" + struct.pack("!H", proto) + pkt   # RFC 1662 3.1
        if k == "chdlc":
            # RFC 1547 4.3.1: address 0x0F (unicast), control 0, EtherType
            return struct.pack("!BBH", 0x0F, 0, ET_IP4 if fam == 4 else ET_IP6) + pkt
        if k == "nflog":
            # nfgenmsg (AF_INET 2 / AF_INET6 10, version 0, resource ID 0 network order),
            # then TLVs in the capturing host's order: NFULA_PACKET_HDR (type 1: hw
            # protocol, hook, pad), NFULA_PREFIX (type 10, "tcpwm\0", padded to 4), then
            # NFULA_PAYLOAD (type 9) with the IP packet, padded to 4.
            e = ">" if self.big else "<"
            def tlv(t, v):
                b = struct.pack(e + "HH", 4 + len(v), t) + v
                return b + b"\0" * (-len(b) % 4)
            hdr = struct.pack("!BBH", 2 if fam == 4 else 10, 0, 0)
            return (hdr + tlv(1, struct.pack("!HBB", ET_IP4 if fam == 4 else ET_IP6, 3, 0))
                    + tlv(10, b"tcpwm\0") + tlv(9, pkt))
        if k == "ipoib":
            # RFC 4391 6: protocol type, then 2 reserved bytes
            return struct.pack("!HH", ET_IP4 if fam == 4 else ET_IP6, 0) + pkt
        if k == "ipoib_pseudo":
            # The 40-byte pseudo-header tcpdump and Wireshark read before RFC 4391's
            # 4 bytes on this link type: the InfiniBand GRH (IBA 1.2.1 vol. 1 8.3:
            # IPVer 6, traffic class, flow label; payload length, next header 0x1B,
            # hop limit; source and destination GID), or without one 20 zero bytes
            # and the destination address (connected-mode flag + QPN, GID).
            dgid = bytes.fromhex("fe800000000000000002c90300000002" if to_server else
                                 "fe800000000000000002c90300000001")
            if self.grh:
                sgid = dgid[:-1] + bytes([3 - dgid[-1]])
                hdr = struct.pack("!IHBB", 6 << 28, len(pkt) + 4, 0x1B, 1) + sgid + dgid
            else:
                hdr = b"\0" * 20 + struct.pack("!I", 0x80000048) + dgid
            return hdr + struct.pack("!HH", ET_IP4 if fam == 4 else ET_IP6, 0) + pkt
        raise ValueError(k)


# ---------------------------------------------------------------------------
# Captures


class Capture:
    def __init__(self, linktype=1, nsec=False, snaplen=262144, fmt="pcap"):
        self.linktype = linktype
        self.nsec = nsec
        self.snaplen = snaplen
        self.fmt = fmt
        self.recs = []  # (ts_ns, bytes captured, wire length)

    def add(self, t, frame, caplen=None, wirelen=None):
        if wirelen is None:
            wirelen = len(frame)
        if caplen is None:
            caplen = min(len(frame), self.snaplen)
        assert caplen <= len(frame) and caplen <= wirelen
        if not self.nsec:
            assert t % 1000 == 0, "microsecond capture with a nanosecond time"
        self.recs.append((t, frame[:caplen], wirelen))

    def bytes(self):
        return self._pcapng() if self.fmt == "pcapng" else self._pcap()

    def _pcap(self):
        magic = 0xA1B23C4D if self.nsec else 0xA1B2C3D4
        out = [struct.pack("<IHHiIII", magic, 2, 4, 0, 0, self.snaplen, self.linktype)]
        for t, b, wl in self.recs:
            sub = t % 1_000_000_000
            out.append(struct.pack("<IIII", t // 1_000_000_000,
                                   sub if self.nsec else sub // 1000, len(b), wl))
            out.append(b)
        return b"".join(out)

    def _pcapng(self):
        def block(btype, body):
            while len(body) % 4:
                body += b"\0"
            n = len(body) + 12
            return struct.pack("<II", btype, n) + body + struct.pack("<I", n)

        shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        # IDB with if_tsresol (option 9) = 9: timestamps in nanoseconds.
        opts = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
        idb = block(1, struct.pack("<HHI", self.linktype, 0, self.snaplen) + opts)
        out = [shb, idb]
        for t, b, wl in self.recs:
            body = struct.pack("<IIIII", 0, t >> 32, t & MASK32, len(b), wl) + b
            out.append(block(6, body))
        return b"".join(out)


class Flow:
    """One TCP connection on a capture: c()/s() add a client/server segment
    with sequence and ack numbers relative to the two ISNs."""

    def __init__(self, cap, link, c_ip, s_ip, cport=40000, sport=80, isn_c=1000, isn_s=5000,
                 cwin=502, swin=509):
        self.cap, self.link = cap, link
        self.c_ip, self.s_ip = addr(c_ip), addr(s_ip)
        self.v6 = len(self.c_ip) == 16
        self.cport, self.sport = cport, sport
        self.isn_c, self.isn_s = isn_c, isn_s
        self.cwin, self.swin = cwin, swin

    def ip(self, to_server, seg, ip_opts=b"", exts=(), ident=1):
        src, dst = (self.c_ip, self.s_ip) if to_server else (self.s_ip, self.c_ip)
        if self.v6:
            nh, body = v6_chain(list(exts), 6, seg)
            return ipv6(src, dst, nh, body)
        return ipv4(src, dst, 6, seg, ident=ident, opts=ip_opts)

    def seg(self, to_server, seq, ack, flags, n=0, win=None, opts=b"", payload=None, doff=None):
        src, dst = (self.c_ip, self.s_ip) if to_server else (self.s_ip, self.c_ip)
        sp, dp = (self.cport, self.sport) if to_server else (self.sport, self.cport)
        if to_server:
            a_seq, a_ack, w = self.isn_c + seq, self.isn_s + ack, self.cwin
        else:
            a_seq, a_ack, w = self.isn_s + seq, self.isn_c + ack, self.swin
        if "A" not in flags:
            a_ack = 0
        if win is not None:
            w = win
        if payload is None:
            payload = data(n)
        return tcp_segment(src, dst, sp, dp, a_seq, a_ack, tcp_flags(flags), w, opts, payload,
                           doff)

    def pkt(self, to_server, t, seq, ack, flags, n=0, win=None, opts=b"", ip_opts=b"", exts=(),
            caplen=None):
        seg = self.seg(to_server, seq, ack, flags, n, win, opts)
        frame = self.link.frame(self.ip(to_server, seg, ip_opts, exts), to_server)
        self.cap.add(t, frame, caplen=caplen)
        return frame

    def c(self, t, seq, ack, flags, n=0, **kw):
        return self.pkt(True, t, seq, ack, flags, n, **kw)

    def s(self, t, seq, ack, flags, n=0, **kw):
        return self.pkt(False, t, seq, ack, flags, n, **kw)

    def handshake(self, t, ws_c=7, ws_s=7, **kw):
        """SYN, SYN-ACK, ACK at t, t+1 ms, t+2 ms."""
        self.c(t, 0, 0, "S", win=64240, opts=syn_opts(ws_c), **kw)
        self.s(t + ms(1) - T0, 0, 1, "SA", win=65160, opts=syn_opts(ws_s), **kw)
        self.c(t + ms(2) - T0, 1, 1, "A", **kw)

    def mini(self, t, **kw):
        """The ten-packet clean connection used by the link-type cases:
        handshake (wscale 7 both ways), 100 bytes up, 200 bytes down, FIN both
        ways. Nothing here gives a loss or window event (4, 5); the second FIN
        closes the flow (3). The last packet is C's ACK: raw 502 << 7 = 64256."""
        step = ms(1) - T0
        self.handshake(t, **kw)
        self.c(t + 3 * step, 1, 1, "PA", 100, **kw)
        self.s(t + 4 * step, 1, 101, "A", **kw)
        self.s(t + 5 * step, 1, 101, "PA", 200, **kw)
        self.c(t + 6 * step, 101, 201, "A", **kw)
        self.c(t + 7 * step, 101, 201, "FA", **kw)
        self.s(t + 8 * step, 201, 102, "FA", **kw)
        self.c(t + 9 * step, 102, 202, "A", **kw)


MINI_PACKETS = 10
MINI_LAST_WINDOW = 502 << 7

# ---------------------------------------------------------------------------
# Expectations

METRIC = {
    "packets": "tcp_monitor_packets_total",
    "tcp_packets": "tcp_monitor_tcp_packets_total",
    "global_tcp_packets": "tcp_monitor_global_tcp_packets_total",
    "missing": "tcp_monitor_packet_loss_missing_total",
    "duplicate": "tcp_monitor_packet_loss_duplicate_total",
    "out_of_order": "tcp_monitor_packet_loss_out_of_order_total",
    "capture_gap": "tcp_monitor_capture_gap_total",
    "keepalive": "tcp_monitor_keepalive_total",
    "zero_window_probe": "tcp_monitor_zero_window_probe_total",
    "zero_window": "tcp_monitor_zero_window_total",
    "window_shrink": "tcp_monitor_window_shrink_total",
    "right_edge_retreat": "tcp_monitor_window_right_edge_retreat_total",
    "scale_unknown": "tcp_monitor_window_scale_unknown_packets_total",
    "conn_opened": "tcp_monitor_connections_opened_total",
    "conn_closed": "tcp_monitor_connections_closed_total",
    "holes_forgotten": "tcp_monitor_holes_forgotten_total",
    "active": "tcp_monitor_active_connections",
    "current_window": "tcp_monitor_current_window_size_bytes",
}
# Counters every .expect states; unset ones are expected to be 0.
ALWAYS = ["packets", "tcp_packets", "global_tcp_packets", "missing", "duplicate", "out_of_order",
          "capture_gap", "keepalive", "zero_window_probe", "zero_window", "window_shrink",
          "right_edge_retreat", "scale_unknown", "conn_opened", "conn_closed", "holes_forgotten",
          "active"]
# These have no sensible default: every case sets them.
REQUIRED = ["packets", "tcp_packets", "global_tcp_packets", "conn_opened", "conn_closed", "active"]

DECODE_REASONS = ["unsupported_linktype", "truncated_link", "truncated_ip", "bad_ip_version",
                  "bad_ipv4_header_length", "bad_ip_length", "bad_ipv6_extension",
                  "truncated_tcp", "bad_tcp_data_offset", "bad_tcp_option",
                  "truncated_encapsulation", "bad_encapsulation", "encapsulation_too_deep",
                  "encapsulation_table_full"]
ENCAP_KINDS = ["vxlan", "geneve", "gre", "erspan", "ipip", "mpls"]
FRAG_OUTCOMES = ["reassembled", "timed_out", "overlapping", "evicted", "too_large",
                 "inconsistent", "too_many_ranges"]
FRAG_IGNORED = ["duplicate", "malformed", "discarded"]
EVICT_REASONS = ["max_flows", "idle"]
GAP_BOUNDS = [1 << k for k in range(6, 25)]
FILL_BOUNDS_NS = [100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000, 10_000_000,
                  25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000, 1_000_000_000,
                  2_500_000_000, 5_000_000_000, 10_000_000_000]


def prom_float(v):
    """A float sample value or `le` as the exposition writes it (core/include/
    tcpwm/expo.h): the shortest decimal that reads back as v, in the layout of
    Go's strconv.FormatFloat(v, 'g', -1, 64), as the Prometheus Go client
    prints: plain digits for exponents -4..5, else d.ddde+XX."""
    v = float(v)
    if v == 0:
        return "0"
    sign = "-" if v < 0 else ""
    # repr() gives the shortest round-trip digits; only their layout differs.
    d = decimal.Decimal(repr(abs(v))).normalize()
    _, digits, e = d.as_tuple()
    digits = "".join(map(str, digits))
    nd = len(digits)
    dp = nd + e                      # position of the decimal point
    exp = dp - 1
    if exp < -4 or exp >= 6:
        mant = digits[0] + ("." + digits[1:] if nd > 1 else "")
        return "%s%se%s%02d" % (sign, mant, "-" if exp < 0 else "+", abs(exp))
    if dp <= 0:
        return sign + "0." + "0" * (-dp) + digits
    if dp >= nd:
        return sign + digits + "0" * (dp - nd)
    return sign + digits[:dp] + "." + digits[dp:]


def fill_le(ns):
    return prom_float(ns / 1e9)


class Expect:
    def __init__(self):
        self.v = {}
        self.gaps = []         # tcp_monitor_packet_loss_gap_bytes observations
        self.fills_ns = []     # tcp_monitor_hole_fill_seconds observations, ns
        self.decode = None     # {reason: n}: when set, every reason is listed
        self.evicted = None    # {reason: n}: when set, every reason is listed
        self.tunneled = None   # {encap: n}: when set, every kind is listed
        self.fragments = None  # {outcome: n}: when set, every outcome (and ignored) listed
        self.fragments_ignored = None  # {reason: n}: with fragments

    def __setitem__(self, k, v):
        assert k in METRIC, k
        self.v[k] = v

    def __getitem__(self, k):
        return self.v.get(k, 0)

    def lines(self):
        for k in REQUIRED:
            assert k in self.v, "case must set %s" % k
        assert len(self.gaps) == self["missing"], "one gap observation per missing event"
        out = []
        for k in ALWAYS:
            out.append("%s %d" % (METRIC[k], self.v.get(k, 0)))
        if "current_window" in self.v:
            out.append("%s %d" % (METRIC["current_window"], self.v["current_window"]))
        if self.decode is not None:
            assert set(self.decode) <= set(DECODE_REASONS)
            for r in DECODE_REASONS:
                out.append('tcp_monitor_decode_errors_total{reason="%s"} %d'
                           % (r, self.decode.get(r, 0)))
        if self.evicted is not None:
            assert set(self.evicted) <= set(EVICT_REASONS)
            for r in EVICT_REASONS:
                out.append('tcp_monitor_flows_evicted_total{reason="%s"} %d'
                           % (r, self.evicted.get(r, 0)))
        if self.tunneled is not None:
            assert set(self.tunneled) <= set(ENCAP_KINDS)
            for r in ENCAP_KINDS:
                out.append('tcp_monitor_tunneled_packets_total{encap="%s"} %d'
                           % (r, self.tunneled.get(r, 0)))
        if self.fragments is not None:
            ign = self.fragments_ignored or {}
            assert set(self.fragments) <= set(FRAG_OUTCOMES) and set(ign) <= set(FRAG_IGNORED)
            for r in FRAG_OUTCOMES:
                out.append('tcp_monitor_fragments_total{outcome="%s"} %d'
                           % (r, self.fragments.get(r, 0)))
            for r in FRAG_IGNORED:
                out.append('tcp_monitor_fragments_ignored_total{reason="%s"} %d' % (r, ign.get(r, 0)))
        name = "tcp_monitor_packet_loss_gap_bytes"
        if self.gaps:
            for b in GAP_BOUNDS:
                out.append('%s_bucket{le="%s"} %d'
                           % (name, prom_float(b), sum(g <= b for g in self.gaps)))
            out.append('%s_bucket{le="+Inf"} %d' % (name, len(self.gaps)))
            out.append("%s_sum %s" % (name, prom_float(sum(self.gaps))))
        out.append("%s_count %d" % (name, len(self.gaps)))
        name = "tcp_monitor_hole_fill_seconds"
        if self.fills_ns:
            for b in FILL_BOUNDS_NS:
                out.append('%s_bucket{le="%s"} %d'
                           % (name, fill_le(b), sum(f <= b for f in self.fills_ns)))
            out.append('%s_bucket{le="+Inf"} %d' % (name, len(self.fills_ns)))
            out.append("%s_sum %s" % (name, prom_float(sum(self.fills_ns) / 1e9)))
        out.append("%s_count %d" % (name, len(self.fills_ns)))
        return out


# ---------------------------------------------------------------------------
# Cases. Each registers a capture and one or more tests (name, flags, Expect).
# `wireshark` states how Wireshark's analysis of the capture relates to the
# counters (semantics.md section 4): None means the two equalities hold
# (missing == #lost_segment; out_of_order + duplicate == #retransmission or
# out_of_order); otherwise it explains the documented exception.

CASES = []
ALL = ["--scope", "all"]


def case(fn):
    CASES.append(fn)
    return fn


class Case:
    def __init__(self, name, cap, doc, wireshark=None):
        self.name, self.cap, self.doc, self.wireshark = name, cap, doc, wireshark
        self.tests = []

    def test(self, x, flags=ALL, name=None):
        self.tests.append((name or self.name, list(flags), x))
        return x

    def ext(self):
        return ".pcapng" if self.cap.fmt == "pcapng" else ".pcap"


C4, S4 = "192.0.2.10", "198.51.100.20"
C6, S6 = "2001:db8::10", "2001:db8:1::20"
ETH = Link("eth")


# --- clean connections -----------------------------------------------------


@case
def handshake_close():
    cap = Capture()
    k = Case("handshake_close", cap, "handshake, data both ways, FIN close: nothing to count")
    Flow(cap, ETH, C4, S4).mini(ms(0))
    x = k.test(Expect())
    x["packets"] = 10          # 1: ten frames
    x["tcp_packets"] = 10      # 1: all decode to TCP
    x["global_tcp_packets"] = 0  # 2: 192.0.2.0/24 and 198.51.100.0/24 are documentation ranges
    x["conn_opened"] = 1       # 3: first packet of the flow
    x["conn_closed"] = 1       # 3: both directions sent a FIN
    x["active"] = 0            # 3: the only flow is closed
    x["current_window"] = MINI_LAST_WINDOW  # 5: last packet C ACK raw 502, shift 7
    x.decode = {}              # 1: no decode errors of any reason
    x.evicted = {}             # 3: nothing expired or evicted
    return k


@case
def ipv6_close():
    cap = Capture()
    k = Case("ipv6_close", cap, "the clean connection over IPv6")
    Flow(cap, ETH, C6, S6).mini(ms(0))
    x = k.test(Expect())
    x["packets"] = 10          # 1
    x["tcp_packets"] = 10      # 1
    x["global_tcp_packets"] = 0  # 2: 2001:db8::/32 is not global
    x["conn_opened"] = 1       # 3
    x["conn_closed"] = 1       # 3: FIN both ways
    x["active"] = 0            # 3
    x["current_window"] = MINI_LAST_WINDOW  # 5
    return k


# --- 4.2 missing -----------------------------------------------------------


@case
def missing_data():
    cap = Capture()
    k = Case("missing_data", cap, "one data segment not in the capture, never ACKed past")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)        # [1,1001) in order
    # [1001,2001) is not in the capture
    f.c(ms(12), 2001, 1, "A", 1000)     # 4.2: seq 2001 after next 1001: missing, gap 1000
    f.s(ms(13), 1, 1001, "A")           # 4.5: ack 1001 < hole end 2001: hole stays
    f.c(ms(14), 3001, 1, "PA", 1000)    # 4.3: in order
    f.s(ms(15), 1, 1001, "A")           # duplicate ack: in order pure ACK, no event
    x = k.test(Expect())
    x["packets"] = 8                    # 1
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["missing"] = 1                    # 4.2
    x.gaps = [1000]                     # 4.2: gap 2001 - 1001
    x["conn_opened"] = 1
    x["conn_closed"] = 0                # 3: no FIN, no RST
    x["active"] = 1
    x["current_window"] = 509 << 7      # 5: last packet S raw 509, shift 7
    return k


@case
def missing_pure_ack():
    cap = Capture()
    k = Case("missing_pure_ack", cap, "a pure ACK whose sequence number jumps: missing")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "PA", 100)        # [1,101)
    f.s(ms(11), 1, 101, "A")
    # C's [101,201) is not in the capture
    f.c(ms(20), 201, 1, "A")            # 4.2: pure ACK, seq 201 after next 101: missing, gap 100
    f.s(ms(21), 1, 101, "PA", 50)       # 4.5: ack 101 < hole end 201: no capture gap
    f.c(ms(22), 201, 51, "A")           # 4.3: in order
    x = k.test(Expect())
    x["packets"] = 8
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["missing"] = 1                    # 4.2: pure ACKs count too
    x.gaps = [100]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 502 << 7      # 5: last packet C
    return k


# --- 4.4 out of order ------------------------------------------------------


@case
def ooo_fill():
    cap = Capture()
    k = Case("ooo_fill", cap, "a hole filled by one retransmission 3 ms after it opened")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)
    f.c(ms(20), 2001, 1, "A", 1000)     # 4.2: missing, hole [1001,2001) opened at 20 ms
    f.c(ms(23), 1001, 1, "A", 1000)     # 4.4: fills the hole: out of order, 3 ms
    f.s(ms(24), 1, 3001, "A")           # 4.5: no hole left to close
    x = k.test(Expect())
    x["packets"] = 7
    x["tcp_packets"] = 7
    x["global_tcp_packets"] = 0
    x["missing"] = 1
    x.gaps = [1000]
    x["out_of_order"] = 1               # 4.4
    x.fills_ns = [3_000_000]            # 4.4: now - opened = 23 ms - 20 ms
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


@case
def ooo_split():
    cap = Capture()
    k = Case("ooo_split", cap, "a fill in the middle of a hole splits it in two")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)
    # [1001,4001) not captured (three segments)
    f.c(ms(20), 4001, 1, "A", 1000)     # 4.2: missing, gap 3000, hole [1001,4001) at 20 ms
    f.c(ms(30), 2001, 1, "A", 1000)     # 4.4: fills the middle: holes [1001,2001) [3001,4001)
    f.c(ms(35), 1001, 1, "A", 1000)     # 4.4: fills the left piece (opened at 20 ms): 15 ms
    f.s(ms(40), 1, 5001, "A")           # 4.5: closes the right piece [3001,4001): capture gap
    x = k.test(Expect())
    x["packets"] = 8
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["missing"] = 1
    x.gaps = [3000]
    x["out_of_order"] = 2
    x.fills_ns = [10_000_000, 15_000_000]  # 4.4: 30-20 ms; the split piece keeps its opening time
    x["capture_gap"] = 1                # 4.5: hole [3001,4001) end <= ack 5001
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


@case
def ooo_two_holes():
    cap = Capture()
    k = Case("ooo_two_holes", cap, "one retransmission covering two holes")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)
    f.c(ms(20), 2001, 1, "A", 1000)     # 4.2: hole [1001,2001) at 20 ms
    f.c(ms(30), 4001, 1, "A", 1000)     # 4.2: hole [3001,4001) at 30 ms
    f.c(ms(40), 1001, 1, "A", 3000)     # 4.4: [1001,4001) touches both holes: one event,
    #                                          two fill observations (20 ms and 10 ms)
    f.s(ms(41), 1, 5001, "A")           # 4.5: no hole left
    x = k.test(Expect())
    x["packets"] = 8
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["missing"] = 2
    x.gaps = [1000, 1000]
    x["out_of_order"] = 1
    x.fills_ns = [20_000_000, 10_000_000]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


# --- 4.4 duplicate ---------------------------------------------------------


@case
def duplicate():
    cap = Capture()
    k = Case("duplicate", cap, "a plain retransmission, and an old pure ACK")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "PA", 1000)
    f.s(ms(11), 1, 1001, "A")
    f.c(ms(200), 1, 1, "PA", 1000)      # 4.4: before next, no hole: duplicate
    f.c(ms(210), 1001, 1, "PA", 1000)   # 4.3: in order
    f.s(ms(211), 1, 2001, "A")
    f.c(ms(220), 1, 1, "A")             # 4.4: pure ACK before next: old_ack, no event
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["duplicate"] = 1
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 502 << 7
    return k


@case
def syn_retransmit():
    cap = Capture()
    k = Case("syn_retransmit", cap, "the SYN sent twice with the same ISN")
    f = Flow(cap, ETH, C4, S4)
    f.c(ms(0), 0, 0, "S", win=64240, opts=syn_opts(7))
    f.c(ms(1000), 0, 0, "S", win=64240, opts=syn_opts(7))  # 4.4: duplicate; 3: same ISN, no reuse
    f.s(ms(1001), 0, 1, "SA", win=65160, opts=syn_opts(7))
    f.c(ms(1002), 1, 1, "A")
    f.c(ms(1003), 1, 1, "PA", 100)
    f.s(ms(1004), 1, 101, "A")
    x = k.test(Expect())
    x["packets"] = 6
    x["tcp_packets"] = 6
    x["global_tcp_packets"] = 0
    x["duplicate"] = 1                  # 4.4: a retransmitted SYN is a duplicate
    x["conn_opened"] = 1                # 3: the second SYN has the same number
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


@case
def fin_retransmit():
    cap = Capture()
    k = Case("fin_retransmit", cap, "the client's FIN sent twice")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")
    f.c(ms(20), 101, 1, "FA")           # 4.3: FIN in order, next = 102
    f.c(ms(220), 101, 1, "FA")          # 4.4: FIN again, before next: duplicate
    f.s(ms(221), 1, 102, "FA")          # 3: second direction's FIN closes
    f.c(ms(222), 102, 2, "A")
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["duplicate"] = 1
    x["conn_opened"] = 1
    x["conn_closed"] = 1
    x["active"] = 0
    x["current_window"] = 502 << 7
    return k


@case
def repacketized():
    cap = Capture()
    k = Case("repacketized", cap, "a retransmission carrying old and new bytes")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 500)
    f.c(ms(11), 501, 1, "A", 500)
    f.s(ms(12), 1, 501, "A")
    f.c(ms(210), 501, 1, "A", 1000)     # 4.4: [501,1501) starts before next 1001, no hole:
    #                                          duplicate; its new bytes move next to 1501
    f.c(ms(211), 1501, 1, "A", 500)     # 4.3: in order, no missing event
    f.s(ms(212), 1, 2001, "A")
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["duplicate"] = 1
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


@case
def keepalive():
    cap = Capture()
    k = Case("keepalive", cap, "keep-alives with 0 and 1 byte of payload")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")
    f.c(sec(10), 100, 1, "A")           # 4.4: seq = next - 1, no payload: keep-alive
    f.s(sec(10) + ms(1) - T0, 1, 101, "A")
    f.c(sec(20), 100, 1, "A", 1)        # 4.4: seq = next - 1, one byte: keep-alive
    f.s(sec(20) + ms(1) - T0, 1, 101, "A")
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["keepalive"] = 2
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


# --- 5 window ----------------------------------------------------------------


@case
def zero_window():
    cap = Capture()
    k = Case("zero_window", cap,
             "zero window, a zero-window probe, window update, FIN with window 0")
    f = Flow(cap, ETH, C4, S4, cwin=8000)
    # No window-scale option on either SYN: both seen, so shift 0 (5).
    f.c(ms(0), 0, 0, "S", win=8000, opts=syn_opts(None))
    f.s(ms(1), 0, 1, "SA", win=2000, opts=syn_opts(None))
    f.c(ms(2), 1, 1, "A")
    f.c(ms(10), 1, 1, "PA", 1000)
    f.s(ms(11), 1, 1001, "A", win=1000)  # S's first analyzed packet: edge 2001
    f.c(ms(12), 1001, 1, "PA", 1000)
    f.s(ms(13), 1, 2001, "A", win=0)     # 5: zero window; shrink 1000 -> 0; edge stays 2001
    f.c(ms(500), 2001, 1, "PA", 1)       # 4.3: one byte at next while S's window is 0: probe,
    #                                          next stays 2001
    f.s(ms(501), 1, 2001, "A", win=0)    # 5: zero window again (0 -> 0 is no shrink)
    f.s(ms(900), 1, 2001, "A", win=1000)  # window update: no event
    f.c(ms(901), 2001, 1, "PA", 1000)    # 4.3: seq == next (the probe byte was not taken)
    f.s(ms(902), 1, 3001, "A", win=1000)
    f.s(ms(903), 1, 3001, "FA", win=0)   # 5: shrink 1000 -> 0; FIN: no zero window, no retreat
    f.c(ms(904), 3001, 2, "FA")          # 3: both FINs: closed
    f.s(ms(905), 2, 3002, "A", win=1000)  # edge 4002 > 3001 (the FIN's): no event
    x = k.test(Expect())
    x["packets"] = 15
    x["tcp_packets"] = 15
    x["global_tcp_packets"] = 0
    x["zero_window"] = 2                 # 5: the two ACKs with window 0 (not the FIN)
    x["zero_window_probe"] = 1           # 4.3
    x["window_shrink"] = 2               # 5: 1000 -> 0 twice
    x["conn_opened"] = 1
    x["conn_closed"] = 1
    x["active"] = 0
    x["current_window"] = 1000           # 5: last packet raw 1000, shift 0
    return k


@case
def window_shrink():
    cap = Capture()
    k = Case("window_shrink", cap, "the window shrinks while its right edge moves right")
    f = Flow(cap, ETH, C4, S4, cwin=1000)
    f.handshake(ms(0), ws_c=2, ws_s=2)   # 5: shift 2 both ways
    f.c(ms(10), 1, 1, "A", 1000)
    f.s(ms(11), 1, 1001, "A", win=1000)  # win 4000, edge 5001
    f.c(ms(12), 1001, 1, "A", 1000)
    f.s(ms(13), 1, 2001, "A", win=800)   # 5: win 3200 < 4000: shrink; edge 5201: no retreat
    f.c(ms(14), 2001, 1, "A", 1000)
    f.s(ms(15), 1, 3001, "A", win=800)   # edge 6201
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["window_shrink"] = 1
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 800 << 2
    return k


@case
def right_edge_retreat():
    cap = Capture()
    k = Case("right_edge_retreat", cap,
             "ack + window moves left: by one scale unit, by less, and on a FIN")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0), ws_c=3, ws_s=3)   # 5: shift 3, unit 8 bytes
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A", win=1000)   # win 8000, edge 8101
    f.s(ms(12), 1, 101, "A", win=999)    # 5: edge 8093, left by 8 >= 8: retreat; shrink
    f.c(ms(13), 101, 1, "PA", 5)
    f.s(ms(14), 1, 106, "A", win=998)    # 5: edge 8090, left by 3 < 8: no retreat; shrink
    f.s(ms(15), 1, 106, "FA", win=990)   # 5: edge 8026, but a FIN: no retreat; shrink
    f.c(ms(16), 106, 2, "FA")            # 3: both FINs: closed
    f.s(ms(17), 2, 107, "A", win=990)    # 5: edge 8027 > the FIN's 8026: no event
    x = k.test(Expect())
    x["packets"] = 11
    x["tcp_packets"] = 11
    x["global_tcp_packets"] = 0
    x["window_shrink"] = 3               # 5: 1000 -> 999 -> 998 -> 990
    x["right_edge_retreat"] = 1          # 5
    x["conn_opened"] = 1
    x["conn_closed"] = 1
    x["active"] = 0
    x["current_window"] = 990 << 3
    return k


@case
def scale_known():
    cap = Capture()
    k = Case("scale_known", cap, "wscale 2 and 7: each direction uses its own SYN's shift")
    f = Flow(cap, ETH, C4, S4, cwin=1000, swin=500)
    f.handshake(ms(0), ws_c=2, ws_s=7)
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")             # 500 << 7
    f.c(ms(12), 101, 1, "PA", 100)       # 1000 << 2
    x = k.test(Expect())
    x["packets"] = 6
    x["tcp_packets"] = 6
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 0               # 5: both SYNs seen
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 1000 << 2      # 5: C's own shift 2, not S's 7
    return k


@case
def scale_absent():
    cap = Capture()
    k = Case("scale_absent", cap, "only the client offers wscale: shift 0 both ways")
    f = Flow(cap, ETH, C4, S4, cwin=1000, swin=2000)
    f.c(ms(0), 0, 0, "S", win=64240, opts=syn_opts(7))
    f.s(ms(1), 0, 1, "SA", win=65160, opts=syn_opts(None))
    f.c(ms(2), 1, 1, "A")
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")
    f.c(ms(12), 101, 1, "PA", 100)
    x = k.test(Expect())
    x["packets"] = 6
    x["tcp_packets"] = 6
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 0               # 5: both SYNs seen (one without the option)
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 1000           # 5: shift 0, not 7
    return k


@case
def scale_unknown():
    cap = Capture()
    k = Case("scale_unknown", cap,
             "no handshake: one flow picked up mid-stream, one starting at the SYN-ACK")
    a = Flow(cap, ETH, C4, S4, cport=40001, cwin=1000, swin=2000)
    a.c(ms(0), 1, 1, "PA", 100)          # 3: first packet opens the flow; 4.1 first
    a.s(ms(1), 1, 101, "A")
    a.c(ms(2), 101, 1, "PA", 100)
    a.s(ms(3), 1, 201, "A")              # 5: 4 window-analyzed packets, scale unknown
    b = Flow(cap, ETH, C4, S4, cport=40002, cwin=1000, swin=2000)
    b.s(ms(10), 0, 1, "SA", win=65160, opts=syn_opts(7))  # not analyzed for window (SYN)
    b.c(ms(11), 1, 1, "A")
    b.c(ms(12), 1, 1, "PA", 100)
    b.s(ms(13), 1, 101, "A")             # 5: 3 more, only one SYN seen: unknown
    x = k.test(Expect())
    x["packets"] = 8
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 7
    x["conn_opened"] = 2
    x["conn_closed"] = 0
    x["active"] = 2
    x["current_window"] = 2000           # 5: raw window used
    return k


@case
def wscale_cap():
    cap = Capture()
    k = Case("wscale_cap", cap, "wscale 15 on both SYNs is used as 14")
    f = Flow(cap, ETH, C4, S4, cwin=3, swin=4)
    f.handshake(ms(0), ws_c=15, ws_s=15)
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")
    f.c(ms(12), 101, 1, "PA", 100)
    x = k.test(Expect())
    x["packets"] = 6
    x["tcp_packets"] = 6
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 3 << 14        # 5: capped at 14 (RFC 7323 2.3), not 3 << 15
    return k


# --- 4.5 capture gap ---------------------------------------------------------


@case
def capture_gap():
    cap = Capture()
    k = Case("capture_gap", cap, "holes the receiver ACKs: past the end, to the end, partly")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)
    f.c(ms(11), 2001, 1, "A", 1000)      # 4.2: hole [1001,2001)
    f.s(ms(12), 1, 3001, "A")            # 4.5: hole end 2001 <= 3001: capture gap
    f.c(ms(13), 4001, 1, "A", 1000)      # 4.2: hole [3001,4001)
    f.s(ms(14), 1, 4001, "A")            # 4.5: hole end 4001 <= ack 4001: capture gap
    f.c(ms(15), 6001, 1, "A", 1000)      # 4.2: hole [5001,6001) at 15 ms
    f.s(ms(16), 1, 5501, "A")            # 4.5: end 6001 > ack 5501: the hole stays
    f.c(ms(17), 5001, 1, "A", 1000)      # 4.4: overlaps the open hole: out of order, 2 ms
    f.s(ms(18), 1, 7001, "A")            # 4.5: nothing left
    x = k.test(Expect())
    x["packets"] = 12
    x["tcp_packets"] = 12
    x["global_tcp_packets"] = 0
    x["missing"] = 3
    x.gaps = [1000, 1000, 1000]
    x["capture_gap"] = 2
    x["out_of_order"] = 1
    x.fills_ns = [2_000_000]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


# --- 4 serial arithmetic -------------------------------------------------------


@case
def seq_wrap():
    cap = Capture()
    k = Case("seq_wrap", cap, "sequence numbers wrap through 2^32 in data, in a hole and in acks")
    # C's ISN 2^32 - 1500: [1001,2001) spans the wrap. S's ISN 2^32 - 50: its
    # 200 bytes [1,201) span it too, so C's ack wraps, and S's acks wrap.
    f = Flow(cap, ETH, C4, S4, isn_c=(1 << 32) - 1500, isn_s=(1 << 32) - 50)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)
    # [1001,2001) = [4294966797, 501) is not in the capture
    f.c(ms(20), 2001, 1, "A", 1000)      # 4.2: missing, gap 1000, the hole spans the wrap
    f.c(ms(25), 1001, 1, "A", 1000)      # 4.4: fills it: out of order, 5 ms
    f.c(ms(30), 3001, 1, "A", 1000)      # 4.3: in order
    f.s(ms(31), 1, 4001, "A")            # S's ack wrapped (abs 2501): edge moves right
    f.s(ms(32), 1, 4001, "PA", 200)      # [1,201) spans S's wrap: in order
    f.c(ms(33), 4001, 201, "A")          # C's ack wrapped (abs 150): edge moves right
    x = k.test(Expect())
    x["packets"] = 10
    x["tcp_packets"] = 10
    x["global_tcp_packets"] = 0
    x["missing"] = 1
    x.gaps = [1000]
    x["out_of_order"] = 1
    x.fills_ns = [5_000_000]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 502 << 7
    return k


# --- 3 flows -------------------------------------------------------------------


@case
def port_reuse():
    cap = Capture()
    k = Case("port_reuse", cap, "new SYNs with another ISN on a closed and on an open 4-tuple")
    a1 = Flow(cap, ETH, C4, S4, cport=40001, isn_c=1000, isn_s=5000)
    a1.mini(ms(0))                       # 3: opened, closed by the FINs
    a2 = Flow(cap, ETH, C4, S4, cport=40001, isn_c=900000, isn_s=7000000)
    a2.handshake(ms(1000))               # 3: SYN with another ISN: a new connection
    a2.c(ms(1003), 1, 1, "PA", 100)
    a2.s(ms(1004), 1, 101, "A")
    a2.c(ms(1005), 101, 1, "RA", win=0)  # 3: RST closes it
    b1 = Flow(cap, ETH, C4, S4, cport=40002, isn_c=2000, isn_s=6000)
    b1.handshake(ms(2000))
    b1.c(ms(2003), 1, 1, "PA", 100)
    b1.s(ms(2004), 1, 101, "A")          # left open
    b2 = Flow(cap, ETH, C4, S4, cport=40002, isn_c=3000000, isn_s=8000000)
    b2.handshake(ms(3000))               # 3: reuse of an open flow: old closed, new opened
    x = k.test(Expect())
    x["packets"] = 24                    # 10 + 6 + 5 + 3
    x["tcp_packets"] = 24
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 4                 # a1, a2, b1, b2
    x["conn_closed"] = 3                 # a1 (FINs), a2 (RST), b1 (reused)
    x["active"] = 1                      # b2
    x["current_window"] = 502 << 7       # b2's ACK, shift 7
    return k


@case
def reuse_midstream():
    cap = Capture()
    k = Case("reuse_midstream", cap,
             "a SYN on a side seen without one starts a connection; on an unseen side not")
    a = Flow(cap, ETH, C4, S4, cport=40001, isn_c=1000, isn_s=5000)
    a.c(ms(0), 1, 1, "PA", 100)          # 3: opens a (mid-stream); 5: scale unknown
    a.s(ms(1), 1, 101, "A")              # 5: scale unknown
    a2 = Flow(cap, ETH, C4, S4, cport=40001, isn_c=500000, isn_s=900000)
    a2.handshake(ms(10))                 # 3: C was seen without a SYN: a new connection;
    #                                          a (open) counts as closed
    b = Flow(cap, ETH, C4, S4, cport=40002, isn_c=2000, isn_s=6000)
    b.s(ms(20), 0, 1, "SA", win=65160, opts=syn_opts(7))  # 3: opens b (S is endpoint 0)
    b.c(ms(21), 0, 0, "S", win=64240, opts=syn_opts(7))   # 3: C not seen before: no new
    #                                          connection; 4.1: first of C's direction
    b.s(ms(22), 0, 1, "SA", win=65160, opts=syn_opts(7))  # 4.4: SYN-ACK again: duplicate
    b.c(ms(23), 1, 1, "A")               # 5: both SYNs seen now: shift 7
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["duplicate"] = 1
    x["scale_unknown"] = 2               # a's two packets
    x["conn_opened"] = 3                 # a, a2, b
    x["conn_closed"] = 1                 # a, replaced by a2
    x["active"] = 2                      # a2, b
    x["current_window"] = 502 << 7       # b's ACK
    return k


@case
def syn_data():
    cap = Capture()
    k = Case("syn_data", cap, "a SYN carrying 10 bytes (TCP Fast Open): len = payload + 1")
    f = Flow(cap, ETH, C4, S4)
    f.c(ms(0), 0, 0, "S", 10, win=64240, opts=syn_opts(7))  # 4: end = ISN + 11
    f.s(ms(1), 0, 11, "SA", win=65160, opts=syn_opts(7))
    f.c(ms(2), 11, 1, "PA", 100)         # 4.3: seq == next (ISN + 11): in order
    f.s(ms(3), 1, 111, "A")
    x = k.test(Expect())
    x["packets"] = 4
    x["tcp_packets"] = 4
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


@case
def synack_no_reuse():
    cap = Capture()
    k = Case("synack_no_reuse", cap,
             "SYN-ACKs repeated, one with another ISN: neither starts a connection",
             # Wireshark notes "port numbers reused" on the second SYN-ACK but keeps
             # the stream and flags both as retransmissions: it agrees.
             )
    f = Flow(cap, ETH, C4, S4, isn_c=1000, isn_s=5000)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")
    f.s(ms(500), 0, 1, "SA", win=65160, opts=syn_opts(7))  # 4.4: same SYN-ACK again: duplicate
    f.s(ms(600), -1000, 1, "SA", win=65160, opts=syn_opts(7))  # 3: another ISN, still no new
    #   connection; 4.4: seq before next, len 1, no hole: duplicate
    x = k.test(Expect())
    x["packets"] = 7
    x["tcp_packets"] = 7
    x["global_tcp_packets"] = 0
    x["duplicate"] = 2
    x["conn_opened"] = 1                 # 3: a SYN-ACK never starts a connection
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7       # 5: SYN-ACKs are not window-analyzed
    return k


@case
def rst_close():
    cap = Capture()
    k = Case("rst_close", cap, "an RST with an odd sequence number closes; late packets after it")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "PA", 100)
    f.s(ms(11), 1, 101, "A")
    f.s(ms(12), 5001, 101, "RA", win=0)  # 3: closes; 4: RST takes no part (no missing);
    #                                          5: not window-analyzed (no zero window)
    f.c(ms(1000), 101, 1, "PA", 100)     # late: the closed flow absorbs it (3), in order
    f.c(ms(1001), 201, 0, "R", win=0)    # 3: already closed: not closed twice
    x = k.test(Expect())
    x["packets"] = 8
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1
    x["conn_closed"] = 1
    x["active"] = 0
    x["current_window"] = 502 << 7       # 5: the late data packet; RSTs are not analyzed
    return k


@case
def closed_linger():
    cap = Capture()
    k = Case("closed_linger", cap, "a closed flow absorbs a late ACK, then leaves after 60 s")
    f = Flow(cap, ETH, C4, S4)
    f.mini(ms(0))
    f.c(sec(50), 102, 202, "A")          # 3: within 60 s of closing: same flow, no new one
    f.c(sec(120), 102, 202, "A")          # 3: the flow left quietly: a new flow opens; 5: its
    #                                          handshake was not seen, scale unknown
    x = k.test(Expect())
    x["packets"] = 12
    x["tcp_packets"] = 12
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 1
    x["conn_opened"] = 2
    x["conn_closed"] = 1
    x["active"] = 1
    x["current_window"] = 502            # 5: raw window, the new flow's scale is unknown
    x.evicted = {}                       # 3: a closed flow leaving is not an eviction
    return k


@case
def idle_expiry():
    cap = Capture()
    k = Case("idle_expiry", cap, "an open flow silent for 400 s of capture time expires")
    a = Flow(cap, ETH, C4, S4, cport=40001)
    a.handshake(ms(0))
    a.c(ms(3), 1, 1, "PA", 100)
    a.s(ms(4), 1, 101, "A")
    b = Flow(cap, ETH, C4, S4, cport=40002)
    b.handshake(sec(400))                # 3: a idle > 300 s: evicted (idle)
    a.c(sec(401), 101, 1, "PA", 100)     # 3: a's tuple again: a new flow; 5: scale unknown
    x = k.test(Expect())
    x["packets"] = 9
    x["tcp_packets"] = 9
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 1
    x["conn_opened"] = 3                 # a, b, a again
    x["conn_closed"] = 0                 # 3: expiry is not a close
    x["active"] = 2                      # b and the new a
    x["current_window"] = 502
    x.evicted = {"idle": 1}
    return k


@case
def max_flows():
    cap = Capture()
    k = Case("max_flows", cap, "--max-flows 2: a closed flow is replaced, then open ones evicted")
    f1 = Flow(cap, ETH, C4, S4, cport=40001)
    f1.mini(ms(0))                       # closed (3)
    f2 = Flow(cap, ETH, C4, S4, cport=40002)
    f2.handshake(ms(100))                # open; the table is full (2)
    f3 = Flow(cap, ETH, C4, S4, cport=40003)
    f3.c(ms(200), 0, 0, "S", win=64240, opts=syn_opts(7))  # 3: takes f1's place (closed): quiet
    f4 = Flow(cap, ETH, C4, S4, cport=40004)
    f4.c(ms(300), 0, 0, "S", win=64240, opts=syn_opts(7))  # 3: evicts f2, least recent open
    f2.c(ms(400), 1, 1, "PA", 100)       # 3: f2 again: a new flow, evicts f3; 5: scale unknown
    x = k.test(Expect(), flags=ALL + ["--max-flows", "2"])
    x["packets"] = 16
    x["tcp_packets"] = 16
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 1
    x["conn_opened"] = 5                 # f1, f2, f3, f4, f2 again
    x["conn_closed"] = 1                 # f1
    x["active"] = 2                      # f4 and the new f2
    x["current_window"] = 502
    x.evicted = {"max_flows": 2}         # f2 and f3; f1 was closed
    return k


# --- 4.6 hole cap --------------------------------------------------------------


@case
def hole_cap():
    cap = Capture()
    k = Case("hole_cap", cap, "34 holes in one direction: the cap of 32 forgets the two lowest")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    # Seen: [1+200j, 101+200j) for j = 0..34 at 10+j ms; missing in between: hole j
    # (j = 1..34) = [200j-99, 200j+1), opened at 10+j ms.
    for j in range(35):
        f.c(ms(10 + j), 1 + 200 * j, 1, "A", 100)   # 4.2: j >= 1: missing, gap 100
    f.c(ms(100), 101, 1, "A", 100)       # hole 1 was forgotten (4.6): duplicate (4.4)
    f.c(ms(101), 501, 1, "A", 100)       # hole 3 is open: out of order, 101 - 13 = 88 ms
    f.s(ms(102), 1, 6901, "A")           # 4.5: closes the 31 holes left
    x = k.test(Expect())
    x["packets"] = 3 + 35 + 3
    x["tcp_packets"] = 41
    x["global_tcp_packets"] = 0
    x["missing"] = 34
    x.gaps = [100] * 34
    x["holes_forgotten"] = 2             # 4.6: holes 1 and 2
    x["duplicate"] = 1
    x["out_of_order"] = 1
    x.fills_ns = [88_000_000]
    x["capture_gap"] = 31                # 34 - 2 forgotten - 1 filled
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    # The same capture with --max-holes 4: holes 31..34 are kept.
    y = k.test(Expect(), flags=ALL + ["--max-holes", "4"], name="hole_cap_4")
    y["packets"] = 41
    y["tcp_packets"] = 41
    y["global_tcp_packets"] = 0
    y["missing"] = 34
    y.gaps = [100] * 34
    y["holes_forgotten"] = 30            # 4.6: holes 1..30
    y["duplicate"] = 2                   # 4.4: holes 1 and 3 were forgotten
    y["capture_gap"] = 4                 # 4.5: holes 31..34
    y["conn_opened"] = 1
    y["conn_closed"] = 0
    y["active"] = 1
    y["current_window"] = 509 << 7
    return k


# --- 1 link types ----------------------------------------------------------------


def link_case(name, link, families=(4, 6), nsec=False, doc=None, wireshark=None, pairs=None):
    cap = Capture(linktype=(link or pairs[0][0]).linktype, nsec=nsec)
    k = Case(name, cap, doc or "the clean connection over %s" % name, wireshark)
    if pairs is None:
        pairs = [(link, C4, S4) if fam == 4 else (link, C6, S6) for fam in families]
    for i, (lk, c, s) in enumerate(pairs):
        Flow(cap, lk, c, s, cport=40000 + i).mini(ms(100 * i))
    n = len(pairs)
    x = k.test(Expect())
    x["packets"] = MINI_PACKETS * n      # 1
    x["tcp_packets"] = MINI_PACKETS * n  # 1: every frame decodes
    x["global_tcp_packets"] = 0          # 2: documentation addresses
    x["conn_opened"] = n                 # 3
    x["conn_closed"] = n                 # 3: FIN both ways
    x["active"] = 0
    x["current_window"] = MINI_LAST_WINDOW
    x.decode = {}                        # 1: nothing fails to decode
    return k


@case
def link_vlan():
    return link_case("link_vlan", Link("eth", tags=[(ET_VLAN, 100)]))


@case
def link_qinq():
    return link_case("link_qinq", None, pairs=[
        (Link("eth", tags=[(ET_QINQ, 200), (ET_VLAN, 100)]), C4, S4),
        (Link("eth", tags=[(ET_QINQ, 200), (ET_VLAN, 100)]), C6, S6),
        # three tags: 1 says any number is walked
        (Link("eth", tags=[(ET_QINQ, 200), (ET_VLAN, 100), (ET_VLAN, 7)]), C4, S4),
    ], doc="802.1ad + 802.1Q, and three tags")


@case
def link_pppoe():
    return link_case("link_pppoe", Link("pppoe"))


@case
def link_sll():
    return link_case("link_sll", Link("sll"))


@case
def link_sll2():
    return link_case("link_sll2", Link("sll2"))


@case
def link_raw():
    return link_case("link_raw", Link("raw"), doc="LINKTYPE_RAW (101): version from the nibble")


@case
def link_raw12():
    return link_case("link_raw12", Link("raw12"), doc="DLT_RAW as linktype 12")


@case
def link_raw14():
    return link_case("link_raw14", Link("raw14"), doc="DLT_RAW (OpenBSD) as linktype 14")


@case
def link_ipv4():
    return link_case("link_ipv4", Link("ipv4"), families=(4,))


@case
def link_ipv6():
    return link_case("link_ipv6", Link("ipv6"), families=(6,))


@case
def link_null():
    return link_case("link_null", None, pairs=[
        (Link("null"), C4, S4),                        # AF_INET 2, little-endian
        (Link("null", null_big=True), C4, S4),         # AF_INET 2, big-endian
        (Link("null", null_af6=24), C6, S6),           # AF_INET6 NetBSD/OpenBSD
        (Link("null", null_af6=28), C6, S6),           # AF_INET6 FreeBSD
        (Link("null", null_af6=30), C6, S6),           # AF_INET6 macOS
        (Link("null", null_af6=30, null_big=True), C6, S6),
    ], doc="BSD loopback, family in either byte order, the three AF_INET6 values")


@case
def link_loop():
    return link_case("link_loop", Link("loop"), doc="OpenBSD loopback, family in network order")


@case
def link_ppp():
    return link_case("link_ppp", None, pairs=[
        (Link("ppp"), C4, S4),                  # FF 03 + 2-byte protocol
        (Link("ppp"), C6, S6),
        (Link("ppp", pfc=True), C4, S4),        # RFC 1661 6.5: 1-byte protocol 0x21
    ], doc="LINKTYPE_PPP (9): with the RFC 1662 address/control and with a compressed protocol")


@case
def link_ppp_hdlc():
    return link_case("link_ppp_hdlc", Link("ppp_hdlc"), doc="LINKTYPE_PPP_HDLC (50), RFC 1662")


@case
def link_chdlc():
    return link_case("link_chdlc", Link("chdlc"), doc="LINKTYPE_C_HDLC (104), RFC 1547 4.3.1")


@case
def link_nflog():
    return link_case("link_nflog", None, pairs=[
        (Link("nflog"), C4, S4),                # TLVs little-endian (an x86 host)
        (Link("nflog"), C6, S6),
        (Link("nflog", big=True), C4, S4),      # ... and big-endian
    ], doc="LINKTYPE_NFLOG (239): the NFULA_PAYLOAD TLV after others, in both byte orders")


@case
def link_ipoib():
    return link_case("link_ipoib", Link("ipoib"), doc="LINKTYPE_IPOIB (242), RFC 4391 6")


@case
def link_ipoib_pseudo():
    return link_case("link_ipoib_pseudo", None, pairs=[
        (Link("ipoib_pseudo"), C4, S4),            # no GRH: zeros, destination address
        (Link("ipoib_pseudo", grh=True), C6, S6),  # a GRH (first byte 0x60)
    ], doc="LINKTYPE_IPOIB (242) with the 40-byte pseudo-header (1), as tcpdump's and "
           "Wireshark's readers expect it, without and with a GRH")


# --- 1 tunnels and labels ------------------------------------------------------------
# Each wrapper puts a clean connection's IP packets inside an encapsulation, header
# fields as the RFC lays them out, outer addresses swapped with the direction (the
# tunnel endpoints answer each other). Every frame decodes to the inner TCP (1); each
# frame counts once in tcp_monitor_tunneled_packets_total for each kind it crosses (6).

T4 = (addr("10.1.0.1"), addr("10.1.0.2"))                 # tunnel endpoints, IPv4
T6 = (addr("2001:db8:ffff::1"), addr("2001:db8:ffff::2"))  # ... IPv6


def ends(v6, to_server, second=False):
    a, b = T6 if v6 else T4
    if second:          # another pair of endpoints: another tunnel
        a, b = (a[:-1] + b"\x07", b[:-1] + b"\x08")
    return (a, b) if to_server else (b, a)


def outer_ip(v6, to_server, proto, payload, second=False):
    src, dst = ends(v6, to_server, second)
    return ipv6(src, dst, proto, payload) if v6 else ipv4(src, dst, proto, payload, df=False)


def gre_hdr(proto, key=None, seq=None, csum=False, payload=b""):
    """RFC 2784 2.1 / RFC 2890 2: C, K, S bits, version 0; the checksum (when C is
    set) covers the GRE header and payload (RFC 2784 2.5)."""
    flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
            (0x1000 if seq is not None else 0)
    def build(c):
        h = struct.pack("!HH", flags, proto)
        if csum:
            h += struct.pack("!HH", c, 0)
        if key is not None:
            h += struct.pack("!I", key)
        if seq is not None:
            h += struct.pack("!I", seq)
        return h
    if csum:
        return build(inet_csum(build(0) + payload)) + payload
    return build(0) + payload


def eth_of(pkt, tags=()):
    return ether(pkt, ET_IP4 if ip_family(pkt) == 4 else ET_IP6, tags)


def outer_eth(pkt):
    return ether(pkt, ET_IP4 if ip_family(pkt) == 4 else ET_IP6)


def w_ipip(v6_outer):
    def wrap(pkt, to_server):
        proto = 4 if ip_family(pkt) == 4 else 41          # RFC 2003, RFC 4213 / RFC 2473
        return outer_eth(outer_ip(v6_outer, to_server, proto, pkt))
    return wrap


def w_6in6in6(pkt, to_server):
    mid = outer_ip(True, to_server, 41, pkt, second=True)
    return outer_eth(outer_ip(True, to_server, 41, mid))


def w_gre(key=None, csum=False, seq=False, v6=False):
    counter = [0]
    def wrap(pkt, to_server):
        counter[0] += 1
        proto = ET_IP4 if ip_family(pkt) == 4 else ET_IP6
        g = gre_hdr(proto, key, counter[0] if seq else None, csum, pkt)
        return outer_eth(outer_ip(v6, to_server, 47, g))
    return wrap


def w_gre_teb(key):
    def wrap(pkt, to_server):
        inner = eth_of(pkt, tags=[(ET_VLAN, 30)])         # 0x6558: a whole Ethernet frame
        return outer_eth(outer_ip(False, to_server, 47, gre_hdr(0x6558, key, None, False, inner)))
    return wrap


def w_aruba(proto, qos):
    """Aruba's GRE (protocol 0x8200-0x8370, one per radio or virtual AP): the
    client's 802.11 data frame without FCS, as the access point sends it to its
    controller and the controller back (IEEE 802.11-2020 9.3.2.1): frame
    control (QoS data 0x88 or data 0x08; To DS up, From DS down), duration,
    three addresses, sequence control, QoS control for QoS data; then LLC/SNAP
    (AA AA 03, RFC 1042 OUI 000000) and the EtherType."""
    counter = [0]
    bssid = bytes.fromhex("020000aaaa01")
    def wrap(pkt, to_server):
        counter[0] += 1
        fc0 = 0x88 if qos else 0x08
        if to_server:           # To DS: BSSID, source (client), destination
            fc1, a1, a2, a3 = 0x01, bssid, MAC_C, MAC_S
        else:                   # From DS: destination (client), BSSID, source
            fc1, a1, a2, a3 = 0x02, MAC_C, bssid, MAC_S
        w = struct.pack("<BBH", fc0, fc1, 0) + a1 + a2 + a3 + struct.pack("<H", counter[0] << 4)
        if qos:
            w += struct.pack("<H", 0)
        et = ET_IP4 if ip_family(pkt) == 4 else ET_IP6
        w += b"\xaa\xaa\x03\x00\x00\x00" + struct.pack("!H", et) + pkt
        return outer_eth(outer_ip(False, to_server, 47, gre_hdr(proto, payload=w)))
    return wrap


def w_erspan2(session):
    counter = [0]
    def wrap(pkt, to_server):
        counter[0] += 1
        # draft-foschiano-erspan 4.2: Ver 1, VLAN 0, COS 0, En 0, T 0, Session ID;
        # Reserved, Index 0. GRE with a sequence number, protocol 0x88BE.
        e = struct.pack("!HHI", 0x1000, session & 0x3FF, 0) + eth_of(pkt)
        g = gre_hdr(0x88BE, None, counter[0], False, e)
        return outer_eth(outer_ip(False, to_server, 47, g))
    return wrap


def w_erspan3(session, platform):
    counter = [0]
    def wrap(pkt, to_server):
        counter[0] += 1
        # 4.3: Ver 2, VLAN 0, COS, BSO, T, Session ID; Timestamp; SGT; P FT(0: Ethernet)
        # HwID D Gra O; with O an 8-byte platform-specific subheader (Platf ID 1...).
        e = struct.pack("!HHIHH", 0x2000, session & 0x3FF, counter[0] * 1000, 0,
                        1 if platform else 0)
        if platform:
            e += struct.pack("!II", 0x04000000, counter[0])
        g = gre_hdr(0x22EB, None, counter[0], False, e + eth_of(pkt))
        return outer_eth(outer_ip(False, to_server, 47, g))
    return wrap


def w_vxlan(vni, port=4789, v6=False, second=False):
    def wrap(pkt, to_server):
        # RFC 7348 5: flags I (0x08), reserved, VNI, reserved; then the inner Ethernet
        # frame. The source port is the inner flow's hash (fixed per direction here).
        src, dst = ends(v6, to_server, second)
        v = struct.pack("!II", 0x08000000, vni << 8) + eth_of(pkt)
        u = udp(src, dst, 50000 if to_server else 50001, port, v)
        return outer_eth(outer_ip(v6, to_server, 17, u, second))
    return wrap


def w_geneve(vni, options, proto_eth, v6=False):
    def wrap(pkt, to_server):
        # RFC 8926 3.4: Ver 0, Opt Len (4-byte words), O 0, C 0, Protocol Type, VNI;
        # options as TLVs (3.5: class, type, length in words, data).
        src, dst = ends(v6, to_server)
        opts = b""
        for i in range(options):
            opts += struct.pack("!HBB", 0x0103, 0x80 | i, 1) + struct.pack("!I", 0xDEAD0000 + i)
        inner = eth_of(pkt) if proto_eth else pkt
        proto = 0x6558 if proto_eth else (ET_IP4 if ip_family(pkt) == 4 else ET_IP6)
        gn = struct.pack("!BBHI", len(opts) // 4, 0, proto, vni << 8) + opts + inner
        u = udp(src, dst, 50002 if to_server else 50003, 6081, gn)
        return outer_eth(outer_ip(v6, to_server, 17, u))
    return wrap


def mpls(labels, payload):
    """RFC 3032 2.1: label, TC 0, S on the last, TTL 64."""
    out = b""
    for i, lbl in enumerate(labels):
        out += struct.pack("!I", lbl << 12 | (0x100 if i == len(labels) - 1 else 0) | 64)
    return out + payload


def w_mpls(labels, tags=()):
    def wrap(pkt, to_server):
        return ether(mpls(labels, pkt), 0x8847, tags)
    return wrap


def w_mpls_pw(label):
    def wrap(pkt, to_server):
        # RFC 4448 3 with the RFC 4385 3 control word (0000, flags 0, sequence 0)
        return ether(mpls([label], struct.pack("!I", 0) + eth_of(pkt)), 0x8847)
    return wrap


def encap_case(name, pairs, tunneled, doc, wireshark=None):
    k = link_case(name, None, pairs=pairs, doc=doc, wireshark=wireshark)
    k.tests[0][2].tunneled = tunneled
    return k


def wrapped(fn):
    return Link("wrap", wrap=fn)


@case
def tun_ipip():
    return encap_case("tun_ipip", [
        (wrapped(w_ipip(False)), C4, S4),       # 4in4 (RFC 2003)
        (wrapped(w_ipip(False)), C6, S6),       # 6in4 (RFC 4213 3.5)
        (wrapped(w_ipip(True)), C4, S4),        # 4in6 (RFC 2473)
        (wrapped(w_ipip(True)), C6, S6),        # 6in6
        (wrapped(w_6in6in6), C6, S6),           # 6in6in6: two headers, one frame
    ], {"ipip": 50}, "IP in IP: 4in4, 6in4, 4in6, 6in6, 6in6in6 (ports differ per pair)")


@case
def tun_gre():
    return encap_case("tun_gre", [
        (wrapped(w_gre()), C4, S4),                              # RFC 2784, no options
        (wrapped(w_gre(key=7, csum=True, seq=True)), C4, S4),    # RFC 2890 C, K, S
        (wrapped(w_gre(key=8, v6=True)), C6, S6),                # over IPv6, IPv6 inside
        (wrapped(w_gre_teb(9)), C4, S4),                         # 0x6558 + a VLAN tag
    ], {"gre": 40}, "GRE: plain, checksum+key+sequence, over IPv6, Ethernet bridging")


@case
def tun_aruba():
    return encap_case("tun_aruba", [
        (wrapped(w_aruba(0x8200, qos=True)), C4, S4),   # QoS data, the shared capture's kind
        (wrapped(w_aruba(0x8370, qos=False)), C6, S6),  # plain data, the last Aruba type
    ], {"gre": 20}, "Aruba's GRE: 802.11 data frames with LLC/SNAP, counted as GRE (the "
       "802.11 header is the inner frame's link layer, as Ethernet is in GRE 0x6558)")


@case
def tun_erspan():
    return encap_case("tun_erspan", [
        (wrapped(w_erspan2(100)), C4, S4),                       # type II
        (wrapped(w_erspan3(200, False)), C6, S6),                # type III
        (wrapped(w_erspan3(201, True)), C4, S4),                 # type III, O: subheader
    ], {"gre": 30, "erspan": 30}, "ERSPAN type II and III (with a platform subheader)")


@case
def tun_vxlan():
    return encap_case("tun_vxlan", [
        (wrapped(w_vxlan(42)), C4, S4),
        (wrapped(w_vxlan(43, v6=True)), C6, S6),
    ], {"vxlan": 20}, "VXLAN (UDP 4789) over IPv4 and IPv6")


@case
def tun_vxlan_port():
    cap = Capture()
    k = Case("tun_vxlan_port", cap, "VXLAN on UDP 8472 (Linux's old default): plain UDP unless "
             "--vxlan-port 8472 says otherwise")
    Flow(cap, wrapped(w_vxlan(5, port=8472)), C4, S4).mini(ms(0))
    x = k.test(Expect())
    x["packets"] = MINI_PACKETS
    x["tcp_packets"] = 0                 # 1: UDP to a port that is not a tunnel's
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 0
    x["conn_closed"] = 0
    x["active"] = 0
    x.decode = {}
    x.tunneled = {}
    y = k.test(Expect(), flags=ALL + ["--vxlan-port", "8472"], name="tun_vxlan_port_8472")
    y["packets"] = MINI_PACKETS
    y["tcp_packets"] = MINI_PACKETS      # 1: the configured port is VXLAN
    y["global_tcp_packets"] = 0
    y["conn_opened"] = 1
    y["conn_closed"] = 1
    y["active"] = 0
    y["current_window"] = MINI_LAST_WINDOW
    y.decode = {}
    y.tunneled = {"vxlan": MINI_PACKETS}
    return k


@case
def tun_geneve():
    return encap_case("tun_geneve", [
        (wrapped(w_geneve(0xABCDE, 2, True)), C4, S4),           # Ethernet, 2 options
        (wrapped(w_geneve(7, 0, False, v6=True)), C6, S6),       # IPv6 straight in
    ], {"geneve": 20}, "Geneve (UDP 6081): options skipped; Ethernet or IP payload")


@case
def tun_mpls():
    return encap_case("tun_mpls", [
        (wrapped(w_mpls([16])), C4, S4),
        (wrapped(w_mpls([1000, 2000, 3000], tags=[(ET_VLAN, 11)])), C6, S6),
        (wrapped(w_mpls_pw(77)), C4, S4),       # Ethernet pseudowire, control word
    ], {"mpls": 30}, "MPLS: one label, three labels in a VLAN, an Ethernet pseudowire")


@case
def tun_copies():
    cap = Capture()
    k = Case("tun_copies", cap,
             "one connection seen plain, in VXLAN VNI 1, VNI 2, and VNI 1 between other "
             "endpoints: the encapsulation is part of the key",
             wireshark="Wireshark keys TCP streams by the inner addresses and ports alone and "
                       "merges the four copies, flagging three of every segment with data, "
                       "SYN or FIN as retransmissions; the rules see four clean flows "
                       "(semantics.md 3)")
    recs = []
    for link in (ETH, wrapped(w_vxlan(1)), wrapped(w_vxlan(2)),
                 wrapped(w_vxlan(1, second=True))):
        tmp = Capture()
        Flow(tmp, link, C4, S4).mini(ms(0))
        recs.append(tmp.recs)
    for j, group in enumerate(zip(*recs)):
        for i, (t, b, wl) in enumerate(group):
            cap.add(t + 10_000 * i, b, wirelen=wl)
    x = k.test(Expect())
    x["packets"] = 40
    x["tcp_packets"] = 40
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 4                 # 3: four encapsulations, four flows
    x["conn_closed"] = 4
    x["active"] = 0
    x["duplicate"] = 0                   # 3: not a stream of duplicates
    x["current_window"] = MINI_LAST_WINDOW
    x.decode = {}
    x.tunneled = {"vxlan": 30}
    return k


@case
def tun_bad():
    cap = Capture()
    k = Case("tun_bad", cap, "tunnel headers that are cut, malformed or nested too deep")
    inner = tcp_segment(addr(C4), addr(S4), 40000, 80, 1001, 5001, 0x10, 502)
    ip_in = ipv4(addr(C4), addr(S4), 6, inner)
    # GRE cut after 2 bytes; GRE with the routing bit (RFC 2784 2.3: discard);
    # GRE version 2; VXLAN without its I flag (RFC 7348 5); Geneve version 1
    # (RFC 8926 3.4: drop); IPv4 nested in IPv4 nine deep (1: at most 8).
    frames = []
    g = outer_eth(outer_ip(False, True, 47, gre_hdr(ET_IP4, payload=ip_in)))
    frames.append((g, 14 + 20 + 2, "truncated_encapsulation"))
    frames.append((outer_eth(outer_ip(False, True, 47, struct.pack("!HH", 0x4000, ET_IP4) + ip_in)),
                   None, "bad_encapsulation"))
    frames.append((outer_eth(outer_ip(False, True, 47, struct.pack("!HH", 0x0002, ET_IP4) + ip_in)),
                   None, "bad_encapsulation"))
    s4, d4 = ends(False, True)
    frames.append((outer_eth(outer_ip(False, True, 17, udp(s4, d4, 1, 4789, struct.pack(
        "!II", 0, 5 << 8) + eth_of(ip_in)))), None, "bad_encapsulation"))
    frames.append((outer_eth(outer_ip(False, True, 17, udp(s4, d4, 1, 6081, struct.pack(
        "!BBHI", 0x40, 0, 0x6558, 5 << 8) + eth_of(ip_in)))), None, "bad_encapsulation"))
    deep = ip_in
    for _ in range(9):
        deep = outer_ip(False, True, 4, deep)
    frames.append((outer_eth(deep), None, "encapsulation_too_deep"))
    for i, (fr, caplen, _) in enumerate(frames):
        cap.add(ms(i), fr, caplen=caplen, wirelen=len(fr))
    f = Flow(cap, ETH, C4, S4, cport=49999)
    f.c(ms(100), 0, 0, "S", win=64240, opts=syn_opts(7))
    x = k.test(Expect())
    x["packets"] = len(frames) + 1
    x["tcp_packets"] = 1
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x.decode = {"truncated_encapsulation": 1, "bad_encapsulation": 4,
                "encapsulation_too_deep": 1}
    # 6: every kind crossed before the decoder stopped counts, once per frame
    x.tunneled = {"gre": 3, "vxlan": 1, "geneve": 1, "ipip": 1}
    return k


@case
def link_pcapng():
    cap = Capture(fmt="pcapng", nsec=True)
    k = Case("link_pcapng", cap, "pcapng with nanosecond timestamps: a hole filled in 2.5 ms")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 1000)
    f.c(ms(20), 2001, 1, "A", 1000)      # 4.2: hole [1001,2001) at 20 ms
    f.c(ms(22.5), 1001, 1, "A", 1000)    # 4.4: out of order, 2.5 ms: in le="0.0025"
    f.s(ms(23), 1, 3001, "A")
    x = k.test(Expect())
    x["packets"] = 7
    x["tcp_packets"] = 7
    x["global_tcp_packets"] = 0
    x["missing"] = 1
    x.gaps = [1000]
    x["out_of_order"] = 1
    x.fills_ns = [2_500_000]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


# --- 3 VLAN IDs in the flow key ----------------------------------------------------


def mirror_case(name, tags_a, tags_b, doc):
    cap = Capture()
    k = Case(name, cap, doc,
             wireshark="Wireshark ignores VLAN IDs and merges both copies into one stream "
                       "(semantics.md 3): it flags the second copy of every segment with data, "
                       "SYN or FIN as a retransmission; the rules see two clean flows")
    # Capture every packet twice, once per VLAN, 10 us apart.
    tmp = Capture()
    Flow(tmp, Link("eth", tags=tags_a), C4, S4).mini(ms(0))
    tmp2 = Capture()
    Flow(tmp2, Link("eth", tags=tags_b), C4, S4).mini(ms(0))
    for (t, b, wl), (_, b2, wl2) in zip(tmp.recs, tmp2.recs):
        cap.add(t, b, wirelen=wl)
        cap.add(t + 10_000, b2, wirelen=wl2)
    x = k.test(Expect())
    x["packets"] = 20
    x["tcp_packets"] = 20
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 2                 # 3: the VLAN IDs are part of the key: two flows
    x["conn_closed"] = 2
    x["active"] = 0
    x["duplicate"] = 0                   # 3: not a stream of duplicates
    x["current_window"] = MINI_LAST_WINDOW
    return k


@case
def vlan_mirror():
    return mirror_case("vlan_mirror", [(ET_VLAN, 10)], [(ET_VLAN, 20)],
                       "one connection mirrored on VLANs 10 and 20")


@case
def qinq_mirror():
    return mirror_case("qinq_mirror", [(ET_QINQ, 300), (ET_VLAN, 10)],
                       [(ET_QINQ, 301), (ET_VLAN, 10)],
                       "one connection mirrored with outer VLAN 300 and 301, inner 10")


@case
def syn_options_cut():
    # eth 14 + IPv4 20 + TCP 20 + 12 bytes of options: a Linux SYN's MSS, SACK
    # permitted and the first 6 bytes of its timestamps; its NOP and window
    # scale are beyond the cut. Later frames lose payload only.
    cap = Capture(snaplen=66)
    k = Case("syn_options_cut", cap,
             "SYNs whose options the snap length cut: analyzed (1), window scale unknown "
             "only when the other SYN carried the option (5)")
    def syn_ack_opts(ws):     # short enough to be captured whole
        return tcp_opts(("nop",), ("ws", ws), ("mss", 1460)) if ws is not None else \
            tcp_opts(("mss", 1460))
    for i, ws_s in enumerate([7, None]):
        f = Flow(cap, ETH, C4, S4, cport=40001 + i, cwin=1000, swin=2000)
        t = 100 * i
        f.c(ms(t), 0, 0, "S", win=64240, opts=syn_opts(7, ts=1))  # 1: cut, still TCP
        f.s(ms(t + 1), 0, 1, "SA", win=65160, opts=syn_ack_opts(ws_s))
        f.c(ms(t + 2), 1, 1, "A")
        f.c(ms(t + 3), 1, 1, "PA", 100)
        f.s(ms(t + 4), 1, 101, "A")
        f.c(ms(t + 5), 101, 1, "PA", 100)
    x = k.test(Expect())
    x["packets"] = 12
    x["tcp_packets"] = 12                # 1: the cut SYNs are TCP
    x["global_tcp_packets"] = 0
    x["scale_unknown"] = 4               # 5: the first flow's 4 packets after the SYNs
    x["conn_opened"] = 2
    x["conn_closed"] = 0
    x["active"] = 2
    x["current_window"] = 1000           # 5: second flow, no scaling (its SYN-ACK had none)
    x.decode = {}                        # 1: no truncated_tcp
    return k


# --- 1 lengths -------------------------------------------------------------------


@case
def snaplen():
    cap = Capture(snaplen=96)
    k = Case("snaplen", cap, "frames cut at 96 bytes: payload length comes from the IP header")
    for i, (c, s) in enumerate([(C4, S4), (C6, S6)]):
        f = Flow(cap, ETH, c, s, cport=40000 + i)
        t = 100 * i
        f.handshake(ms(t))
        f.c(ms(t + 10), 1, 1, "A", 1448)
        f.c(ms(t + 11), 1449, 1, "PA", 1448)  # 4.3: in order only if len came from IP
        f.s(ms(t + 12), 1, 2897, "A")
        f.s(ms(t + 13), 1, 2897, "PA", 1000)
        f.c(ms(t + 14), 2897, 1001, "A")
        f.c(ms(t + 15), 2897, 1001, "FA")
        f.s(ms(t + 16), 1001, 2898, "FA")
        f.c(ms(t + 17), 2898, 1002, "A")
    x = k.test(Expect())
    x["packets"] = 22
    x["tcp_packets"] = 22
    x["global_tcp_packets"] = 0
    x["missing"] = 0                     # 1: not the captured length
    x["conn_opened"] = 2
    x["conn_closed"] = 2
    x["active"] = 0
    x["current_window"] = 502 << 7
    x.decode = {}                        # 1: cut payload is not a truncation error
    return k


@case
def tso_len0():
    cap = Capture()
    k = Case("tso_len0", cap,
             "IPv4 total length 0 and IPv6 payload length 0: the wire length gives the size",
             wireshark="Wireshark does not take an IPv6 payload length of 0 from the frame "
                       "length unless ipv6.tso_support is on (off by default): it marks that "
                       "frame malformed and the next segment 'previous segment not captured'; "
                       "with -o ipv6.tso_support:TRUE it agrees")
    for i, (c, s) in enumerate([(C4, S4), (C6, S6)]):
        f = Flow(cap, ETH, c, s, cport=40000 + i)
        t = 100 * i
        f.handshake(ms(t))
        seg = f.seg(True, 1, 1, "A", 4000)
        if f.v6:
            pkt = ipv6(f.c_ip, f.s_ip, 6, seg, plen=0)
        else:
            pkt = ipv4(f.c_ip, f.s_ip, 6, seg, total_length=0)
        frame = ETH.frame(pkt)
        cap.add(ms(t + 10), frame, caplen=128)  # 1: 4000 bytes taken from the wire length
        f.c(ms(t + 11), 4001, 1, "A", 1000)     # 4.3: in order
        f.s(ms(t + 12), 1, 5001, "A")
    x = k.test(Expect())
    x["packets"] = 12
    x["tcp_packets"] = 12
    x["global_tcp_packets"] = 0
    x["missing"] = 0
    x["conn_opened"] = 2
    x["conn_closed"] = 0
    x["active"] = 2
    x["current_window"] = 509 << 7
    x.decode = {}
    return k


# --- 1 IP details ------------------------------------------------------------------


@case
def ipv4_options():
    cap = Capture()
    k = Case("ipv4_options", cap, "IPv4 options (router alert; record route) skipped by IHL")
    f = Flow(cap, ETH, C4, S4)
    ra = b"\x94\x04\x00\x00"             # router alert, IHL 6
    rr = b"\x07\x07\x04" + b"\0" * 4 + b"\x00"  # record route, one empty slot, EOL: IHL 7
    f.c(ms(0), 0, 0, "S", win=64240, opts=syn_opts(7), ip_opts=ra)
    f.s(ms(1), 0, 1, "SA", win=65160, opts=syn_opts(7), ip_opts=rr)
    f.c(ms(2), 1, 1, "A", ip_opts=ra)
    f.c(ms(3), 1, 1, "PA", 100, ip_opts=rr)
    f.s(ms(4), 1, 101, "A", ip_opts=ra)
    f.s(ms(5), 1, 101, "PA", 200, ip_opts=rr)
    f.c(ms(6), 101, 201, "A")
    f.c(ms(7), 101, 201, "FA", ip_opts=ra)
    f.s(ms(8), 201, 102, "FA", ip_opts=rr)
    f.c(ms(9), 102, 202, "A", ip_opts=ra)
    x = k.test(Expect())
    x["packets"] = 10
    x["tcp_packets"] = 10
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1
    x["conn_closed"] = 1
    x["active"] = 0
    x["current_window"] = MINI_LAST_WINDOW
    x.decode = {}
    return k


@case
def ipv6_ext():
    cap = Capture()
    k = Case("ipv6_ext", cap,
             "IPv6 hop-by-hop, routing, destination options, atomic fragment, 8 headers")
    f = Flow(cap, ETH, C6, S6)
    eight = [("hbh",)] + [("dst",)] * 7   # 1: 8 headers is not "longer than 8"
    f.c(ms(0), 0, 0, "S", win=64240, opts=syn_opts(7), exts=[("hbh",)])
    f.s(ms(1), 0, 1, "SA", win=65160, opts=syn_opts(7), exts=[("dst",)])
    f.c(ms(2), 1, 1, "A", exts=[("rt",)])
    f.c(ms(3), 1, 1, "PA", 100, exts=[("hbh",), ("dst",), ("rt",), ("dst",)])
    f.s(ms(4), 1, 101, "A", exts=eight)
    f.s(ms(5), 1, 101, "PA", 200, exts=[("frag", 0, False, 0x1234)])  # atomic (RFC 6946)
    f.c(ms(6), 101, 201, "A")
    f.c(ms(7), 101, 201, "FA", exts=[("dst",), ("frag", 0, False, 0x1235)])
    f.s(ms(8), 201, 102, "FA", exts=[("hbh",), ("rt",)])
    f.c(ms(9), 102, 202, "A", exts=[("dst",)])
    x = k.test(Expect())
    x["packets"] = 10
    x["tcp_packets"] = 10
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1
    x["conn_closed"] = 1
    x["active"] = 0
    x["current_window"] = MINI_LAST_WINDOW
    x.decode = {}
    return k


@case
def fragments():
    cap = Capture()
    k = Case("fragments", cap,
             "a 1000-byte segment in two IP fragments: the first holds 492 bytes")
    for i, (c, s) in enumerate([(C4, S4), (C6, S6)]):
        f = Flow(cap, ETH, c, s, cport=40000 + i)
        t = 100 * i
        f.handshake(ms(t))
        seg = f.seg(True, 1, 1, "PA", 1000)  # TCP header 20 + 1000 bytes, checksummed whole
        part1, part2 = seg[:512], seg[512:]   # 512 = 64 * 8
        if f.v6:
            for off8, mf, part, dt in ((0, True, part1, 10), (64, False, part2, 11)):
                nh, body = v6_chain([("frag", off8, mf, 0x5000 + i)], 6, part)
                cap.add(ms(t + dt), ETH.frame(ipv6(f.c_ip, f.s_ip, nh, body)))
        else:
            cap.add(ms(t + 10), ETH.frame(ipv4(f.c_ip, f.s_ip, 6, part1, ident=0x5000,
                                               df=False, mf=True)))
            cap.add(ms(t + 11), ETH.frame(ipv4(f.c_ip, f.s_ip, 6, part2, ident=0x5000,
                                               df=False, frag_off=64)))
        # 1 (IP fragment reassembly): the first fragment is held; the second
        # completes the datagram and is analyzed as segment [1,1001) at its time
        f.c(ms(t + 12), 1001, 1, "PA", 1000)  # 4.1: in order, no hole
        f.s(ms(t + 13), 1, 2001, "A")         # 4.5: nothing unseen acked: no capture gap
        if f.v6:
            f.c(ms(t + 14), 2001, 1, "PA", 100, exts=[("frag", 0, False, 0x6000)])  # 1: atomic
    x = k.test(Expect())
    x["packets"] = 15
    x["tcp_packets"] = 13                # 1: a datagram counts once, at its completing fragment
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 2
    x["conn_closed"] = 0
    x["active"] = 2
    x["current_window"] = 502 << 7       # the atomic fragment from C
    x.decode = {}                        # 1: no non_first_fragment any more
    x.fragments = {"reassembled": 2}     # 1: one IPv4, one IPv6 datagram
    return k


# --- 1 not TCP -------------------------------------------------------------------


def icmp4(typ, code, rest, body):
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    return msg[:2] + struct.pack("!H", inet_csum(msg)) + msg[4:]


def icmp6(src, dst, typ, code, rest, body):
    msg = struct.pack("!BBH", typ, code, 0) + rest + body
    return with_l4_csum(msg, pseudo6(src, dst, len(msg), 58), 2)


def udp(src, dst, sport, dport, payload):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ps = pseudo4(src, dst, len(seg), 17) if len(src) == 4 else pseudo6(src, dst, len(seg), 17)
    return with_l4_csum(seg, ps, 6)


@case
def icmp_quote():
    cap = Capture()
    k = Case("icmp_quote", cap,
             "ICMP and ICMPv6 errors quoting TCP headers do not reach the tracker")
    router4, router6 = addr("192.0.2.254"), addr("2001:db8::fe")
    flows = []
    for i, (c, s) in enumerate([(C4, S4), (C6, S6)]):
        f = Flow(cap, ETH, c, s, cport=40000 + i)
        flows.append(f)
        t = 100 * i
        f.handshake(ms(t))
        f.c(ms(t + 10), 1, 1, "A", 1000)
        f.s(ms(t + 11), 1, 1001, "A")
        # Quoted: C's IP header + a TCP segment 50000 bytes ahead, and S's 50000 back.
        far = f.ip(True, f.seg(True, 50001, 1, "A", 8))
        back = f.ip(False, f.seg(False, -50000, 1001, "A", 8))
        for j, q in enumerate((far, back)):
            src_r = router4 if not f.v6 else router6
            dst = f.c_ip if j == 0 else f.s_ip
            if f.v6:
                msg = icmp6(src_r, dst, 2, 0, struct.pack("!I", 1280), q)  # packet too big
                pkt = ipv6(src_r, dst, 58, msg)
            else:
                msg = icmp4(3, 4, struct.pack("!HH", 0, 576), q)  # frag needed
                pkt = ipv4(src_r, dst, 1, msg)
            cap.add(ms(t + 12 + j), ETH.frame(pkt, to_server=(j == 1)))
        f.c(ms(t + 20), 1001, 1, "A", 1000)  # 4.3: in order: nothing was fed by the quotes
        f.s(ms(t + 21), 1, 2001, "A")
    x = k.test(Expect())
    x["packets"] = 18
    x["tcp_packets"] = 14                # 1: an ICMP error is not TCP
    x["global_tcp_packets"] = 0
    x["missing"] = 0                     # 1: only the outermost IP header is read
    x["duplicate"] = 0
    x["conn_opened"] = 2
    x["conn_closed"] = 0
    x["active"] = 2
    x["current_window"] = 509 << 7
    x.decode = {}                        # 1: well-formed, not TCP: no error
    return k


@case
def not_tcp():
    cap = Capture()
    k = Case("not_tcp", cap,
             "ARP, UDP, ICMP, LLDP, ESP, no next header: none is TCP; TCP SYNs inside IP-in-IP, "
             "GRE, 6in4 and 6in6 are (each on its own ports, so Wireshark agrees)")
    c4, s4, c6, s6 = addr(C4), addr(S4), addr(C6), addr(S6)
    arp = struct.pack("!HHBBH6s4s6s4s", 1, ET_IP4, 6, 4, 1, MAC_C, c4, b"\0" * 6, s4)
    cap.add(ms(0), ether(arp, ET_ARP, dst=b"\xff" * 6))
    cap.add(ms(1), ETH.frame(ipv4(c4, s4, 17, udp(c4, s4, 40000, 9999, data(20)))))
    cap.add(ms(2), ETH.frame(ipv6(c6, s6, 17, udp(c6, s6, 40000, 9999, data(20)))))
    cap.add(ms(3), ETH.frame(ipv4(c4, s4, 1, icmp4(8, 0, struct.pack("!HH", 1, 1), data(16)))))
    cap.add(ms(4), ether(data(46), 0x88B5))  # local experimental EtherType
    inner4 = tcp_segment(c4, s4, 41000, 80, 1, 0, 0x02, 64240, syn_opts(7))
    inner4b = tcp_segment(c4, s4, 41002, 80, 1, 0, 0x02, 64240, syn_opts(7))
    inner6 = tcp_segment(c6, s6, 41001, 80, 1, 0, 0x02, 64240, syn_opts(7))
    inner6b = tcp_segment(c6, s6, 41003, 80, 1, 0, 0x02, 64240, syn_opts(7))
    cap.add(ms(5), ETH.frame(ipv4(c4, s4, 4, ipv4(c4, s4, 6, inner4))))      # IP in IP
    gre = struct.pack("!HH", 0, ET_IP4) + ipv4(c4, s4, 6, inner4b)
    cap.add(ms(6), ETH.frame(ipv4(c4, s4, 47, gre)))                         # GRE
    cap.add(ms(7), ETH.frame(ipv4(c4, s4, 41, ipv6(c6, s6, 6, inner6))))     # 6in4
    cap.add(ms(8), ETH.frame(ipv6(c6, s6, 41, ipv6(c6, s6, 6, inner6b))))    # 6in6
    cap.add(ms(9), ETH.frame(ipv4(c4, s4, 50, struct.pack("!II", 0x100, 1) + data(32))))  # ESP
    cap.add(ms(10), ETH.frame(ipv6(c6, s6, 59, b"")))                       # no next header
    nh, body = v6_chain([("hbh",), ("dst",)], 17, udp(c6, s6, 40000, 9999, data(8)))
    cap.add(ms(11), ETH.frame(ipv6(c6, s6, nh, body)))                      # ext + UDP
    x = k.test(Expect())
    x["packets"] = 12
    x["tcp_packets"] = 4                 # 1: the four tunnels carry a TCP SYN each
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 4                 # 3: four 4-tuples (and four encapsulations)
    x["conn_closed"] = 0
    x["active"] = 4
    x["current_window"] = 0              # 5: SYNs are not window-analyzed
    x.decode = {}
    x.tunneled = {"ipip": 3, "gre": 1}   # 6: 4in4, 6in4, 6in6; GRE
    return k


# --- 1 decode errors -----------------------------------------------------------------
# Each capture: the bad frames, then one good SYN, which must still be analyzed.
# Wireshark marks the bad frames malformed; none is a TCP segment to it either.


def bad_case(name, doc, reason, frames, tcp_extra=0):
    cap = Capture()
    k = Case(name, cap, doc)
    for i, (fr, caplen, wirelen) in enumerate(frames):
        cap.add(ms(i), fr, caplen=caplen, wirelen=wirelen)
    f = Flow(cap, ETH, C4, S4, cport=49999)
    f.c(ms(100), 0, 0, "S", win=64240, opts=syn_opts(7))
    n = len(frames)
    x = k.test(Expect())
    x["packets"] = n + 1
    x["tcp_packets"] = 1 + tcp_extra
    x["global_tcp_packets"] = 0
    x["conn_opened"] = 1                 # the good SYN
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 0              # 5: a SYN is not window-analyzed
    x.decode = {reason: n}
    return k


def good_tcp4(flags=0x10, opts=b"", n=0, doff=None):
    return tcp_segment(addr(C4), addr(S4), 40000, 80, 1001, 5001, flags, 502, opts, data(n),
                       doff)


def good_tcp6(flags=0x10, opts=b"", n=0, doff=None):
    return tcp_segment(addr(C6), addr(S6), 40000, 80, 1001, 5001, flags, 502, opts, data(n),
                       doff)


def frame4(tcp, **kw):
    return ETH.frame(ipv4(addr(C4), addr(S4), 6, tcp, **kw))


def frame6(payload, nh=6, **kw):
    return ETH.frame(ipv6(addr(C6), addr(S6), nh, payload, **kw))


@case
def bad_truncated_link():
    full = frame4(good_tcp4(n=10))
    vlan = ether(ipv4(addr(C4), addr(S4), 6, good_tcp4()), ET_IP4, [(ET_VLAN, 5)])
    pppoe = Link("pppoe").frame(ipv4(addr(C4), addr(S4), 6, good_tcp4()))
    return bad_case("bad_truncated_link", "captures ending in the link header or a tag",
                    "truncated_link", [
                        (full, 10, len(full)),        # inside the Ethernet header
                        (vlan, 16, len(vlan)),        # inside the 802.1Q tag
                        (pppoe, 18, len(pppoe)),      # inside the PPPoE header
                    ])


@case
def bad_truncated_ip():
    f4 = frame4(good_tcp4())
    f4o = ETH.frame(ipv4(addr(C4), addr(S4), 6, good_tcp4(), opts=b"\x94\x04\x00\x00"))
    f6 = frame6(good_tcp6())
    return bad_case("bad_truncated_ip", "captures ending in the IPv4/IPv6 header or options",
                    "truncated_ip", [
                        (f4, 14 + 10, len(f4)),       # 10 bytes of the IPv4 header
                        (f4o, 14 + 22, len(f4o)),     # inside the IPv4 options
                        (f6, 14 + 30, len(f6)),       # 30 bytes of the IPv6 header
                    ])


@case
def bad_ip_version():
    v6_as_v4 = ether(ipv6(addr(C6), addr(S6), 6, good_tcp6()), ET_IP4)
    v4_as_v6 = ether(ipv4(addr(C4), addr(S4), 6, good_tcp4()), ET_IP6)
    v0 = ether(ipv4(addr(C4), addr(S4), 6, good_tcp4(), version=0), ET_IP4)
    return bad_case("bad_ip_version", "the version nibble disagrees with the EtherType",
                    "bad_ip_version", [(v6_as_v4, None, None), (v4_as_v6, None, None),
                                       (v0, None, None)])


@case
def bad_ihl():
    return bad_case("bad_ihl", "IPv4 IHL 4 and 0", "bad_ipv4_header_length", [
        (frame4(good_tcp4(), ihl=4), None, None),
        (frame4(good_tcp4(), ihl=0), None, None),
    ])


@case
def bad_ip_length():
    return bad_case("bad_ip_length", "IPv4 total length below the header length", "bad_ip_length",
                    [(frame4(good_tcp4(), total_length=19), None, None),
                     (ETH.frame(ipv4(addr(C4), addr(S4), 6, good_tcp4(), opts=b"\x01" * 4,
                                     total_length=22)), None, None)])


@case
def bad_ipv6_ext():
    nine = [("hbh",)] + [("dst",)] * 8
    nh, body = v6_chain(nine, 6, good_tcp6())
    long_chain = frame6(body, nh=nh)
    # A destination-options header claiming 6 * 8 bytes with 8 + 20 in the packet.
    nh2, body2 = v6_chain([("rawext", 60, bytes([5]) + v6_padn(6))], 6, good_tcp6())
    past_end = frame6(body2, nh=nh2)
    return bad_case("bad_ipv6_ext", "9 extension headers; one running past the packet",
                    "bad_ipv6_extension", [(long_chain, None, None), (past_end, None, None)])


@case
def bad_fragment():
    seg = good_tcp4(n=100)
    v4_last = frame4(seg, df=False, frag_off=100)
    v4_mid = frame4(seg, df=False, mf=True, frag_off=10)
    nh, body = v6_chain([("frag", 100, False, 7)], 6, good_tcp6(n=100))
    v6_frag = frame6(body, nh=nh)
    # 1 (IP fragment reassembly): fragments of two datagrams that never
    # complete. The IPv4 ones share a key (addresses, protocol, identification):
    # [80,200) with MF and the last [800,920), a hole between; the IPv6 one is
    # the last [800,920) of another. All held, none a TCP packet, no decode
    # error; datagrams still in progress at the end are counted in no outcome.
    k = bad_case("bad_fragment", "IPv4 and IPv6 fragments with offset > 0, never completed",
                 "truncated_tcp", [(v4_last, None, None), (v4_mid, None, None),
                                   (v6_frag, None, None)])
    x = k.tests[0][2]
    x.decode = {}
    x.fragments = {}
    return k


@case
def bad_truncated_tcp():
    f1 = frame4(good_tcp4(n=100))
    f2 = frame4(good_tcp4(opts=tcp_opts(("ts", 1, 2)), n=100))   # 32-byte header
    f3 = frame6(good_tcp6(n=100))
    # Only the fixed 20 bytes count: a capture ending in the options after
    # them is analyzed, its options as far as captured (1; syn_options_cut).
    return bad_case("bad_truncated_tcp", "captures ending in the fixed 20-byte TCP header",
                    "truncated_tcp", [
                        (f1, 14 + 20 + 10, len(f1)),
                        (f2, 14 + 20 + 19, len(f2)),
                        (f3, 14 + 40 + 19, len(f3)),
                    ])


@case
def bad_tcp_doff():
    f1 = frame4(good_tcp4(doff=4))
    # Data offset 15 (60 bytes) with 40 bytes of TCP per the IP header; 20 bytes of
    # Ethernet trailer make the capture long enough, so only the IP length is short.
    f2 = frame4(good_tcp4(n=20, doff=15), total_length=20 + 40) + b"\0" * 20
    f3 = frame6(good_tcp6(doff=3))
    return bad_case("bad_tcp_doff", "TCP data offset < 5, and beyond the IP payload",
                    "bad_tcp_data_offset", [(f1, None, None), (f2, None, None), (f3, None, None)])


@case
def bad_tcp_option():
    cap = Capture()
    k = Case("bad_tcp_option", cap,
             "bad option lengths: the segments are still analyzed, later options ignored")
    f = Flow(cap, ETH, C4, S4, cwin=1000, swin=1000)
    # C's SYN: MSS, then SACK-permitted with length 1 (< 2), then wscale 7, which
    # is ignored (1): both SYNs seen, C's lacks the option, so shift 0 (5).
    f.c(ms(0), 0, 0, "S", win=64240,
        opts=tcp_opts(("mss", 1460), ("raw", b"\x04\x01"), ("nop",), ("ws", 7)))
    f.s(ms(1), 0, 1, "SA", win=65160, opts=syn_opts(7))
    f.c(ms(2), 1, 1, "A")
    # A timestamp option of length 10 in 8 bytes of option space: runs past the header.
    f.c(ms(3), 1, 1, "PA", 100, opts=tcp_opts(("nop",), ("nop",), ("raw", b"\x08\x0a\0\0\0\0")))
    # Length 0 (< 2), the classic endless loop.
    f.s(ms(4), 1, 101, "A", opts=tcp_opts(("raw", b"\x1e\x00\x00\x00")))
    x = k.test(Expect())
    x["packets"] = 5
    x["tcp_packets"] = 5                 # 1: the segments are still analyzed
    x["global_tcp_packets"] = 0
    x["missing"] = 0                     # 4.3: [1,101) in order
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 1000           # 5: shift 0 (C's wscale was never read), not 1000 << 7
    x.decode = {"bad_tcp_option": 3}
    return k


# --- 2 scope ---------------------------------------------------------------------


@case
def scope_global():
    cap = Capture()
    k = Case("scope_global", cap,
             "global and non-global address pairs, with the default scope and with all")
    # (client, server, global?, S's raw window). Each flow: C [1,101), C [201,301)
    # (missing, gap 100), S acks 101: 3 packets, no handshake (scale unknown).
    flows = [
        ("93.184.216.34", "151.101.1.69", True, 601),
        ("10.0.0.1", "151.101.1.69", False, 602),           # 10/8
        ("2a00:1450:4001::1", "2606:4700::1111", True, 603),
        ("2001:db8::1", "2606:4700::1111", False, 604),     # 2001:db8::/32
        ("192.0.0.9", "151.101.1.69", True, 605),           # excepted from 192.0.0/24
        ("100.64.0.1", "151.101.1.69", False, 606),         # 100.64/10
        ("2001:20::1", "2606:4700::1111", True, 888),       # excepted from 2001::/23
        ("192.0.0.8", "151.101.1.69", False, 777),          # 192.0.0/24
    ]
    for i, (c, s, _, sw) in enumerate(flows):
        f = Flow(cap, ETH, c, s, cport=40000 + i, sport=443, swin=sw)
        f.c(ms(10 * i), 1, 1, "PA", 100)
        f.c(ms(10 * i + 1), 201, 1, "PA", 100)   # 4.2: missing, gap 100
        f.s(ms(10 * i + 2), 1, 101, "A")         # 4.5: ack 101 < 201: hole stays
    n_glob = sum(g for _, _, g, _ in flows)
    # Default scope (global): only the 4 global flows are analyzed (2).
    x = k.test(Expect(), flags=[])
    x["packets"] = 24                    # 2: the packet counters count in either scope
    x["tcp_packets"] = 24
    x["global_tcp_packets"] = 3 * n_glob
    x["missing"] = n_glob
    x.gaps = [100] * n_glob
    x["scale_unknown"] = 3 * n_glob
    x["conn_opened"] = n_glob
    x["conn_closed"] = 0
    x["active"] = n_glob
    x["current_window"] = 888            # 5: the last analyzed packet (2001:20::1's S)
    y = k.test(Expect(), name="scope_global_all")
    y["packets"] = 24
    y["tcp_packets"] = 24
    y["global_tcp_packets"] = 3 * n_glob
    y["missing"] = 8
    y.gaps = [100] * 8
    y["scale_unknown"] = 24
    y["conn_opened"] = 8
    y["conn_closed"] = 0
    y["active"] = 8
    y["current_window"] = 777            # 5: the last packet
    return k


# --- 6 histogram edges -----------------------------------------------------------


@case
def fill_boundaries():
    cap = Capture(nsec=True)
    k = Case("fill_boundaries", cap,
             "nanosecond pcap: fills of 100000, 100001 ns, 10 s and 10 s + 1 ns")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 100)
    f.c(ms(20), 201, 1, "A", 100)                  # hole [101,201) at 20 ms
    f.c(ms(20) + 100_000, 101, 1, "A", 100)  # 100000 ns: le="0.0001" (6: <= bound)
    f.c(ms(30), 401, 1, "A", 100)                  # hole [301,401) at 30 ms
    f.c(ms(30) + 100_001, 301, 1, "A", 100)        # 100001 ns: le="0.00025"
    f.c(ms(40), 601, 1, "A", 100)                  # hole [501,601) at 40 ms
    f.c(ms(40) + 10_000_000_000, 501, 1, "A", 100)  # exactly 10 s: le="10"
    f.c(ms(10050), 801, 1, "A", 100)               # hole [701,801) at 10.05 s
    f.c(ms(10050) + 10_000_000_001, 701, 1, "A", 100)  # 10 s + 1 ns: +Inf
    f.s(ms(20060), 1, 901, "A")
    x = k.test(Expect())
    x["packets"] = 13
    x["tcp_packets"] = 13
    x["global_tcp_packets"] = 0
    x["missing"] = 4
    x.gaps = [100] * 4
    x["out_of_order"] = 4
    x.fills_ns = [100_000, 100_001, 10_000_000_000, 10_000_000_001]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


@case
def gap_boundaries():
    cap = Capture()
    k = Case("gap_boundaries", cap, "gaps of 64, 65, 16777216 and 16777217 bytes")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    seq, t, gaps = 1, 10, [64, 65, 1 << 24, (1 << 24) + 1]
    f.c(ms(t), seq, 1, "A", 10)
    seq += 10
    for g in gaps:
        t += 1
        seq += g
        f.c(ms(t), seq, 1, "A", 10)              # 4.2: missing, gap g
        seq += 10
    x = k.test(Expect())
    x["packets"] = 8
    x["tcp_packets"] = 8
    x["global_tcp_packets"] = 0
    x["missing"] = 4
    x.gaps = gaps                                 # 6: 64 in le="64", 65 in "128", ... "+Inf"
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 502 << 7
    return k


@case
def ts_backwards():
    cap = Capture()
    k = Case("ts_backwards", cap, "a fill stamped before the hole opened observes 0")
    f = Flow(cap, ETH, C4, S4)
    f.handshake(ms(0))
    f.c(ms(10), 1, 1, "A", 100)
    f.c(ms(20), 201, 1, "A", 100)        # hole [101,201) at 20 ms
    f.c(ms(15), 101, 1, "A", 100)        # 3/6: time does not go back: fill observes 0
    f.s(ms(21), 1, 301, "A")
    x = k.test(Expect())
    x["packets"] = 7
    x["tcp_packets"] = 7
    x["global_tcp_packets"] = 0
    x["missing"] = 1
    x.gaps = [100]
    x["out_of_order"] = 1
    x.fills_ns = [0]
    x["conn_opened"] = 1
    x["conn_closed"] = 0
    x["active"] = 1
    x["current_window"] = 509 << 7
    return k


# ---------------------------------------------------------------------------


def build():
    out = []
    for fn in CASES:
        k = fn()
        assert k.name == fn.__name__, k.name
        out.append(k)
    names = [t[0] for k in out for t in k.tests]
    assert len(names) == len(set(names)), "test names must be unique"
    return out


def testlist_lines(cases):
    lines = []
    for k in cases:
        for name, flags, _ in k.tests:
            lines.append(" ".join([name, "crafted/" + k.name + k.ext(),
                                   "crafted/" + name + ".prom"] + flags))
    return lines


def write(outdir, cases):
    os.makedirs(outdir, exist_ok=True)
    for k in cases:
        with open(os.path.join(outdir, k.name + k.ext()), "wb") as fh:
            fh.write(k.cap.bytes())
        for name, _, x in k.tests:
            with open(os.path.join(outdir, name + ".expect"), "w", newline="\n") as fh:
                fh.write("\n".join(x.lines()) + "\n")
    # Cases where Wireshark's analysis legitimately differs (semantics.md 4).
    with open(os.path.join(outdir, "wireshark-exceptions.txt"), "w", newline="\n") as fh:
        fh.write("# case<TAB>why Wireshark's loss flags differ from the rules on it\n")
        for k in cases:
            if k.wireshark:
                fh.write("%s\t%s\n" % (k.name, k.wireshark))


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    cases = build()
    if len(argv) > 1 and argv[1] == "--testlist":
        print("\n".join(testlist_lines(cases)))
        return 0
    outdir = argv[1] if len(argv) > 1 else os.path.join(here, "crafted")
    write(outdir, cases)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
