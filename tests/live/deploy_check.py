# SPDX-License-Identifier: MIT
"""Checks of the files in deploy/, one case per ctest test:

    python3 deploy_check.py BINARY PROMTOOL CASE

rules      promtool check rules alerts.yml, promtool test rules alerts_test.yml
config     promtool check config prometheus.yml
dashboard  every PromQL expression of grafana-dashboard.json, with Grafana's
           variables filled in, parsed by promtool (as recording rules of a
           generated rules file); every metric it names exists; every panel
           keeps the conventions (data source variable, instance filter,
           unit, no overlap); the TCP analysis row has its panels and queries;
           every series of a per-flow family (the ones --service-ports
           labels, read off the exporter) is limited to port=~"$port", but
           in the loss ratio (its denominator has no port); the Per service
           row breaks loss, retransmissions, ACK RTT and connections down
           by port
service    systemd-analyze verify of the unit (when systemd-analyze is there)
           and the hardening it promises

Every metric name used in the rules and the dashboard must be one the
exporter serves: the core's (from an offline run of BINARY) or its own.
No root needed. Prints "N passed, N failed" at the end.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEPLOY = os.path.join(os.path.dirname(os.path.dirname(HERE)), "deploy")
SELF_METRICS = {"tcp_monitor_build_info", "tcp_monitor_scrapes_total",
                "tcp_monitor_capture_dropped_total",
                "tcp_monitor_capture_interface_dropped_total"}
# An empty pcap file (Ethernet): the offline run prints every core family.
EMPTY_PCAP = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")


class Results:
    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print(f"ok - {what}")
        else:
            self.failed += 1
            print(f"FAIL - {what}" + (f":\n{detail}" if detail else ""))
        return cond

    def summary(self):
        print(f"deploy.{self.name}: {self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def promtool(*args, cwd=None):
    p = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, timeout=120)
    return p.returncode, (p.stdout + p.stderr).strip()


def exported_names(work):
    """Sample names the exporter serves."""
    pcap = os.path.join(work, "empty.pcap")
    with open(pcap, "wb") as f:
        f.write(EMPTY_PCAP)
    p = subprocess.run([BIN, "-r", pcap, "-q"], capture_output=True, text=True, timeout=60)
    names = {line.split("{")[0].split(" ")[0] for line in p.stdout.splitlines()
             if line and not line.startswith("#")}
    return names | SELF_METRICS


def labelled_families(work):
    """The families --service-ports gives a port label: from an offline
    run with the flag (an empty capture prints every family)."""
    pcap = os.path.join(work, "empty.pcap")
    with open(pcap, "wb") as f:
        f.write(EMPTY_PCAP)
    p = subprocess.run([BIN, "-r", pcap, "-q", "--service-ports", "80"], capture_output=True,
                       text=True, timeout=60)
    return {line.split("{")[0] for line in p.stdout.splitlines()
            if line and not line.startswith("#") and 'port="' in line}


def names_used(expr):
    return set(re.findall(r"\b(?:tcp_monitor_[a-z0-9_]+|up)\b", expr)) - {"up"}


def check_names(t, where, exprs, known):
    unknown = sorted({n for e in exprs for n in names_used(e)} - known)
    t.check(not unknown, f"{where}: every metric named is exported", ", ".join(unknown))


def case_rules(t, work):
    rc, out = promtool("check", "rules", "alerts.yml", cwd=DEPLOY)
    t.check(rc == 0, "promtool check rules deploy/alerts.yml", out)
    rc, out = promtool("test", "rules", "alerts_test.yml", cwd=DEPLOY)
    t.check(rc == 0, "promtool test rules deploy/alerts_test.yml", out)
    with open(os.path.join(DEPLOY, "alerts.yml")) as f:
        text = f.read()
    exprs = re.findall(r"expr: \|\n((?:\s{10}.*\n)+)|expr: (.+)", text)
    exprs = [a or b for a, b in exprs]
    t.check(len(exprs) >= 5, f"{len(exprs)} alerting expressions found")
    check_names(t, "alerts.yml", exprs, exported_names(work))
    # Every alert has a unit test that fires it.
    with open(os.path.join(DEPLOY, "alerts_test.yml")) as f:
        tests = f.read()
    alerts = re.findall(r"- alert: (\w+)", text)
    untested = [a for a in alerts if not re.search(
        rf"alertname: {a}\n\s+exp_alerts:\n\s+- exp_labels", tests)]
    t.check(not untested, f"each of the {len(alerts)} alerts is tested firing",
            ", ".join(untested))


def case_config(t, work):
    rc, out = promtool("check", "config", "prometheus.yml", cwd=DEPLOY)
    t.check(rc == 0, "promtool check config deploy/prometheus.yml (with its rule file)", out)


def grafana_to_promql(expr):
    """Fill in Grafana's variables with values Prometheus can parse."""
    expr = re.sub(r"\$__(rate_interval|interval|range)|\$\{__(rate_interval|interval|range)\}",
                  "5m", expr)
    return re.sub(r"\$\{?(instance|port)\}?", ".*", expr)


DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def check_conventions(t, panels):
    """What every panel keeps: the data source variable on the panel and
    each query, each query limited to the chosen monitors, a unit, one id
    each, and no two panels on the same cells."""
    graphs = [p for p in panels if p["type"] != "row"]
    bad = [p["title"] for p in graphs
           if p.get("datasource") != DATASOURCE
           or any(tg.get("datasource") != DATASOURCE for tg in p.get("targets", []))]
    t.check(not bad, "every panel and query uses the ${datasource} variable", ", ".join(bad))
    bad = [f"{p['title']}: {tg['expr']}" for p in graphs for tg in p.get("targets", [])
           if not all('{instance=~"$instance"' in sel or 'instance=~"$instance"' in sel
                      for sel in re.findall(r"tcp_monitor_\w+(\{[^}]*\})?", tg["expr"]))
           or not re.search(r'instance=~"\$instance"', tg["expr"])]
    t.check(not bad, 'every metric in a query is limited to instance=~"$instance"',
            "; ".join(bad))
    bad = [p["title"] for p in graphs if not p.get("fieldConfig", {}).get("defaults", {}).get("unit")]
    t.check(not bad, "every panel has a unit", ", ".join(bad))
    ids = [p["id"] for p in panels]
    t.check(len(ids) == len(set(ids)), "panel ids are unique", f"{sorted(ids)}")
    refs = [p["title"] for p in graphs
            if len({tg["refId"] for tg in p["targets"]}) != len(p["targets"])]
    t.check(not refs, "query refIds are unique within a panel", ", ".join(refs))
    cells, overlap = {}, []
    for p in panels:
        g = p["gridPos"]
        for y in range(g["y"], g["y"] + g["h"]):
            for x in range(g["x"], g["x"] + g["w"]):
                if (x, y) in cells:
                    overlap.append(f"{cells[(x, y)]} / {p['title']}")
                cells[(x, y)] = p["title"]
    t.check(not overlap and all(p["gridPos"]["x"] + p["gridPos"]["w"] <= 24 for p in panels),
            "panels lie within 24 columns and do not overlap", ", ".join(sorted(set(overlap))))


def row_of(panels, title):
    """The panels under the row `title` (up to the next row)."""
    out, inside = [], False
    for p in panels:
        if p["type"] == "row":
            inside = p["title"] == title
        elif inside:
            out.append(p)
    return out


def check_analysis_row(t, panels):
    """The row on Wireshark's analysis (docs/semantics.md section 7): each
    panel there, with the queries its title promises."""
    row = {p["title"]: p for p in row_of(panels, "TCP analysis")}

    def exprs(title):
        return [tg["expr"] for tg in row.get(title, {}).get("targets", [])]

    def quantiles(title, metric):
        return sorted(float(q) for e in exprs(title) for q in re.findall(
            r"^histogram_quantile\(([0-9.]+), sum by \(le\) \(rate\(" + metric +
            r"_bucket\{[^}]*\}\[\$__rate_interval\]\)\)\)$", e))

    t.check(row.get("ACK RTT", {}).get("type") == "heatmap"
            and [tg.get("format") for tg in row["ACK RTT"]["targets"]] == ["heatmap"]
            and all("sum by (le) (increase(tcp_monitor_ack_rtt_seconds_bucket{" in e
                    for e in exprs("ACK RTT")),
            "TCP analysis: 'ACK RTT' is a heatmap of the histogram's buckets")
    t.check(quantiles("ACK RTT quantiles", "tcp_monitor_ack_rtt_seconds") == [0.5, 0.9, 0.99],
            "TCP analysis: 'ACK RTT quantiles' p50, p90, p99 by histogram_quantile",
            f"{exprs('ACK RTT quantiles')}")
    t.check(quantiles("Handshake RTT", "tcp_monitor_handshake_rtt_seconds") == [0.5, 0.99],
            "TCP analysis: 'Handshake RTT' p50, p99 by histogram_quantile",
            f"{exprs('Handshake RTT')}")
    rates = {"Retransmissions by kind": [("tcp_monitor_retransmissions_total", "instance, kind")],
             "Duplicate ACKs": [("tcp_monitor_duplicate_acks_total", "instance")],
             "Reordering and D-SACK": [("tcp_monitor_reordered_segments_total", "instance"),
                                       ("tcp_monitor_dsack_total", "instance")],
             "RTT segments untracked": [("tcp_monitor_rtt_segments_untracked_total",
                                         "instance")]}
    for title, want in rates.items():
        got = [re.fullmatch(r"sum by \(([a-z, ]+)\) \(rate\((\w+)\{[^}]*\}"
                            r"\[\$__rate_interval\]\)\)", e) for e in exprs(title)]
        got = [(m.group(2), m.group(1)) for m in got if m]
        t.check(got == want and row[title]["fieldConfig"]["defaults"]["unit"] == "ops",
                f"TCP analysis: '{title}': rate of "
                f"{', '.join(f'{m} by ({b})' for m, b in want)}, in ops", f"{exprs(title)}")
    seconds = [p["title"] for p in row.values() if "rtt_seconds" in str(p["targets"])
               and p["fieldConfig"]["defaults"]["unit"] != "s"]
    t.check(not seconds, "TCP analysis: the RTT panels are in seconds", ", ".join(seconds))


def check_service_filter(t, panels, labelled):
    """Each selector of a labelled family takes the port variable, so that
    choosing services narrows every per-flow panel; the loss ratio alone
    keeps all services (tcp_packets has no port)."""
    bad = []
    for p in panels:
        for tg in p.get("targets", []):
            for name, sel in re.findall(r"(tcp_monitor_\w+)(\{[^}]*\})?", tg["expr"]):
                has = 'port=~"$port"' in sel
                want = name in labelled and p["title"] != "Loss ratio"
                if has != want:
                    bad.append(f"{p['title']}: {name}{sel}")
    t.check(not bad and len(labelled) > 20,
            f'per-flow families ({len(labelled)} with a port label) are limited to '
            f'port=~"$port", the others and the loss ratio are not', "; ".join(bad))
    row = {p["title"]: p for p in row_of(panels, "Per service")}
    want = {"Loss events by service port": "tcp_monitor_packet_loss_missing_total",
            "Retransmissions by service port": "tcp_monitor_retransmissions_total",
            "ACK RTT p99 by service port": "tcp_monitor_ack_rtt_seconds_bucket",
            "Connections opened by service port": "tcp_monitor_connections_opened_total"}
    bad = [title for title, metric in want.items()
           if title not in row
           or not all(re.search(r"sum by \(instance, port(, le)?\)", tg["expr"])
                      and metric in tg["expr"] for tg in row[title]["targets"])]
    t.check(not bad, "Per service row: loss, retransmissions, ACK RTT p99 and connections "
            "summed by (instance, port)", ", ".join(bad))


def case_dashboard(t, work):
    with open(os.path.join(DEPLOY, "grafana-dashboard.json")) as f:
        dash = json.load(f)
    t.check(True, "grafana-dashboard.json is JSON")
    targets = [(p["title"], tg) for p in dash["panels"] for tg in p.get("targets", [])]
    titles = {p["title"] for p in dash["panels"]}
    for want in ("Loss events by kind", "Loss ratio", "Hole-fill time", "Window size",
                 "Capture drops vs capture gaps", "Active connections"):
        t.check(want in titles, f"panel '{want}'")
    t.check(any(p["type"] == "heatmap" and "hole_fill" in p["targets"][0]["expr"]
                for p in dash["panels"] if p.get("targets")), "hole-fill time is a heatmap")
    t.check(all(tg.get("expr") for _, tg in targets), f"{len(targets)} queries, none empty")
    variables = {v["name"] for v in dash["templating"]["list"]}
    t.check({"datasource", "instance", "port"} <= variables,
            "variables: datasource, instance, port")
    port = next((v for v in dash["templating"]["list"] if v["name"] == "port"), {})
    t.check(port.get("includeAll") and port.get("allValue") == ".*"
            and ", port)" in port.get("definition", ""),
            "port: label_values(..., port), All matches the unlabelled series too (.*)")
    check_conventions(t, dash["panels"])
    check_analysis_row(t, dash["panels"])
    check_service_filter(t, dash["panels"], labelled_families(work))

    # Each expression as a recording rule: promtool parses it.
    rules = os.path.join(work, "dashboard_rules.yml")
    with open(rules, "w") as f:
        f.write("groups:\n  - name: dashboard\n    rules:\n")
        for i, (title, tg) in enumerate(targets):
            f.write(f"      - record: dashboard:query_{i}\n")
            f.write(f"        expr: {json.dumps(grafana_to_promql(tg['expr']))}\n")
    rc, out = promtool("check", "rules", rules)
    if rc != 0:  # name the culprits
        bad = []
        for title, tg in targets:
            one = os.path.join(work, "one.yml")
            with open(one, "w") as f:
                f.write("groups:\n  - name: d\n    rules:\n      - record: d:q\n"
                        f"        expr: {json.dumps(grafana_to_promql(tg['expr']))}\n")
            if promtool("check", "rules", one)[0] != 0:
                bad.append(f"{title}: {tg['expr']}")
        out += "\n" + "\n".join(bad)
    t.check(rc == 0, f"promtool parses all {len(targets)} dashboard expressions", out)
    check_names(t, "grafana-dashboard.json", [tg["expr"] for _, tg in targets],
                exported_names(work))


def case_service(t, work):
    path = os.path.join(DEPLOY, "tcp_window_monitor.service")
    with open(path) as f:
        unit = f.read()
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    for key, want in (("AmbientCapabilities", "CAP_NET_RAW CAP_NET_ADMIN"),
                      ("CapabilityBoundingSet", "CAP_NET_RAW CAP_NET_ADMIN"),
                      ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"),
                      ("Restart", "on-failure"), ("DynamicUser", "yes")):
        t.check(settings.get(key) == want, f"{key}={want}", f"{settings.get(key)}")
    t.check("PrivateNetwork" not in settings, "no PrivateNetwork (it would hide the interfaces)")
    t.check(re.search(r"^ExecStart=\S*tcp_window_monitor -i ", unit, re.M) is not None,
            "ExecStart runs tcp_window_monitor -i")
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        print("# systemd-analyze is not installed: unit verification skipped")
        return
    # Verify a copy whose ExecStart names the binary just built.
    copy = os.path.join(work, "tcp_window_monitor.service")
    with open(copy, "w") as f:
        f.write(unit.replace("/usr/local/bin/tcp_window_monitor", BIN))
    p = subprocess.run([analyze, "verify", copy], capture_output=True, text=True, timeout=60)
    out = "\n".join(x for x in (p.stdout + p.stderr).splitlines()
                    if "tcp_window_monitor" in x or "Unknown" in x)
    t.check(p.returncode == 0 and not out, "systemd-analyze verify", out)


CASES = {"rules": case_rules, "config": case_config, "dashboard": case_dashboard,
         "service": case_service}

if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[3] not in CASES:
        sys.exit(f"usage: deploy_check.py BINARY PROMTOOL {{{'|'.join(CASES)}}}")
    BIN, PROMTOOL, case = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    t = Results(case)
    work = tempfile.mkdtemp(prefix="tcpwm-deploy-")
    try:
        CASES[case](t, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(t.summary())
