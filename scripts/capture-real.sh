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
#   rto-blackout.pcap  2 MB A->B at 8 Mbit/s; twice R drops everything A
#       sends for 600 ms. B sees no hole, so no duplicate ACKs: A recovers by
#       timers only (a tail-loss probe, the RTO, lost too, the backed-off RTO
#       after the blackout, then go-back-N), all "retransmission" to
#       Wireshark, none fast. Recorded on r0, before the drop: the lost
#       segments are there, and each retransmission repeats bytes the
#       capture has (on b0 the first one would just be the next segment).
#   delay-spike.pcap  2 MB A->B at 8 Mbit/s; twice r1's rate falls to
#       8 kbit/s for 500 ms, longer than A's RTO (Linux's 200 ms minimum
#       plus the RTT), and back: A's segments wait in the queue, nothing is
#       lost, the RTO retransmits the oldest anyway, and the copy queues
#       behind the original. Recorded on b0: B acknowledges the original,
#       then gets the copy (Wireshark's spurious retransmission) and answers
#       with a D-SACK.
#
# Tunnels and fragments (pairs of files of the same traffic: the counters of
# one must equal those of the other):
#
#   vxlan-underlay.pcap  two bulk flows at once (1.5 MB each, one IPv4 and
#       one IPv6 inside the tunnel) between real Linux vxlan devices in A
#       and B (VNI 42, UDP 4789, overlay 192.168.77.0/24 and fd79::/64) over
#       the routed IPv4 underlay; R drops 2% of the A->B VXLAN datagrams and
#       delays 3% behind later ones (htb, as reorder-htb). Recorded on b0,
#       -s 192: Ethernet / IPv4 / UDP / VXLAN / Ethernet / IP / TCP.
#   vxlan-inner.pcap  the same traffic recorded at the same time on B's
#       vxlan0, after decapsulation: the plain inner frames. Each TCP
#       connection has the same packets in the same order as in the
#       underlay file (the two connections interleave a little differently:
#       vxlan hands frames on through per-CPU queues); the non-TCP frames
#       of the underlay (ARP, neighbour discovery inside the tunnel) are not
#       in it.
#   frag-before-router.pcap  1 MB A->B over A - L - R - B, A with
#       net.ipv4.ip_no_pmtu_disc=1 (no DF), r1's MTU 576, B's link 1500;
#       L drops 2% of A's data segments. Recorded on r0 (R's input, after
#       the loss, before the fragmentation): whole segments.
#   frag-after-router.pcap  the same transfer recorded at the same time on
#       b0, whole packets: every full-sized segment arrives as three IPv4
#       fragments (552 + 552 + 376 bytes of IP payload), B's ACKs whole.
#       Each direction carries the same TCP segments in the same order as
#       frag-before-router.pcap once reassembled (ACKs and data interleave
#       differently: the capture points are one router apart).
#   frag-after-router-s128.pcap  frag-after-router.pcap cut to 128 bytes by
#       editcap: the first fragment keeps its TCP header, later fragments
#       keep their IP header. tshark does not reassemble fragments it lacks
#       the bytes of, so it is no reference for this file: its truth is the
#       other two.
#   No IPv6 fragments: Linux's TCP never lets IPv6 fragment its segments
#   (ip6_fragment refuses a packet without ignore_df, which only datagram
#   sockets and tunnels set), IPv6 routers never fragment (RFC 8200), and
#   a vxlan device over an IPv6 underlay with a smaller path MTU lowers the
#   inner path MTU rather than fragment (tried on Linux 6.18).
#
# The other tunnels (GRE, ERSPAN, IP in IP, Geneve, MPLS) have no driver in
# these kernels: scripts/encap-wrap.py wraps the captures above in them
# (tests/pcaps/encap/README.md).
#
# Usage: sudo scripts/capture-real.sh [OUTDIR [SCENARIO...]]
#   OUTDIR defaults to tests/pcaps/real; SCENARIO is one of bulk_random_drop,
#   tbf_bottleneck, reorder_htb, many_short_flows, shrink_window, router_any,
#   rto_blackout, delay_spike, vxlan, fragments (default: all of them).
# Needs: root, iproute2 (with the vxlan driver), nftables, tcpdump, python3,
# editcap (fragments). Sends nothing outside the namespaces it creates.

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
for tool in ip nft tc ss tcpdump python3 timeout; do
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
    # FILTER (default tcp) may be set by the caller: `FILTER=ip capture ...`.
    ip netns exec "$TAG-$ns" tcpdump -i "$ifc" -s 128 -U --immediate-mode -Z root -w "$file" "$@" \
        ${FILTER:-tcp} 2>"$log" &
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
    # A packet tcpdump could not keep up with is not a packet the network
    # lost: such a recording is not what it claims to be.
    if grep -q "^[1-9][0-9]* packets dropped by kernel" "$WORK"/*.log; then
        die "tcpdump dropped packets (a busy machine?): run the scenario again"
    fi
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

scenario_vxlan() {
    echo "vxlan-underlay.pcap vxlan-inner.pcap"
    topology
    # A real Linux vxlan device in A and in B over the routed underlay
    # a0 -> R -> b0 (RFC 7348: VNI 42, UDP 4789); the overlay gets its own
    # IPv4 and IPv6 subnets. vxlan0's MTU is the kernel's default, 1450
    # (1500 minus the 50 bytes of outer Ethernet payload headers), so every
    # underlay packet fits the 1500-byte underlay without fragments.
    local ns lo re
    for ns in a b; do
        if [[ $ns == a ]]; then lo=10.77.1.1 re=10.77.2.1; else lo=10.77.2.1 re=10.77.1.1; fi
        in_ns "$ns" ip link add vxlan0 type vxlan id 42 dstport 4789 \
            remote "$re" local "$lo" dev "${ns}0"
        # No GRO on the decapsulated frames (vxlan's receive path merges
        # them, and a capture on vxlan0 would see two segments as one), so
        # vxlan0 shows exactly the frames the underlay carried.
        in_ns "$ns" ip link set vxlan0 gso_max_segs 1 gro_max_size 0 up
    done
    in_ns a ip addr add 192.168.77.1/24 dev vxlan0
    in_ns a ip addr add fd79::1/64 dev vxlan0 nodad
    in_ns b ip addr add 192.168.77.2/24 dev vxlan0
    in_ns b ip addr add fd79::2/64 dev vxlan0 nodad
    # Loss and reordering of the underlay, A->B only: R drops 2% of the VXLAN
    # datagrams it forwards, and r1's htb delays a random 3% of the rest
    # behind later ones (the slow class of scenario_reorder_htb).
    in_ns r nft add rule inet tcpwm routed iifname r0 udp dport 4789 \
        'numgen random mod 100 < 2' drop
    in_ns r tc qdisc add dev r1 root handle 1: htb default 10
    in_ns r tc class add dev r1 parent 1: classid 1:10 htb rate 50mbit quantum 1514
    in_ns r tc class add dev r1 parent 1: classid 1:20 htb rate 10mbit ceil 10mbit quantum 1514
    in_ns r tc qdisc add dev r1 parent 1:20 pfifo limit 1000
    in_ns r nft add rule inet tcpwm leaving oifname r1 udp dport 4789 \
        'numgen random mod 100 < 3' meta priority set 1:20
    server b sink --bind :: --port 5001 --count 2
    # Both capture points are in B, after the drops and the reordering: b0
    # sees the VXLAN datagrams, vxlan0 the frames they carry, one to one.
    # 192 bytes keep the longest inner TCP header of IPv6 over VXLAN (50
    # bytes of outer headers + 14 + 40 + 60), as 128 do for plain frames.
    FILTER="udp port 4789" capture b b0 "$OUT/vxlan-underlay.pcap" -s 192
    capture b vxlan0 "$OUT/vxlan-inner.pcap"
    client a send --host 192.168.77.2 --port 5001 --bytes 1500000 &
    local c4=$!
    client a send --host fd79::2 --port 5001 --bytes 1500000
    wait "$c4"
    wait_servers
    stop_captures
    teardown
}

# The two scenarios below need a transfer that lasts a few seconds and
# loses nothing but what the scenario takes away: r1's tbf paces A->B at
# 8 Mbit/s (2 MB take about 2 s), and B's receive buffer is capped so that
# its window (about 40 KB), not a full queue, bounds what is in flight: the
# tbf never tail-drops, the RTT stays near 40 ms (the window's time in the
# queue), and so the sender's RTO stays near Linux's minimum (200 ms plus
# the smoothed RTT).
slow_path() {
    in_ns b sysctl -qw net.ipv4.tcp_rmem="4096 65536 65536"
    in_ns r tc qdisc add dev r1 root tbf rate 8mbit burst 16kb limit 1mb
}

# established NS PORT: wait until NS has a connection to PORT, so that the
# scenario's timing counts from the transfer, not from python's start.
established() {
    for _ in $(seq 200); do
        [[ -n $(in_ns "$1" ss -Htn state established "( dport = :$2 )") ]] && return 0
        sleep 0.02
    done
    die "no connection to port $2 in $1"
}

# transfer_with_events FILE NS DEV HOLD START STOP: a 2 MB transfer A->B on
# the slow path, recorded on NS's DEV into FILE, during which the command
# START runs twice, 0.5 s into the transfer and 0.6 s after the first STOP,
# and STOP HOLD seconds after each START.
transfer_with_events() {
    local file=$1 ns=$2 dev=$3 hold=$4 start=$5 stop=$6
    echo "$file"
    topology
    slow_path
    server b sink --bind 10.77.2.1 --port 5001
    capture "$ns" "$dev" "$OUT/$file"
    client a send --host 10.77.2.1 --port 5001 --bytes 2000000 &
    local c=$!
    established a 5001
    for _ in 1 2; do
        sleep 0.5
        "$start"
        sleep "$hold"
        "$stop"
    done
    wait "$c"
    wait_servers
    stop_captures
    teardown
}

# R drops everything A sends for 600 ms. The segments already in r1's
# queue still reach B, and B's ACKs still reach A, so the ACK clock stops
# some 40 ms after the drop starts. B sees no hole, so no duplicate ACK
# comes back and only timers can recover: a tail-loss probe (RFC 8985),
# then the RTO (RFC 6298), lost too, then the RTO backed off to twice that
# (about 460 ms), after the blackout ends; once that is ACKed, the rest of
# the window again as slow start reopens it.
blackout_start() { in_ns r nft add rule inet tcpwm routed iifname r0 drop; }
blackout_stop() { in_ns r nft flush chain inet tcpwm routed; }

# r0 is before the drop: it sees the segments that die in the blackout,
# then their retransmissions (the same bytes again). On b0 there would be
# nothing to see: B gets none of the lost segments, so the first
# retransmission is just the next segment it expects.
scenario_rto_blackout() {
    transfer_with_events rto-blackout.pcap r r0 0.6 blackout_start blackout_stop
}

# r1's tbf drops to 8 kbit/s for 500 ms and back: a change keeps the
# queued packets (the queue holds 1 MB, more than any window), so A's
# segments wait in R instead of dying there. The RTO fires during the
# wait, about 230 ms after the oldest held segment left A, and its
# retransmission queues behind the originals; B receives and acknowledges
# the originals first, so the copy it gets next carries bytes it has
# already acknowledged: Wireshark's spurious retransmission, and B's
# D-SACK (RFC 2883).
spike_start() { in_ns r tc qdisc change dev r1 root tbf rate 8kbit burst 2kb limit 1mb; }
spike_stop() {
    in_ns r tc qdisc change dev r1 root tbf rate 8mbit burst 16kb limit 1mb
    # The change does not wake the queue (its timer is still set for the
    # next packet at 8 kbit/s): the next packet to enqueue would, and that
    # is A's next RTO. One UDP datagram from R to B (bash's /dev/udp; the
    # capture keeps TCP only) releases it now.
    in_ns r bash -c 'echo > /dev/udp/10.77.2.1/9'
}

# b0 is the receiver: it sees each held segment arrive before its
# retransmission, and B's ACK of it in between.
scenario_delay_spike() {
    transfer_with_events delay-spike.pcap b b0 0.5 spike_start spike_stop
}

# topology_frag: A -- L -- R -- B, four namespaces in a line. L loses, R
# fragments: r1 (R towards B) has a 576-byte MTU, every other link 1500.
#
#   a0 10.78.1.1 <-> l0 10.78.1.254 | l1 10.78.2.254 <-> r0 10.78.2.1 | r1 10.78.3.254 <-> b0 10.78.3.1
#                                                                     mtu 576
topology_frag() {
    local ns
    for ns in a l r b; do
        ip netns add "$TAG-$ns"
        NAMESPACES+=("$TAG-$ns")
        in_ns "$ns" ip link set lo up
    done
    ip link add a0 netns "$TAG-a" type veth peer name l0 netns "$TAG-l"
    ip link add l1 netns "$TAG-l" type veth peer name r0 netns "$TAG-r"
    ip link add r1 netns "$TAG-r" type veth peer name b0 netns "$TAG-b"
    in_ns a ip addr add 10.78.1.1/24 dev a0
    in_ns l ip addr add 10.78.1.254/24 dev l0
    in_ns l ip addr add 10.78.2.254/24 dev l1
    in_ns r ip addr add 10.78.2.1/24 dev r0
    in_ns r ip addr add 10.78.3.254/24 dev r1
    in_ns b ip addr add 10.78.3.1/24 dev b0
    for pair in a:a0 l:l0 l:l1 r:r0 r:r1 b:b0; do
        in_ns "${pair%%:*}" ip link set "${pair#*:}" gso_max_segs 1 up
    done
    in_ns r ip link set r1 mtu 576
    in_ns a ip route add default via 10.78.1.254
    in_ns l ip route add 10.78.3.0/24 via 10.78.2.1
    in_ns r ip route add default via 10.78.2.254
    in_ns b ip route add default via 10.78.3.254
    in_ns l sysctl -qw net.ipv4.ip_forward=1
    in_ns r sysctl -qw net.ipv4.ip_forward=1
    in_ns l nft add table inet tcpwm
    in_ns l nft add chain inet tcpwm routed '{ type filter hook forward priority 0; }'
}

scenario_fragments() {
    echo "frag-before-router.pcap frag-after-router.pcap frag-after-router-s128.pcap"
    command -v editcap >/dev/null || die "missing tool: editcap (wireshark-common)"
    topology_frag
    # RFC 1191 path MTU discovery off in A: its segments leave without DF,
    # so R may fragment them (RFC 791) instead of answering "fragmentation
    # needed". B's own link has MTU 1500, so B announces MSS 1460 and A
    # sends full 1500-byte packets, which r1 cuts into three fragments of
    # 552 + 552 + 376 bytes of IP payload (offsets in 8-byte units).
    in_ns a sysctl -qw net.ipv4.ip_no_pmtu_disc=1
    # L drops 2% of A's data segments, before both capture points.
    in_ns l nft add rule inet tcpwm routed iifname l0 tcp dport 5001 \
        'numgen random mod 100 < 2' drop
    # Nothing is lost after the loss point: r1 paces its fragments at
    # 50 Mbit/s from a queue long enough for any window, because a burst of
    # three fragments per segment at veth speed overflows B's input backlog
    # (1000 packets), and one lost fragment loses its whole datagram at b0
    # but not at r0, so the two captures would no longer carry the same TCP.
    in_ns r tc qdisc add dev r1 root tbf rate 50mbit burst 32kb limit 4mb
    server b sink --bind 10.78.3.1 --port 5001
    # r0 is R's side of the L-R link: whole segments, after the loss. b0
    # sees the same datagrams as fragments. The fragment capture keeps whole
    # packets (Wireshark reassembles only fragments it has all bytes of);
    # FILTER=ip keeps every fragment whatever a filter makes of them.
    capture r r0 "$OUT/frag-before-router.pcap"
    FILTER=ip capture b b0 "$OUT/frag-after-router.pcap" -s 0 -B 65536
    client a send --host 10.78.3.1 --port 5001 --bytes 1000000
    wait_servers
    stop_captures
    teardown
    # The same fragments cut to 128 bytes, as tcpdump -s 128 would have
    # recorded them: reassembly of byte ranges must not need the bytes.
    editcap -s 128 "$OUT/frag-after-router.pcap" "$OUT/frag-after-router-s128.pcap"
}

ALL=(bulk_random_drop tbf_bottleneck reorder_htb many_short_flows shrink_window router_any
     rto_blackout delay_spike vxlan fragments)
(($# > 1)) && ALL=("${@:2}")
for name in "${ALL[@]}"; do
    declare -F "scenario_$name" >/dev/null || die "no scenario $name (have: ${ALL[*]})"
    "scenario_$name"
done
ls -l "$OUT"
