/* SPDX-License-Identifier: MIT */
#include "top.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwm/err.h"

#include "flowtext.h"

/* Loss events as the README's loss ratio counts them. A capture gap is a
 * hole the receiver acknowledged and the capture never showed: the
 * network did not lose it, and it was already counted once as missing
 * when the hole opened. */
uint64_t top_loss_events(const tcpwm_flow_stats *s)
{
    return (uint64_t)s->missing + s->duplicate + s->out_of_order;
}

uint64_t top_retransmissions(const tcpwm_flow_stats *s)
{
    return (uint64_t)s->retx_fast + s->retx_spurious + s->retx_other;
}

static const char *const by_names[] = {
    [TOP_BY_LOSS] = "loss",
    [TOP_BY_RETRANSMISSIONS] = "retransmissions",
    [TOP_BY_RTT] = "rtt",
};

const char *top_by_name(top_by by)
{
    return (size_t)by < sizeof by_names / sizeof by_names[0] ? by_names[by] : "?";
}

int top_by_parse(const char *s, top_by *by)
{
    for (size_t i = 0; i < sizeof by_names / sizeof by_names[0]; i++) {
        if (strcmp(s, by_names[i]) == 0) {
            *by = (top_by)i;
            return 0;
        }
    }
    return -1;
}

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* The ranking's own key, before the ties are broken: < 0 when x is worse. */
static int primary(top_by by, const tcpwm_flow_stats *x, const tcpwm_flow_stats *y)
{
    int c;

    if (by == TOP_BY_RETRANSMISSIONS)
        return CMP(top_retransmissions(y), top_retransmissions(x));
    if (by == TOP_BY_RTT) {
        /* -1, no sample, is below every sample. */
        if ((c = CMP(y->ack_rtt_median_ns, x->ack_rtt_median_ns)) != 0)
            return c;
        return CMP(y->ack_rtt_max_ns, x->ack_rtt_max_ns);
    }
    return CMP(top_loss_events(y), top_loss_events(x));
}

/* < 0 when a ranks above b (is printed first). A total order on
 * everything the table shows, so the result is deterministic. */
static int rank(top_by by, const tcpwm_flow_view *a, const tcpwm_flow_view *b)
{
    const tcpwm_flow_stats *x = &a->stats, *y = &b->stats;
    uint32_t wa = x->has_window ? x->min_window : UINT32_MAX;
    uint32_t wb = y->has_window ? y->min_window : UINT32_MAX;
    int c;

    if ((c = primary(by, x, y)) != 0)
        return c;
    /* Endpoints, ascending. */
    if ((c = CMP(a->vlan_count, b->vlan_count)) != 0)
        return c;
    for (int i = 0; i < 2; i++)
        if ((c = CMP(a->vlan[i], b->vlan[i])) != 0)
            return c;
    if ((c = CMP(a->family, b->family)) != 0)
        return c;
    for (int i = 0; i < 2; i++) {
        if ((c = memcmp(a->addr[i], b->addr[i], sizeof a->addr[i])) != 0)
            return c;
        if ((c = CMP(a->port[i], b->port[i])) != 0)
            return c;
    }
    /* The same inner endpoints in two tunnels are two flows. */
    if ((c = CMP(a->encap_len, b->encap_len)) != 0)
        return c;
    if ((c = memcmp(a->encap, b->encap, a->encap_len)) != 0)
        return c;
    /* Then the larger counts first. */
    if ((c = CMP(y->packets, x->packets)) != 0)
        return c;
    if ((c = CMP(y->missing, x->missing)) != 0)
        return c;
    if ((c = CMP(y->duplicate, x->duplicate)) != 0)
        return c;
    if ((c = CMP(y->out_of_order, x->out_of_order)) != 0)
        return c;
    if ((c = CMP(y->capture_gap, x->capture_gap)) != 0)
        return c;
    if ((c = CMP(y->window_shrink, x->window_shrink)) != 0)
        return c;
    if ((c = CMP(wa, wb)) != 0)
        return c;
    if ((c = CMP(a->first_ns, b->first_ns)) != 0)
        return c;
    return CMP(a->last_ns, b->last_ns);
}

int top_init(top *t, size_t want, top_by by)
{
    memset(t, 0, sizeof *t);
    t->want = want;
    t->by = by;
    if (want == 0)
        return 0;
    t->heap = calloc(want, sizeof *t->heap);
    return t->heap == NULL ? TCPWM_ENOMEM : 0;
}

void top_free(top *t)
{
    free(t->heap);
    t->heap = NULL;
    t->n = 0;
}

/* The heap is ordered so that heap[0] ranks lowest: a parent ranks at or
 * below its children. */
static void sift_down(top_by by, tcpwm_flow_view *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, low = i;
        tcpwm_flow_view tmp;

        if (l < n && rank(by, &h[l], &h[low]) > 0)
            low = l;
        if (r < n && rank(by, &h[r], &h[low]) > 0)
            low = r;
        if (low == i)
            return;
        tmp = h[i];
        h[i] = h[low];
        h[low] = tmp;
        i = low;
    }
}

static void sift_up(top_by by, tcpwm_flow_view *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        tcpwm_flow_view tmp;

        if (rank(by, &h[i], &h[parent]) <= 0)
            return;
        tmp = h[i];
        h[i] = h[parent];
        h[parent] = tmp;
        i = parent;
    }
}

void top_offer(void *ctx, const tcpwm_flow_view *flow)
{
    top *t = ctx;

    t->seen++;
    if (t->want == 0)
        return;
    if (t->n < t->want) {
        t->heap[t->n] = *flow;
        sift_up(t->by, t->heap, t->n);
        t->n++;
        return;
    }
    if (rank(t->by, flow, &t->heap[0]) < 0) {
        t->heap[0] = *flow;
        sift_down(t->by, t->heap, t->n, 0);
    }
}

/* Heapsort on the heap we have (qsort's comparison could not be told the
 * ranking): the weakest, heap[0], goes to the end of the shrinking heap,
 * so the best ends up first. */
void top_sort(top *t)
{
    for (size_t n = t->n; n > 1; n--) {
        tcpwm_flow_view tmp = t->heap[0];

        t->heap[0] = t->heap[n - 1];
        t->heap[n - 1] = tmp;
        sift_down(t->by, t->heap, n - 1, 0);
    }
}

/* An ACK RTT in milliseconds to 3 significant digits ("0.0512", "12.3",
 * "440"), never in exponent form, at most to the nanosecond; "-" without
 * a sample. The median is an estimate and the maximum kept to 1/1024 of
 * its value (monitor.h): more digits would claim more than is known. */
static void rtt_ms(char *out, size_t n, int64_t ns)
{
    double ms = (double)ns / 1e6, scaled = ms;
    int decimals = 0;

    if (ns < 0) {
        snprintf(out, n, "-");
        return;
    }
    while (decimals < 6 && scaled < 100.0) {
        scaled *= 10.0;
        decimals++;
    }
    snprintf(out, n, "%.*f", decimals, ms);
}

static const char *title(top_by by)
{
    switch (by) {
    case TOP_BY_RETRANSMISSIONS:
        return "by retransmissions (fast + spurious + other, Wireshark's kinds)";
    case TOP_BY_RTT:
        return "by ACK RTT (the median estimate, then the maximum; flows without a sample "
               "last)";
    default:
        return "by loss events (missing + duplicate + out_of_order; capture_gap: holes the "
               "capture missed, not lost in the network)";
    }
}

void top_print(top *t, FILE *f)
{
    char flow[FLOWTEXT_MAX], minwin[16], median[32], max[32];
    int width = (int)strlen("flow");

    top_sort(t);
    for (size_t i = 0; i < t->n; i++) {
        flowtext_format(flow, &t->heap[i], 0);
        if ((int)strlen(flow) > width)
            width = (int)strlen(flow);
    }
    fprintf(f, "top %zu of %" PRIu64 " flows %s:\n", t->n, t->seen, title(t->by));
    fprintf(f, "%4s  %-*s %10s %11s %8s %9s %12s %11s %14s %16s %9s %13s %10s %17s %14s\n", "#",
            width, "flow", "packets", "loss_events", "missing", "duplicate", "out_of_order",
            "capture_gap", "window_shrinks", "min_window_bytes", "retx_fast", "retx_spurious",
            "retx_other", "ack_rtt_median_ms", "ack_rtt_max_ms");
    for (size_t i = 0; i < t->n; i++) {
        const tcpwm_flow_view *v = &t->heap[i];
        const tcpwm_flow_stats *s = &v->stats;

        flowtext_format(flow, v, 0);
        if (s->has_window)
            snprintf(minwin, sizeof minwin, "%" PRIu32, s->min_window);
        else
            snprintf(minwin, sizeof minwin, "-");
        rtt_ms(median, sizeof median, s->ack_rtt_median_ns);
        rtt_ms(max, sizeof max, s->ack_rtt_max_ns);
        fprintf(f,
                "%4zu  %-*s %10" PRIu32 " %11" PRIu64 " %8" PRIu32 " %9" PRIu32 " %12" PRIu32
                " %11" PRIu32 " %14" PRIu32 " %16s %9" PRIu32 " %13" PRIu32 " %10" PRIu32
                " %17s %14s\n",
                i + 1, width, flow, s->packets, top_loss_events(s), s->missing, s->duplicate,
                s->out_of_order, s->capture_gap, s->window_shrink, minwin, s->retx_fast,
                s->retx_spurious, s->retx_other, median, max);
    }
}

void top_ends_cb(void *ctx, const tcpwm_flow_view *flow)
{
    top_ends *e = ctx;

    e->left++;
    if (e->t != NULL)
        top_offer(e->t, flow);
}
