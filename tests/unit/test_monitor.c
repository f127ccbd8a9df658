/* SPDX-License-Identifier: MIT */
/* The monitor's rules (docs/semantics.md sections 3-5), driven with
 * segments built by hand. Each expected value names the rule behind it. */
#include <stdlib.h>

#include "check.h"
#include "tcpwm/err.h"
#include "tcpwm/monitor.h"

#define US 1000LL
#define MS 1000000LL
#define SEC 1000000000LL

static const uint8_t A[4] = {10, 0, 0, 1}, B[4] = {10, 0, 0, 2};
static const uint8_t G1[4] = {8, 8, 8, 8}, G2[4] = {9, 9, 9, 9};

typedef struct pkt {
    const uint8_t *src, *dst;
    uint16_t sport, dport;
    uint8_t flags;
    uint32_t seq, ack;
    uint16_t win;
    uint32_t len;
    int wscale; /* -1: no option; -2: none among the options the capture cut */
} pkt;

static tcpwm_segment make(int64_t ts, pkt p)
{
    tcpwm_segment s;
    memset(&s, 0, sizeof(s));
    s.ts_ns = ts;
    s.family = 4;
    memcpy(s.src, p.src, 4);
    memcpy(s.dst, p.dst, 4);
    s.sport = p.sport;
    s.dport = p.dport;
    s.flags = p.flags;
    s.seq = p.seq;
    s.ack = p.ack;
    s.window = p.win;
    s.payload_len = p.len;
    if (p.wscale >= 0) {
        s.opt_present = TCPWM_OPT_WSCALE;
        s.wscale = (uint8_t)p.wscale;
    }
    s.opt_cut = p.wscale == -2;
    return s;
}

static tcpwm_monitor *new_monitor(tcpwm_scope scope)
{
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = scope;
    tcpwm_monitor *m = NULL;
    CHECK(tcpwm_monitor_new(&c, &m) == 0);
    return m;
}

/* Client A:1000 -> server B:80; the client's ISN is 100, the server's 5000. */
#define C2S(f, sq, ak, w, l) ((pkt){A, B, 1000, 80, (f), (sq), (ak), (w), (l), -1})
#define S2C(f, sq, ak, w, l) ((pkt){B, A, 80, 1000, (f), (sq), (ak), (w), (l), -1})

static tcpwm_verdict feed(tcpwm_monitor *m, int64_t ts, pkt p, tcpwm_result *r)
{
    tcpwm_segment s = make(ts, p);
    tcpwm_monitor_segment(m, &s, r);
    return r->verdict;
}

static void handshake(tcpwm_monitor *m, int cws, int sws)
{
    tcpwm_result r;
    pkt syn = C2S(TCPWM_SYN, 100, 0, 65535, 0);
    syn.wscale = cws;
    pkt synack = S2C(TCPWM_SYN | TCPWM_ACK, 5000, 101, 65535, 0);
    synack.wscale = sws;
    CHECK(feed(m, 1 * MS, syn, &r) == TCPWM_V_FIRST);
    CHECK(r.events & TCPWM_EV_CONN_OPENED);
    CHECK(!r.window_analyzed); /* SYN windows are never compared */
    CHECK(feed(m, 2 * MS, synack, &r) == TCPWM_V_FIRST);
    CHECK(!r.window_analyzed);
    CHECK(feed(m, 3 * MS, C2S(TCPWM_ACK, 101, 5001, 100, 0), &r) == TCPWM_V_IN_ORDER);
}

static void test_clean_connection(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    handshake(m, 7, 8);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    /* Both SYNs carried the option: the client's shift 7 applies. */
    CHECK(feed(m, 4 * MS, C2S(TCPWM_ACK | TCPWM_PSH, 101, 5001, 100, 500), &r) == TCPWM_V_IN_ORDER);
    CHECK(r.scale_known);
    CHECK_EQ_U64(r.window, 100u << 7);
    CHECK(feed(m, 5 * MS, S2C(TCPWM_ACK, 5001, 601, 200, 0), &r) == TCPWM_V_IN_ORDER);
    CHECK_EQ_U64(r.window, 200u << 8);
    CHECK_EQ_U64(r.dir, 1);
    CHECK_EQ_U64(mt->current_window, 200u << 8);
    CHECK(feed(m, 6 * MS, C2S(TCPWM_ACK | TCPWM_FIN, 601, 5001, 100, 0), &r) == TCPWM_V_IN_ORDER);
    CHECK(!(r.events & TCPWM_EV_CONN_CLOSED));
    CHECK_EQ_U64(mt->active_connections, 1);
    CHECK(feed(m, 7 * MS, S2C(TCPWM_ACK | TCPWM_FIN, 5001, 602, 200, 0), &r) == TCPWM_V_IN_ORDER);
    CHECK(r.events & TCPWM_EV_CONN_CLOSED); /* FIN from both sides */
    CHECK(feed(m, 8 * MS, C2S(TCPWM_ACK, 602, 5002, 100, 0), &r) == TCPWM_V_IN_ORDER);
    CHECK_EQ_U64(mt->tcp_packets, 8);
    CHECK_EQ_U64(mt->global_tcp_packets, 0);
    CHECK_EQ_U64(mt->conn_opened, 1);
    CHECK_EQ_U64(mt->conn_closed, 1);
    CHECK_EQ_U64(mt->active_connections, 0);
    CHECK_EQ_U64(mt->missing + mt->duplicate + mt->out_of_order + mt->capture_gap, 0);
    CHECK_EQ_U64(mt->scale_unknown, 0);
    CHECK_EQ_U64(mt->window_shrink, 0);
    tcpwm_monitor_free(m);
}

static void test_loss_and_fill(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    handshake(m, -1, -1);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    /* [101,1101) lost before the capture point; [1101,2101) arrives. */
    CHECK(feed(m, 10 * MS, C2S(TCPWM_ACK, 1101, 5001, 100, 1000), &r) == TCPWM_V_MISSING);
    CHECK_EQ_U64(r.gap_bytes, 1000);
    CHECK_EQ_U64(mt->gap.bucket[4], 1); /* 1000 <= 1024 = 2^10, the fifth bound */
    CHECK_EQ_U64(mt->gap.sum, 1000);
    /* A pure ACK is old: no event. */
    CHECK(feed(m, 11 * MS, C2S(TCPWM_ACK, 1101, 5001, 100, 0), &r) == TCPWM_V_OLD_ACK);
    /* The retransmission fills the hole 25 ms after it opened. */
    CHECK(feed(m, 35 * MS, C2S(TCPWM_ACK, 101, 5001, 100, 1000), &r) == TCPWM_V_OUT_OF_ORDER);
    CHECK_EQ_U64(r.holes_filled, 1);
    CHECK_EQ_U64(r.fill_ns, 25 * MS);
    CHECK_EQ_U64(mt->fill.count, 1);
    CHECK_EQ_U64(mt->fill.sum_ns, 25 * MS);
    CHECK_EQ_U64(mt->fill.bucket[7], 1); /* 0.025 s bound is the eighth */
    /* The same bytes again: a duplicate. */
    CHECK(feed(m, 40 * MS, C2S(TCPWM_ACK, 101, 5001, 100, 1000), &r) == TCPWM_V_DUPLICATE);
    /* A repacketized retransmission that also carries new bytes. */
    CHECK(feed(m, 41 * MS, C2S(TCPWM_ACK, 1601, 5001, 100, 1000), &r) == TCPWM_V_DUPLICATE);
    CHECK(feed(m, 42 * MS, C2S(TCPWM_ACK, 2601, 5001, 100, 100), &r) == TCPWM_V_IN_ORDER);
    /* A pure ACK whose sequence number jumps is a missing event too. */
    CHECK(feed(m, 43 * MS, C2S(TCPWM_ACK, 2801, 5001, 100, 0), &r) == TCPWM_V_MISSING);
    CHECK_EQ_U64(r.gap_bytes, 100);
    CHECK_EQ_U64(mt->gap.bucket[1], 1); /* 100 <= 128 */
    CHECK_EQ_U64(mt->missing, 2);
    CHECK_EQ_U64(mt->out_of_order, 1);
    CHECK_EQ_U64(mt->duplicate, 2);
    CHECK_EQ_U64(r.flow->stats.missing, 2);
    CHECK_EQ_U64(r.flow->stats.duplicate, 2);
    tcpwm_monitor_free(m);
}

static void test_capture_gap(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    handshake(m, -1, -1);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK(feed(m, 10 * MS, C2S(TCPWM_ACK, 101, 5001, 100, 500), &r) == TCPWM_V_IN_ORDER);
    /* Two holes: [601,1101) and [1601,2101). */
    CHECK(feed(m, 11 * MS, C2S(TCPWM_ACK, 1101, 5001, 100, 500), &r) == TCPWM_V_MISSING);
    CHECK(feed(m, 12 * MS, C2S(TCPWM_ACK, 2101, 5001, 100, 500), &r) == TCPWM_V_MISSING);
    /* The server ACKs 1101: it got the first hole's bytes, we never saw them. */
    feed(m, 13 * MS, S2C(TCPWM_ACK, 5001, 1101, 100, 0), &r);
    CHECK(r.events & TCPWM_EV_CAPTURE_GAP);
    CHECK_EQ_U64(r.capture_gaps, 1);
    /* An ACK inside the second hole closes nothing. */
    feed(m, 14 * MS, S2C(TCPWM_ACK, 5001, 1700, 100, 0), &r);
    CHECK(!(r.events & TCPWM_EV_CAPTURE_GAP));
    /* Bytes of the closed hole seen late are duplicates, not fills. */
    CHECK(feed(m, 15 * MS, C2S(TCPWM_ACK, 601, 5001, 100, 500), &r) == TCPWM_V_DUPLICATE);
    feed(m, 16 * MS, S2C(TCPWM_ACK, 5001, 2601, 100, 0), &r);
    CHECK_EQ_U64(r.capture_gaps, 1);
    CHECK_EQ_U64(mt->capture_gap, 2);
    CHECK_EQ_U64(mt->missing, 2);
    CHECK_EQ_U64(mt->out_of_order, 0);
    tcpwm_monitor_free(m);
}

static void test_keepalive_and_zero_window(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    handshake(m, -1, -1);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK(feed(m, 10 * MS, C2S(TCPWM_ACK, 101, 5001, 100, 10), &r) == TCPWM_V_IN_ORDER);
    /* Keep-alives at next - 1, with zero and one byte. */
    CHECK(feed(m, 20 * MS, C2S(TCPWM_ACK, 110, 5001, 100, 0), &r) == TCPWM_V_KEEPALIVE);
    CHECK(feed(m, 30 * MS, C2S(TCPWM_ACK, 110, 5001, 100, 1), &r) == TCPWM_V_KEEPALIVE);
    /* The server's window closes: zero window (and a shrink from 100). */
    feed(m, 40 * MS, S2C(TCPWM_ACK, 5001, 111, 100, 0), &r);
    feed(m, 41 * MS, S2C(TCPWM_ACK, 5001, 111, 0, 0), &r);
    CHECK(r.events & TCPWM_EV_ZERO_WINDOW);
    CHECK(r.events & TCPWM_EV_WINDOW_SHRINK);
    CHECK(r.events & TCPWM_EV_RIGHT_EDGE_RETREAT); /* 111+100 -> 111+0 */
    /* One byte into the zero window: a probe; next stays, so the probe's
     * repeat is a probe too and not a duplicate. */
    CHECK(feed(m, 50 * MS, C2S(TCPWM_ACK, 111, 5001, 100, 1), &r) == TCPWM_V_ZERO_WINDOW_PROBE);
    CHECK(feed(m, 60 * MS, C2S(TCPWM_ACK, 111, 5001, 100, 1), &r) == TCPWM_V_ZERO_WINDOW_PROBE);
    /* Window reopens; the data at 111 is in order. */
    feed(m, 70 * MS, S2C(TCPWM_ACK, 5001, 111, 100, 0), &r);
    CHECK(feed(m, 71 * MS, C2S(TCPWM_ACK, 111, 5001, 100, 50), &r) == TCPWM_V_IN_ORDER);
    CHECK_EQ_U64(mt->keepalive, 2);
    CHECK_EQ_U64(mt->zero_window_probe, 2);
    CHECK_EQ_U64(mt->zero_window, 1);
    CHECK_EQ_U64(mt->missing + mt->duplicate + mt->out_of_order, 0);
    tcpwm_monitor_free(m);
}

static void test_window_rules(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    handshake(m, 2, 2); /* shift 2: a scale unit is 4 bytes */
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    feed(m, 10 * MS, S2C(TCPWM_ACK, 5001, 101, 1000, 0), &r);
    /* ack +4, window -1 unit: the right edge stays -> shrink, no retreat. */
    feed(m, 11 * MS, S2C(TCPWM_ACK, 5001, 105, 999, 0), &r);
    CHECK(r.events & TCPWM_EV_WINDOW_SHRINK);
    CHECK(!(r.events & TCPWM_EV_RIGHT_EDGE_RETREAT));
    CHECK(r.window_delta == -4);
    /* ack same, window -1 unit: the edge moves left by 4 = one unit. */
    feed(m, 12 * MS, S2C(TCPWM_ACK, 5001, 105, 998, 0), &r);
    CHECK(r.events & TCPWM_EV_RIGHT_EDGE_RETREAT);
    /* A FIN that closes the window is not a retreat (but is a shrink). */
    feed(m, 13 * MS, S2C(TCPWM_ACK | TCPWM_FIN, 5001, 105, 10, 0), &r);
    CHECK(r.events & TCPWM_EV_WINDOW_SHRINK);
    CHECK(!(r.events & TCPWM_EV_RIGHT_EDGE_RETREAT));
    CHECK_EQ_U64(mt->window_shrink, 3);
    CHECK_EQ_U64(mt->right_edge_retreat, 1);
    CHECK_EQ_U64(mt->scale_unknown, 0);
    tcpwm_monitor_free(m);

    /* A scale above 14 is capped at 14 (RFC 7323 2.3). */
    m = new_monitor(TCPWM_SCOPE_ALL);
    handshake(m, 15, 15);
    feed(m, 10 * MS, C2S(TCPWM_ACK, 101, 5001, 1, 0), &r);
    CHECK_EQ_U64(r.scale, 14);
    CHECK_EQ_U64(r.window, 1u << 14);
    tcpwm_monitor_free(m);

    /* One SYN without the option: no scaling on either side. */
    m = new_monitor(TCPWM_SCOPE_ALL);
    handshake(m, 7, -1);
    feed(m, 10 * MS, C2S(TCPWM_ACK, 101, 5001, 3, 0), &r);
    CHECK(r.scale_known);
    CHECK_EQ_U64(r.window, 3);
    tcpwm_monitor_free(m);

    /* No handshake: raw windows, every analyzed packet scale-unknown. */
    m = new_monitor(TCPWM_SCOPE_ALL);
    mt = tcpwm_monitor_metrics(m);
    feed(m, 1 * MS, C2S(TCPWM_ACK, 101, 5001, 300, 10), &r);
    CHECK(!r.scale_known);
    CHECK_EQ_U64(r.window, 300);
    feed(m, 2 * MS, S2C(TCPWM_ACK, 5001, 111, 300, 0), &r);
    CHECK_EQ_U64(mt->scale_unknown, 2);
    tcpwm_monitor_free(m);
}

static void test_port_reuse_and_close(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    handshake(m, -1, -1);
    /* The same SYN again is a retransmission: a duplicate, same connection. */
    CHECK(feed(m, 4 * MS, C2S(TCPWM_SYN, 100, 0, 65535, 0), &r) == TCPWM_V_DUPLICATE);
    /* So is a retransmitted SYN-ACK; a SYN-ACK never starts a connection. */
    CHECK(feed(m, 5 * MS, S2C(TCPWM_SYN | TCPWM_ACK, 5000, 101, 65535, 0), &r) == TCPWM_V_DUPLICATE);
    CHECK_EQ_U64(mt->conn_opened, 1);
    /* A SYN with a new ISN: a new connection on the same 4-tuple. */
    CHECK(feed(m, 6 * MS, C2S(TCPWM_SYN, 900000, 0, 65535, 0), &r) == TCPWM_V_FIRST);
    CHECK(r.events & TCPWM_EV_CONN_OPENED);
    CHECK_EQ_U64(mt->conn_opened, 2);
    CHECK_EQ_U64(mt->conn_closed, 1);
    CHECK_EQ_U64(mt->active_connections, 1);
    CHECK_EQ_U64(mt->missing, 0);
    /* RST closes it; the RST takes no part in sequence analysis. */
    CHECK(feed(m, 7 * MS, S2C(TCPWM_RST | TCPWM_ACK, 0, 900001, 0, 0), &r) == TCPWM_V_RST);
    CHECK(r.events & TCPWM_EV_CONN_CLOSED);
    CHECK_EQ_U64(mt->active_connections, 0);
    CHECK_EQ_U64(mt->conn_closed, 2);
    /* A new SYN after the RST (different ISN) reopens it. */
    CHECK(feed(m, 8 * MS, C2S(TCPWM_SYN, 1700000, 0, 65535, 0), &r) == TCPWM_V_FIRST);
    CHECK_EQ_U64(mt->conn_opened, 3);
    CHECK_EQ_U64(mt->conn_closed, 2);
    CHECK_EQ_U64(mt->active_connections, 1);
    CHECK_EQ_U64(mt->zero_window, 0); /* a RST's window is not analyzed */
    tcpwm_monitor_free(m);
}

/* Wireshark's analysis wired in (docs/semantics.md 7): the values
 * follow from rules 2, 6 and 7 on the times below; a SYN reusing the
 * ports starts the analysis afresh (its handshake is timed again). */
static void test_wireshark_analysis(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK(feed(m, 1 * MS, C2S(TCPWM_SYN, 100, 0, 65535, 0), &r) == TCPWM_V_FIRST);
    CHECK(r.ack_rtt_ns == -1 && r.handshake_rtt_ns == -1);
    /* Rule 6: the SYN-ACK's ack 101 is the SYN's end: 1 ms. */
    feed(m, 2 * MS, S2C(TCPWM_SYN | TCPWM_ACK, 5000, 101, 65535, 0), &r);
    CHECK(r.ack_rtt_ns == 1 * MS);
    /* Rule 7: SYN (1 ms) to the first ACK without SYN (3 ms). */
    feed(m, 3 * MS, C2S(TCPWM_ACK, 101, 5001, 100, 0), &r);
    CHECK(r.ack_rtt_ns == 1 * MS);
    CHECK(r.handshake_rtt_ns == 2 * MS);
    feed(m, 4 * MS, C2S(TCPWM_ACK | TCPWM_PSH, 101, 5001, 100, 500), &r);
    CHECK(r.retx == TCPWM_RETX_NONE && !r.dup_ack);
    feed(m, 5500 * US, S2C(TCPWM_ACK, 5001, 601, 200, 0), &r);
    CHECK(r.ack_rtt_ns == 1500 * US);
    CHECK(!r.dup_ack);
    /* Rule 2: same ack, same non-zero window, seq at nextseq, no data. */
    feed(m, 6 * MS, S2C(TCPWM_ACK, 5001, 601, 200, 0), &r);
    CHECK(r.dup_ack);
    CHECK(r.ack_rtt_ns == -1); /* nothing outstanding ends at 601 any more */
    mt = tcpwm_monitor_metrics(m); /* the analysis' families as of this call */
    CHECK_EQ_U64(mt->dup_ack, 1);
    CHECK_EQ_U64(mt->ack_rtt.count, 3);
    CHECK(mt->ack_rtt.sum_ns == 3500 * US);
    CHECK_EQ_U64(mt->ack_rtt.bucket[4], 2); /* le 0.001 */
    CHECK_EQ_U64(mt->ack_rtt.bucket[5], 1); /* le 0.0025 */
    CHECK_EQ_U64(mt->handshake_rtt.count, 1);
    CHECK(mt->handshake_rtt.sum_ns == 2 * MS);
    /* Port reuse: a new connection, timed again (once per connection). */
    CHECK(feed(m, 10 * MS, C2S(TCPWM_SYN, 900000, 0, 65535, 0), &r) == TCPWM_V_FIRST);
    feed(m, 11 * MS, S2C(TCPWM_SYN | TCPWM_ACK, 70000, 900001, 65535, 0), &r);
    feed(m, 13 * MS, C2S(TCPWM_ACK, 900001, 70001, 100, 0), &r);
    CHECK(r.handshake_rtt_ns == 3 * MS);
    mt = tcpwm_monitor_metrics(m);
    CHECK_EQ_U64(mt->handshake_rtt.count, 2);
    CHECK_EQ_U64(mt->retransmissions[0] + mt->retransmissions[1] + mt->retransmissions[2], 0);
    CHECK_EQ_U64(mt->rtt_untracked, 0);
    tcpwm_monitor_free(m);
}

static int ended;
static void count_end(void *ctx, const tcpwm_flow_view *v)
{
    (void)ctx;
    (void)v;
    ended++;
}

static void test_expiry_and_cap(void)
{
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = TCPWM_SCOPE_ALL;
    c.max_flows = 3;
    tcpwm_monitor *m = NULL;
    CHECK(tcpwm_monitor_new(&c, &m) == 0);
    tcpwm_monitor_on_flow_end(m, count_end, NULL);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    tcpwm_result r;
    ended = 0;
    /* Recency is kept per tick of about a second (2^30 ns): the steps
     * below are two seconds apart, so each one is ordered. */
    for (uint16_t p = 1; p <= 5; p++) /* five flows into a table of three */
        feed(m, 2 * p * SEC, (pkt){A, B, p, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK_EQ_U64(mt->evicted[TCPWM_EVICT_MAX_FLOWS], 2);
    CHECK_EQ_U64(mt->active_connections, 3);
    CHECK_EQ_U64(ended, 2);
    /* Flow 3 is now the least recently active; touching it spares it. */
    feed(m, 12 * SEC, (pkt){A, B, 3, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 14 * SEC, (pkt){A, B, 6, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK_EQ_U64(r.flow->port[0], 6);
    feed(m, 16 * SEC, (pkt){A, B, 3, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK(!(r.events & TCPWM_EV_CONN_OPENED)); /* still there: flow 4 went */
    /* Exactly 300 s idle is allowed (flow 5, last seen at 10 s); past it,
     * flows 5 and 6 expire. */
    feed(m, 310 * SEC, (pkt){A, B, 3, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK_EQ_U64(mt->evicted[TCPWM_EVICT_IDLE], 0);
    feed(m, 315 * SEC, (pkt){A, B, 3, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK_EQ_U64(mt->evicted[TCPWM_EVICT_IDLE], 2);
    CHECK_EQ_U64(mt->active_connections, 1);
    /* A closed flow lingers 60 s, then leaves quietly. */
    feed(m, 400 * SEC, (pkt){B, A, 80, 3, TCPWM_RST, 0, 0, 0, 0, -1}, &r);
    CHECK_EQ_U64(mt->active_connections, 0);
    tcpwm_monitor_advance(m, 459 * SEC);
    CHECK_EQ_U64(ended, 5);
    tcpwm_monitor_advance(m, 461 * SEC);
    CHECK_EQ_U64(ended, 6);
    CHECK_EQ_U64(mt->evicted[TCPWM_EVICT_IDLE], 2);
    /* Time going backwards does not expire or revive anything. */
    tcpwm_monitor_advance(m, 1 * SEC);
    CHECK_EQ_U64(ended, 6);
    tcpwm_monitor_free(m);
}

/* Within one tick the LRU order is by arrival: a flow touched again in
 * the same tick keeps its place (semantics section 3). */
static void test_lru_tick(void)
{
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = TCPWM_SCOPE_ALL;
    c.max_flows = 2;
    tcpwm_monitor *m = NULL;
    CHECK(tcpwm_monitor_new(&c, &m) == 0);
    tcpwm_result r;
    feed(m, 1 * MS, (pkt){A, B, 1, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 2 * MS, (pkt){A, B, 2, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 3 * MS, (pkt){A, B, 1, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 4 * MS, (pkt){A, B, 3, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 5 * MS, (pkt){A, B, 2, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK(!(r.events & TCPWM_EV_CONN_OPENED)); /* flow 2 stayed: flow 1 went */
    /* In the next tick, touching flow 2 moves it ahead of flow 3. */
    feed(m, 2 * SEC, (pkt){A, B, 2, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 2 * SEC + 1, (pkt){A, B, 4, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    feed(m, 2 * SEC + 2, (pkt){A, B, 2, 80, TCPWM_SYN, 1, 0, 100, 0, -1}, &r);
    CHECK(!(r.events & TCPWM_EV_CONN_OPENED)); /* flow 3 went */
    tcpwm_monitor_free(m);
}

static void test_wraparound_and_hole_cap(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    uint32_t s = 0xfffffc00u; /* 1 KiB below 2^32 */
    CHECK(feed(m, 1 * MS, C2S(TCPWM_ACK, s, 1, 100, 512), &r) == TCPWM_V_FIRST);
    CHECK(feed(m, 2 * MS, C2S(TCPWM_ACK, s + 512, 1, 100, 1024), &r) == TCPWM_V_IN_ORDER);
    /* next is now 0x200 after wrapping; skip 512 bytes across nothing. */
    CHECK(feed(m, 3 * MS, C2S(TCPWM_ACK, 0x400, 1, 100, 100), &r) == TCPWM_V_MISSING);
    CHECK_EQ_U64(r.gap_bytes, 0x200);
    CHECK(feed(m, 4 * MS, C2S(TCPWM_ACK, 0x200, 1, 100, 0x200), &r) == TCPWM_V_OUT_OF_ORDER);
    CHECK(feed(m, 5 * MS, C2S(TCPWM_ACK, s, 1, 100, 512), &r) == TCPWM_V_DUPLICATE);
    /* 40 holes in one direction: the per-side cap of 32 forgets 8. */
    uint32_t next = 0x464;
    for (int k = 0; k < 40; k++) {
        next += 100;
        feed(m, (10 + k) * MS, C2S(TCPWM_ACK, next, 1, 100, 10), &r);
        next += 10;
    }
    CHECK_EQ_U64(mt->missing, 41);
    CHECK_EQ_U64(mt->holes_forgotten, 8);
    /* Refilling the first (forgotten) hole is a duplicate; the 9th is a fill. */
    CHECK(feed(m, 60 * MS, C2S(TCPWM_ACK, 0x464, 1, 100, 100), &r) == TCPWM_V_DUPLICATE);
    CHECK(feed(m, 61 * MS, C2S(TCPWM_ACK, 0x464 + 8 * 110, 1, 100, 100), &r) == TCPWM_V_OUT_OF_ORDER);
    tcpwm_monitor_free(m);
}

static void test_scope(void)
{
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_GLOBAL);
    tcpwm_result r;
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    feed(m, 1 * MS, C2S(TCPWM_SYN, 1, 0, 100, 0), &r);
    CHECK(!r.analyzed && !r.global);
    feed(m, 2 * MS, ((pkt){G1, G2, 1, 2, TCPWM_SYN, 1, 0, 100, 0, -1}), &r);
    CHECK(r.analyzed && r.global);
    feed(m, 3 * MS, ((pkt){G1, A, 1, 2, TCPWM_SYN, 1, 0, 100, 0, -1}), &r);
    CHECK(!r.analyzed && !r.global);
    CHECK_EQ_U64(mt->tcp_packets, 3);
    CHECK_EQ_U64(mt->global_tcp_packets, 1);
    CHECK_EQ_U64(mt->conn_opened, 1);
    tcpwm_monitor_free(m);
}

/* tcpwm_monitor_segment_hinted() with hints made several segments ahead
 * (the table grows, flows come and go meanwhile) must give exactly what
 * tcpwm_monitor_segment() gives: same results, same metrics. */
static void test_hinted_path(void)
{
    enum { N = 40000, AHEAD = 6, FLOWS = 3000 };
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = TCPWM_SCOPE_ALL;
    /* Fewer than the flows (evictions, records reused), and more than the
     * 1024 buckets the table starts with (it grows between hint and use). */
    c.max_flows = 2000;
    c.max_holes_total = 10000;
    tcpwm_monitor *plain = NULL, *hinted = NULL;
    CHECK(tcpwm_monitor_new(&c, &plain) == 0);
    CHECK(tcpwm_monitor_new(&c, &hinted) == 0);
    static tcpwm_segment segs[N];
    static tcpwm_hint hints[N];
    uint32_t x = 12345, seqs[FLOWS][2] = {{0}};
    for (int i = 0; i < N; i++) {
        x = x * 1103515245u + 12345u;
        unsigned f = (x >> 8) % FLOWS, dir = (x >> 20) & 1;
        uint8_t src[4] = {10, 1, (uint8_t)(f >> 8), (uint8_t)f}, dst[4] = {10, 2, 0, 1};
        pkt p = {dir ? dst : src, dir ? src : dst, (uint16_t)(dir ? 80 : 1024 + f),
                 (uint16_t)(dir ? 1024 + f : 80), TCPWM_ACK, 0, 0, 1000, 100, -1};
        unsigned r = (x >> 24) & 31;
        if (r == 0)
            p.flags = TCPWM_SYN; /* a new connection now and then */
        else if (r == 1)
            p.flags = TCPWM_FIN | TCPWM_ACK;
        p.seq = seqs[f][dir];
        if (r == 2)
            p.seq += 500; /* a loss */
        else if (r == 3 && p.seq >= 300)
            p.seq -= 300; /* a retransmission */
        seqs[f][dir] = p.seq + p.len;
        p.ack = seqs[f][dir ^ 1u];
        segs[i] = make((int64_t)i * MS, p);
    }
    for (int i = 0; i < N + AHEAD; i++) {
        if (i < N)
            tcpwm_monitor_prefetch(hinted, &segs[i], &hints[i]);
        int j = i - AHEAD;
        if (j + 2 >= 0 && j + 2 < N) /* the replay's later stages */
            tcpwm_monitor_prefetch_flow(hinted, &hints[j + 2]);
        if (j + 1 >= 0 && j + 1 < N)
            tcpwm_monitor_prefetch_analysis(hinted, &hints[j + 1]);
        if (j < 0)
            continue;
        tcpwm_result a, b;
        tcpwm_monitor_segment(plain, &segs[j], &a);
        tcpwm_monitor_segment_hinted(hinted, &segs[j], &hints[j], &b);
        CHECK(a.verdict == b.verdict && a.events == b.events && a.analyzed == b.analyzed);
        CHECK(a.retx == b.retx && a.dup_ack == b.dup_ack && a.ack_rtt_ns == b.ack_rtt_ns);
    }
    const tcpwm_metrics *ma = tcpwm_monitor_metrics(plain), *mb = tcpwm_monitor_metrics(hinted);
    CHECK(ma->missing > 0 && ma->duplicate > 0 && ma->conn_opened > FLOWS &&
          ma->evicted[TCPWM_EVICT_MAX_FLOWS] > 0); /* the stream did exercise the paths */
    CHECK_EQ_U64(mb->tcp_packets, ma->tcp_packets);
    CHECK_EQ_U64(mb->missing, ma->missing);
    CHECK_EQ_U64(mb->duplicate, ma->duplicate);
    CHECK_EQ_U64(mb->out_of_order, ma->out_of_order);
    CHECK_EQ_U64(mb->capture_gap, ma->capture_gap);
    CHECK_EQ_U64(mb->conn_opened, ma->conn_opened);
    CHECK_EQ_U64(mb->conn_closed, ma->conn_closed);
    CHECK_EQ_U64(mb->active_connections, ma->active_connections);
    CHECK_EQ_U64(mb->evicted[TCPWM_EVICT_MAX_FLOWS], ma->evicted[TCPWM_EVICT_MAX_FLOWS]);
    CHECK_EQ_U64(mb->window_shrink, ma->window_shrink);
    CHECK(memcmp(ma, mb, sizeof *ma) == 0); /* the analysis' families too */
    tcpwm_monitor_free(plain);
    tcpwm_monitor_free(hinted);
}

/* Both directions of a connection are one flow whatever decides the
 * order of its endpoints (flow.h: the lower endpoint first, addresses as
 * bytes, then ports): the first or the second 8 bytes of the addresses,
 * or, on one host talking to itself, the ports alone. */
static void test_key_directions(void)
{
    static const struct {
        uint8_t family;
        uint8_t a[16], b[16];
        uint16_t pa, pb;
    } cases[] = {
        {4, {10, 0, 0, 1}, {10, 0, 0, 2}, 1000, 80},
        {4, {10, 0, 0, 2}, {10, 0, 0, 1}, 1000, 80},
        {4, {127, 0, 0, 1}, {127, 0, 0, 1}, 40000, 80}, /* the ports decide */
        {4, {127, 0, 0, 1}, {127, 0, 0, 1}, 80, 40000},
        {6, {0x20, 1, 0xd, 0xb8, [15] = 1}, {0x20, 1, 0xd, 0xb8, [15] = 2}, 1000, 80},
        {6, {0x20, 1, 0xd, 0xb8, [15] = 2}, {0x20, 1, 0xd, 0xb8, [15] = 1}, 1000, 80},
        {6, {0x20, 1, 0xd, 0xb9, [15] = 1}, {0x20, 1, 0xd, 0xb8, [15] = 1}, 1000, 80},
        {6, {0x20, 1, 0xd, 0xb8, [15] = 1}, {0x20, 1, 0xd, 0xb9, [15] = 1}, 1000, 80},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
        tcpwm_segment syn, synack;
        memset(&syn, 0, sizeof(syn));
        syn.ts_ns = 1 * MS;
        syn.family = cases[i].family;
        memcpy(syn.src, cases[i].a, 16);
        memcpy(syn.dst, cases[i].b, 16);
        syn.sport = cases[i].pa;
        syn.dport = cases[i].pb;
        syn.flags = TCPWM_SYN;
        syn.seq = 100;
        syn.window = 1000;
        synack = syn;
        synack.ts_ns = 2 * MS;
        memcpy(synack.src, cases[i].b, 16);
        memcpy(synack.dst, cases[i].a, 16);
        synack.sport = cases[i].pb;
        synack.dport = cases[i].pa;
        synack.flags = TCPWM_SYN | TCPWM_ACK;
        synack.seq = 5000;
        synack.ack = 101;
        tcpwm_result r;
        tcpwm_monitor_segment(m, &syn, &r);
        CHECK(r.analyzed && r.dir == 0); /* the SYN's sender is endpoint 0 */
        tcpwm_monitor_segment(m, &synack, &r);
        CHECK(r.analyzed && r.dir == 1 && r.verdict == TCPWM_V_FIRST);
        CHECK_EQ_U64(tcpwm_monitor_metrics(m)->conn_opened, 1);
        CHECK_EQ_U64(tcpwm_monitor_metrics(m)->active_connections, 1);
        tcpwm_monitor_free(m);
    }
}

/* tcpwm_time_ns(): the clamp every front end applies (monitor.h). */
static void test_time_clamp(void)
{
    const int64_t max_sec = TCPWM_MAX_TIME_NS / SEC;
    CHECK(tcpwm_time_ns(1, 2) == SEC + 2);
    CHECK(tcpwm_time_ns(0, 999999999) == 999999999);
    CHECK(tcpwm_time_ns(-5, 7) == 7); /* before 1970: the seconds count as 0 */
    CHECK(tcpwm_time_ns(INT64_MIN, 0) == 0);
    CHECK(tcpwm_time_ns(max_sec - 1, 999999999) == (max_sec - 1) * SEC + 999999999);
    CHECK(tcpwm_time_ns(max_sec, 0) == TCPWM_MAX_TIME_NS); /* past 2116: held there */
    CHECK(tcpwm_time_ns(INT64_MAX, 999999999) == TCPWM_MAX_TIME_NS);
}

/* ---- IP fragments through the monitor (semantics.md 1, "IP fragment
 * reassembly") --------------------------------------------------------- */

/* A TCP datagram's payload: a 20-byte TCP header (A:1000 -> B:80 or its
 * IPv6 twin), then `data` payload bytes. */
static size_t tcp_bytes(uint8_t *b, uint32_t seq, uint8_t flags, size_t data)
{
    memset(b, 0, 20 + data);
    b[0] = 1000 >> 8, b[1] = 1000 & 0xff, b[2] = 0, b[3] = 80;
    b[4] = (uint8_t)(seq >> 24), b[5] = (uint8_t)(seq >> 16), b[6] = (uint8_t)(seq >> 8);
    b[7] = (uint8_t)seq;
    b[11] = 1; /* ack 1 */
    b[12] = 5 << 4;
    b[13] = flags;
    b[14] = 0x20; /* window 8192 */
    for (size_t i = 0; i < data; i++)
        b[20 + i] = (uint8_t)i;
    return 20 + data;
}

/* An IPv4 fragment (RFC 791 3.1) of identification `id` carrying
 * dg[off, off + n) of a TCP datagram, into out at `at`. */
static size_t v4frag(uint8_t *out, size_t at, const uint8_t *dg, uint16_t id, size_t off,
                     size_t n, bool more)
{
    uint8_t *h = out + at;
    size_t total = 20 + n;
    memset(h, 0, 20);
    h[0] = 0x45;
    h[2] = (uint8_t)(total >> 8), h[3] = (uint8_t)total;
    h[4] = (uint8_t)(id >> 8), h[5] = (uint8_t)id;
    unsigned ff = (unsigned)(off / 8) | (more ? 0x2000u : 0);
    h[6] = (uint8_t)(ff >> 8), h[7] = (uint8_t)ff;
    h[8] = 64, h[9] = 6;
    memcpy(h + 12, A, 4);
    memcpy(h + 16, B, 4);
    memcpy(h + 20, dg + off, n);
    return at + total;
}

/* An IPv6 fragment (RFC 8200 4.5): 2001:db8::1 -> 2001:db8::2, the
 * Fragment header's Next Header `nh`, of fragmentable part fp. */
static size_t v6frag(uint8_t *out, const uint8_t *fp, uint8_t nh, uint32_t id, size_t off,
                     size_t n, bool more)
{
    size_t plen = 8 + n;
    memset(out, 0, 48);
    out[0] = 0x60;
    out[4] = (uint8_t)(plen >> 8), out[5] = (uint8_t)plen;
    out[6] = 44, out[7] = 64;
    out[8] = 0x20, out[9] = 0x01, out[10] = 0x0d, out[11] = 0xb8, out[23] = 1;
    out[24] = 0x20, out[25] = 0x01, out[26] = 0x0d, out[27] = 0xb8, out[39] = 2;
    out[40] = nh;
    unsigned ff = (unsigned)off | (more ? 1u : 0);
    out[42] = (uint8_t)(ff >> 8), out[43] = (uint8_t)ff;
    out[44] = (uint8_t)(id >> 24), out[45] = (uint8_t)(id >> 16), out[46] = (uint8_t)(id >> 8);
    out[47] = (uint8_t)id;
    memcpy(out + 48, fp + off, n);
    return 48 + n;
}

static void frame(tcpwm_monitor *m, const uint8_t *b, size_t n, int dlt, int64_t ts,
                  tcpwm_result *r)
{
    tcpwm_monitor_frame(m, b, n, n, dlt, ts, r);
}

/* After a reassembled segment of 1460 bytes at seq 100, the next one at
 * 1560 is in order only if its payload length was the datagram's. */
static void expect_next_in_order(tcpwm_monitor *m, int64_t ts)
{
    uint8_t dg[40], f[80];
    size_t n = tcp_bytes(dg, 1560, TCPWM_ACK, 8);
    size_t k = v4frag(f, 0, dg, 99, 0, n, false); /* no MF, offset 0: a whole packet */
    tcpwm_result r;
    frame(m, f, k, TCPWM_DLT_IPV4, ts, &r);
    CHECK(r.analyzed);
    CHECK(r.verdict == TCPWM_V_IN_ORDER);
}

static void test_fragments_in_order_and_reversed(void)
{
    uint8_t dg[1500], f[1600];
    size_t n = tcp_bytes(dg, 100, TCPWM_ACK | TCPWM_PSH, 1460); /* 1480 bytes */
    for (int reversed = 0; reversed <= 1; reversed++) {
        tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
        tcpwm_result r;
        /* 744 + 736: every fragment but the last a multiple of 8. */
        size_t k1 = v4frag(f, 0, dg, 7, 0, 744, true);
        size_t k2 = v4frag(f, k1, dg, 7, 744, n - 744, false);
        const uint8_t *first = reversed ? f + k1 : f, *second = reversed ? f : f + k1;
        size_t n1 = reversed ? k2 - k1 : k1, n2 = reversed ? k1 : k2 - k1;
        frame(m, first, n1, TCPWM_DLT_IPV4, 1 * SEC, &r);
        CHECK(!r.analyzed); /* held: not a TCP packet */
        CHECK_EQ_U64(tcpwm_monitor_metrics(m)->tcp_packets, 0);
        frame(m, second, n2, TCPWM_DLT_IPV4, 2 * SEC, &r);
        const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
        /* The completing fragment is the datagram's one TCP packet, at its
         * own capture time. */
        CHECK(r.analyzed);
        CHECK(r.verdict == TCPWM_V_FIRST);
        CHECK(r.flow && r.flow->last_ns == 2 * SEC && r.flow->port[1] == 80);
        CHECK_EQ_U64(mt->packets, 2);
        CHECK_EQ_U64(mt->tcp_packets, 1);
        CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_REASSEMBLED], 1);
        CHECK_EQ_U64(mt->fragments_ignored[TCPWM_FRAG_IGN_DUPLICATE], 0);
        /* A network duplicate of a fragment after completion starts a new
         * datagram (released at completion), not a second packet. */
        frame(m, first, n1, TCPWM_DLT_IPV4, 3 * SEC, &r);
        CHECK(!r.analyzed);
        expect_next_in_order(m, 4 * SEC);
        CHECK_EQ_U64(mt->tcp_packets, 2);
        tcpwm_monitor_free(m);
    }
}

static void test_fragments_tiny_first(void)
{
    /* RFC 1858: a first fragment of 8 bytes leaves the TCP header split;
     * the ranges and the kept header bytes join it back. */
    uint8_t dg[1500], f[1600];
    size_t n = tcp_bytes(dg, 100, TCPWM_ACK, 1460);
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    size_t k1 = v4frag(f, 0, dg, 8, 0, 8, true);
    size_t k2 = v4frag(f, k1, dg, 8, 8, 16, true);
    size_t k3 = v4frag(f, k2, dg, 8, 24, n - 24, false);
    frame(m, f + k2, k3 - k2, TCPWM_DLT_IPV4, 1 * SEC, &r);
    frame(m, f, k1, TCPWM_DLT_IPV4, 2 * SEC, &r);
    CHECK(!r.analyzed);
    /* A duplicate of a held fragment is ignored, the datagram kept. */
    frame(m, f, k1, TCPWM_DLT_IPV4, 2 * SEC, &r);
    CHECK_EQ_U64(tcpwm_monitor_metrics(m)->fragments_ignored[TCPWM_FRAG_IGN_DUPLICATE], 1);
    frame(m, f + k1, k2 - k1, TCPWM_DLT_IPV4, 3 * SEC, &r);
    CHECK(r.analyzed);
    CHECK(r.flow && r.flow->port[0] == 1000 && r.flow->last_ns == 3 * SEC);
    expect_next_in_order(m, 4 * SEC);
    /* A fragment of 12 bytes with more to come is malformed (RFC 791
     * 3.2: multiples of 8) and ignored; one overlapping held bytes in
     * part drops its datagram (RFC 5722), the rest discarded. */
    size_t k4 = v4frag(f, 0, dg, 9, 0, 12, true);
    frame(m, f, k4, TCPWM_DLT_IPV4, 5 * SEC, &r);
    k1 = v4frag(f, 0, dg, 10, 0, 16, true);
    k2 = v4frag(f, k1, dg, 10, 8, 16, true);
    k3 = v4frag(f, k2, dg, 10, 24, n - 24, false);
    frame(m, f, k1, TCPWM_DLT_IPV4, 5 * SEC, &r);
    frame(m, f + k1, k2 - k1, TCPWM_DLT_IPV4, 5 * SEC, &r);
    frame(m, f + k2, k3 - k2, TCPWM_DLT_IPV4, 5 * SEC, &r);
    CHECK(!r.analyzed);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK_EQ_U64(mt->fragments_ignored[TCPWM_FRAG_IGN_MALFORMED], 1);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_OVERLAPPING], 1);
    CHECK_EQ_U64(mt->fragments_ignored[TCPWM_FRAG_IGN_DISCARDED], 1);
    CHECK_EQ_U64(mt->tcp_packets, 2);
    CHECK_EQ_U64(mt->decode_errors[TCPWM_DE_TRUNCATED_TCP], 0);
    tcpwm_monitor_free(m);
}

static void test_fragments_timeout(void)
{
    /* 30 s from the first fragment, in capture time (Linux ipfrag_time):
     * alive while now - first <= 30 s. */
    uint8_t dg[1500], f[1600];
    size_t n = tcp_bytes(dg, 100, TCPWM_ACK, 1460);
    size_t k1 = v4frag(f, 0, dg, 11, 0, 744, true);
    size_t k2 = v4frag(f, k1, dg, 11, 744, n - 744, false);
    tcpwm_result r;
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    frame(m, f, k1, TCPWM_DLT_IPV4, 10 * SEC, &r);
    frame(m, f + k1, k2 - k1, TCPWM_DLT_IPV4, 40 * SEC, &r); /* exactly 30 s: in time */
    CHECK(r.analyzed);
    CHECK_EQ_U64(tcpwm_monitor_metrics(m)->fragments[TCPWM_FRAG_REASSEMBLED], 1);
    tcpwm_monitor_free(m);

    m = new_monitor(TCPWM_SCOPE_ALL);
    frame(m, f, k1, TCPWM_DLT_IPV4, 10 * SEC, &r);
    frame(m, f + k1, k2 - k1, TCPWM_DLT_IPV4, 40 * SEC + 1, &r); /* 1 ns late */
    CHECK(!r.analyzed);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_TIMED_OUT], 1);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_REASSEMBLED], 0);
    CHECK_EQ_U64(mt->tcp_packets, 0);
    /* The late fragment began a datagram of its own: it times out as
     * capture time moves on, without any fragment. */
    tcpwm_monitor_advance(m, 70 * SEC + 1); /* 30 s after it: still alive */
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_TIMED_OUT], 1);
    tcpwm_monitor_advance(m, 70 * SEC + 2);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_TIMED_OUT], 2);
    /* ... and so does one when an unfragmented packet moves the clock. */
    frame(m, f, k1, TCPWM_DLT_IPV4, 80 * SEC, &r);
    uint8_t one[80];
    size_t kk = v4frag(one, 0, dg, 15, 0, 28, false);
    frame(m, one, kk, TCPWM_DLT_IPV4, 111 * SEC, &r);
    CHECK(r.analyzed);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_TIMED_OUT], 3);
    tcpwm_monitor_free(m);
}

/* Ethernet + IPv4 + UDP to 4789 + VXLAN (RFC 7348 5) of VNI `vni`, then an
 * inner Ethernet frame carrying the IPv4 fragment at inner[0, n). */
static size_t vxlan_wrap(uint8_t *out, uint32_t vni, const uint8_t *inner, size_t n)
{
    size_t ulen = 8 + 8 + 14 + n, iplen = 20 + ulen;
    memset(out, 0, 14 + 20 + 16 + 14);
    out[12] = 0x08;
    uint8_t *ip = out + 14;
    ip[0] = 0x45, ip[2] = (uint8_t)(iplen >> 8), ip[3] = (uint8_t)iplen, ip[8] = 64, ip[9] = 17;
    ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 10;
    ip[16] = 192, ip[17] = 0, ip[18] = 2, ip[19] = 20;
    uint8_t *udp = ip + 20;
    udp[0] = 0xc0, udp[2] = 4789 >> 8, udp[3] = 4789 & 0xff;
    udp[4] = (uint8_t)(ulen >> 8), udp[5] = (uint8_t)ulen;
    uint8_t *vx = udp + 8;
    vx[0] = 0x08; /* I flag */
    vx[4] = (uint8_t)(vni >> 16), vx[5] = (uint8_t)(vni >> 8), vx[6] = (uint8_t)vni;
    uint8_t *eth = vx + 8;
    eth[12] = 0x08;
    memcpy(eth + 14, inner, n);
    return 14 + 20 + 16 + 14 + n;
}

static void test_fragments_in_vxlan(void)
{
    /* The key holds the encapsulation: halves of a datagram in two VNIs
     * are two datagrams; both halves in one VNI complete it. */
    uint8_t dg[1500], f[1600], w[1700];
    size_t n = tcp_bytes(dg, 100, TCPWM_ACK, 1460);
    size_t k1 = v4frag(f, 0, dg, 12, 0, 744, true);
    size_t k2 = v4frag(f, k1, dg, 12, 744, n - 744, false);
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_result r;
    size_t wn = vxlan_wrap(w, 42, f, k1);
    frame(m, w, wn, TCPWM_DLT_EN10MB, 1 * SEC, &r);
    wn = vxlan_wrap(w, 43, f + k1, k2 - k1);
    frame(m, w, wn, TCPWM_DLT_EN10MB, 2 * SEC, &r);
    CHECK(!r.analyzed);
    wn = vxlan_wrap(w, 42, f + k1, k2 - k1);
    frame(m, w, wn, TCPWM_DLT_EN10MB, 3 * SEC, &r);
    CHECK(r.analyzed);
    CHECK(r.flow && r.flow->encap_len > 0 && r.flow->last_ns == 3 * SEC);
    /* The inner 4-tuple and the tunnel's VNI. */
    size_t off = 0;
    tcpwm_encap_item it;
    bool vni42 = false;
    while (r.flow && tcpwm_encap_next(r.flow->encap, r.flow->encap_len, &off, &it))
        vni42 |= it.type == TCPWM_EI_VXLAN && it.id == 42;
    CHECK(vni42);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK_EQ_U64(mt->tcp_packets, 1);
    CHECK_EQ_U64(mt->tunneled[TCPWM_ENCAP_VXLAN], 3);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_REASSEMBLED], 1);
    /* The same datagram plain (no tunnel) is a third datagram. */
    frame(m, f + k1, k2 - k1, TCPWM_DLT_IPV4, 4 * SEC, &r);
    CHECK(!r.analyzed);
    tcpwm_monitor_free(m);
}

static void test_fragments_ipv6(void)
{
    /* RFC 8200 4.5: offsets and lengths after the Fragment header; a
     * fragmentable part may start with a destination options header
     * (Next Header 60 in the Fragment header), walked after reassembly. */
    uint8_t fp[1600], f[1700];
    for (int dstopts = 0; dstopts <= 1; dstopts++) {
        size_t x = 0;
        if (dstopts) {
            memset(fp, 0, 8);
            fp[0] = 6; /* then TCP; length 0: 8 bytes of Pad1/PadN */
            fp[2] = 1, fp[3] = 4;
            x = 8;
        }
        size_t n = x + tcp_bytes(fp + x, 100, TCPWM_ACK, 1460);
        tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
        tcpwm_result r;
        size_t k = v6frag(f, fp, dstopts ? 60 : 6, 0xabcdef01u, 1232, n - 1232, false);
        frame(m, f, k, TCPWM_DLT_IPV6, 1 * SEC, &r);
        CHECK(!r.analyzed);
        k = v6frag(f, fp, dstopts ? 60 : 6, 0xabcdef01u, 0, 1232, true);
        frame(m, f, k, TCPWM_DLT_IPV6, 2 * SEC, &r);
        CHECK(r.analyzed);
        CHECK(r.flow && r.flow->family == 6 && r.flow->port[1] == 80);
        const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
        CHECK_EQ_U64(mt->tcp_packets, 1);
        CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_REASSEMBLED], 1);
        tcpwm_monitor_free(m);
    }
}

static void test_fragments_split_api(void)
{
    /* The replay's path: frames decoded ahead (tcpwm_monitor_decode),
     * reassembled in their turn (tcpwm_monitor_fragment). Decoding all
     * first must change nothing: the state moves at analysis only. */
    uint8_t dg[1500], f[1600];
    size_t n = tcp_bytes(dg, 100, TCPWM_ACK, 1460);
    size_t k1 = v4frag(f, 0, dg, 13, 0, 744, true);
    size_t k2 = v4frag(f, k1, dg, 13, 744, n - 744, false);
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    tcpwm_segment s[2];
    tcpwm_fragment fr[2];
    tcpwm_decode_error e;
    CHECK(tcpwm_monitor_decode(m, f, k1, k1, TCPWM_DLT_IPV4, &s[0], &fr[0], &e) ==
          TCPWM_DECODE_FRAGMENT);
    CHECK(tcpwm_monitor_decode(m, f + k1, k2 - k1, k2 - k1, TCPWM_DLT_IPV4, &s[1], &fr[1], &e) ==
          TCPWM_DECODE_FRAGMENT);
    CHECK_EQ_U64(tcpwm_monitor_metrics(m)->fragments[TCPWM_FRAG_REASSEMBLED], 0);
    s[0].ts_ns = 1 * SEC;
    s[1].ts_ns = 2 * SEC;
    CHECK(!tcpwm_monitor_fragment(m, &s[0], &fr[0]));
    CHECK(tcpwm_monitor_fragment(m, &s[1], &fr[1]));
    CHECK_EQ_U64(s[1].payload_len, 1460);
    CHECK_EQ_U64(s[1].seq, 100);
    CHECK_EQ_U64(s[1].sport, 1000);
    CHECK_EQ_U64(s[1].ts_ns, 2 * SEC);
    tcpwm_result r;
    tcpwm_monitor_segment(m, &s[1], &r);
    CHECK(r.analyzed);
    expect_next_in_order(m, 3 * SEC);
    /* A datagram whose TCP header was not captured (snap length 10 on the
     * first fragment) is reassembled, then counted as truncated_tcp. */
    k1 = v4frag(f, 0, dg, 14, 0, 744, true);
    CHECK(tcpwm_monitor_decode(m, f, 30, k1, TCPWM_DLT_IPV4, &s[0], &fr[0], &e) ==
          TCPWM_DECODE_FRAGMENT);
    k2 = v4frag(f, k1, dg, 14, 744, n - 744, false);
    CHECK(tcpwm_monitor_decode(m, f + k1, k2 - k1, k2 - k1, TCPWM_DLT_IPV4, &s[1], &fr[1], &e) ==
          TCPWM_DECODE_FRAGMENT);
    CHECK(!tcpwm_monitor_fragment(m, &s[0], &fr[0]));
    CHECK(!tcpwm_monitor_fragment(m, &s[1], &fr[1]));
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    CHECK_EQ_U64(mt->fragments[TCPWM_FRAG_REASSEMBLED], 2);
    CHECK_EQ_U64(mt->decode_errors[TCPWM_DE_TRUNCATED_TCP], 1);
    tcpwm_monitor_free(m);
}

/* docs/semantics.md 5: a SYN whose options the capture cut may have
 * carried a window scale nobody saw. */
static void test_cut_syn_scale(void)
{
    tcpwm_result r;
    /* The peer's SYN carried one: the shift is unknown both ways. */
    tcpwm_monitor *m = new_monitor(TCPWM_SCOPE_ALL);
    const tcpwm_metrics *mt = tcpwm_monitor_metrics(m);
    handshake(m, -2, 8);
    feed(m, 4 * MS, C2S(TCPWM_ACK, 101, 5001, 300, 0), &r);
    CHECK(r.window_analyzed);
    CHECK(!r.scale_known);
    CHECK_EQ_U64(r.window, 300);
    feed(m, 5 * MS, S2C(TCPWM_ACK, 5001, 101, 400, 0), &r);
    CHECK(!r.scale_known);
    CHECK_EQ_U64(r.window, 400);
    CHECK_EQ_U64(mt->scale_unknown, 3); /* with handshake()'s own ACK */
    tcpwm_monitor_free(m);

    /* The peer's SYN had none (seen whole): no scaling, whatever the cut
     * SYN carried (RFC 7323 2.2). The same with the sides swapped. */
    for (int swap = 0; swap <= 1; swap++) {
        m = new_monitor(TCPWM_SCOPE_ALL);
        mt = tcpwm_monitor_metrics(m);
        handshake(m, swap ? -1 : -2, swap ? -2 : -1);
        feed(m, 4 * MS, S2C(TCPWM_ACK, 5001, 101, 400, 0), &r);
        CHECK(r.scale_known);
        CHECK_EQ_U64(r.window, 400);
        CHECK_EQ_U64(mt->scale_unknown, 0);
        tcpwm_monitor_free(m);
    }

    /* A retransmission of the cut SYN (same sequence number) captured
     * whole settles it. */
    m = new_monitor(TCPWM_SCOPE_ALL);
    pkt syn = C2S(TCPWM_SYN, 100, 0, 65535, 0);
    syn.wscale = -2;
    feed(m, 1 * MS, syn, &r);
    syn.wscale = 7;
    CHECK(feed(m, 2 * MS, syn, &r) == TCPWM_V_DUPLICATE);
    pkt synack = S2C(TCPWM_SYN | TCPWM_ACK, 5000, 101, 65535, 0);
    synack.wscale = 8;
    feed(m, 3 * MS, synack, &r);
    feed(m, 4 * MS, C2S(TCPWM_ACK, 101, 5001, 3, 0), &r);
    CHECK(r.scale_known);
    CHECK_EQ_U64(r.window, 3u << 7);
    tcpwm_monitor_free(m);
}

/* Semantics 8, the per-service view. Each flow's block follows the rule;
 * the totals equal, field for field, those of a monitor without service
 * ports fed the same packets. */
typedef struct svc_flow {
    uint16_t a_port, b_port; /* the first packet goes a -> b */
    uint8_t first_flags;     /* of the first packet: SYN, SYN-ACK or plain data */
    uint32_t drops;          /* holes opened after the first packet (missing events) */
    int32_t want;            /* the service port the rule gives */
} svc_flow;

static void svc_feed(tcpwm_monitor *m, const svc_flow *fl, unsigned k, int32_t want)
{
    /* Each flow between its own pair of addresses. */
    uint8_t a[4] = {10, 1, (uint8_t)k, 1}, b[4] = {10, 2, (uint8_t)k, 2};
    tcpwm_result r;
    int64_t t = (int64_t)(k + 1) * SEC;
    pkt p = {a, b, fl->a_port, fl->b_port, fl->first_flags, 100, 0, 1000, 0, -1};
    if (fl->first_flags == (TCPWM_SYN | TCPWM_ACK))
        p.ack = 7000;
    if (!(fl->first_flags & TCPWM_SYN))
        p.seq = 101; /* a bare ACK takes no sequence space, a SYN one number */
    feed(m, t, p, &r);
    /* Data from a, each segment after a hole of 10 bytes for the first
     * `drops`: one missing event each. */
    uint32_t seq = 101;
    for (uint32_t i = 0; i < fl->drops + 2; i++) {
        if (i >= 1 && i <= fl->drops)
            seq += 10;
        pkt d = {a, b, fl->a_port, fl->b_port, TCPWM_ACK, seq, 7001, 1000, 100, -1};
        feed(m, t + (int64_t)(i + 1) * MS, d, &r);
        seq += 100;
    }
    CHECK(r.flow != NULL && r.flow->service_port == want);
    if (r.flow && r.flow->service_port != want)
        fprintf(stderr, "  flow %u: service %d, want %d\n", k, (int)r.flow->service_port,
                (int)want);
}

static void test_service_ports(void)
{
    static const svc_flow flows[] = {
        {40000, 80, TCPWM_SYN, 1, 80},                         /* SYN to a listed port */
        {443, 9999, TCPWM_SYN, 2, TCPWM_SERVICE_OTHER},        /* SYN to an unlisted one */
        {443, 40001, TCPWM_SYN | TCPWM_ACK, 3, 443},           /* SYN-ACK first: its source */
        {40002, 443, TCPWM_ACK, 4, 443},                       /* mid-stream, one listed */
        {443, 80, TCPWM_ACK, 5, 80},                           /* mid-stream, both: the lower */
        {40003, 8080, TCPWM_ACK, 6, TCPWM_SERVICE_OTHER},      /* mid-stream, none */
    };
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = TCPWM_SCOPE_ALL;
    tcpwm_monitor *plain = NULL;
    CHECK(tcpwm_monitor_new(&c, &plain) == 0);
    c.n_service_ports = 2;
    c.service_ports[0] = 443; /* any order: slots come out ascending */
    c.service_ports[1] = 80;
    tcpwm_monitor *m = NULL;
    CHECK(tcpwm_monitor_new(&c, &m) == 0);
    if (!m || !plain)
        return;
    for (unsigned k = 0; k < sizeof flows / sizeof flows[0]; k++) {
        svc_feed(plain, &flows[k], k, TCPWM_SERVICE_NONE);
        svc_feed(m, &flows[k], k, flows[k].want);
    }

    const uint16_t *ports = NULL;
    CHECK_EQ_U64(tcpwm_monitor_service_ports(m, &ports), 2);
    CHECK(ports && ports[0] == 80 && ports[1] == 443);
    const tcpwm_metrics *blk = tcpwm_monitor_service_metrics(m);
    CHECK(blk != NULL);
    if (blk) {
        CHECK_EQ_U64(blk[0].missing, 1 + 5); /* port 80 */
        CHECK_EQ_U64(blk[1].missing, 3 + 4); /* port 443 */
        CHECK_EQ_U64(blk[2].missing, 2 + 6); /* other */
        CHECK_EQ_U64(blk[0].conn_opened, 2);
        CHECK_EQ_U64(blk[1].conn_opened, 2);
        CHECK_EQ_U64(blk[2].conn_opened, 2);
        CHECK_EQ_U64(blk[0].gap.count, 6);
        /* Process-wide fields stay in the totals only. */
        CHECK_EQ_U64(blk[0].tcp_packets + blk[1].tcp_packets + blk[2].tcp_packets, 0);
        CHECK_EQ_U64(blk[2].current_window, 0);
    }
    /* The totals: exactly what the monitor without service ports says. */
    const tcpwm_metrics *a = tcpwm_monitor_metrics(m), *b = tcpwm_monitor_metrics(plain);
    CHECK(memcmp(a, b, sizeof *a) == 0);
    CHECK_EQ_U64(a->missing, 21);

    /* Without service ports: no blocks, and every view says so. */
    CHECK_EQ_U64(tcpwm_monitor_service_ports(plain, &ports), 0);
    CHECK(ports == NULL && tcpwm_monitor_service_metrics(plain) == NULL);
    tcpwm_result r;
    feed(plain, 100 * SEC, C2S(TCPWM_SYN, 100, 0, 65535, 0), &r);
    CHECK(r.flow && r.flow->service_port == TCPWM_SERVICE_NONE);
    tcpwm_monitor_free(plain);
    tcpwm_monitor_free(m);

    /* A listed port twice, or more than TCPWM_MAX_SERVICE_PORTS. */
    c.service_ports[1] = 443;
    CHECK(tcpwm_monitor_new(&c, &m) == TCPWM_EINVAL && m == NULL);
    c.n_service_ports = TCPWM_MAX_SERVICE_PORTS + 1;
    CHECK(tcpwm_monitor_new(&c, &m) == TCPWM_EINVAL && m == NULL);
    c.n_service_ports = TCPWM_MAX_SERVICE_PORTS;
    for (unsigned i = 0; i < TCPWM_MAX_SERVICE_PORTS; i++)
        c.service_ports[i] = (uint16_t)(1000 + i);
    CHECK(tcpwm_monitor_new(&c, &m) == 0 && m != NULL);
    tcpwm_monitor_free(m);
}

/* ---- Deferred analysis (tcpwm_monitor_defer_analysis) ------------------
 * The same traffic through a monitor that analyzes in line and one that
 * defers Wireshark's analysis must give the same metrics, the same flows
 * leaving in the same order with the same figures, and the same flows at
 * the end. Here the batches are run as they are handed over, on this
 * thread (the replay's thread and its order: tests of the front end run
 * them on another). */

typedef struct view_list {
    size_t n, cap;
    tcpwm_flow_view *v;
} view_list;

/* A tcpwm_flow_end_cb: keeps a copy of every view. */
static void on_end(void *ctx, const tcpwm_flow_view *v)
{
    view_list *e = ctx;
    if (e->n == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 1024;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
        CHECK(e->v != NULL);
        if (!e->v)
            exit(1);
    }
    e->v[e->n++] = *v;
}

static tcpwm_batch *run_now(void *ctx, tcpwm_batch *full)
{
    tcpwm_monitor_run_batch(ctx, full);
    return full;
}

/* Views equal field by field (their padding is nobody's). */
static bool same_view(const tcpwm_flow_view *a, const tcpwm_flow_view *b)
{
    const tcpwm_flow_stats *x = &a->stats, *y = &b->stats;
    return a->port[0] == b->port[0] && a->port[1] == b->port[1] &&
           memcmp(a->addr, b->addr, sizeof a->addr) == 0 && a->first_ns == b->first_ns &&
           a->last_ns == b->last_ns && a->closed == b->closed &&
           a->service_port == b->service_port && x->packets == y->packets &&
           x->bytes == y->bytes && x->missing == y->missing && x->duplicate == y->duplicate &&
           x->out_of_order == y->out_of_order && x->retx_fast == y->retx_fast &&
           x->retx_spurious == y->retx_spurious && x->retx_other == y->retx_other &&
           x->ack_rtt_max_ns == y->ack_rtt_max_ns &&
           x->ack_rtt_median_ns == y->ack_rtt_median_ns && x->min_window == y->min_window;
}

/* A deterministic mix: connections that open, send data with losses,
 * retransmissions (some after duplicate ACKs), reordering and D-SACKs,
 * close, reset, go idle or reuse their ports; more of them than the table
 * holds, so that flows are evicted too. */
static void mixed_traffic(tcpwm_monitor *m, bool want_results)
{
    enum { CONNS = 2200, STEPS = 120000 };
    static uint32_t cseq[CONNS], sseq[CONNS], sack[CONNS];
    static bool open[CONNS];
    memset(open, 0, sizeof open);
    uint64_t rng = 0x9e3779b97f4a7c15ULL;
    int64_t t = 1 * SEC;
    tcpwm_result r;
    tcpwm_result *res = want_results ? &r : NULL;
    for (uint32_t step = 0; step < STEPS; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t c = (uint32_t)(rng >> 40) % CONNS;
        unsigned dice = (unsigned)(rng >> 20) % 100;
        uint8_t cl[4] = {10, 1, (uint8_t)(c >> 8), (uint8_t)c};
        uint8_t sv[4] = {10, 2, 0, (uint8_t)(c % 7)};
        uint16_t cport = (uint16_t)(20000 + c), sport = (uint16_t)(c % 3 ? 443 : 80);
        pkt up = {cl, sv, cport, sport, TCPWM_ACK, 0, 0, 1000, 0, -1};
        pkt down = {sv, cl, sport, cport, TCPWM_ACK, 0, 0, 1000, 0, -1};
        t += 3 * US + (int64_t)dice * 100;
        if (step == STEPS / 2)
            t += 400 * SEC; /* every flow idles out */
        tcpwm_segment s;
        if (!open[c] || dice == 99) { /* open (again: port reuse) */
            open[c] = true;
            cseq[c] = 1000u * c + step;
            sseq[c] = 500000u + 77u * c;
            up.flags = TCPWM_SYN;
            up.seq = cseq[c]++;
            s = make(t, up);
            tcpwm_monitor_segment(m, &s, res);
            down.flags = TCPWM_SYN | TCPWM_ACK;
            down.seq = sseq[c]++;
            down.ack = sack[c] = cseq[c];
            s = make(t + 300 * US, down);
            tcpwm_monitor_segment(m, &s, res);
            continue;
        }
        if (dice < 2) { /* close, or reset */
            up.flags = dice == 0 ? TCPWM_RST : TCPWM_FIN | TCPWM_ACK;
            up.seq = cseq[c];
            up.ack = sseq[c];
            s = make(t, up);
            tcpwm_monitor_segment(m, &s, res);
            open[c] = false;
            continue;
        }
        /* Data: mostly new, some resent from the last ACK (after the
         * duplicate ACKs below: fast; else other), some already
         * acknowledged (spurious), some past a gap (then filled:
         * reordering or retransmission). */
        uint32_t len = 100 + dice * 10;
        up.seq = dice < 8 ? sack[c] : dice < 10 ? sack[c] - len : dice < 14 ? cseq[c] + len : cseq[c];
        up.ack = sseq[c];
        up.len = len;
        s = make(t, up);
        tcpwm_monitor_segment(m, &s, res);
        if (dice >= 10)
            cseq[c] = up.seq + len;
        /* The ACK: the same as before (a duplicate ACK) now and then. */
        down.seq = sseq[c];
        down.ack = dice % 3 == 0 ? sack[c] : cseq[c];
        sack[c] = down.ack;
        s = make(t + (int64_t)(dice + 1) * 20 * US, down);
        if (dice < 5) { /* a D-SACK for a retransmission */
            s.opt_present = TCPWM_OPT_SACK;
            s.sack_count = 1;
            s.sack[0][0] = down.ack - len;
            s.sack[0][1] = down.ack;
        }
        tcpwm_monitor_segment(m, &s, res);
    }
}

static void test_deferred_analysis(void)
{
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = TCPWM_SCOPE_ALL;
    c.max_flows = 2000; /* fewer than the connections (2,200): evictions */
    c.n_service_ports = 2;
    c.service_ports[0] = 80;
    c.service_ports[1] = 443;
    tcpwm_monitor *in_line = NULL, *deferred = NULL;
    CHECK(tcpwm_monitor_new(&c, &in_line) == 0);
    CHECK(tcpwm_monitor_new(&c, &deferred) == 0);
    tcpwm_batch *b = tcpwm_batch_new();
    if (!in_line || !deferred || !b)
        return;
    view_list e1 = {0}, e2 = {0}, f1 = {0}, f2 = {0};
    tcpwm_monitor_on_flow_end(in_line, on_end, &e1);
    tcpwm_monitor_on_flow_end(deferred, on_end, &e2);
    tcpwm_result r;
    pkt syn = C2S(TCPWM_SYN, 100, 0, 65535, 0);
    tcpwm_segment s0 = make(0, syn);
    tcpwm_monitor_segment(in_line, &s0, &r);
    mixed_traffic(in_line, false);

    CHECK(tcpwm_monitor_defer_analysis(deferred, run_now, deferred, b));
    /* While deferred, a result carries no analysis of its own. */
    tcpwm_monitor_segment(deferred, &s0, &r);
    CHECK(r.ack_rtt_ns == -1 && r.handshake_rtt_ns == -1 && r.retx == TCPWM_RETX_NONE);
    mixed_traffic(deferred, true);
    tcpwm_batch *last = tcpwm_monitor_undefer_analysis(deferred);
    CHECK(last == b); /* run_now gives every batch back */
    tcpwm_monitor_run_batch(deferred, last);
    CHECK(tcpwm_monitor_undefer_analysis(deferred) == NULL);

    const tcpwm_metrics *a = tcpwm_monitor_metrics(in_line), *d = tcpwm_monitor_metrics(deferred);
    CHECK(memcmp(a, d, sizeof *a) == 0);
    CHECK(memcmp(tcpwm_monitor_service_metrics(in_line), tcpwm_monitor_service_metrics(deferred),
                 3 * sizeof *a) == 0);
    /* The mix does what it is for: the batches filled (16,384 jobs each),
     * views were handed over, every kind was seen. */
    CHECK(a->tcp_packets > 3 * 16384);
    CHECK(e1.n > 256 && a->evicted[TCPWM_EVICT_IDLE] > 0 && a->evicted[TCPWM_EVICT_MAX_FLOWS] > 0);
    CHECK(a->dup_ack > 0 && a->dsack > 0 && a->ack_rtt.count > 0 && a->handshake_rtt.count > 0);
    CHECK(a->retransmissions[0] > 0 && a->retransmissions[1] > 0 && a->retransmissions[2] > 0);
    CHECK_EQ_U64(e2.n, e1.n);
    bool same = e1.n == e2.n;
    for (size_t k = 0; same && k < e1.n; k++)
        same = same_view(&e1.v[k], &e2.v[k]);
    CHECK(same);
    tcpwm_monitor_foreach_flow(in_line, on_end, &f1);
    tcpwm_monitor_foreach_flow(deferred, on_end, &f2);
    CHECK(f1.n > 0 && f1.n == f2.n);
    same = f1.n == f2.n;
    for (size_t k = 0; same && k < f1.n; k++)
        same = same_view(&f1.v[k], &f2.v[k]);
    CHECK(same);
    free(e1.v);
    free(e2.v);
    free(f1.v);
    free(f2.v);
    tcpwm_batch_free(b);
    tcpwm_monitor_free(in_line);
    tcpwm_monitor_free(deferred);
}

int main(void)
{
    test_clean_connection();
    test_cut_syn_scale();
    test_loss_and_fill();
    test_capture_gap();
    test_keepalive_and_zero_window();
    test_window_rules();
    test_port_reuse_and_close();
    test_wireshark_analysis();
    test_expiry_and_cap();
    test_lru_tick();
    test_wraparound_and_hole_cap();
    test_scope();
    test_hinted_path();
    test_key_directions();
    test_time_clamp();
    test_fragments_in_order_and_reversed();
    test_fragments_tiny_first();
    test_fragments_timeout();
    test_fragments_in_vxlan();
    test_fragments_ipv6();
    test_fragments_split_api();
    test_service_ports();
    test_deferred_analysis();
    return check_finish("test_monitor");
}
