#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/live_load.sh: tcp_window_monitor in live mode under load. A large
# synthetic capture (bench/gen_capture, full-size Ethernet frames) is replayed
# with tcpreplay into one end of a veth pair, in a network namespace of its
# own, while `tcp_window_monitor -i` captures the other end and a scraper
# GETs /metrics every 100 ms. Each trial starts a fresh monitor and sends
# at one rate: none (idle, the scrape latency baseline), a few fixed rates
# (tcpreplay --pps, the first RATE*SECONDS packets of the file), and the
# whole file at tcpreplay's top speed, with the large kernel buffer and
# with smaller ones: the default (-B 2048) and the README's advice for
# drops (-B 16384).
#
# Per trial it prints: the rate asked, the rate tcpreplay achieved (its own
# summary), packets sent, packets the monitor counted
# (tcp_monitor_packets_total), kernel drops (tcp_monitor_capture_dropped_total,
# tcp_monitor_capture_interface_dropped_total, and sent - counted, which
# also catches drops before the capture point), the scrapes made while
# packets were arriving and their latency (p50, p99, max), and where the
# CPU went meanwhile (the monitor, the sender, the whole machine).
# It is a measurement, not a test: it exits 0 whatever the figures (1 only
# if something could not be run at all).
#
# Usage: sudo bench/live_load.sh [OPTION...]   (bench/live_load.sh --help)
# Needs: root (namespaces, the capture), iproute2, tcpreplay, python3.
# Sends nothing outside the namespace it creates.
set -euo pipefail
export LC_ALL=C

BENCH_NAME=live_load.sh
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PACKETS=2000000
FLOWS=50000
SEED=1
RATES="50000 100000 200000 300000 400000"
SECONDS_PER_RATE=5
BUFFER_KIB=262144
SMALL_BUFFERS="2048 16384"
ROUNDS=1
INTERVAL=0.1
IDLE_SECONDS=3
PORT=9911

usage() {
    cat <<EOF
Usage: sudo bench/live_load.sh [OPTION...]

Generates a capture of full-size frames (cached in \$TCPWM_BENCH_CACHE,
default \${TMPDIR:-/tmp}/tcpwm-bench), then runs, ROUNDS times: an idle
trial, one trial per fixed rate, and some at tcpreplay's top speed (with
-B BUFFER, then with each of the smaller buffers).

  --packets N         packets in the capture (default $PACKETS; about 735
                      bytes each on disk)
  --flows N           distinct flows (default $FLOWS)
  --seed N            generator seed (default $SEED)
  --rates "R ..."     fixed rates, packets/s (default "$RATES"; "" for none)
  --seconds S         seconds of sending per fixed rate (default $SECONDS_PER_RATE)
  --buffer KIB        the monitor's -B in the main trials (default $BUFFER_KIB)
  --small-buffers "B ..."
                      -B of the extra top-speed trials (default "$SMALL_BUFFERS":
                      the monitor's default and the README's advice; "" for none)
  --rounds N          repeat the trials N times (default $ROUNDS); the summary
                      gives medians over the rounds
$(bench_usage_build)
  -h, --help          this help
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --packets) PACKETS=$2; shift ;;
    --flows) FLOWS=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --rates) RATES=$2; shift ;;
    --seconds) SECONDS_PER_RATE=$2; shift ;;
    --buffer) BUFFER_KIB=$2; shift ;;
    --small-buffers) SMALL_BUFFERS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --build-dir) BUILD_DIR=$2; BUILD=0; shift ;;
    --no-build) BUILD=0 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "live_load.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done
bench_positive PACKETS FLOWS SEED SECONDS_PER_RATE BUFFER_KIB ROUNDS
for r in $RATES $SMALL_BUFFERS; do
    [[ $r =~ ^[0-9]+$ && $r -gt 0 ]] || { echo "live_load.sh: bad rate or buffer '$r'" >&2; exit 2; }
done

[ "$(id -u)" -eq 0 ] || die "must run as root: it creates a network namespace and captures in it (sudo bench/live_load.sh)"
for t in ip tcpreplay python3; do
    command -v $t >/dev/null || die "missing tool: $t (apt-get install iproute2 tcpreplay python3, or scripts/setup.sh --deps)"
done

bench_build tcp_window_monitor gen_capture
TCPWM=$BUILD_DIR/tcp_window_monitor
GEN=$BUILD_DIR/bench/gen_capture
bench_need "$TCPWM" "$GEN"

# ---- the capture (cached: the name carries the flags and the generator's hash) ----
# Full frames (-S 1600; the largest is 1526 bytes): tcpreplay sends what the
# file holds, and the monitor takes a frame's length from the wire, so frames
# cut at the generator's default 96 bytes would be analyzed as tiny segments
# (every ACK then covers a "capture gap"). The veths get an MTU of 9000, so
# that the 1526-byte frames are not refused as too long.
PCAP=$(bench_gen "live-n$PACKETS-f$FLOWS-s$SEED-S1600" -n "$PACKETS" -f "$FLOWS" -s "$SEED" -S 1600)

# ---- the namespace: one veth pair, tcpreplay sends on $VA, the monitor captures $VB ----
NS=tcpwmload-$$
VA=lla
VB=llb
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tcpwm-live-load.XXXXXX")
chmod 755 "$WORK"
MON_PID=""
SCRAPER_PID=""
SENDER_PID=""
# stop PID: SIGTERM, then SIGKILL if it is still there after 5 s; its status.
stop() {
    local i rc=0
    kill -TERM "$1" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$1" 2>/dev/null && { echo "live_load.sh: pid $1 ignored SIGTERM for 5 s: SIGKILL" >&2; kill -KILL "$1"; }
    wait "$1" 2>/dev/null || rc=$?
    return $rc
}
cleanup() {
    local pid
    for pid in $SENDER_PID $SCRAPER_PID $MON_PID; do
        stop "$pid" || true
    done
    ip netns del "$NS" 2>/dev/null || true # takes the veths with it
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# Namespaces left by a run that was killed with SIGKILL.
for old in $(ip netns list | awk '$1 ~ /^tcpwmload-[0-9]+$/ { print $1 }'); do
    kill -0 "${old#tcpwmload-}" 2>/dev/null || ip netns del "$old" 2>/dev/null || true
done
ip netns add "$NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
# No IPv6 on the veths: no router solicitations or MLD reports in the counts.
in_ns sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$NS" link add "$VA" mtu 9000 type veth peer name "$VB" mtu 9000
ip -n "$NS" link set "$VA" up
ip -n "$NS" link set "$VB" up

# ---- the scraper and the arithmetic, in python3 ----
cat >"$WORK/scrape.py" <<'EOF'
import http.client, os, signal, sys, time

HOST, PORT = "127.0.0.1", int(os.environ["PORT"])
TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()

def get(path, timeout=5.0):
    c = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()

def metric(body, name):
    for line in body.decode("utf-8", "replace").splitlines():
        f = line.split()
        if len(f) == 2 and f[0] == name:
            return int(float(f[1]))
    return -1

def ticks(pid):
    """user + system CPU of a process, in clock ticks (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        f = s[s.rindex(")") + 2:].split()
        return int(f[11]) + int(f[12])
    except (OSError, ValueError, IndexError):
        return 0

def cpustat():
    """all CPUs: total, idle (idle + iowait), softirq; in ticks."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4], v[6]

def ready(timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if get("/-/ready", 1.0)[0] == 200:
                return 0
        except OSError:
            pass
        time.sleep(0.05)
    return 1

def loop(out, mon_pid, sender_pidfile, interval):
    """GET /metrics every INTERVAL s until SIGTERM; one line per scrape."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    sender, sender_ticks = 0, 0
    with open(out, "w") as f:
        nxt = time.monotonic()
        while not stop:
            if not sender and os.path.exists(sender_pidfile):
                try:
                    sender = int(open(sender_pidfile).read().split()[0])
                except (OSError, ValueError, IndexError):
                    pass
            t0 = time.perf_counter()
            try:
                st, body = get("/metrics")
                ok = 1 if st == 200 else 0
            except OSError:
                ok, body = 0, b""
            lat = time.perf_counter() - t0
            tot, idle, soft = cpustat()
            if sender:  # its last reading stays once it has exited
                sender_ticks = max(sender_ticks, ticks(sender))
            f.write("%.6f %.6f %d %d %d %d %d %d %d\n" % (
                t0, lat, ok, metric(body, "tcp_monitor_packets_total"),
                ticks(mon_pid), sender_ticks, tot, idle, soft))
            f.flush()
            nxt += interval
            now = time.monotonic()
            if nxt > now:
                time.sleep(nxt - now)
            else:
                nxt = now  # a slow scrape: start again from now, do not burst

def settle(out, expect, timeout):
    """Wait until the monitor has published all EXPECT packets, or its count
    stops moving; the last body goes to OUT."""
    end = time.monotonic() + timeout
    last, same, body = -2, 0, b""
    while time.monotonic() < end:
        try:
            st, body = get("/metrics")
        except OSError:
            time.sleep(0.1)
            continue
        n = metric(body, "tcp_monitor_packets_total")
        if n >= expect and expect > 0:
            break
        same = same + 1 if n == last else 0
        if same >= 5:
            break
        last = n
        time.sleep(0.1)
    time.sleep(0.3)  # the capture-side drop counters are published with it
    st, body = get("/metrics")
    open(out, "wb").write(body)

def pct(v, p):
    """nearest-rank percentile of a sorted list"""
    if not v:
        return float("nan")
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]

def analyze(log, idle, latfile):
    """The scrapes made while packets were arriving (all of them for the
    idle trial), their latency, and the CPU use over that window."""
    rows = [l.split() for l in open(log) if l.strip()]
    rows = [(float(a), float(b), int(c), int(d), int(e), int(f), int(g), int(h), int(i))
            for a, b, c, d, e, f, g, h, i in rows]
    if not rows:
        print("scrapes=0"); return
    errors = sum(1 for r in rows if not r[2])
    if idle:
        win = rows
    else:
        pk = [r[3] for r in rows]
        base, top = pk[0], max(pk)
        first = next((i for i, n in enumerate(pk) if n > base), None)
        last = next((i for i, n in enumerate(pk) if n == top), None)
        if first is None:
            win = []
        else:
            win = rows[max(0, first - 1):last + 1]
    lat = sorted(r[1] * 1000 for r in win if r[2])
    out = {"scrapes": len(win), "errors": errors,
           "p50": pct(lat, 50), "p99": pct(lat, 99), "max": lat[-1] if lat else float("nan")}
    if len(win) >= 2:
        a, b = win[0], win[-1]
        dt = b[0] - a[0]
        dtot = b[6] - a[6]
        out["window_s"] = dt
        out["mon_cpu"] = (b[4] - a[4]) / TCK / dt
        out["sender_cpu"] = (b[5] - a[5]) / TCK / dt if a[5] and b[5] else float("nan")
        out["busy_cpu"] = (dtot - (b[7] - a[7])) / dtot * NCPU if dtot else float("nan")
        out["softirq_cpu"] = (b[8] - a[8]) / dtot * NCPU if dtot else float("nan")
        out["rx_pps"] = (b[3] - a[3]) / dt
    with open(latfile, "a") as f:
        for x in lat:
            f.write("%.3f\n" % x)
    print(" ".join("%s=%s" % (k, ("%.3f" % v) if isinstance(v, float) else v) for k, v in out.items()))

def summary(latfile):
    lat = sorted(float(l) for l in open(latfile) if l.strip())
    print("n=%d p50=%.2f p99=%.2f max=%.2f" % (len(lat), pct(lat, 50), pct(lat, 99), lat[-1] if lat else float("nan")))

cmd = sys.argv[1]
if cmd == "ready":
    sys.exit(ready(float(sys.argv[2])))
elif cmd == "loop":
    loop(sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]))
elif cmd == "settle":
    settle(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
elif cmd == "analyze":
    analyze(sys.argv[2], sys.argv[3] == "1", sys.argv[4])
elif cmd == "summary":
    summary(sys.argv[2])
EOF
export PORT
PY() { in_ns python3 "$WORK/scrape.py" "$@"; }
metric() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
kv() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2"; }
stat_of() { in_ns cat "/sys/class/net/$1/statistics/$2"; }
# Packets dropped because a CPU's input backlog was full: column 2, hex.
softnet_drops() {
    local s=0 _p d _r
    while read -r _p d _r; do s=$((s + 16#$d)); done </proc/net/softnet_stat
    echo $s
}

# trial LABEL RATE BUFFER_KIB : RATE is idle, top, or packets/s. Appends a row.
ROWS=()
trial() {
    local label=$1 rate=$2 buf=$3 limit="" sent=0 achieved="-" failed=0 counted drop ifdrop lost a b
    local vb_rx0 va_tx0 sn0 other rc t0 t1
    rm -f "$WORK/sender.pid" "$WORK/scrapes.log" "$WORK/final.prom" "$WORK/mon.err"
    echo "== round $R: $label (-B $buf)" >&2
    # Started with `ip netns exec` itself, not through a shell function: it
    # execs, so $! is the monitor (a function would leave a subshell there).
    ip netns exec "$NS" "$TCPWM" -i "$VB" --scope all -B "$buf" --listen "127.0.0.1:$PORT" -q \
        2>"$WORK/mon.err" &
    MON_PID=$!
    PY ready 10 || { cat "$WORK/mon.err" >&2; die "the monitor did not become ready"; }
    vb_rx0=$(stat_of "$VB" rx_dropped); va_tx0=$(stat_of "$VA" tx_dropped); sn0=$(softnet_drops)
    [ "$(cat "/proc/$MON_PID/comm")" = tcp_window_moni ] || die "pid $MON_PID is not the monitor"
    ip netns exec "$NS" python3 "$WORK/scrape.py" loop "$WORK/scrapes.log" "$MON_PID" "$WORK/sender.pid" "$INTERVAL" &
    SCRAPER_PID=$!
    if [ "$rate" = idle ]; then
        sleep "$IDLE_SECONDS"
    else
        # -K: the packets are read into memory first, so that the sending
        # loop does not read the file (about 15% faster at top speed).
        if [ "$rate" = top ]; then
            set -- --topspeed
        else
            limit=$((rate * SECONDS_PER_RATE))
            [ "$limit" -le "$PACKETS" ] || limit=$PACKETS
            set -- --pps "$rate" --limit "$limit"
        fi
        ip netns exec "$NS" tcpreplay -K "$@" -i "$VA" "$PCAP" >"$WORK/tcpreplay.out" 2>&1 &
        SENDER_PID=$!
        echo "$SENDER_PID" >"$WORK/sender.pid"
        wait "$SENDER_PID" || { cat "$WORK/tcpreplay.out" >&2; die "tcpreplay failed"; }
        SENDER_PID=""
        sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$WORK/tcpreplay.out")
        achieved=$(sed -n 's/^Rated: .* \([0-9.]*\) pps.*/\1/p' "$WORK/tcpreplay.out")
        failed=$(sed -n 's/^[[:space:]]*Failed packets:[[:space:]]*\([0-9]*\).*/\1/p' "$WORK/tcpreplay.out")
    fi
    PY settle "$WORK/final.prom" "$sent" 5
    stop "$SCRAPER_PID" || true; SCRAPER_PID=""
    t0=$EPOCHREALTIME
    rc=0
    stop "$MON_PID" || rc=$?
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { if (b - a > 1) printf "live_load.sh: the monitor took %.1f s to exit on SIGTERM\n", b - a }' >&2
    [ $rc = 0 ] || { cat "$WORK/mon.err" >&2; echo "live_load.sh: the monitor exited with status $rc" >&2; }
    MON_PID=""
    grep -v '^tcp_window_monitor: capturing on' "$WORK/mon.err" >&2 || true

    counted=$(metric tcp_monitor_packets_total "$WORK/final.prom")
    drop=$(metric tcp_monitor_capture_dropped_total "$WORK/final.prom")
    ifdrop=$(metric tcp_monitor_capture_interface_dropped_total "$WORK/final.prom")
    lost=$((sent - counted))
    other=$(($(stat_of "$VB" rx_dropped) - vb_rx0 + $(stat_of "$VA" tx_dropped) - va_tx0 + $(softnet_drops) - sn0))
    a=$(PY analyze "$WORK/scrapes.log" "$([ "$rate" = idle ] && echo 1 || echo 0)" "$WORK/lat-$([ "$rate" = idle ] && echo idle || echo load).txt")
    ROWS+=("$(printf '%-5s %-22s %7s %9s %8s %8s %8s %6s %6s %6s %7s %7s %7s %7s %5s %5s %5s %5s' \
        "$R" "$label" "$rate" "${achieved%.*}" "$sent" "$counted" "$drop" "$ifdrop" "$lost" "$other" \
        "$(kv scrapes "$a")" "$(kv p50 "$a")" "$(kv p99 "$a")" "$(kv max "$a")" \
        "$(kv mon_cpu "$a")" "$(kv sender_cpu "$a")" "$(kv softirq_cpu "$a")" "$(kv busy_cpu "$a")")")
    [ "$failed" = 0 ] || [ -z "$failed" ] || echo "live_load.sh: tcpreplay reports $failed failed packets" >&2
    [ "$(kv errors "$a")" = 0 ] || echo "live_load.sh: $(kv errors "$a") scrapes failed in this trial" >&2
    # The highest rate held with nothing lost, per round.
    if [ "$rate" != idle ] && [ "$drop" = 0 ] && [ "$ifdrop" = 0 ] && [ "$lost" = 0 ] && [ "$other" = 0 ] &&
        [ "$buf" = "$BUFFER_KIB" ]; then
        b=${achieved%.*}
        [ "$b" -le "${BEST[$R]:-0}" ] || BEST[$R]=$b
    fi
    if [ "$rate" = idle ]; then
        IDLE_BUSY+=("$(kv busy_cpu "$a")")
    fi
    if [ "$rate" = top ] && [ "$buf" = "$BUFFER_KIB" ]; then
        TOP_PPS+=("${achieved%.*}")
        TOP_P99+=("$(kv p99 "$a")")
        cp "$WORK/final.prom" "$WORK/top.prom"
    fi
    return 0
}

echo "== warm the page cache" >&2
cat "$PCAP" >/dev/null
declare -A BEST
TOP_PPS=()
TOP_P99=()
IDLE_BUSY=()
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
for ((R = 1; R <= ROUNDS; R++)); do
    trial "idle (no replay)" idle "$BUFFER_KIB"
    for r in $RATES; do
        trial "--pps $r" "$r" "$BUFFER_KIB"
    done
    trial "--topspeed" top "$BUFFER_KIB"
    for b in $SMALL_BUFFERS; do
        [ "$b" = "$BUFFER_KIB" ] || trial "--topspeed, -B $b" top "$b"
    done
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report ----
echo
echo "tcpwm live-under-load benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "versions: $("$TCPWM" --version 2>&1 | head -n 1); $(tcpreplay --version 2>&1 | head -n 1); $(dpkg-query -W -f '${Package} ${Version}' libpcap0.8 2>/dev/null || echo libpcap ?)"
echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?)$(git -C "$ROOT" diff --quiet HEAD -- core standalone 2>/dev/null || echo ' (core/ or standalone/ modified)')"
echo "capture: $PCAP"
echo "  $(cat "$PCAP.info"); $(du -m "$PCAP" | cut -f1) MB"
echo "setup: namespace $NS, veth $VA -> $VB (MTU 9000); tcpreplay -K -i $VA; tcp_window_monitor -i $VB --scope all -B KIB -q;"
echo "       GET /metrics every ${INTERVAL}s (python3 http.client, a new connection each); fixed rates send ${SECONDS_PER_RATE}s of packets"
echo "load average $LOAD_START at the start, $LOAD_END at the end"
awk -v b="$(median "${IDLE_BUSY[@]}")" 'BEGIN { if (b > 0.5) printf "NOTE: the machine was busy: %s cores in use (median) during the idle trials, before any packet was sent; the figures are noisy\n", b }'
echo
echo "columns: asked/achieved = packets/s asked of tcpreplay / achieved (its summary); sent = its packets;"
echo "  counted = tcp_monitor_packets_total; drop = tcp_monitor_capture_dropped_total (ring full);"
echo "  ifdrop = ..._interface_dropped_total; lost = sent - counted; other = veth + backlog drops;"
echo "  scrapes made while packets arrived (idle: all), latency ms (with ~50 scrapes a trial, p99 is"
echo "  about its slowest one); CPU in cores over that window:"
echo "  mon = the monitor, send = tcpreplay, sirq = softirq, busy = all but idle (of $(nproc))"
printf '%-5s %-22s %7s %9s %8s %8s %8s %6s %6s %6s %7s %7s %7s %7s %5s %5s %5s %5s\n' \
    round trial asked achieved sent counted drop ifdrop lost other scrapes p50 p99 max mon send sirq busy
for row in "${ROWS[@]}"; do echo "$row"; done
echo
for ((R = 1; R <= ROUNDS; R++)); do
    echo "round $R: highest rate held with nothing dropped or lost (-B $BUFFER_KIB): ${BEST[$R]:-none} packets/s"
done
ALL_BEST=()
for ((R = 1; R <= ROUNDS; R++)); do ALL_BEST+=("${BEST[$R]:-0}"); done
echo "median over $ROUNDS round(s): highest zero-drop rate $(median "${ALL_BEST[@]}") packets/s; top speed $(median "${TOP_PPS[@]}") packets/s, scrape p99 at top speed $(median "${TOP_P99[@]}") ms"
echo
# What the packets meant: the live analysis of the last top-speed trial next
# to a replay of the same file. The packets must agree; the loss counters
# may differ a little, since live the timestamps are the kernel's (the
# whole file in a few seconds) and not the file's.
"$TCPWM" -r "$PCAP" --scope all -q -o "$WORK/replay.prom"
printf '%-44s %12s %12s\n' "counter" "live (top)" "replay -r"
for k in tcp_monitor_packets_total tcp_monitor_tcp_packets_total tcp_monitor_connections_opened_total \
    tcp_monitor_packet_loss_missing_total tcp_monitor_packet_loss_out_of_order_total \
    tcp_monitor_packet_loss_duplicate_total tcp_monitor_capture_gap_total tcp_monitor_zero_window_total; do
    printf '%-44s %12s %12s\n' "$k" "$(metric "$k" "$WORK/top.prom")" "$(metric "$k" "$WORK/replay.prom")"
done
echo
[ -s "$WORK/lat-load.txt" ] && echo "all scrapes under load (every trial with packets): $(python3 "$WORK/scrape.py" summary "$WORK/lat-load.txt") (ms)"
[ -s "$WORK/lat-idle.txt" ] && echo "all idle scrapes:                                  $(python3 "$WORK/scrape.py" summary "$WORK/lat-idle.txt") (ms)"
exit 0
