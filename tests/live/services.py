# SPDX-License-Identifier: MIT
"""The programs of the live tests, driven from Python: tcp_window_monitor
in live mode, tcpdump beside it, and a real Prometheus server scraping it.
HTTP requests go out from the test driver, which has entered the
namespace the servers run in (netlab.Lab.enter)."""
import http.client
import json
import os
import re
import socket
import struct
import urllib.parse

from netlab import Abort

# The exporter's own families; everything else comes from the core and
# must agree with an offline replay of the same packets.
SELF_METRICS = ("tcp_monitor_build_info", "tcp_monitor_scrapes_total",
                "tcp_monitor_capture_dropped_total",
                "tcp_monitor_capture_interface_dropped_total",
                "tcp_monitor_capture_write_errors_total")

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
OPENMETRICS_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                      "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


def parse_metrics(text):
    """{"name{labels}": value} of every sample of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$", line)
        if m is None:
            raise Abort(f"unreadable sample line {line!r}")
        out[m.group(1)] = float(m.group(2))
    return out


def core_only(samples):
    return {k: v for k, v in samples.items() if not k.startswith(SELF_METRICS)}


def pcap_frames(path):
    """The frames of a classic pcap file (as tcpdump and pcap_dump write
    them, either byte order, micro- or nanosecond), bytes only."""
    return [frame for _, frame in pcap_records(path)]


def pcap_records(path):
    """(capture time in nanoseconds, frame bytes) of each record of a
    classic pcap file, either byte order, micro- or nanosecond."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise Abort(f"{path}: {len(data)} bytes, not a pcap file")
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        order = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        order = ">"
    else:
        raise Abort(f"{path}: bad pcap magic {magic.hex()}")
    # The second magic of each pair is the nanosecond variant.
    unit = 1 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1000
    records, at = [], 24
    while at + 16 <= len(data):
        sec, frac, caplen = struct.unpack_from(order + "III", data, at)
        at += 16
        if at + caplen > len(data):
            raise Abort(f"{path}: truncated record at offset {at - 16}")
        records.append((sec * 1_000_000_000 + frac * unit, data[at:at + caplen]))
        at += caplen
    if at != len(data):
        raise Abort(f"{path}: {len(data) - at} stray bytes at the end")
    return records


def free_port():
    """A free TCP port on 127.0.0.1 of the namespace we are in."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(host, port, path, headers=None, method="GET", body=None, timeout=10):
    """(status, {lower-case header: value}, body bytes)."""
    c = http.client.HTTPConnection(host.strip("[]"), port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


class Monitor:
    """tcp_window_monitor -i ... running in a namespace."""

    def __init__(self, lab, short, binary, args, name="monitor", env=None):
        self.lab = lab
        self.name = name
        self.p = lab.spawn(short, [binary, *args], name, env=env)
        m = lab.wait_for("the monitor's start-up line", self._started, timeout=20)
        self.host, self.port, self.path = m.group(1), int(m.group(2)), m.group(3)

    def _started(self):
        err = self.stderr()
        if self.p.poll() is not None:
            raise Abort(f"the monitor exited with {self.p.returncode}: {err.strip()}")
        return re.search(r"metrics at http://(\[[^\]]*\]|[0-9.]+):(\d+)(/\S*), running as", err)

    def stderr(self):
        return self.lab.text(self.name)

    def get(self, path=None, headers=None, method="GET", body=None, timeout=10):
        return http_get(self.host, self.port, path or self.path, headers, method, body, timeout)

    def metrics(self, openmetrics=False):
        status, hdr, body = self.get(headers={"Accept": OPENMETRICS_ACCEPT} if openmetrics
                                     else {})
        if status != 200:
            raise Abort(f"GET {self.path}: {status}")
        return parse_metrics(body.decode())

    def proc_status(self):
        fields = {}
        with open(f"/proc/{self.p.pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.split()
        return fields

    def final_line(self):
        lines = [x for x in self.stderr().splitlines() if ": final: " in x]
        return lines[-1] if lines else ""


class Tcpdump:
    """tcpdump writing the same interface to a file, nanosecond stamps.
    Immediate mode: tcpdump leaves on SIGINT without draining the ring, so
    packets of a block not yet handed over would be missing from its file."""

    def __init__(self, lab, short, iface, path, filt="tcp", name="tcpdump"):
        self.lab = lab
        self.name = name
        self.path = path
        self.p = lab.spawn(short, ["tcpdump", "-i", iface, "-s", "256", "-B", "8192", "-U",
                                   "-Z", "root", "--time-stamp-precision", "nano",
                                   "--immediate-mode", "-w", path,
                                   filt], name)
        lab.wait_for("tcpdump", lambda: "listening on" in lab.text(name) or
                     self.p.poll() is not None)
        if self.p.poll() is not None:
            raise Abort(f"tcpdump: {lab.text(name)}")

    def stop(self):
        """(packets captured, packets dropped by the kernel)."""
        self.lab.stop(self.p, sig=2)
        err = self.lab.text(self.name)
        cap = re.search(r"(\d+) packets? captured", err)
        drop = re.search(r"(\d+) packets? dropped by kernel", err)
        if cap is None or drop is None:
            raise Abort(f"tcpdump's counts: {err}")
        return int(cap.group(1)), int(drop.group(1))


class Prometheus:
    """A real Prometheus server on the namespace's loopback."""

    def __init__(self, lab, short, target, rule_files=(), name="prometheus", job_extra=""):
        self.lab = lab
        self.name = name
        self.port = free_port()
        cfg = lab.path(f"{name}.yml")
        rules = "".join(f"  - {r}\n" for r in rule_files)
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    + (f"rule_files:\n{rules}" if rules else "")
                    + "scrape_configs:\n  - job_name: tcpwm\n" + job_extra
                    + "    static_configs:\n"
                    f"      - targets: ['{target}']\n")
        self.p = lab.spawn(short, ["prometheus", f"--config.file={cfg}",
                                   f"--storage.tsdb.path={lab.path('tsdb-' + name)}",
                                   f"--web.listen-address=127.0.0.1:{self.port}",
                                   "--log.level=warn"], name)
        lab.wait_for("Prometheus ready", self._ready, timeout=40, step=0.2)

    def _ready(self):
        if self.p.poll() is not None:
            raise Abort(f"prometheus exited: {self.lab.text(self.name)[-2000:]}")
        try:
            return http_get("127.0.0.1", self.port, "/-/ready", timeout=2)[0] == 200
        except OSError:
            return False

    def api(self, path, **params):
        q = urllib.parse.urlencode(params)
        status, _, body = http_get("127.0.0.1", self.port, f"/api/v1/{path}?{q}")
        doc = json.loads(body)
        if status != 200 or doc.get("status") != "success":
            raise Abort(f"Prometheus API {path} {params}: {status} {body[:300]!r}")
        return doc["data"]

    def value(self, expr):
        """The single value of an instant query, or None when empty."""
        res = self.api("query", query=expr)["result"]
        if len(res) != 1:
            return None
        return float(res[0]["value"][1])


def replay(binary, pcap, *args):
    """Offline: the core's samples for a capture file."""
    import subprocess
    p = subprocess.run([binary, "-r", pcap, "-q", *args], capture_output=True, timeout=120)
    if p.returncode != 0:
        raise Abort(f"replay of {os.path.basename(pcap)}: exit {p.returncode}: "
                    f"{p.stderr.decode(errors='replace')}")
    return parse_metrics(p.stdout.decode())
