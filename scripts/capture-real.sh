#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# capture-real.sh - record real Linux TCP traffic for tests/pcaps/real/.
#
# Builds network namespaces joined by veth pairs, makes loss and reordering
# with tbf/htb queues and nftables `numgen random` drops (this kernel has no
# netem), runs transfers with Linux's own TCP stack (python3 sockets) and
# records headers only with `tcpdump -s 128`, so every capture also checks
# that payload lengths come from the IP header, not from the captured bytes.
#
# Topology (one fresh set of namespaces per capture, removed on exit):
#
#   A (sender/client)          R (router)                 B (receiver/server)
#   a0 10.77.1.1/24   <---->   r0 10.77.1.254 | r1 10.77.2.254   <---->   b0 10.77.2.1/24
#      fd77:1::1/64                fd77:1::fe | fd77:2::fe                 fd77:2::1/64
#
# Segmentation offload is limited to one MSS per packet (gso_max_segs 1) so
# the wire carries ordinary MSS-sized segments, and loss hits one segment.
#
# Captures (they differ from run to run; tests take their expectations from
# tshark, never from fixed numbers):
#
#   bulk-random-drop-tx.pcap  2 MB A->B; R drops 3% of A's data segments in
#       its forward path. Recorded on r0, i.e. BEFORE the drop: every segment
#       is seen once, and each retransmission is data the capture already has
#       (duplicates; Wireshark calls them retransmissions, or out-of-order
#       when they come within its RTT estimate), and nothing is missing.
#   bulk-random-drop-rx.pcap  the same transfer recorded on b0, AFTER the
#       drop: each lost segment is a "previous segment not captured"
#       (missing), and its retransmission fills the hole (out-of-order).
#   tbf-bottleneck.pcap  two bulk flows A->B at once (one IPv4, one IPv6)
#       through a 20 Mbit/s tbf with a 24 KB queue on r1: tail drops in
#       bursts, SACK recovery, several holes open at once. Recorded on b0.
#   reorder-htb.pcap  2 MB A->B; r1's htb sends a random 5% of the data
#       segments through a slower class, which delays them behind later
#       ones: reordering without loss, so missing + out-of-order fills. With
#       a sub-millisecond RTT, Linux's RACK takes the reordering for loss at
#       first and retransmits a lot spuriously (duplicates, D-SACKs).
#       Recorded on b0.
#   many-short-flows.pcap  100 request/response connections (HTTP/1.0 style,
#       12 KB answers, the server closes first) from four workers that reuse
#       a small pool of client ports, so 4-tuples are reused with new SYNs;
#       R drops 2% of packets both ways (SYN, FIN and data retransmissions).
#       Recorded on a0: A's packets before the drop, B's after it.
#   shrink-window.pcap  512 KB A->B to a reader that drains slowly, with
#       net.ipv4.tcp_shrink_window=1 and a small tcp_rmem in B: window
#       shrinks, zero windows with right-edge retreats, and Linux's zero-window
#       probes, which carry no byte (seq = SND.UNA - 1, keep-alive shaped).
#       Recorded on b0.
#   router-any-sll2.pcap  600 KB A->B with 2% forward drops, recorded on R
#       with `-i any` (Linux cooked SLL2, nanosecond timestamps): every
#       forwarded segment is seen twice (in on r0, out on r1) as one stream.
#
# Usage: sudo scripts/capture-real.sh [OUTDIR [SCENARIO...]]
#   OUTDIR defaults to tests/pcaps/real; SCENARIO is one of bulk_random_drop,
#   tbf_bottleneck, reorder_htb, many_short_flows, shrink_window, router_any
#   (default: all of them).
# Needs: root, iproute2, nftables, tcpdump, python3. Sends nothing outside
# the namespaces it creates.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$ROOT/tests/pcaps/real}
TAG=tcpwm$$
WORK=$(mktemp -d)
NAMESPACES=()
SERVERS=()  # traffic.py servers of the running scenario
CAPTURES=() # tcpdumps of the running scenario

cleanup() {
    local pid ns
    for pid in "${SERVERS[@]}" "${CAPTURES[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "capture-real: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (network namespaces)"
for tool in ip nft tc tcpdump python3 timeout; do
    command -v "$tool" >/dev/null || die "missing tool: $tool"
done
mkdir -p "$OUT"

# The traffic generator (Linux's TCP stack driven by plain sockets) is the
# live tests' own: sink, send, serve, fetch.
TRAFFIC=$ROOT/tests/live/traffic.py

in_ns() { local ns=$1; shift; ip netns exec "$TAG-$ns" "$@"; }

# topology: fresh namespaces A, R, B joined by veth pairs (see the header).
topology() {
    local ns
    for ns in a r b; do
        ip netns add "$TAG-$ns"
        NAMESPACES+=("$TAG-$ns")
        in_ns "$ns" ip link set lo up
    done
    ip link add a0 netns "$TAG-a" type veth peer name r0 netns "$TAG-r"
    ip link add r1 netns "$TAG-r" type veth peer name b0 netns "$TAG-b"
    in_ns a ip addr add 10.77.1.1/24 dev a0
    in_ns a ip addr add fd77:1::1/64 dev a0 nodad
    in_ns r ip addr add 10.77.1.254/24 dev r0
    in_ns r ip addr add fd77:1::fe/64 dev r0 nodad
    in_ns r ip addr add 10.77.2.254/24 dev r1
    in_ns r ip addr add fd77:2::fe/64 dev r1 nodad
    in_ns b ip addr add 10.77.2.1/24 dev b0
    in_ns b ip addr add fd77:2::1/64 dev b0 nodad
    for pair in a:a0 r:r0 r:r1 b:b0; do
        # One MSS per packet on the wire: no TSO/GSO super-segments.
        in_ns "${pair%%:*}" ip link set "${pair#*:}" gso_max_segs 1 up
    done
    in_ns a ip route add default via 10.77.1.254
    in_ns a ip -6 route add default via fd77:1::fe
    in_ns b ip route add default via 10.77.2.254
    in_ns b ip -6 route add default via fd77:2::fe
    in_ns r sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
    # A filter table in R for the drops and marks of each scenario.
    in_ns r nft add table inet tcpwm
    in_ns r nft add chain inet tcpwm routed '{ type filter hook forward priority 0; }'
    in_ns r nft add chain inet tcpwm leaving '{ type filter hook postrouting priority 0; }'
}

teardown() {
    local ns
    for ns in "${NAMESPACES[@]}"; do
        ip netns del "$ns"
    done
    NAMESPACES=()
}

# capture NS IFACE FILE [tcpdump options...]: start tcpdump, wait until it listens.
capture() {
    local ns=$1 ifc=$2 file=$3 log
    shift 3
    log="$WORK/$(basename "$file").log"
    # `ip netns exec` execs tcpdump, so $! is tcpdump itself and gets the SIGINT.
    ip netns exec "$TAG-$ns" tcpdump -i "$ifc" -s 128 -U --immediate-mode -Z root -w "$file" "$@" tcp 2>"$log" &
    CAPTURES+=($!)
    for _ in $(seq 100); do
        grep -q "listening on" "$log" && return 0
        sleep 0.05
    done
    die "tcpdump on $ns/$ifc did not start: $(cat "$log")"
}

# stop_captures: let the last packets in, stop tcpdump, report counts.
stop_captures() {
    local pid
    sleep 1
    for pid in "${CAPTURES[@]}"; do
        kill -INT "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    CAPTURES=()
    grep -h "packets" "$WORK"/*.log | sed 's/^/  /' || true
    rm -f "$WORK"/*.log
}

# server NS ARGS...: start a traffic.py server in NS and wait until it listens.
server() {
    local ns=$1 flag="$WORK/ready"
    shift
    rm -f "$flag"
    ip netns exec "$TAG-$ns" timeout 120 python3 "$TRAFFIC" "$@" --ready "$flag" &
    SERVERS+=($!)
    for _ in $(seq 100); do
        [[ -e $flag ]] && return 0
        sleep 0.05
    done
    die "server in $ns did not start"
}

client() {
    local ns=$1
    shift
    in_ns "$ns" timeout 120 python3 "$TRAFFIC" "$@"
}

# wait_servers: the servers exit once their connections are done.
wait_servers() {
    local pid
    for pid in "${SERVERS[@]}"; do
        wait "$pid" || die "a server failed"
    done
    SERVERS=()
}

scenario_bulk_random_drop() {
    echo "bulk-random-drop-{tx,rx}.pcap"
    topology
    in_ns r nft add rule inet tcpwm routed iifname r0 tcp dport 5001 \
        'numgen random mod 100 < 3' drop
    server b sink --bind 10.77.2.1 --port 5001
    capture r r0 "$OUT/bulk-random-drop-tx.pcap"
    capture b b0 "$OUT/bulk-random-drop-rx.pcap"
    client a send --host 10.77.2.1 --port 5001 --bytes 2000000
    wait_servers
    stop_captures
    teardown
}

scenario_tbf_bottleneck() {
    echo "tbf-bottleneck.pcap"
    topology
    in_ns r tc qdisc add dev r1 root tbf rate 20mbit burst 8kb limit 24kb
    server b sink --bind :: --port 5001 --count 2
    capture b b0 "$OUT/tbf-bottleneck.pcap"
    client a send --host 10.77.2.1 --port 5001 --bytes 1500000 &
    local c4=$!
    client a send --host fd77:2::1 --port 5001 --bytes 1500000
    wait "$c4"
    wait_servers
    stop_captures
    teardown
}

scenario_reorder_htb() {
    echo "reorder-htb.pcap"
    topology
    # htb picks the class named by skb->priority when it exists: 1:10 for
    # most packets, 1:20 for the ones nft marks. 1:20 is slower per packet
    # (1 ms at 12 Mbit/s) but faster than the ~5 Mbit/s it is offered, so a
    # marked segment arrives a few segments late instead of queueing for ever.
    in_ns r tc qdisc add dev r1 root handle 1: htb default 10
    in_ns r tc class add dev r1 parent 1: classid 1:10 htb rate 50mbit quantum 1514
    in_ns r tc class add dev r1 parent 1: classid 1:20 htb rate 10mbit ceil 10mbit quantum 1514
    in_ns r tc qdisc add dev r1 parent 1:20 pfifo limit 1000
    in_ns r nft add rule inet tcpwm leaving oifname r1 tcp dport 5001 \
        'numgen random mod 100 < 5' meta priority set 1:20
    server b sink --bind 10.77.2.1 --port 5001
    capture b b0 "$OUT/reorder-htb.pcap"
    client a send --host 10.77.2.1 --port 5001 --bytes 2000000
    wait_servers
    stop_captures
    teardown
}

scenario_many_short_flows() {
    echo "many-short-flows.pcap"
    topology
    in_ns r nft add rule inet tcpwm routed 'numgen random mod 100 < 2' drop
    server b serve --bind 10.77.2.1 --port 8080 --count 100 --bytes 12000
    capture a a0 "$OUT/many-short-flows.pcap"
    client a fetch --host 10.77.2.1 --port 8080 --count 100 --workers 4 --pool 5 \
        --timeout 20
    wait_servers
    stop_captures
    teardown
}

scenario_shrink_window() {
    echo "shrink-window.pcap"
    topology
    in_ns b sysctl -qw net.ipv4.tcp_shrink_window=1 || die "no net.ipv4.tcp_shrink_window"
    in_ns b sysctl -qw net.ipv4.tcp_rmem="4096 32768 131072"
    # Drain 2 KB every 4 ms, and stop for 0.7 s after every 128 KB: long
    # enough for the sender's persist timer to send zero-window probes.
    server b sink --bind 10.77.2.1 --port 5001 --chunk 2048 --delay 0.004 \
        --pause-every 131072 --pause 0.7
    capture b b0 "$OUT/shrink-window.pcap"
    client a send --host 10.77.2.1 --port 5001 --bytes 524288
    wait_servers
    stop_captures
    teardown
}

scenario_router_any() {
    echo "router-any-sll2.pcap"
    topology
    in_ns r nft add rule inet tcpwm routed iifname r0 tcp dport 5001 \
        'numgen random mod 100 < 2' drop
    server b sink --bind 10.77.2.1 --port 5001
    capture r any "$OUT/router-any-sll2.pcap" -y LINUX_SLL2 --time-stamp-precision nano
    client a send --host 10.77.2.1 --port 5001 --bytes 600000
    wait_servers
    stop_captures
    teardown
}

ALL=(bulk_random_drop tbf_bottleneck reorder_htb many_short_flows shrink_window router_any)
(($# > 1)) && ALL=("${@:2}")
for name in "${ALL[@]}"; do
    declare -F "scenario_$name" >/dev/null || die "no scenario $name (have: ${ALL[*]})"
    "scenario_$name"
done
ls -l "$OUT"
