/* SPDX-License-Identifier: MIT */
/* standalone/offload.c without a thread of its own (offload_start_shared):
 * the batches are run, in order and one at a time, by whichever thread
 * calls offload_help, or by the feeding thread when it runs out of empty
 * batches. Here a helper thread calls offload_help while this one feeds
 * the monitor, so that both paths run batches and meet often; the metrics and the flows that left must then equal those of a
 * monitor that analyzes in line. A batch run twice, skipped, out of order
 * or beside another would change them (and threads.tsan runs this test
 * under ThreadSanitizer, which names a race outright). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "offload.h"
#include "tcpwm/monitor.h"

#define US 1000LL

typedef struct ends {
    size_t n;
    uint64_t packets, missing, retx; /* summed over the flows that left */
} ends;

/* A tcpwm_flow_end_cb; on the thread that runs the batch. */
static void on_end(void *ctx, const tcpwm_flow_view *v)
{
    ends *e = ctx;
    e->n++;
    e->packets += v->stats.packets;
    e->missing += v->stats.missing;
    e->retx += v->stats.retx_fast + v->stats.retx_spurious + v->stats.retx_other;
}

static tcpwm_segment seg(int64_t t, uint32_t c, bool up, uint8_t flags, uint32_t seq,
                         uint32_t ack, uint32_t len)
{
    tcpwm_segment s;
    memset(&s, 0, sizeof s);
    uint8_t cl[4] = {10, 1, (uint8_t)(c >> 8), (uint8_t)c}, sv[4] = {10, 2, 0, 1};
    s.ts_ns = t;
    s.family = 4;
    memcpy(s.src, up ? cl : sv, 4);
    memcpy(s.dst, up ? sv : cl, 4);
    s.sport = up ? (uint16_t)(20000 + c) : 443;
    s.dport = up ? 443 : (uint16_t)(20000 + c);
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.window = 1000;
    s.payload_len = len;
    return s;
}

/* The same traffic every time: connections that open, send data with
 * gaps and resends, get ACKs (some repeated), and close; more of them over
 * time than the table holds, so flows leave by eviction and by closing. */
static void traffic(tcpwm_monitor *m)
{
    enum { CONNS = 3000, STEPS = 200000 };
    static uint32_t cseq[CONNS], acked[CONNS];
    static bool open[CONNS];
    memset(open, 0, sizeof open);
    uint64_t rng = 0x2545f4914f6cdd1dULL;
    int64_t t = 1000000 * US;
    for (uint32_t step = 0; step < STEPS; step++) {
        rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t c = (uint32_t)(rng >> 40) % CONNS;
        unsigned dice = (unsigned)(rng >> 20) % 100;
        t += 2 * US + (int64_t)dice * 50;
        tcpwm_segment s;
        if (!open[c]) {
            open[c] = true;
            cseq[c] = acked[c] = 7919u * c + step;
            s = seg(t, c, true, TCPWM_SYN, cseq[c]++, 0, 0);
            tcpwm_monitor_segment(m, &s, NULL);
            s = seg(t + 100 * US, c, false, TCPWM_SYN | TCPWM_ACK, 5000, cseq[c], 0);
            tcpwm_monitor_segment(m, &s, NULL);
            acked[c] = cseq[c];
            continue;
        }
        if (dice == 0) {
            s = seg(t, c, true, TCPWM_RST, cseq[c], 5001, 0);
            tcpwm_monitor_segment(m, &s, NULL);
            open[c] = false;
            continue;
        }
        /* Data: new, past a gap, or resent from the last ACK. */
        uint32_t len = 200 + dice * 5;
        uint32_t at = dice < 6 ? acked[c] : dice < 10 ? cseq[c] + len : cseq[c];
        s = seg(t, c, true, TCPWM_ACK, at, 5001, len);
        tcpwm_monitor_segment(m, &s, NULL);
        if (dice >= 6)
            cseq[c] = at + len;
        if (dice % 4 != 0)
            acked[c] = cseq[c];
        s = seg(t + 40 * US, c, false, TCPWM_ACK, 5001, acked[c], 0);
        tcpwm_monitor_segment(m, &s, NULL);
    }
}

typedef struct helper {
    offload *o;
    atomic_bool stop;
    unsigned long ran;
} helper;

/* Runs a batch whenever one waits, then pauses a little: meanwhile the
 * feeding thread runs out of empty batches and runs the oldest itself,
 * and the next call here finds it doing so. */
static void *help_loop(void *arg)
{
    helper *h = arg;
    const struct timespec pause = {0, 3000000};
    while (!atomic_load(&h->stop)) {
        if (offload_help(h->o)) {
            h->ran++;
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

static tcpwm_monitor *new_monitor(ends *e)
{
    tcpwm_config c;
    tcpwm_config_default(&c);
    c.scope = TCPWM_SCOPE_ALL;
    c.max_flows = 2500; /* fewer than the connections: evictions */
    tcpwm_monitor *m = NULL;
    CHECK(tcpwm_monitor_new(&c, &m) == 0);
    if (m != NULL)
        tcpwm_monitor_on_flow_end(m, on_end, e);
    return m;
}

int main(void)
{
    ends e1 = {0}, e2 = {0};
    tcpwm_monitor *in_line = new_monitor(&e1), *shared = new_monitor(&e2);
    if (in_line == NULL || shared == NULL)
        return 1;
    traffic(in_line);

    offload *o = offload_start_shared(shared);
    if (o == NULL) {
        printf("test_offload: one CPU, no deferring: nothing to check\n");
        return 0;
    }
    helper h = {.o = o};
    atomic_init(&h.stop, false);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, help_loop, &h) == 0);
    traffic(shared);
    atomic_store(&h.stop, true);
    pthread_join(t, NULL);
    offload_stop(o);

    const tcpwm_metrics *a = tcpwm_monitor_metrics(in_line), *d = tcpwm_monitor_metrics(shared);
    CHECK(memcmp(a, d, sizeof *a) == 0);
    CHECK_EQ_U64(e2.n, e1.n);
    CHECK_EQ_U64(e2.packets, e1.packets);
    CHECK_EQ_U64(e2.missing, e1.missing);
    CHECK_EQ_U64(e2.retx, e1.retx);
    /* The traffic does what it is for: many batches (16,384 jobs each),
     * flows leaving, retransmissions, and the helper ran batches. */
    CHECK(a->tcp_packets > 20 * 16384);
    CHECK(e1.n > 1000 && a->retransmissions[2] > 0 && a->ack_rtt.count > 0);
    CHECK(h.ran > 0);
    printf("test_offload: %lu of the batches run by the helper\n", h.ran);
    tcpwm_monitor_free(in_line);
    tcpwm_monitor_free(shared);
    return check_finish("test_offload");
}
