# SPDX-License-Identifier: MIT
"""The test bench of the live tests: network namespaces joined by veth
pairs, the processes started inside them, and their cleanup.

Topology (fresh namespaces per test case, removed at the end):

    A (client)               R (router)                     B (server, monitor)
    a0 10.88.1.1/24 <------> r0 10.88.1.254 | r1 10.88.2.254 <------> b0 10.88.2.1/24
       fd88:1::1/64             fd88:1::fe  | fd88:2::fe                 fd88:2::1/64

Loss is made in R, on the forward path, so that neither endpoint's TCP
stack sees a local drop: nftables `numgen random` drops and a tbf
bottleneck on r1 (the netem qdisc is not available on these kernels).
The monitor, tcpdump and Prometheus run in B; the test driver itself
enters B (setns) for its HTTP requests, so every packet stays on B's
loopback or on the veths. Nothing is sent outside the namespaces.

Cleanup runs on every exit path (exceptions, SIGTERM/SIGINT/SIGHUP): every
process of the namespaces is killed, the namespaces deleted. Namespaces
left by a run that was killed with SIGKILL are removed by the next run.
"""
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PREFIX = "tcpwmlive"
CLONE_NEWNET = 0x40000000
HERE = os.path.dirname(os.path.abspath(__file__))
TRAFFIC = os.path.join(HERE, "traffic.py")

A_IP, B_IP = "10.88.1.1", "10.88.2.1"
A_IP6, B_IP6 = "fd88:1::1", "fd88:2::1"


class Abort(Exception):
    """A failure after which the case cannot go on."""


class Results:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok - {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL - {what}" + (f": {detail}" if detail else ""), flush=True)
        return cond

    def need(self, cond, what, detail=""):
        if not self.check(cond, what, detail):
            raise Abort(what)

    def note(self, text):
        print(f"# {text}", flush=True)

    def summary(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def sh(*cmd, check=True, timeout=30, capture=True):
    p = subprocess.run(list(cmd), capture_output=capture, timeout=timeout, text=True)
    if check and p.returncode != 0:
        raise Abort(f"{' '.join(cmd)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_ns_pids(ns):
    p = sh("ip", "netns", "pids", ns, check=False)
    for pid in p.stdout.split():
        if pid == str(os.getpid()):
            continue  # the driver itself, entered into the namespace
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def remove_stale():
    """Namespaces of earlier runs whose driver is gone."""
    p = sh("ip", "netns", "list", check=False)
    for line in p.stdout.splitlines():
        m = re.match(rf"({PREFIX}(\d+)-\w+)", line)
        if m and not _pid_alive(int(m.group(2))):
            _kill_ns_pids(m.group(1))
            sh("ip", "netns", "del", m.group(1), check=False)


class Lab:
    def __init__(self):
        self.tag = f"{PREFIX}{os.getpid()}"
        self.namespaces = []
        self.procs = []
        self.work = tempfile.mkdtemp(prefix="tcpwm-live-")
        os.chmod(self.work, 0o755)  # -Z nobody and tcpdump write or read here
        for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(s, self._on_signal)

    def _on_signal(self, sig, frame):
        raise SystemExit(128 + sig)

    def __enter__(self):
        remove_stale()
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def path(self, name):
        return os.path.join(self.work, name)

    def ns(self, short):
        return f"{self.tag}-{short}"

    def run(self, short, *cmd, check=True, timeout=30):
        return sh("ip", "netns", "exec", self.ns(short), *cmd, check=check, timeout=timeout)

    def add_ns(self, short):
        sh("ip", "netns", "add", self.ns(short))
        self.namespaces.append(self.ns(short))
        self.run(short, "ip", "link", "set", "lo", "up")

    def topology(self, drop_percent=0, drop_port=5001, tbf=None):
        """A - R - B as in the module comment. drop_percent: random drops
        of A's packets to drop_port in R's forward path. tbf: (rate, burst,
        limit) of a bottleneck on r1, towards B."""
        for short in ("a", "r", "b"):
            self.add_ns(short)
        sh("ip", "link", "add", "a0", "netns", self.ns("a"), "type", "veth", "peer", "name", "r0",
           "netns", self.ns("r"))
        sh("ip", "link", "add", "r1", "netns", self.ns("r"), "type", "veth", "peer", "name", "b0",
           "netns", self.ns("b"))
        for short, dev, v4, v6 in (("a", "a0", "10.88.1.1/24", "fd88:1::1/64"),
                                   ("r", "r0", "10.88.1.254/24", "fd88:1::fe/64"),
                                   ("r", "r1", "10.88.2.254/24", "fd88:2::fe/64"),
                                   ("b", "b0", "10.88.2.1/24", "fd88:2::1/64")):
            self.run(short, "ip", "addr", "add", v4, "dev", dev)
            self.run(short, "ip", "addr", "add", v6, "dev", dev, "nodad")
            # One MSS per packet on the wire: loss hits one segment.
            self.run(short, "ip", "link", "set", dev, "gso_max_segs", "1", "up")
        self.run("a", "ip", "route", "add", "default", "via", "10.88.1.254")
        self.run("a", "ip", "-6", "route", "add", "default", "via", "fd88:1::fe")
        self.run("b", "ip", "route", "add", "default", "via", "10.88.2.254")
        self.run("b", "ip", "-6", "route", "add", "default", "via", "fd88:2::fe")
        self.run("r", "sysctl", "-qw", "net.ipv4.ip_forward=1",
                 "net.ipv6.conf.all.forwarding=1")
        if drop_percent:
            self.run("r", "nft", "add", "table", "inet", "tcpwm")
            self.run("r", "nft", "add", "chain", "inet", "tcpwm", "routed",
                     "{ type filter hook forward priority 0; }")
            self.run("r", "nft", "add", "rule", "inet", "tcpwm", "routed", "iifname", "r0",
                     "tcp", "dport", str(drop_port),
                     f"numgen random mod 100 < {drop_percent}", "drop")
        if tbf:
            rate, burst, limit = tbf
            self.run("r", "tc", "qdisc", "add", "dev", "r1", "root", "tbf", "rate", rate,
                     "burst", burst, "limit", limit)

    def pair(self):
        """Just A and B, directly joined (a0 <-> b0), same addresses' subnet."""
        for short in ("a", "b"):
            self.add_ns(short)
        sh("ip", "link", "add", "a0", "netns", self.ns("a"), "type", "veth", "peer", "name", "b0",
           "netns", self.ns("b"))
        self.run("a", "ip", "addr", "add", "10.88.2.2/24", "dev", "a0")
        self.run("b", "ip", "addr", "add", "10.88.2.1/24", "dev", "b0")
        self.run("a", "ip", "link", "set", "a0", "up")
        self.run("b", "ip", "link", "set", "b0", "up")

    def enter(self, short):
        """Move this process (its main thread, and threads started later)
        into a namespace, for its own sockets."""
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/run/netns/{self.ns(short)}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise Abort(f"setns: {os.strerror(ctypes.get_errno())}")
        finally:
            os.close(fd)

    def spawn(self, short, cmd, name, env=None):
        """Start cmd in a namespace; stdout and stderr go to WORK/name.out
        and WORK/name.err. With `ip netns exec`, the pid is cmd's own."""
        out = open(self.path(name + ".out"), "w")
        err = open(self.path(name + ".err"), "w")
        argv = (["ip", "netns", "exec", self.ns(short)] if short else []) + list(cmd)
        p = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        out.close()
        err.close()
        p.name = name
        self.procs.append(p)
        return p

    def text(self, name, stream="err"):
        try:
            with open(self.path(f"{name}.{stream}"), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_for(self, what, fn, timeout=10.0, step=0.05):
        deadline = time.monotonic() + timeout
        while True:
            v = fn()
            if v:
                return v
            if time.monotonic() > deadline:
                raise Abort(f"timed out waiting for {what}")
            time.sleep(step)

    def traffic(self, short, *args, name, background=False, timeout=60):
        argv = [sys.executable, TRAFFIC, *args]
        if background:
            return self.spawn(short, argv, name)
        p = self.run(short, *argv, check=False, timeout=timeout)
        if p.returncode != 0:
            raise Abort(f"traffic {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
        return p

    def server(self, short, *args, name):
        flag = self.path(name + ".ready")
        p = self.traffic(short, *args, "--ready", flag, name=name, background=True)
        self.wait_for(f"server {name}", lambda: os.path.exists(flag) or p.poll() is not None)
        if p.poll() is not None:
            raise Abort(f"server {name} exited: {self.text(name)}")
        return p

    def stop(self, p, sig=signal.SIGTERM, timeout=10):
        """Signal p and wait; returns its exit status (None if it had to be
        killed)."""
        if p.poll() is None:
            p.send_signal(sig)
            try:
                return p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                return None
        return p.returncode

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    pass
        for ns in self.namespaces:
            _kill_ns_pids(ns)
            sh("ip", "netns", "del", ns, check=False)
        self.namespaces = []
        shutil.rmtree(self.work, ignore_errors=True)


# ctest's SKIP_RETURN_CODE: a live case needs root.
SKIP = 77


def run_case(script, cases):
    """The main() of a live test script: `script BINARY CASE` runs one of
    `cases` (name -> function(results, lab)) in a fresh lab, as root, and
    exits with the summary's status (SKIP without root)."""
    if len(sys.argv) != 3 or sys.argv[2] not in cases:
        sys.exit(f"usage: {script} BINARY {{{'|'.join(cases)}}}")
    case = sys.argv[2]
    t = Results(f"live.{case}")
    if os.geteuid() != 0:
        print(f"live.{case}: skipped: needs root (network namespaces, packet capture)")
        sys.exit(SKIP)
    try:
        with Lab() as lab:
            cases[case](t, lab)
    except Abort as e:
        t.check(False, "the case ran to its end", str(e))
    sys.exit(t.summary())
