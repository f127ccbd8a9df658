#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""encap-wrap.py - wrap every packet of a real capture in a tunnel or label
encapsulation, for the tunnel tests of tests/pcaps/encap/.

    encap-wrap.py IN.pcap OUT.pcap ENCAP [ENCAP...]
    encap-wrap.py --list

The kernels here have no gre, ip6gre, erspan, geneve, ipip, sit or ip6tnl
drivers, so those encapsulations cannot be recorded for real (vxlan can:
scripts/capture-real.sh). This tool takes traffic that *was* recorded for
real (tests/pcaps/real/) and puts each packet, unchanged, inside the
headers a tunnel endpoint or a mirroring switch would add, every field as
its specification lays it out. Several ENCAPs nest, innermost first:
`gre geneve4` is GRE inside Geneve.

Input: classic pcap (microsecond or nanosecond, either byte order) of link
type Ethernet (1), raw IP (101, 228 IPv4, 229 IPv6), Linux cooked SLL (113)
or SLL2 (276). Output: classic pcap, Ethernet, same timestamps and
timestamp resolution, one output packet per input packet, in order.

Lengths: every outer length field (IPv4 total length, IPv6 payload length,
UDP length) counts the *original* length of the inner packet, so a capture
cut by a snap length stays a capture cut by a snap length: the output
keeps the captured bytes of the inner packet and records the original
length plus the added headers.

Checksums: outer IPv4 header checksums (RFC 791) are always computed. The
UDP checksum is 0 over IPv4 (RFC 768 "no checksum"; RFC 7348 and RFC 8926
allow it for VXLAN and Geneve) and computed over IPv6, as RFC 8200 section
8.1 requires (not the RFC 6935/6936 zero-checksum exception, which needs
both tunnel ends configured for it). The GRE checksum (RFC 2784 section
2.5, optional, `gre-csum`) is computed. Both sums cover bytes the capture
may not hold: they are computed with the missing bytes taken as zeros,
which is exact for fully captured packets and for the payloads of
tests/live/traffic.py (it sends zero bytes), the only ones cut short in
tests/pcaps/real/; a zero byte adds nothing to a ones' complement sum.

Addresses: documentation ranges (192.0.2.0/24 RFC 5737, 2001:db8::/32 RFC
3849) and locally administered MACs. A point-to-point tunnel (GRE, IP in
IP, Geneve, MPLS) swaps its outer addresses and MACs with the direction of
the inner packet (the first packet between two inner hosts sets the
forward direction), as two real tunnel endpoints do; an ERSPAN session
carries both directions of a mirrored port from one switch to one
collector, so its outer addresses never change. Keys, VNIs, sessions and
labels are the same both ways. Counters (GRE and ERSPAN sequence numbers,
IPv4 identification, pseudowire sequence numbers) run per tunnel
direction; UDP source ports and IPv6 flow labels are a CRC-32 of the inner
flow (RFC 7348 / RFC 8926 entropy, RFC 6438). Nothing is random: the same
input always gives the same bytes.
"""
import struct
import sys
import zlib

# ------------------------------------------------------------------ pcap I/O

LINKTYPE_ETHERNET = 1
RAW_LINKTYPES = {101, 12, 14}   # LINKTYPE_RAW and the DLT_RAW values some systems store
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_SLL = 113
LINKTYPE_SLL2 = 276

ETH_IPV4, ETH_IPV6, ETH_VLAN, ETH_QINQ = 0x0800, 0x86DD, 0x8100, 0x88A8
ETH_MPLS, ETH_TEB = 0x8847, 0x6558


def read_pcap(path):
    """(magic, linktype, snaplen, [(sec, frac, data, orig_len)])."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 24:
        sys.exit(f"{path}: not a classic pcap file")
    for order in ("<", ">"):
        magic = struct.unpack(order + "I", raw[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            break
    else:
        sys.exit(f"{path}: not a classic pcap file (pcapng? convert with editcap -F pcap)")
    _, _, _, _, snaplen, linktype = struct.unpack(order + "HHiIII", raw[4:24])
    linktype &= 0xFFFF  # the upper bits hold FCS flags
    packets, off = [], 24
    while off + 16 <= len(raw):
        sec, frac, incl, orig = struct.unpack(order + "IIII", raw[off:off + 16])
        off += 16
        if off + incl > len(raw):
            sys.exit(f"{path}: truncated record at byte {off - 16}")
        packets.append((sec, frac, raw[off:off + incl], orig))
        off += incl
    return magic, linktype, snaplen, packets


def write_pcap(path, magic, snaplen, packets):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", magic, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))
        for sec, frac, data, orig in packets:
            f.write(struct.pack("<IIII", sec, frac, len(data), orig))
            f.write(data)


# ------------------------------------------------------------- the packets

class Pkt:
    """One packet being wrapped: kind 'eth', 'ip4' or 'ip6'; data are the
    captured bytes, length the original length (>= len(data))."""

    def __init__(self, kind, data, length, ts):
        self.kind, self.data, self.length, self.ts = kind, data, length, ts
        self.outer_rev = None  # direction of the outermost IP header so far

    def prepend(self, kind, header):
        self.kind = kind
        self.data = header + self.data
        self.length += len(header)


def ip_kind(data):
    if data and data[0] >> 4 == 4:
        return "ip4"
    if data and data[0] >> 4 == 6:
        return "ip6"
    return None


def from_link(linktype, data, orig, ts):
    """The input frame as a Pkt, or None for a frame that is not IP."""
    if linktype == LINKTYPE_ETHERNET:
        return Pkt("eth", data, orig, ts)
    if linktype in RAW_LINKTYPES or linktype in (LINKTYPE_IPV4, LINKTYPE_IPV6):
        k = ip_kind(data)
        return Pkt(k, data, orig, ts) if k else None
    if linktype in (LINKTYPE_SLL, LINKTYPE_SLL2):
        hl = 16 if linktype == LINKTYPE_SLL else 20
        if len(data) < hl:
            return None
        proto = struct.unpack_from("!H", data, 14 if linktype == LINKTYPE_SLL else 0)[0]
        if proto not in (ETH_IPV4, ETH_IPV6):
            return None
        return Pkt("ip4" if proto == ETH_IPV4 else "ip6", data[hl:], orig - hl, ts)
    sys.exit(f"link type {linktype} is not supported")


def eth_payload(p):
    """Offset of the payload in an Ethernet frame and its EtherType,
    behind any 802.1Q / 802.1ad tags."""
    off = 12
    while off + 2 <= len(p.data):
        et = struct.unpack_from("!H", p.data, off)[0]
        if et in (ETH_VLAN, ETH_QINQ):
            off += 4
            continue
        return off + 2, et
    return None, None


def endpoints(p):
    """(src, dst) of the IP packet inside p, bytes; None if not IP."""
    data, kind = p.data, p.kind
    if kind == "eth":
        off, et = eth_payload(p)
        if et not in (ETH_IPV4, ETH_IPV6):
            return (data[6:12], data[0:6]) if len(data) >= 12 else None
        data, kind = data[off:], "ip4" if et == ETH_IPV4 else "ip6"
    if kind == "ip4" and len(data) >= 20:
        return data[12:16], data[16:20]
    if kind == "ip6" and len(data) >= 40:
        return data[8:24], data[24:40]
    return None


def flow_key(p):
    """The invariant part of the inner flow (protocol, addresses, ports)
    of a packet not yet wrapped by the current layer."""
    data, kind = p.data, p.kind
    if kind == "eth":
        off, et = eth_payload(p)
        if et not in (ETH_IPV4, ETH_IPV6):
            return data[:12]
        data, kind = data[off:], "ip4" if et == ETH_IPV4 else "ip6"
    if kind == "ip4" and len(data) >= 20:
        ihl = (data[0] & 0x0F) * 4
        return data[9:10] + data[12:20] + data[ihl:ihl + 4]
    if kind == "ip6" and len(data) >= 40:
        return data[6:7] + data[8:40] + data[40:44]
    return data[:20]


class Directions:
    """Forward or reverse for each packet: the first packet between two
    inner endpoints is forward, and so is every later one going the same
    way."""

    def __init__(self):
        self.forward = {}

    def reverse(self, p):
        ep = endpoints(p)
        if ep is None:
            return False
        src, dst = ep
        key = (min(src, dst), max(src, dst))
        first = self.forward.setdefault(key, src)
        return src != first


# ------------------------------------------------------------- checksums

def ones_sum(data, acc=0):
    if len(data) % 2:
        data += b"\0"
    acc += sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while acc >> 16:
        acc = (acc & 0xFFFF) + (acc >> 16)
    return acc


def checksum(data, acc=0):
    """RFC 1071 Internet checksum; bytes the capture does not hold are
    zeros, and a zero adds nothing (see the module comment)."""
    return ~ones_sum(data, acc) & 0xFFFF


# -------------------------------------------------------------- the headers

MAC_A, MAC_B = bytes.fromhex("02770000000a"), bytes.fromhex("02770000000b")
V4_A, V4_B = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2])
V4_COLLECTOR = bytes([192, 0, 2, 200])
V6_A = bytes.fromhex("20010db8000000000000000000000001")
V6_B = bytes.fromhex("20010db8000000000000000000000002")
INNER_MAC_A, INNER_MAC_B = bytes.fromhex("02770000010a"), bytes.fromhex("02770000010b")


class Wrapper:
    """Per-run state: directions, counters."""

    def __init__(self):
        self.dirs = Directions()
        self.counters = {}

    def next(self, name, rev, start=0, modulo=1 << 32, skip_zero=False):
        key = (name, rev)
        v = self.counters.get(key, start)
        nxt = (v + 1) % modulo
        if skip_zero and nxt == 0:
            nxt = 1
        self.counters[key] = nxt
        return v

    # -- conversions between kinds

    def to_ip(self, p):
        if p.kind == "eth":
            off, et = eth_payload(p)
            if et not in (ETH_IPV4, ETH_IPV6):
                return False
            p.data, p.length = p.data[off:], p.length - off
            p.kind = "ip4" if et == ETH_IPV4 else "ip6"
        return True

    def to_eth(self, p, rev):
        if p.kind != "eth":
            # The inner frame of a layer-2 tunnel or mirror: hosts' MACs.
            src, dst = (INNER_MAC_B, INNER_MAC_A) if rev else (INNER_MAC_A, INNER_MAC_B)
            et = ETH_IPV4 if p.kind == "ip4" else ETH_IPV6
            p.prepend("eth", dst + src + struct.pack("!H", et))
        return True

    # -- outer network headers

    def ipv4(self, p, proto, rev, src=None, dst=None):
        """RFC 791 header, no options, DF set (the outer packet is never
        fragmented), TTL 64, identification counted per direction."""
        if src is None:
            src, dst = (V4_B, V4_A) if rev else (V4_A, V4_B)
        ident = self.next("ipid", rev, start=1, modulo=1 << 16)
        total = 20 + p.length
        if total > 0xFFFF:
            sys.exit("packet too long for an IPv4 outer header")
        hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident, 0x4000, 64, proto, 0,
                          src, dst)
        hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
        p.prepend("ip4", hdr)
        p.outer_rev = src == V4_B

    def ipv6(self, p, nxt, rev, flow):
        """RFC 8200 header: traffic class 0, flow label from the inner flow
        (RFC 6438), hop limit 64."""
        src, dst = (V6_B, V6_A) if rev else (V6_A, V6_B)
        hdr = struct.pack("!IHBB16s16s", (6 << 28) | (flow & 0xFFFFF), p.length, nxt, 64,
                          src, dst)
        p.prepend("ip6", hdr)
        p.outer_rev = rev

    def udp(self, p, sport, dport, outer, rev):
        """UDP (RFC 768) then the outer IP header. Over IPv4 the checksum
        is 0 ("none"); over IPv6 it is computed with the RFC 8200 section
        8.1 pseudo-header, and a result of 0 is sent as 0xFFFF."""
        length = 8 + p.length
        hdr = struct.pack("!HHHH", sport, dport, length, 0)
        if outer == 6:
            src, dst = (V6_B, V6_A) if rev else (V6_A, V6_B)
            pseudo = src + dst + struct.pack("!IxxxB", length, 17)
            c = checksum(hdr + p.data, ones_sum(pseudo)) or 0xFFFF
            hdr = hdr[:6] + struct.pack("!H", c)
        p.prepend(p.kind, hdr)
        if outer == 6:
            self.ipv6(p, 17, rev, flow=sport)
        else:
            self.ipv4(p, 17, rev)

    # -- encapsulations

    def gre(self, p, rev, key=None, seq=False, csum=False, proto=None):
        """RFC 2784 GRE with the RFC 2890 Key and Sequence Number fields:
        C (checksum present), K, S flags, version 0, Protocol Type; then
        Checksum + Reserved1 (C), Key (K), Sequence Number (S), in that
        order. The checksum covers the GRE header and the whole payload."""
        if proto is None:
            proto = {"ip4": ETH_IPV4, "ip6": ETH_IPV6, "eth": ETH_TEB}[p.kind]
        flags = (0x8000 if csum else 0) | (0x2000 if key is not None else 0) | \
                (0x1000 if seq else 0)
        hdr = struct.pack("!HH", flags, proto)
        if csum:
            hdr += b"\0\0\0\0"
        if key is not None:
            hdr += struct.pack("!I", key)
        if seq:
            hdr += struct.pack("!I", self.next(("gre", key, proto), rev))
        if csum:
            c = checksum(hdr + p.data)
            hdr = hdr[:4] + struct.pack("!H", c) + hdr[6:]
        p.prepend(p.kind, hdr)

    def erspan2(self, p, rev, session=7, vlan=100, cos=0, en=2, index=0x1234):
        """ERSPAN type II (draft-foschiano-erspan-03 section 4.1) in GRE
        0x88BE with only the S flag and a per-session sequence number:
        Ver 1 | VLAN (12) | COS (3) | En (2) | T (1) | Session ID (10),
        Reserved (12) | Index (20). En 2 with VLAN 100: the frame came from
        an 802.1Q trunk on VLAN 100 and its tag was removed; T 0: not
        truncated by the switch."""
        self.to_eth(p, rev)
        hdr = struct.pack("!HH", (1 << 12) | vlan,
                          (cos << 13) | (en << 11) | (0 << 10) | session)
        hdr += struct.pack("!I", index & 0xFFFFF)
        p.prepend("eth", hdr)
        self.erspan_gre(p, 0x88BE)

    def erspan3(self, p, rev, subheader=False, session=9, vlan=100, cos=0):
        """ERSPAN type III (draft-foschiano-erspan-03 section 4.2) in GRE
        0x22EB: Ver 2 | VLAN | COS | BSO (2) | T | Session ID, Timestamp
        (32), SGT (16) | P (1) | FT (5) | Hw ID (6) | D (1) | Gra (2) | O (1).
        P 1, FT 0: an Ethernet frame. D: 0 ingress (forward packets), 1
        egress (reverse). Without the subheader the timestamp counts 100 ns
        units (Gra 01) of the capture time, modulo 2^32. With it (O 1,
        `erspan3-sub`) Gra is 10 (IEEE 1588): the header holds the
        nanoseconds and the 8-byte platform-specific subheader, Platf ID 3,
        holds Reserved (10) | Port ID/Index (16) and the upper 32 bits of
        the timestamp, the seconds."""
        self.to_eth(p, rev)
        sec, nsec = p.ts
        if subheader:
            gra, ts = 2, nsec
        else:
            gra, ts = 1, (sec * 10_000_000 + nsec // 100) & 0xFFFFFFFF
        sgt, hwid = 0x0042, 5
        word3 = (sgt << 16) | (1 << 15) | (0 << 10) | (hwid << 4) | \
                ((1 if rev else 0) << 3) | (gra << 1) | (1 if subheader else 0)
        hdr = struct.pack("!HHII", (2 << 12) | vlan, (cos << 13) | (0 << 11) | session,
                          ts, word3)
        if subheader:
            port_index = 0x0101
            hdr += struct.pack("!II", (3 << 26) | port_index, sec & 0xFFFFFFFF)
        p.prepend("eth", hdr)
        self.erspan_gre(p, 0x22EB)

    def erspan_gre(self, p, proto):
        # One session, one direction: switch to collector, whatever the
        # direction of the mirrored frame; its own sequence counter.
        self.gre(p, False, seq=True, proto=proto)
        self.ipv4(p, 47, False, src=V4_A, dst=V4_COLLECTOR)

    def geneve(self, p, rev, outer, options, vni=0x0A0B0C):
        """RFC 8926 section 3.4: Ver 0 | Opt Len (6, 4-byte words) | O | C |
        Rsvd (6) | Protocol Type, VNI (24) | Reserved (8), options. Each
        option (section 3.5): Option Class | Type (high bit: critical) |
        R (3) | Length (5, 4-byte words of data) | data. The classes are
        from the experimental range 0xFFF0-0xFFFF (section 7.2), the types
        non-critical, so C is 0. UDP destination port 6081."""
        proto = {"ip4": ETH_IPV4, "ip6": ETH_IPV6, "eth": ETH_TEB}[p.kind]
        opts = b""
        for cls, typ, data in options:
            assert len(data) % 4 == 0 and typ < 0x80
            opts += struct.pack("!HBB", cls, typ, len(data) // 4) + data
        hdr = struct.pack("!BBHI", len(opts) // 4, 0, proto, vni << 8) + opts
        sport = 49152 + zlib.crc32(flow_key(p)) % 16384
        p.prepend(p.kind, hdr)
        self.udp(p, sport, 6081, outer, rev)

    def mpls(self, p, rev, labels=(1001, 2002), tc=0, ttl=64, control_word=False):
        """RFC 3032 label stack entries: Label (20) | TC (3, RFC 5462) | S
        (1, bottom of stack) | TTL (8), S set on the last. With
        control_word: an Ethernet pseudowire (RFC 4448) with the control
        word of RFC 4448 section 4.6 / RFC 4385: 0000 | Reserved (12) |
        Sequence Number (16), counted 1..65535 per direction, never 0
        (0 would mean "not used"). Then the outer Ethernet header, EtherType
        0x8847."""
        if control_word:
            self.to_eth(p, rev)
            seqno = self.next("pw", rev, start=1, modulo=1 << 16, skip_zero=True)
            p.prepend("eth", struct.pack("!I", seqno))
        elif not self.to_ip(p):
            return False
        stack = b""
        for i, label in enumerate(labels):
            bos = 1 if i == len(labels) - 1 else 0
            stack += struct.pack("!I", (label << 12) | (tc << 9) | (bos << 8) | ttl)
        src, dst = (MAC_B, MAC_A) if rev else (MAC_A, MAC_B)
        p.prepend("mpls", dst + src + struct.pack("!H", ETH_MPLS) + stack)
        return True


# Each encapsulation: what it wraps ('ip', 'eth' or 'any') and how.
def _gre(csum=False, outer=4, key=0x00001234, eth=False):
    def f(w, p, rev):
        if eth:
            w.to_eth(p, rev)
        elif not w.to_ip(p):
            return False
        flow = zlib.crc32(flow_key(p))
        w.gre(p, rev, key=key, seq=True, csum=csum)
        if outer == 6:
            w.ipv6(p, 47, rev, flow=flow)
        else:
            w.ipv4(p, 47, rev)
        return True
    return f


def _ipip(outer):
    def f(w, p, rev):
        if not w.to_ip(p):
            return False
        proto = 4 if p.kind == "ip4" else 41
        if outer == 6:
            w.ipv6(p, proto, rev, flow=zlib.crc32(flow_key(p)))  # p is still the inner packet
        else:
            w.ipv4(p, proto, rev)
        return True
    return f


def _geneve(outer, options, eth):
    def f(w, p, rev):
        if eth:
            w.to_eth(p, rev)
        elif not w.to_ip(p):
            return False
        w.geneve(p, rev, outer, options)
        return True
    return f


def _simple(method, **kw):
    def f(w, p, rev):
        r = getattr(w, method)(p, rev, **kw)
        return True if r is None else r
    return f


ENCAPS = {
    "gre": ("IPv4 / GRE with key 0x1234 and sequence numbers (RFC 2784, 2890) / IP",
            _gre()),
    "gre-csum": ("IPv4 / GRE with checksum, key and sequence numbers / IP", _gre(csum=True)),
    "gre6": ("IPv6 / GRE with key and sequence numbers / IP", _gre(outer=6)),
    "gre-eth": ("IPv4 / GRE key + sequence, transparent Ethernet bridging 0x6558 / Ethernet",
                _gre(eth=True)),
    "erspan2": ("IPv4 / GRE 0x88BE (sequence) / ERSPAN type II / Ethernet",
                _simple("erspan2")),
    "erspan3": ("IPv4 / GRE 0x22EB (sequence) / ERSPAN type III, 12 bytes / Ethernet",
                _simple("erspan3")),
    "erspan3-sub": ("IPv4 / GRE 0x22EB / ERSPAN type III + platform subheader 3 / Ethernet",
                    _simple("erspan3", subheader=True)),
    "ipip4": ("IPv4 outer, protocol 4 (IPv4 in IPv4) or 41 (6in4) / IP", _ipip(4)),
    "ipip6": ("IPv6 outer, next header 4 (4in6) or 41 (IPv6 in IPv6) / IP", _ipip(6)),
    "geneve4": ("IPv4 / UDP 6081 (checksum 0) / Geneve, one option / Ethernet",
                _geneve(4, [(0xFFF0, 0x01, bytes.fromhex("0000abcd"))], eth=True)),
    "geneve6": ("IPv6 / UDP 6081 (checksum) / Geneve, two options / IP",
                _geneve(6, [(0xFFF0, 0x01, bytes.fromhex("0000abcd")),
                            (0xFFF1, 0x02, bytes.fromhex("0123456789abcdef"))], eth=False)),
    "mpls": ("Ethernet 0x8847 / MPLS labels 1001, 2002 / IP", _simple("mpls")),
    "mpls-pw": ("Ethernet 0x8847 / MPLS labels 1001, 2002 / PW control word / Ethernet",
                _simple("mpls", control_word=True)),
}


def main(argv):
    if argv[1:2] == ["--list"]:
        for name, (text, _) in ENCAPS.items():
            print(f"{name:12} {text}")
        return 0
    if len(argv) < 4:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, dst, names = argv[1], argv[2], argv[3:]
    for n in names:
        if n not in ENCAPS:
            sys.exit(f"unknown encapsulation {n} (see --list)")
    magic, linktype, snaplen, packets = read_pcap(src)
    nano = magic == 0xA1B23C4D
    w = Wrapper()
    out, skipped, grow = [], 0, 0
    for sec, frac, data, orig in packets:
        p = from_link(linktype, data, orig, (sec, frac if nano else frac * 1000))
        if p is None:
            skipped += 1
            continue
        # The direction is decided once, on the original packet, so every
        # layer of a nested wrap agrees.
        rev = w.dirs.reverse(p)
        ok = True
        for n in names:
            if p.kind == "mpls":
                sys.exit(f"{n}: cannot wrap an MPLS frame; put mpls outermost")
            if not ENCAPS[n][1](w, p, rev):
                ok = False
                break
        if not ok:
            skipped += 1
            continue
        if p.kind in ("ip4", "ip6"):
            # The link header follows the outermost IP header: fixed for an
            # ERSPAN session, swapped with the direction for a tunnel.
            a, b = (MAC_B, MAC_A) if p.outer_rev else (MAC_A, MAC_B)
            p.prepend("eth", b + a + struct.pack("!H", ETH_IPV4 if p.kind == "ip4" else ETH_IPV6))
        grow = max(grow, len(p.data) - len(data))
        out.append((sec, frac, p.data, p.length))
    write_pcap(dst, 0xA1B23C4D if nano else 0xA1B2C3D4, snaplen + grow, out)
    print(f"{dst}: {len(out)} packets ({' in '.join(names)}), "
          f"{skipped} skipped (not IP)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
