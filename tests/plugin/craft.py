# SPDX-License-Identifier: GPL-2.0-or-later
"""Crafted captures for the plugin's field tests, written on the fly.

Each scenario returns the frames of one capture and what the plugin must
show on each frame (docs/semantics.md gives the rules; the comments here
say which rule each frame exercises). Frames are Ethernet + IPv4/IPv6 +
TCP with real checksums, so that Wireshark's own analysis (used for the
identity checks) sees nothing odd."""
import ipaddress
import struct

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
MS = 1_000_000  # ns
T0 = 1_700_000_000 * 1_000_000_000


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_segment(src, dst, sport, dport, seq, ack, flags, win, payload=b"", wscale=None,
                mss=None):
    opts = b""
    if mss is not None:
        opts += struct.pack("!BBH", 2, 4, mss)
    if wscale is not None:
        opts += struct.pack("!BBBB", 1, 3, 3, wscale)  # NOP + window scale
    opts += b"\x01" * (-len(opts) % 4)
    off = (20 + len(opts)) // 4
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, off << 4,
                      flags, win, 0, 0) + opts
    seg = hdr + payload
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 6, len(seg))
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", len(seg), 6)
    c = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def ipv4(src, dst, proto, payload, ttl=64, ident=1):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0x4000, ttl, proto, 0,
                      ipaddress.ip_address(src).packed, ipaddress.ip_address(dst).packed)
    c = csum(hdr)
    return hdr[:10] + struct.pack("!H", c) + hdr[12:] + payload


def ipv6(src, dst, nh, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), nh, 64,
                       ipaddress.ip_address(src).packed,
                       ipaddress.ip_address(dst).packed) + payload


def ether(payload, ethertype):
    return bytes.fromhex("020000000002020000000001") + struct.pack("!H", ethertype) + payload


def tcp_frame(src, dst, sport, dport, seq, ack, flags, win, payload=b"", **kw):
    seg = tcp_segment(src, dst, sport, dport, seq, ack, flags, win, payload, **kw)
    if ipaddress.ip_address(src).version == 4:
        return ether(ipv4(src, dst, 6, seg), 0x0800)
    return ether(ipv6(src, dst, 6, seg), 0x86DD)


def write_pcap(path, records, linktype=1):
    """records: (ts_ns, frame[, wirelen]). Nanosecond pcap."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, linktype))
        for r in records:
            ts, frame = r[0], r[1]
            wire = r[2] if len(r) > 2 else len(frame)
            f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(frame), wire))
            f.write(frame)


class Conv:
    """One TCP connection: frames in both directions with running times."""

    def __init__(self, cli, srv, cport, sport, t0=T0, step=10 * MS):
        self.cli, self.srv, self.cport, self.sport = cli, srv, cport, sport
        self.t = t0
        self.step = step
        self.frames = []

    def c(self, seq, ack, flags, win, n=0, **kw):
        return self._add(True, seq, ack, flags, win, n, **kw)

    def s(self, seq, ack, flags, win, n=0, **kw):
        return self._add(False, seq, ack, flags, win, n, **kw)

    def _add(self, from_client, seq, ack, flags, win, n, dt=None, **kw):
        self.t += self.step if dt is None else dt
        if from_client:
            fr = tcp_frame(self.cli, self.srv, self.cport, self.sport, seq, ack, flags, win,
                           bytes(n), **kw)
        else:
            fr = tcp_frame(self.srv, self.cli, self.sport, self.cport, seq, ack, flags, win,
                           bytes(n), **kw)
        self.frames.append((self.t, fr))
        return len(self.frames)


def scenario_loss():
    """Every sequence verdict and window event on one IPv4 connection with
    window scaling (shift 7 both ways). Returns (records, expect) where
    expect[frame] = {field: value}: None for absent, 1 for a boolean that is
    present; verdicts and decode errors by the core's labels. An event flag
    is present exactly on the frames that list it."""
    c = Conv("10.0.0.1", "10.0.0.2", 40000, 80)
    e = {}
    # 1: the client's SYN: first packet of the direction.
    e[c.c(1000, 0, SYN, 64240, mss=1460, wscale=7)] = {
        "tcpwm.verdict": "first", "tcpwm.conn.opened": 1}
    # 2: SYN-ACK: first of the other direction; SYNs are never window-analyzed.
    e[c.s(5000, 1001, SYN | ACK, 65160, mss=1460, wscale=7)] = {"tcpwm.verdict": "first"}
    # 3: the handshake's ACK: in order; window 512 << 7, scale known.
    e[c.c(1001, 5001, ACK, 512)] = {
        "tcpwm.verdict": "in_order", "tcpwm.window.size": 65536,
        "tcpwm.window.scale_known": 1, "tcpwm.window.scale": 7, "tcpwm.window.delta": 0}
    # 4: 100 bytes at next: in order.
    e[c.c(1001, 5001, ACK | PSH, 512, 100)] = {"tcpwm.verdict": "in_order"}
    # 5: jumps 100 bytes past next (1101): missing, gap 100, hole [1101, 1201).
    e[c.c(1201, 5001, ACK | PSH, 512, 100)] = {
        "tcpwm.verdict": "missing", "tcpwm.loss.missing": 1, "tcpwm.loss.gap_bytes": 100,
        "tcpwm.flow.missing": 1}
    # 6: the server ACKs 1101, below the hole's end: no capture gap.
    e[c.s(5001, 1101, ACK, 1000)] = {
        "tcpwm.verdict": "in_order", "tcpwm.window.size": 128000}
    # 7: 30 ms after the hole opened, the missing bytes: out-of-order fill.
    e[c.c(1101, 5001, ACK | PSH, 512, 100, dt=20 * MS)] = {
        "tcpwm.verdict": "out_of_order", "tcpwm.loss.out_of_order": 1,
        "tcpwm.loss.holes_filled": 1, "tcpwm.loss.fill_time": "0.030000000"}
    # 8: the same bytes again: duplicate.
    e[c.c(1101, 5001, ACK | PSH, 512, 100)] = {
        "tcpwm.verdict": "duplicate", "tcpwm.loss.duplicate": 1, "tcpwm.flow.duplicate": 1}
    # 9: seq = next - 1, no payload: keep-alive.
    e[c.c(1300, 5001, ACK, 512)] = {"tcpwm.verdict": "keepalive", "tcpwm.loss.keepalive": 1}
    # 10: another jump of 100: missing, hole [1301, 1401).
    e[c.c(1401, 5001, ACK | PSH, 512, 100)] = {
        "tcpwm.verdict": "missing", "tcpwm.loss.missing": 1, "tcpwm.loss.gap_bytes": 100,
        "tcpwm.flow.missing": 2}
    # 11: the server ACKs 1501: the hole [1301, 1401) was received but never
    # captured: a capture gap.
    e[c.s(5001, 1501, ACK, 1000)] = {
        "tcpwm.verdict": "in_order", "tcpwm.loss.capture_gap": 1,
        "tcpwm.loss.capture_gap_holes": 1, "tcpwm.window.delta": 0}
    # 12: the window halves: shrink, and the right edge moves left.
    e[c.s(5001, 1501, ACK, 500)] = {
        "tcpwm.window.shrink": 1, "tcpwm.window.right_edge_retreat": 1,
        "tcpwm.window.size": 64000, "tcpwm.window.delta": -64000}
    # 13: zero window (also a shrink and a retreat).
    e[c.s(5001, 1501, ACK, 0)] = {
        "tcpwm.window.zero_window": 1, "tcpwm.window.shrink": 1,
        "tcpwm.window.right_edge_retreat": 1, "tcpwm.window.size": 0}
    # 14: one byte at next into the zero window: zero-window probe.
    e[c.c(1501, 5001, ACK | PSH, 512, 1)] = {
        "tcpwm.verdict": "zero_window_probe", "tcpwm.loss.zero_window_probe": 1}
    # 15: the window opens again.
    e[c.s(5001, 1501, ACK, 1000)] = {"tcpwm.window.delta": 128000}
    # 16, 17: FIN both ways closes the connection; 18 the last ACK.
    e[c.c(1501, 5001, ACK | FIN, 512)] = {"tcpwm.verdict": "in_order"}
    e[c.s(5001, 1502, ACK | FIN, 1000)] = {"tcpwm.verdict": "in_order",
                                           "tcpwm.conn.closed": 1}
    e[c.c(1502, 5002, ACK, 512)] = {"tcpwm.verdict": "in_order",
                                    "tcpwm.flow.packets": 18}
    for f in e:  # private addresses: analyzed in scope all, never global
        e[f].setdefault("tcpwm.global", None)
    return c.frames, e


def icmp_error_quoting(tcp_ip_packet, src, dst):
    """ICMPv4 destination unreachable (port unreachable) quoting the IP
    header and the first 28 bytes of the packet that caused it."""
    quoted = tcp_ip_packet[:48]
    body = struct.pack("!BBHI", 3, 3, 0, 0) + quoted
    body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
    return ether(ipv4(src, dst, 1, body), 0x0800)


def scenario_outer_only():
    """TCP quoted in an ICMP error (never analyzed: it is a copy of a
    header, not a segment), and the same 4-tuple inside IP-in-IP and GRE
    (analyzed, each as a flow of its own: the encapsulation is part of the
    flow key, semantics.md 1 and 3). Wireshark dissects all three as TCP.
    The real connection around them must be unaffected: its frames stay in
    order. Returns (records, analyzed frames, not analyzed frames, frames
    that start a flow of their own)."""
    c = Conv("192.0.2.10", "198.51.100.20", 50000, 443)
    c.c(7000, 0, SYN, 64240, mss=1460, wscale=7)              # 1
    c.s(9000, 7001, SYN | ACK, 65160, mss=1460, wscale=7)     # 2
    c.c(7001, 9001, ACK, 512)                                 # 3
    c.c(7001, 9001, ACK | PSH, 512, 100)                      # 4
    # 5: an ICMP error quoting a segment of this flow whose sequence number
    # would be a jump (missing) if it were fed to the tracker.
    inner = ipv4("192.0.2.10", "198.51.100.20", 6,
                 tcp_segment("192.0.2.10", "198.51.100.20", 50000, 443, 90000, 9001, ACK, 512))
    c.t += 10 * MS
    c.frames.append((c.t, icmp_error_quoting(inner, "203.0.113.1", "192.0.2.10")))
    # 6: IP-in-IP (protocol 4) carrying a segment of the same 4-tuple.
    c.t += 10 * MS
    c.frames.append((c.t, ether(ipv4("10.9.9.1", "10.9.9.2", 4, inner), 0x0800)))
    # 7: GRE (protocol 47, ethertype IPv4) carrying it too.
    c.t += 10 * MS
    c.frames.append((c.t, ether(ipv4("10.9.9.1", "10.9.9.2", 47,
                                     struct.pack("!HH", 0, 0x0800) + inner), 0x0800)))
    c.c(7101, 9001, ACK | PSH, 512, 100)                      # 8: in order
    c.s(9001, 7201, ACK, 1000)                                # 9: in order
    return c.frames, [1, 2, 3, 4, 6, 7, 8, 9], [5], [6, 7]


def scenario_misc():
    """Scope, unknown scale, a decode error, the hole cap.
    Returns (records, expect) like scenario_loss (only listed fields)."""
    recs = []
    e = {}
    # A connection between two global addresses, seen mid-stream (no SYN):
    # global, and the window scale is unknown.
    g = Conv("8.8.4.4", "9.9.9.9", 1234, 443)
    g.c(100, 200, ACK, 1000)          # 1
    g.s(200, 100, ACK, 2000)          # 2
    recs += g.frames
    e[1] = {"tcpwm.global": 1, "tcpwm.window.scale_unknown": 1, "tcpwm.window.size": 1000,
            "tcpwm.verdict": "first", "tcpwm.window.scale_known": None,
            "tcpwm.conn.opened": 1}
    e[2] = {"tcpwm.global": 1, "tcpwm.window.scale_unknown": 1, "tcpwm.window.size": 2000}
    # 3: a frame cut inside the TCP header: decode error truncated_tcp.
    full = tcp_frame("10.1.1.1", "10.1.1.2", 5555, 80, 1, 1, ACK, 100)
    recs.append((g.t + MS, full[:14 + 20 + 10], len(full)))
    e[3] = {"tcpwm.decode_error": "truncated_tcp", "tcpwm.verdict": None}
    # A private connection with three holes in a row (max_holes tests).
    p = Conv("10.2.2.1", "10.2.2.2", 2222, 22, t0=g.t + 2 * MS)
    p.c(1, 0, SYN, 64240)             # 4
    p.c(2, 0, ACK, 100, 10)           # 5 in order
    p.c(22, 0, ACK, 100, 10)          # 6 missing (hole 1)
    p.c(42, 0, ACK, 100, 10)          # 7 missing (hole 2)
    p.c(62, 0, ACK, 100, 10)          # 8 missing (hole 3)
    recs += p.frames
    e[4] = {"tcpwm.global": None, "tcpwm.conn.opened": 1}
    e[6] = {"tcpwm.loss.missing": 1}
    e[7] = {"tcpwm.loss.missing": 1}
    e[8] = {"tcpwm.loss.missing": 1}
    return recs, e
