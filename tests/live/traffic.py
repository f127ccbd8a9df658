# SPDX-License-Identifier: MIT
"""Real TCP traffic for the live tests and for the real captures of
tests/pcaps/real (scripts/capture-real.sh): Linux's own TCP stack driven by
plain sockets, run inside namespaces with `ip netns exec`.

    traffic.py sink  --bind ADDR --port P [--count N] [--ready FILE]
                     [--chunk B] [--delay S] [--pause-every B --pause S]
    traffic.py send  --host ADDR --port P --bytes N
    traffic.py serve --bind ADDR --port P --count N --bytes N [--ready FILE]
    traffic.py fetch --host ADDR --port P --count N [--workers W]
                     [--pool P [--base-port PORT]]
    traffic.py hold  --host ADDR --port P --count N --seconds S
    traffic.py flood --host ADDR --count N

sink reads connections to their end, CHUNK bytes a read, sleeping DELAY
after each read and PAUSE after each PAUSE_EVERY bytes (a slow reader: its
receive window fills, shrinks, closes); send writes BYTES and waits for the
peer's FIN; serve answers each request line with BYTES and closes first
(HTTP/1.0 style); fetch makes COUNT such requests from W workers, from
ephemeral ports or, with --pool, each worker from P fixed ports in turn
(4-tuples reused by new connections); hold opens COUNT connections and
keeps them silent for S seconds; flood sends COUNT bare SYN segments from
random ports to random ports (a raw socket, bad checksum: the receiver
drops them, a capture sees COUNT new flows). Every socket operation has a
timeout, so a broken network ends the run with an error instead of
hanging it.
"""
import argparse
import itertools
import random
import socket
import struct
import sys
import threading
import time


def ready(path):
    if path:
        open(path, "w").close()


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def listener(a, backlog):
    ls = socket.socket(family(a.bind), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family(a.bind) == socket.AF_INET6:
        ls.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    ls.bind((a.bind, a.port))
    ls.listen(backlog)
    ls.settimeout(a.timeout)
    ready(a.ready)
    return ls


def sink(a):
    ls = listener(a, 128)

    def drain(c):
        with c:
            c.settimeout(a.timeout)
            since_pause = 0
            while True:
                b = c.recv(a.chunk)
                if not b:
                    break
                if a.delay:
                    time.sleep(a.delay)
                since_pause += len(b)
                if a.pause_every and since_pause >= a.pause_every:
                    since_pause = 0
                    time.sleep(a.pause)

    threads = []
    for _ in range(a.count):
        c, _ = ls.accept()
        t = threading.Thread(target=drain, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def send(a):
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    s.sendall(bytes(a.bytes))
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()


def serve(a):
    ls = listener(a, 64)
    body = b"x" * a.bytes

    def one(c):
        with c:
            c.settimeout(a.timeout)
            req = b""
            while b"\r\n\r\n" not in req:
                b = c.recv(4096)
                if not b:
                    return
                req += b
            c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)

    threads = []
    for _ in range(a.count):
        c, _ = ls.accept()
        t = threading.Thread(target=one, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def connect_pooled(a, ports, deadline):
    """A connection from the next port of the iterator ports. A port whose
    previous connection is not gone yet (TIME_WAIT is fine with
    SO_REUSEADDR, LAST_ACK after a lost ACK is not) is skipped for the
    next one, until the deadline."""
    for port in ports:
        s = socket.socket(family(a.host), socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.settimeout(a.timeout)
        try:
            s.bind(("", port))
            s.connect((a.host, a.port))
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    raise OSError("no port to connect from")


def fetch(a):
    per, rest = divmod(a.count, a.workers)
    failures = []

    def worker(w, n):
        first = a.base_port + w * a.pool
        ports = itertools.cycle(range(first, first + a.pool))
        deadline = time.monotonic() + 4 * a.timeout
        try:
            for i in range(n):
                if a.pool:
                    s = connect_pooled(a, ports, deadline)
                else:
                    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
                with s:
                    s.sendall(b"GET /%d HTTP/1.0\r\nHost: b\r\n\r\n" % i)
                    while s.recv(65536):
                        pass
        except OSError as e:
            failures.append(e)

    threads = [threading.Thread(target=worker, args=(w, per + (w < rest)))
               for w in range(a.workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        sys.exit(f"fetch: {failures[0]}")


def hold(a):
    conns = [socket.create_connection((a.host, a.port), timeout=a.timeout)
             for _ in range(a.count)]
    print("held", flush=True)
    time.sleep(a.seconds)
    for c in conns:
        c.close()


def flood(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    rnd = random.Random(1)
    for _ in range(a.count):
        sport, dport = rnd.randrange(1024, 65536), rnd.randrange(1, 65536)
        seq = rnd.randrange(1 << 32)
        # TCP header: ports, seq, ack 0, data offset 5, SYN, window, checksum 0.
        hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, 0x02, 65535, 0, 0)
        s.sendto(hdr, (a.host, 0))
    s.close()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("sink", "serve"):
        q = sub.add_parser(name)
        q.add_argument("--bind", required=True)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--count", type=int, default=1)
        q.add_argument("--bytes", type=int, default=0)
        q.add_argument("--ready")
        q.add_argument("--timeout", type=float, default=30)
        if name == "sink":
            q.add_argument("--chunk", type=int, default=65536)
            q.add_argument("--delay", type=float, default=0.0)
            q.add_argument("--pause-every", type=int, default=0)
            q.add_argument("--pause", type=float, default=0.0)
    for name in ("send", "fetch"):
        q = sub.add_parser(name)
        q.add_argument("--host", required=True)
        q.add_argument("--port", type=int, required=True)
        q.add_argument("--bytes", type=int, default=0)
        q.add_argument("--count", type=int, default=1)
        q.add_argument("--workers", type=int, default=1)
        q.add_argument("--timeout", type=float, default=30)
        if name == "fetch":
            q.add_argument("--pool", type=int, default=0)
            q.add_argument("--base-port", type=int, default=40000)
    q = sub.add_parser("hold")
    q.add_argument("--host", required=True)
    q.add_argument("--port", type=int, required=True)
    q.add_argument("--count", type=int, default=1)
    q.add_argument("--seconds", type=float, default=1)
    q.add_argument("--timeout", type=float, default=30)
    q = sub.add_parser("flood")
    q.add_argument("--host", required=True)
    q.add_argument("--count", type=int, default=1)
    a = p.parse_args()
    {"sink": sink, "send": send, "serve": serve, "fetch": fetch, "hold": hold,
     "flood": flood}[a.cmd](a)


if __name__ == "__main__":
    main()
