# SPDX-License-Identifier: MIT
"""Seed corpora for the fuzz harnesses, from captures (stdlib only).

    seeds.py pcapfile OUT SRC...   captures as they are, those above 16 KiB
                                   cut after the last whole record that fits
    seeds.py monitor OUT SRC...    captures rewritten in fuzz_monitor.c's
                                   input format, in chunks of <= 48 frames
    seeds.py topcap INPUT OUT      a fuzz_monitor input as a .pcap (to keep a
                                   crash as a regression capture), and the
                                   tcp_window_monitor flags matching its
                                   configuration byte

SRC may be files or directories (walked recursively; *.pcap, *.pcapng,
*.cap). Files that are not captures, or of a link type the monitor does not
read, are skipped. Prints how many seeds it wrote.
"""
import os
import struct
import sys

PCAP_LIMIT = 16 * 1024          # pcapfile seeds (run.sh sets -max_len to match)
CHUNK_FRAMES = 48               # monitor seeds
CHUNK_BYTES = 8 * 1024
CHUNKS_PER_CAPTURE = 6
FRAME_CUT = 160                 # bytes of each frame kept in monitor seeds
STEP_NS = 25_000_000            # fuzz_monitor.c's time unit
T0_NS = 1_700_000_000_000_000_000

# fuzz_monitor.c's `links` table: index -> libpcap DLT. And the capture-file
# LINKTYPE_ values that libpcap maps to each (LINKTYPE_RAW 101 -> DLT_RAW 12).
MONITOR_DLTS = [1, 12, 228, 229, 113, 276, 0, 108, 14, 101, 147]
LINKTYPE_TO_INDEX = {1: 0, 101: 1, 12: 1, 228: 2, 229: 3, 113: 4, 276: 5, 0: 6, 108: 7, 14: 8}
INDEX_TO_LINKTYPE = {0: 1, 1: 101, 2: 228, 3: 229, 4: 113, 5: 276, 6: 0, 7: 108, 8: 101,
                     9: 101, 10: 147}

EXTS = (".pcap", ".pcapng", ".cap")


def walk(srcs):
    for src in srcs:
        if os.path.isdir(src):
            for root, dirs, files in os.walk(src):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith(EXTS):
                        yield os.path.join(root, name)
        elif os.path.isfile(src):
            yield src


# ---- Reading captures -------------------------------------------------------

def read_pcap(data):
    """(linktype, [(ts_ns, frame, wirelen)], [record end offsets]) or None."""
    if len(data) < 24:
        return None
    magic = data[:4]
    for order, nano in (("<", False), (">", False), ("<", True), (">", True)):
        want = 0xA1B23C4D if nano else 0xA1B2C3D4
        if struct.unpack(order + "I", magic)[0] == want:
            break
    else:
        return None
    linktype = struct.unpack(order + "I", data[20:24])[0] & 0x0FFFFFFF
    recs, ends, at = [], [], 24
    while at + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(order + "IIII", data[at:at + 16])
        if at + 16 + incl > len(data):
            break
        frame = data[at + 16:at + 16 + incl]
        ts = sec * 10**9 + (frac if nano else frac * 1000)
        recs.append((ts, frame, orig))
        at += 16 + incl
        ends.append(at)
    return linktype, recs, ends


def pcapng_blocks(data):
    """(block type, body, start, end) of every whole block, or None."""
    if len(data) < 28 or struct.unpack("<I", data[:4])[0] != 0x0A0D0D0A:
        return None
    bom = data[8:12]
    if bom == b"\x4d\x3c\x2b\x1a":
        order = "<"
    elif bom == b"\x1a\x2b\x3c\x4d":
        order = ">"
    else:
        return None
    out, at = [], 0
    while at + 12 <= len(data):
        btype, blen = struct.unpack(order + "II", data[at:at + 8])
        if blen < 12 or blen % 4 or at + blen > len(data):
            break
        out.append((btype, data[at + 8:at + blen - 4], at, at + blen))
        at += blen
    return order, out


def read_pcapng(data):
    parsed = pcapng_blocks(data)
    if parsed is None:
        return None
    order, blocks = parsed
    linktype, recs, ends, ifaces = None, [], [], []
    for btype, body, _start, end in blocks:
        if btype == 1 and len(body) >= 8:  # interface description
            lt = struct.unpack(order + "H", body[:2])[0]
            ifaces.append(lt)
            if linktype is None:
                linktype = lt
        elif btype == 6 and len(body) >= 20:  # enhanced packet
            iface, hi, lo, incl, orig = struct.unpack(order + "IIIII", body[:20])
            if iface < len(ifaces) and ifaces[iface] == linktype:
                # Resolution assumed microseconds (the default); seeds only
                # need plausible steps.
                recs.append((((hi << 32) | lo) * 1000, body[20:20 + incl], orig))
                ends.append(end)
        elif btype == 3 and len(body) >= 4 and linktype is not None:  # simple packet
            orig = struct.unpack(order + "I", body[:4])[0]
            recs.append((recs[-1][0] if recs else 0, body[4:4 + orig], orig))
            ends.append(end)
    if linktype is None:
        return None
    return linktype, recs, ends


def read_capture(path):
    with open(path, "rb") as f:
        data = f.read()
    return data, read_pcap(data) or read_pcapng(data)


# ---- Seeds -------------------------------------------------------------------

def seed_pcapfile(out, srcs):
    n = 0
    for path in walk(srcs):
        data, parsed = read_capture(path)
        if parsed is None:
            continue
        if len(data) > PCAP_LIMIT:
            cut = 0
            first_end = parsed[2][0] if parsed[2] else None
            if first_end is None:
                continue
            # The header (and pcapng interface blocks) plus whole records.
            for end in parsed[2]:
                if end > PCAP_LIMIT:
                    break
                cut = end
            if cut == 0:
                continue
            data = data[:cut]
        name = os.path.basename(path).replace(os.sep, "_")
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
        n += 1
    return n


def monitor_input(index, config, recs):
    b = bytearray([index, config])
    prev = None
    for ts, frame, orig in recs:
        # -128 and 127 are jumps to the ends of time: not for seeds.
        step = 0 if prev is None else max(-127, min(126, round((ts - prev) / STEP_NS)))
        prev = ts
        frame = frame[:FRAME_CUT]
        extra = max(0, orig - len(frame))
        w = min(0xEF, (extra + 128) // 257)
        b += struct.pack("<bHB", step, len(frame), w) + frame
    return bytes(b)


def seed_monitor(out, srcs):
    n = 0
    for path in walk(srcs):
        _data, parsed = read_capture(path)
        if parsed is None or parsed[0] not in LINKTYPE_TO_INDEX:
            continue
        index = LINKTYPE_TO_INDEX[parsed[0]]
        recs = parsed[1]
        chunk, size, chunks = [], 0, 0
        base = os.path.basename(path)
        for rec in recs + [None]:
            full = rec is None or len(chunk) == CHUNK_FRAMES or size > CHUNK_BYTES
            if full and chunk:
                with open(os.path.join(out, f"{base}.{chunks}"), "wb") as f:
                    f.write(monitor_input(index, 0, chunk))
                n += 1
                chunks += 1
                chunk, size = [], 0
                if chunks == CHUNKS_PER_CAPTURE:
                    break
            if rec is not None:
                chunk.append(rec)
                size += min(len(rec[1]), FRAME_CUT) + 4
    return n


# ---- A monitor input as a capture ---------------------------------------------

def topcap(src, dst):
    with open(src, "rb") as f:
        data = f.read()
    if len(data) < 2:
        sys.exit("topcap: input shorter than 2 bytes: no frames")
    index = data[0] % len(MONITOR_DLTS)
    config = data[1]
    recs, ts, at = [], T0_NS, 2
    while len(data) - at >= 4:
        step, caplen, w = struct.unpack("<bHB", data[at:at + 4])
        at += 4
        if step in (-128, 127):
            sys.exit("topcap: a jump to the end of time has no pcap equivalent")
        ts += step * STEP_NS
        frame = data[at:at + caplen]
        at += len(frame)
        extra = w * 257 if w < 0xF0 else 1 << (w - 0xF0 + 17)
        recs.append((ts, frame, min(len(frame) + extra, 0xFFFFFFFF)))
    with open(dst, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144,
                            INDEX_TO_LINKTYPE[index]))
        for t, frame, orig in recs:
            sec, ns = divmod(t, 10**9)
            f.write(struct.pack("<IIII", sec & 0xFFFFFFFF, ns, len(frame), orig) + frame)
    flows = [64, 1, 3, 16][config & 3]
    holes = [4, 1, 2, 8][(config >> 2) & 3]
    scope = "global" if config & 0x40 else "all"
    idle = "300" if config & 0x80 else "2"
    print(f"{dst}: {len(recs)} frames; replay with: tcp_window_monitor -r {dst} "
          f"--scope {scope} --max-flows {flows} --max-holes {holes} --idle-timeout {idle}"
          f" (the hole pool cap {[16, 1, 4, 64][(config >> 4) & 3]} and the closed"
          f" linger are not command-line options)")


def main(argv):
    if len(argv) >= 3 and argv[0] == "topcap":
        topcap(argv[1], argv[2])
        return 0
    if len(argv) < 3 or argv[0] not in ("pcapfile", "monitor"):
        sys.stderr.write(__doc__)
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    n = (seed_pcapfile if argv[0] == "pcapfile" else seed_monitor)(out, argv[2:])
    print(f"seeds.py: {n} {argv[0]} seeds in {out}")
    return 0 if n > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
