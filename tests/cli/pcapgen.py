# SPDX-License-Identifier: MIT
"""A tiny writer of crafted captures for the CLI tests (stdlib only).

Frames are Ethernet (optionally 802.1Q-tagged) + IPv4/IPv6 + TCP, no
checksums (nothing here checks them). Timestamps are integer nanoseconds.
"""
import ipaddress
import struct

LINKTYPE_ETHERNET = 1

SYN, ACK, FIN, RST, PSH = 0x02, 0x10, 0x01, 0x04, 0x08


def tcp_frame(src, dst, sport, dport, seq, ack, flags, win=65535, payload=0, vlan=None):
    """One Ethernet frame carrying a TCP segment with `payload` zero bytes."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, win, 0, 0) + bytes(payload)
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0,
                         s.packed, d.packed) + tcp
        ethertype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, s.packed, d.packed) + tcp
        ethertype = 0x86DD
    eth = bytes.fromhex("020000000002" "020000000001")
    if vlan is not None:
        eth += struct.pack("!HH", 0x8100, vlan)
    return eth + struct.pack("!H", ethertype) + ip


def write_pcap(path, records, linktype=LINKTYPE_ETHERNET, order="<", nano=True,
               snaplen=262144):
    """records: (ts_ns, frame) pairs. Classic pcap, by default little-endian
    with nanosecond resolution; order ">" writes big-endian, nano=False
    microseconds (timestamps truncated)."""
    with open(path, "wb") as f:
        f.write(struct.pack(order + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0,
                            snaplen, linktype))
        for ts, frame in records:
            frac = ts % 10**9 if nano else ts % 10**9 // 1000
            f.write(struct.pack(order + "IIII", ts // 10**9, frac, len(frame), len(frame)))
            f.write(frame)


def _block(btype, body):
    body += bytes(-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, records, linktype=LINKTYPE_ETHERNET):
    """The same as write_pcap, as pcapng (one interface, if_tsresol 10^-9)."""
    with open(path, "wb") as f:
        f.write(_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        tsresol = struct.pack("<HHB3x", 9, 1, 9) + struct.pack("<HH", 0, 0)
        f.write(_block(1, struct.pack("<HHI", linktype, 0, 262144) + tsresol))
        for ts, frame in records:
            hdr = struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), len(frame))
            f.write(_block(6, hdr + frame))


def conversation(cli, srv, cport, sport, t0, segments, drop=(), mss=1000, step=100_000_000,
                 vlan=None):
    """A handshake, then `segments` data segments from cli to srv, `step` ns
    apart, leaving out the segments whose index is in `drop` (each drop
    makes one missing event). The server only ACKs the handshake, so no
    hole is ever acknowledged (no capture gap)."""
    cs, ss = 1000, 5000
    t = t0
    out = []

    def add(src, dst, sp, dp, seq, ack, flags, payload=0):
        nonlocal t
        out.append((t, tcp_frame(src, dst, sp, dp, seq, ack, flags, payload=payload, vlan=vlan)))
        t += step

    add(cli, srv, cport, sport, cs, 0, SYN)
    add(srv, cli, sport, cport, ss, cs + 1, SYN | ACK)
    add(cli, srv, cport, sport, cs + 1, ss + 1, ACK)
    for i in range(segments):
        if i in drop:
            t += step
            continue
        add(cli, srv, cport, sport, cs + 1 + i * mss, ss + 1, ACK | PSH, payload=mss)
    return out
