# SPDX-License-Identifier: MIT
"""The flow drill-down document (docs/flows.schema.json) as the tests read
it: the replay's --flows-json (cli_test.py) and the live GET /flows
(live_test.py, which puts this folder on its path). One copy of the
schema check, of what each per-flow figure adds up to, and of the
documented orders."""
import ipaddress
import json
import os

SCHEMA = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "docs", "flows.schema.json")

# Each per-flow counter and the total it adds up to while no flow has left
# the table (the schema's description).
FLOW_TOTALS = {
    "missing": "tcp_monitor_packet_loss_missing_total",
    "duplicate": "tcp_monitor_packet_loss_duplicate_total",
    "out_of_order": "tcp_monitor_packet_loss_out_of_order_total",
    "capture_gap": "tcp_monitor_capture_gap_total",
    "window_shrink": "tcp_monitor_window_shrink_total",
    "right_edge_retreat": "tcp_monitor_window_right_edge_retreat_total",
    "zero_window": "tcp_monitor_zero_window_total",
}
# Each kind of a flow's "retransmissions" and the sample it adds up to.
RETX_TOTALS = {kind: f'tcp_monitor_retransmissions_total{{kind="{kind}"}}'
               for kind in ("fast", "spurious", "other")}


def validator():
    """docs/flows.schema.json, checked as a draft 2020-12 schema itself
    (Debian package python3-jsonschema)."""
    import jsonschema
    with open(SCHEMA) as fh:
        schema = json.load(fh)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def first_error(v, doc):
    """The first way doc breaks the schema, as a line; "" when valid."""
    errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    if not errors:
        return ""
    return f"{'/'.join(map(str, errors[0].absolute_path))}: {errors[0].message}"


def retransmissions(flow):
    return sum(flow["retransmissions"].values())


def rank_key(order, flow):
    """What ranks a flow first under order, larger is worse (the schema's
    "order"): loss events; retransmissions, fast + spurious + other; the
    ACK RTT median estimate, then the maximum, no sample below any."""
    if order == "loss":
        return (flow["loss_events"],)
    if order == "retransmissions":
        return (retransmissions(flow),)
    if order == "rtt":
        rtt = flow.get("ack_rtt")
        return (rtt["median_seconds"], rtt["max_seconds"]) if rtt else (-1, -1)
    raise ValueError(f"no ranking {order}")


def endpoints_key(flow):
    """The first tie-break, endpoints ascending as top.c compares them
    (VLANs, family, then each endpoint's address bytes and port); None
    for a tunnelled flow, whose further key (the encapsulation's bytes)
    the document does not give."""
    if flow["encapsulation"]:
        return None
    vlans = flow["vlans"] + [0] * (2 - len(flow["vlans"]))
    ends = [(ipaddress.ip_address(e["address"]).packed.ljust(16, b"\0"), e["port"])
            for e in flow["endpoints"]]
    return (len(flow["vlans"]), vlans, flow["family"], ends)


def misordered(doc):
    """Where doc's flows break its order: [(i, why)] for each flow i that
    should come after flow i + 1."""
    order, flows, bad = doc["order"], doc["flows"], []
    for i in range(len(flows) - 1):
        a, b = rank_key(order, flows[i]), rank_key(order, flows[i + 1])
        if a < b:
            bad.append((i, f"{order} {a} before {b}"))
        elif a == b:
            ea, eb = endpoints_key(flows[i]), endpoints_key(flows[i + 1])
            if ea is not None and eb is not None and ea > eb:
                bad.append((i, f"tie on {order} {a}: {flows[i]['text']} before "
                               f"{flows[i + 1]['text']}"))
    return bad
