# SPDX-License-Identifier: MIT
"""Live tests of --web.config.file (TLS, client certificates, basic auth,
reloads) and of -w rotation (-C, -W, -G, a full file system), with real
clients: curl, openssl, a real Prometheus server, tcpdump.

    python3 tls_test.py BINARY CASE      CASE: webconfig | tls | rotate

Certificates are made by openssl at test time: a CA, a server certificate
(IP 127.0.0.1), a client certificate, an expired one, and one from another
CA. Needs root (namespaces, capture, mount); exits 77 without it.
"""
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import warnings

from netlab import B_IP, Abort, run_case
from services import Prometheus, core_only, parse_metrics, pcap_frames, replay

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # bcrypt hashes as htpasswd -B writes them (libxcrypt)

BIN = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
LOSS = ("tcp_monitor_packet_loss_missing_total", "tcp_monitor_packet_loss_duplicate_total",
        "tcp_monitor_packet_loss_out_of_order_total", "tcp_monitor_capture_gap_total")


def openssl(*args, cwd):
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise Abort(f"openssl {' '.join(args)}: {p.stderr.strip()}")


def make_pki(d):
    """CA, server, client, expired client (signed by the CA, validity in
    2020), rogue client (another CA). EC P-256 keys."""
    os.makedirs(d, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for ca, cn in (("ca", "tcpwm-test-ca"), ("evil", "untrusted-ca")):
        openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days", "2",
                "-subj", f"/CN={cn}", cwd=d)

    def leaf(name, ca, ext, extra=()):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj",
                f"/CN={name}", cwd=d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext",
                cwd=d)

    server_ext = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
    leaf("server", "ca", server_ext)
    leaf("server2", "ca", server_ext)  # the rotated certificate
    leaf("client", "ca", "extendedKeyUsage=clientAuth\n")
    leaf("rogue", "evil", "extendedKeyUsage=clientAuth\n")
    # Expired: `openssl x509` of OpenSSL 3.0 cannot backdate, `openssl ca` can.
    openssl("req", *ec, "-keyout", "expired.key", "-out", "expired.csr", "-subj", "/CN=expired",
            cwd=d)
    os.makedirs(os.path.join(d, "db"), exist_ok=True)
    open(os.path.join(d, "db", "index.txt"), "w").close()
    with open(os.path.join(d, "db", "serial"), "w") as f:
        f.write("1000\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = t\n[t]\ndatabase = db/index.txt\nnew_certs_dir = db\n"
                "serial = db/serial\ndefault_md = sha256\npolicy = p\n[p]\n"
                "commonName = supplied\n[ext]\nextendedKeyUsage = clientAuth\n")
    openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile", "ca.key", "-in",
            "expired.csr", "-out", "expired.crt", "-startdate", "20200101000000Z", "-enddate",
            "20200102000000Z", "-extensions", "ext", "-notext", cwd=d)
    for name in os.listdir(d):
        os.chmod(os.path.join(d, name), 0o644 if os.path.isfile(os.path.join(d, name)) else 0o755)


def bcrypt(password, cost=10):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** cost))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)


class TlsMonitor:
    """tcp_window_monitor -i ... --web.config.file ... in a namespace."""

    def __init__(self, lab, short, args, name="monitor"):
        self.lab, self.name = lab, name
        self.p = lab.spawn(short, [BIN, *args], name)
        m = lab.wait_for("the monitor's start-up line", self._started, timeout=20)
        self.scheme, self.port = m.group(1), int(m.group(2))

    def _started(self):
        err = self.lab.text(self.name)
        if self.p.poll() is not None:
            raise Abort(f"the monitor exited with {self.p.returncode}: {err.strip()}")
        return re.search(r"metrics at (https?)://127\.0\.0\.1:(\d+)/metrics", err)

    def stderr(self):
        return self.lab.text(self.name)

    def url(self, path="/metrics"):
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"


def curl(mon, pki, *args, path="/metrics"):
    """(curl exit code, HTTP status or 0, headers text, body, seconds)."""
    hdr = os.path.join(pki, "curl.hdr")
    t0 = time.monotonic()
    p = subprocess.run(["curl", "-sS", "-m", "10", "-D", hdr, "--cacert",
                        os.path.join(pki, "ca.crt"), "-o", "-", "-w", "\n%{http_code}", *args,
                        mon.url(path)], capture_output=True, timeout=30)
    took = time.monotonic() - t0
    out = p.stdout.decode(errors="replace")
    body, _, code = out.rpartition("\n")
    try:
        headers = open(hdr).read()
        os.unlink(hdr)
    except FileNotFoundError:
        headers = ""
    return p.returncode, int(code or 0), headers, body, took


def cert_args(pki, name):
    return ["--cert", os.path.join(pki, f"{name}.crt"), "--key", os.path.join(pki, f"{name}.key")]


# ---- webconfig: the file's checks against promtool ------------------------

def case_webconfig(t, lab):
    """The same files promtool check web-config accepts are accepted, the
    ones it refuses are refused with one line "FILE: key: reason". Run
    against a real start-up (the lab's namespace, -i lo)."""
    pki = lab.path("pki")
    make_pki(pki)
    h = bcrypt("secret")
    tls = "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
    good = {
        "empty": "",
        "tls": tls,
        "users_only": f"basic_auth_users:\n  alice: {h}\n  bob: '{h.replace('$2b$', '$2y$')}'\n",
        "verify": tls + "  client_auth_type: RequireAndVerifyClientCert\n"
                        "  client_ca_file: ca.crt\n",
        "if_given": tls + "  client_auth_type: VerifyClientCertIfGiven\n  client_ca_file: ca.crt\n",
        "require_any": tls + "  client_auth_type: RequireAnyClientCert\n",
        "old_name": tls + "  client_auth_type: RequireClientCert\n",
        "request": tls + "  client_auth_type: RequestClientCert\n",
        "versions": tls + "  min_version: TLS13\n  max_version: TLS13\n",
        "tls10": tls + "  min_version: TLS10\n",
        "ciphers": tls + "  cipher_suites:\n  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
                         "  curve_preferences: [X25519, CurveP256]\n"
                         "  prefer_server_cipher_suites: false\n",
        "headers": "http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: deny\n"
                   "    X-Content-Type-Options: nosniff\n    X-XSS-Protection: 1\n"
                   "    Strict-Transport-Security: max-age=31536000\n"
                   "    Content-Security-Policy: \"default-src 'self'\"\n",
    }
    bad = {
        "junk_key": ("tls_server_config:\n  cert_filse: server.crt\n",
                     "tls_server_config.cert_filse"),
        "top_key": ("rate_limit:\n  burst: 2\n", "rate_limit"),
        "inline_cert": ("tls_server_config:\n  cert: abc\n", "tls_server_config.cert"),
        "no_key": ("tls_server_config:\n  cert_file: server.crt\n",
                   "tls_server_config.key_file"),
        "no_cert": ("tls_server_config:\n  key_file: server.key\n",
                    "tls_server_config.cert_file"),
        "missing_file": ("tls_server_config:\n  cert_file: nothere.crt\n  key_file: server.key\n",
                         "tls_server_config.cert_file"),
        "mismatch": ("tls_server_config:\n  cert_file: server.crt\n  key_file: client.key\n",
                     "tls_server_config.cert_file"),
        "auth_type": (tls + "  client_auth_type: Sometimes\n",
                      "tls_server_config.client_auth_type"),
        "ca_no_policy": (tls + "  client_ca_file: ca.crt\n", "tls_server_config.client_ca_file"),
        "version": (tls + "  min_version: TLS111\n", "tls_server_config.min_version"),
        "cipher": (tls + "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048]\n",
                   "tls_server_config.cipher_suites"),
        "curve": (tls + "  curve_preferences: [CurveP257]\n",
                  "tls_server_config.curve_preferences"),
        "header": ("http_server_config:\n  headers:\n    Content-Type: foo\n",
                   "http_server_config.headers.Content-Type"),
        "frame": ("http_server_config:\n  headers:\n    X-Frame-Options: foo\n",
                  "http_server_config.headers.X-Frame-Options"),
        "nosniff": ("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
                    "http_server_config.headers.X-Content-Type-Options"),
        "plain_password": ("basic_auth_users:\n  john: doe\n", "basic_auth_users.john"),
        "cost3": ("basic_auth_users:\n  a: $2y$03$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQ"
                  "lQTuu\n", "basic_auth_users.a"),
        "dup_user": (f"basic_auth_users:\n  a: {h}\n  a: {h}\n", "basic_auth_users"),
        "sequence": ("- a\n", ""),
        "not_yaml": ("tls_server_config: [\n", ""),
    }
    lab.add_ns("b")
    for name, (text, want_key) in [(k, (v, None)) for k, v in good.items()] + list(bad.items()):
        path = os.path.join(pki, f"{name}.yml")
        write(path, text)
        pt = subprocess.run(["promtool", "check", "web-config", path], capture_output=True,
                            text=True, timeout=30)
        p = lab.run("b", "timeout", "-s", "TERM", "1.5", BIN, "-i", "lo", "-q", "--listen",
                    "127.0.0.1:0", "--web.config.file", path, check=False)
        started = "metrics at " in p.stderr
        lines = [x for x in p.stderr.splitlines() if "warning" not in x and "note:" not in x]
        if want_key is None:
            t.check(pt.returncode == 0, f"{name}: promtool accepts it", pt.stdout + pt.stderr)
            t.check(started, f"{name}: accepted at start", p.stderr.strip())
        else:
            t.check(pt.returncode != 0, f"{name}: promtool refuses it", pt.stdout)
            prefix = f"tcp_window_monitor: {path}: " + (f"{want_key}: " if want_key else "")
            t.check(not started and p.returncode == 1 and len(lines) == 1 and
                    lines[0].startswith(prefix),
                    f"{name}: refused at start, one line naming the key", p.stderr.strip())
    # cipher_suites are checked, and said not to apply.
    p = lab.run("b", "timeout", "-s", "TERM", "1.5", BIN, "-i", "lo", "-q", "--listen",
                "127.0.0.1:0", "--web.config.file", os.path.join(pki, "ciphers.yml"),
                check=False)
    t.check("cipher_suites and curve_preferences are not applied" in p.stderr,
            "cipher_suites: a warning says GnuTLS' choice applies")


# ---- tls: real clients --------------------------------------------------

def prometheus_tls(lab, target, pki, extra, name):
    """A Prometheus server scraping over HTTPS; extra: YAML lines of the
    job (basic_auth, the tls_config's client certificate)."""
    return Prometheus(lab, "b", target, name=name, job_extra=(
        "    scheme: https\n    tls_config:\n"
        f"      ca_file: {pki}/ca.crt\n" + extra))


def slow_handshake(mon):
    """A TCP connection that sends half a ClientHello and stalls."""
    s = socket.create_connection(("127.0.0.1", mon.port), timeout=30)
    # A TLS record header announcing 512 bytes of handshake, and 5 of them.
    s.sendall(bytes([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03]))
    return s


def tls_get(port, ctx, headers=""):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            s.sendall(f"GET /metrics HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
                      .encode())
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    return data
                data += b


def case_tls(t, lab):
    lab.topology(drop_percent=3, tbf=("40mbit", "16kb", "48kb"))
    lab.server("b", "sink", "--bind", "0.0.0.0", "--port", "5001", "--count", "1000",
               name="sink")
    lab.enter("b")
    pki = lab.path("pki")
    make_pki(pki)
    hash_alice = bcrypt("secret")
    cfg = os.path.join(pki, "web.yml")
    write(cfg, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
               f"basic_auth_users:\n  alice: {hash_alice}\n"
               "http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n")
    mon = TlsMonitor(lab, "b", ["-i", "b0", "--scope", "all", "--listen", "127.0.0.1:0", "-q",
                                "-B", "8192", "-Z", "root", "--web.config.file", cfg, "tcp"])
    t.check(mon.scheme == "https" and ", basic auth," in mon.stderr(),
            "start-up line: https, basic auth")

    lab.traffic("a", "send", "--host", B_IP, "--port", "5001", "--bytes", "3000000",
                name="send")
    # curl: right and wrong credentials.
    rc, st, hdr, body, t_ok = curl(mon, pki, "-u", "alice:secret")
    t.check(rc == 0 and st == 200 and "tcp_monitor_packets_total" in body,
            "curl with the right password: 200")
    t.check("x-content-type-options: nosniff" in hdr.lower(), "configured header sent")
    # /flows sits behind the same TLS and authentication as /metrics.
    rc, st, hdr, body, _ = curl(mon, pki, "-u", "alice:secret", path="/flows?top=3")
    t.check(rc == 0 and st == 200 and body.startswith('{"format":"tcpwm-flows/1"')
            and '"source":"live"' in body and '"top":3' in body
            and "x-content-type-options: nosniff" in hdr.lower(),
            "GET /flows over https with basic auth: 200, the JSON document", f"{st} {body[:200]}")
    rc, st, hdr, _, _ = curl(mon, pki, path="/flows")
    t.check(st == 401 and "www-authenticate: basic" in hdr.lower(),
            "GET /flows without credentials: 401", f"{st}")
    rc, st, _, body, _ = curl(mon, pki, "-u", "alice:secret", path="/flows?top=0")
    t.check(st == 400 and body.startswith("400 bad request: top"),
            "GET /flows?top=0 with credentials: 400", f"{st} {body!r}")
    for what, args in (("wrong password", ["-u", "alice:wrong"]), ("no password", []),
                       ("unknown user", ["-u", "mallory:secret"])):
        rc, st, hdr, _, took = curl(mon, pki, *args)
        t.check(st == 401 and re.search(r'(?im)^www-authenticate: basic realm="[^"]+"', hdr),
                f"curl with {what}: 401 with WWW-Authenticate: Basic realm", f"{st} {hdr!r}")
    # Unknown users cost a bcrypt run too: timing does not tell who exists.
    def median(args, n=5):
        return sorted(curl(mon, pki, *args)[4] for _ in range(n))[n // 2]
    known_ok, known_bad, unknown = (median(["-u", "alice:secret"]),
                                    median(["-u", "alice:wrong"]),
                                    median(["-u", "mallory:secret"]))
    t.note(f"median request times: known user {known_ok * 1000:.0f} ms, wrong password "
           f"{known_bad * 1000:.0f} ms, unknown user {unknown * 1000:.0f} ms")
    t.check(known_bad > 0.5 * known_ok and unknown > 0.5 * known_ok,
            "unknown user and wrong password take the bcrypt time as a known user")
    rc, st, _, _, _ = curl(mon, pki, "-u", "alice:secret", "--tlsv1.1", "--tls-max", "1.1")
    t.check(rc != 0 and st == 0, f"TLS 1.1: refused by default (curl exit {rc})")
    rc, st, _, _, _ = curl(mon, pki, "-u", "alice:secret", "--tlsv1.2", "--tls-max", "1.2")
    t.check(rc == 0 and st == 200, "TLS 1.2: served")
    p = subprocess.run(["curl", "-sS", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
                        f"http://127.0.0.1:{mon.port}/metrics"], capture_output=True, text=True)
    t.check(p.returncode != 0 and p.stdout.strip() in ("", "000"),
            f"plain HTTP on the TLS port: no answer, connection closed (curl exit "
            f"{p.returncode})")

    # A real Prometheus over TLS with basic auth.
    prom = prometheus_tls(lab, f"127.0.0.1:{mon.port}", pki,
                          "    basic_auth:\n      username: alice\n      password: secret\n",
                          "prom-auth")
    lab.wait_for("Prometheus: up == 1", lambda: prom.value('up{job="tcpwm"}') == 1, timeout=20,
                 step=0.5)
    t.check(True, "Prometheus over https with basic_auth: up == 1")
    compare_prometheus(t, lab, mon, prom, pki, ["-u", "alice:secret"])
    lab.stop(prom.p)

    # Concurrency and a stalled handshake, while traffic flows.
    stalled = [slow_handshake(mon) for _ in range(3)]
    stop = threading.Event()

    def traffic():
        while not stop.is_set():
            lab.traffic("a", "send", "--host", B_IP, "--port", "5001", "--bytes", "2000000",
                        name="send")
    tr = threading.Thread(target=traffic)
    tr.start()
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    auth = "Authorization: Basic YWxpY2U6c2VjcmV0\r\n"  # alice:secret
    try:
        t0 = time.monotonic()
        data = tls_get(mon.port, ctx, auth)
        t.check(b" 200 " in data.split(b"\r\n", 1)[0] and time.monotonic() - t0 < 3,
                "a TLS scrape is served while 3 clients stall mid-handshake")
        results, lock = [], threading.Lock()
        start = threading.Barrier(200)

        def one():
            try:
                start.wait(20)
                d = tls_get(mon.port, ctx)  # no auth: 401, no bcrypt queue of 200 x 70 ms
                ok = d.startswith(b"HTTP/1.1 401")
            except Exception as e:  # noqa: BLE001
                ok = repr(e)
            with lock:
                results.append(ok)
        th = [threading.Thread(target=one) for _ in range(200)]
        t0 = time.monotonic()
        for x in th:
            x.start()
        for x in th:
            x.join(90)
        good = sum(1 for r in results if r is True)
        t.check(good == 200, f"200 concurrent TLS requests all answered "
                f"({time.monotonic() - t0:.1f} s)", f"{good}; {[r for r in results if r is not True][:3]}")
        closed = []
        for s in stalled:
            # Closed: end of stream (perhaps after a TLS alert) or a reset.
            try:
                s.settimeout(15)
                while s.recv(4096):
                    pass
                closed.append(True)
            except socket.timeout:
                closed.append(False)
            except OSError:
                closed.append(True)
            s.close()
        t.check(all(closed), "the stalled handshakes were cut off by the idle timeout")
    finally:
        stop.set()
        tr.join(120)
    m = parse_metrics(curl(mon, pki, "-u", "alice:secret")[3])
    t.check(m["tcp_monitor_capture_dropped_total"] == 0,
            "no capture drops during the TLS load", f"{m['tcp_monitor_capture_dropped_total']}")

    # Client certificates: switch the running server to them (a reload).
    write(cfg, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
               "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n")
    lab.wait_for("the reload", lambda: "HTTPS server restarted" in mon.stderr(), timeout=10)
    rc, st, _, _, _ = curl(mon, pki, *cert_args(pki, "client"))
    t.check(rc == 0 and st == 200, "client certificate of the CA: 200")
    for who in ("expired", "rogue", None):
        rc, st, _, _, _ = curl(mon, pki, *(cert_args(pki, who) if who else []))
        t.check(st == 0 and rc != 0, f"{who or 'no'} client certificate: refused in TLS "
                f"(curl exit {rc})")
    prom = prometheus_tls(lab, f"127.0.0.1:{mon.port}", pki,
                          f"      cert_file: {pki}/client.crt\n"
                          f"      key_file: {pki}/client.key\n", "prom-cert")
    lab.wait_for("Prometheus (client cert): up == 1",
                 lambda: prom.value('up{job="tcpwm"}') == 1, timeout=20, step=0.5)
    t.check(True, "Prometheus over https with a client certificate: up == 1")
    compare_prometheus(t, lab, mon, prom, pki, cert_args(pki, "client"))
    lab.stop(prom.p)

    # Certificate rotation: new files, same names; the next connection sees them.
    serial = lambda: ssl_serial(mon.port, pki)  # noqa: E731
    before = serial()
    shutil.copy(os.path.join(pki, "server2.crt"), os.path.join(pki, "server.crt"))
    shutil.copy(os.path.join(pki, "server2.key"), os.path.join(pki, "server.key"))
    want = cert_serial(os.path.join(pki, "server2.crt"))
    got = lab.wait_for("the new certificate", lambda: serial() == want and want, timeout=10)
    t.check(got == want and before != want, "certificate rotated without a restart: the next "
            "connection gets the new one")
    # A broken version keeps the old one, one line on stderr.
    n_lines = len(mon.stderr().splitlines())
    write(os.path.join(pki, "server.key"), "not a key\n")
    lab.wait_for("the complaint", lambda: "keeping the web configuration in use" in
                 mon.stderr(), timeout=10)
    time.sleep(2.5)
    new = mon.stderr().splitlines()[n_lines:]
    t.check(len(new) == 1 and "tls_server_config" in new[0],
            "broken key: one line on stderr (not one per second)", "\n".join(new))
    rc, st, _, _, _ = curl(mon, pki, *cert_args(pki, "client"))
    t.check(rc == 0 and st == 200 and serial() == want, "the running configuration still serves")
    rc = lab.stop(mon.p)
    t.check(rc == 0, "SIGTERM: exit status 0", f"{rc}")


def cert_serial(path):
    p = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-serial"],
                       capture_output=True, text=True)
    return p.stdout.strip().split("=")[-1].lower()


def ssl_serial(port, pki):
    """The serial of the certificate the server presents now."""
    p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile",
                        os.path.join(pki, "ca.crt"), *sum((["-cert", os.path.join(pki, "client.crt"),
                                                            "-key", os.path.join(pki, "client.key")],), [])],
                       input="", capture_output=True, text=True, timeout=10)
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", p.stdout, re.S)
    if not m:
        return None
    q = subprocess.run(["openssl", "x509", "-noout", "-serial"], input=m.group(0),
                       capture_output=True, text=True)
    return q.stdout.strip().split("=")[-1].lower()


def compare_prometheus(t, lab, mon, prom, pki, auth):
    """Prometheus stored what /metrics says: loss counters equal once the
    traffic has stopped."""
    body = curl(mon, pki, *auth)[3]
    live = core_only(parse_metrics(body))
    n = live["tcp_monitor_packets_total"]
    lab.wait_for("Prometheus to reach the packet count",
                 lambda: prom.value('tcp_monitor_packets_total{job="tcpwm"}') == n,
                 timeout=15, step=0.25)
    for k in LOSS + ("tcp_monitor_packets_total",):
        v = prom.value(f'{k}{{job="tcpwm"}}')
        t.check(v == live[k], f"Prometheus {k} == /metrics ({live[k]:.0f})", f"{v}")


# ---- rotate: -w -C -W -G and a full file system -------------------------

def case_rotate(t, lab):
    lab.topology()
    lab.server("b", "sink", "--bind", "0.0.0.0", "--port", "5001", "--count", "1000",
               name="sink")
    lab.enter("b")
    d = lab.path("ring")
    os.makedirs(d)
    base = os.path.join(d, "cap")
    mon = TlsMonitor(lab, "b", ["-i", "b0", "--scope", "all", "--listen", "127.0.0.1:0", "-q",
                                "-Z", "root", "-w", base, "-C", "1", "-W", "3", "tcp"])
    # About 30 MB at snaplen 256: some 6 MB of pcap, the ring turns twice.
    for _ in range(3):
        lab.traffic("a", "send", "--host", B_IP, "--port", "5001", "--bytes", "10000000",
                    name="send")
    time.sleep(0.5)
    rc = lab.stop(mon.p)
    t.check(rc == 0, "-C 1 -W 3: exit 0", f"{rc}")
    files = sorted(os.listdir(d))
    t.check(files == ["cap0", "cap1", "cap2"], "-C 1 -W 3: exactly cap0 cap1 cap2", str(files))
    # tcpdump's own names for the same flags, on the same file: the reference.
    ref = lab.path("ref")
    os.makedirs(ref)
    listing = lab.path("ring.list")
    write(listing, "".join(os.path.join(d, f) + "\n" for f in files))
    sh = subprocess.run(["tcpdump", "-V", listing, "-w", os.path.join(ref, "cap"), "-C", "1",
                         "-W", "3", "-Z", "root"], capture_output=True, text=True)
    t.check(sh.returncode == 0 and sorted(os.listdir(ref)) == files,
            f"tcpdump -C 1 -W 3 names its files the same way: {sorted(os.listdir(ref))}")
    for f in files:
        size = os.path.getsize(os.path.join(d, f))
        p = subprocess.run(["tcpdump", "-r", os.path.join(d, f), "-c", "1"], capture_output=True)
        t.check(size <= 1000000 and p.returncode == 0,
                f"{f}: {size} bytes <= 1,000,000, readable by tcpdump")
    # The ring holds the newest packets: the last file is the one written
    # last; replaying the three gives their packets.
    newest = max(files, key=lambda f: os.path.getmtime(os.path.join(d, f)))
    order = sorted(files, key=lambda f: os.path.getmtime(os.path.join(d, f)))
    frames = sum(len(pcap_frames(os.path.join(d, f))) for f in order)
    m = replay(BIN, os.path.join(d, order[0]), *sum((["-r", os.path.join(d, f)]
                                                     for f in order[1:]), []), "--scope", "all")
    t.check(m["tcp_monitor_packets_total"] == frames,
            f"replaying the ring ({' '.join(order)}, newest {newest}) analyzes its {frames} "
            f"packets", f"{m['tcp_monitor_packets_total']}")

    # -G 1 with strftime names.
    g = lab.path("g")
    os.makedirs(g)
    mon = TlsMonitor(lab, "b", ["-i", "b0", "--scope", "all", "--listen", "127.0.0.1:0", "-q",
                                "-Z", "root", "-w", os.path.join(g, "t-%Y%m%d-%H%M%S.pcap"),
                                "-G", "1", "tcp"], name="mon-g")
    t0 = time.time()
    # Traffic for 2.5 s or more, whatever the machine's speed, so that
    # packets fall in at least two seconds: a fixed 60 MB once took less
    # than one on a fast machine, which left a single file.
    for _ in range(200):
        lab.traffic("a", "send", "--host", B_IP, "--port", "5001", "--bytes", "10000000",
                    name="send-g")
        if time.time() - t0 >= 2.5:
            break
    lab.stop(mon.p)
    names = sorted(os.listdir(g))
    pat = re.compile(r"^t-(\d{8}-\d{6})\.pcap$")
    stamps = [time.mktime(time.strptime(pat.match(n).group(1), "%Y%m%d-%H%M%S"))
              for n in names if pat.match(n)]
    t.check(len(names) >= 2 and len(stamps) == len(names) and
            all(t0 - 2 <= s <= time.time() + 1 for s in stamps),
            f"-G 1: {len(names)} files named by strftime of their start", str(names[:5]))

    # A full file system: a 64 KiB tmpfs.
    full = lab.path("full")
    os.makedirs(full)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tcpwm-full", full], check=True)
    try:
        mon = TlsMonitor(lab, "b", ["-i", "b0", "--scope", "all", "--listen", "127.0.0.1:0",
                                    "-q", "-Z", "root", "-w", os.path.join(full, "x.pcap"),
                                    "tcp"], name="mon-full")
        lab.traffic("a", "send", "--host", B_IP, "--port", "5001", "--bytes", "2000000",
                    name="send-full")
        time.sleep(0.5)
        from services import http_get
        st, _, body = http_get("127.0.0.1", mon.port, "/metrics")
        m = parse_metrics(body.decode())
        t.check(st == 200 and m["tcp_monitor_capture_write_errors_total"] > 0,
                f"full file system: /metrics served, write errors "
                f"{m.get('tcp_monitor_capture_write_errors_total')}")
        t.check(m["tcp_monitor_packets_total"] > 1000, "the analysis went on "
                f"({m['tcp_monitor_packets_total']:.0f} packets)")
        lines = [x for x in mon.stderr().splitlines() if "writing the capture failed" in x]
        t.check(len(lines) == 1, "one line on stderr", mon.stderr())
        lab.stop(mon.p)
    finally:
        subprocess.run(["umount", full])


CASES = {"webconfig": case_webconfig, "tls": case_tls, "rotate": case_rotate}


def main():
    run_case("tls_test.py", CASES)


if __name__ == "__main__":
    main()
