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

static uint64_t loss(const tcpwm_flow_stats *s)
{
    return top_loss_events(s);
}

#define CMP(a, b) (((a) > (b)) - ((a) < (b)))

/* < 0 when a ranks above b (is printed first). A total order on
 * everything the table shows, so the result is deterministic. */
static int rank(const tcpwm_flow_view *a, const tcpwm_flow_view *b)
{
    const tcpwm_flow_stats *x = &a->stats, *y = &b->stats;
    uint32_t wa = x->has_window ? x->min_window : UINT32_MAX;
    uint32_t wb = y->has_window ? y->min_window : UINT32_MAX;
    int c;

    if ((c = CMP(loss(y), loss(x))) != 0)
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

int top_init(top *t, size_t want)
{
    memset(t, 0, sizeof *t);
    t->want = want;
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
static void sift_down(tcpwm_flow_view *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, low = i;
        tcpwm_flow_view tmp;

        if (l < n && rank(&h[l], &h[low]) > 0)
            low = l;
        if (r < n && rank(&h[r], &h[low]) > 0)
            low = r;
        if (low == i)
            return;
        tmp = h[i];
        h[i] = h[low];
        h[low] = tmp;
        i = low;
    }
}

static void sift_up(tcpwm_flow_view *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        tcpwm_flow_view tmp;

        if (rank(&h[i], &h[parent]) <= 0)
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
        sift_up(t->heap, t->n);
        t->n++;
        return;
    }
    if (rank(flow, &t->heap[0]) < 0) {
        t->heap[0] = *flow;
        sift_down(t->heap, t->n, 0);
    }
}

static int by_rank(const void *a, const void *b)
{
    return rank(a, b);
}

void top_sort(top *t)
{
    qsort(t->heap, t->n, sizeof *t->heap, by_rank);
}

void top_print(top *t, FILE *f)
{
    char flow[FLOWTEXT_MAX], minwin[16];
    int width = (int)strlen("flow");

    top_sort(t);
    for (size_t i = 0; i < t->n; i++) {
        flowtext_format(flow, &t->heap[i], 0);
        if ((int)strlen(flow) > width)
            width = (int)strlen(flow);
    }
    fprintf(f,
            "top %zu of %" PRIu64 " flows by loss events (missing + duplicate + out_of_order; "
            "capture_gap: holes the capture missed, not lost in the network):\n",
            t->n, t->seen);
    fprintf(f, "%4s  %-*s %10s %11s %8s %9s %12s %11s %14s %16s\n", "#", width, "flow", "packets",
            "loss_events", "missing", "duplicate", "out_of_order", "capture_gap", "window_shrinks",
            "min_window_bytes");
    for (size_t i = 0; i < t->n; i++) {
        const tcpwm_flow_view *v = &t->heap[i];
        const tcpwm_flow_stats *s = &v->stats;

        flowtext_format(flow, v, 0);
        if (s->has_window)
            snprintf(minwin, sizeof minwin, "%" PRIu32, s->min_window);
        else
            snprintf(minwin, sizeof minwin, "-");
        fprintf(f,
                "%4zu  %-*s %10" PRIu32 " %11" PRIu64 " %8" PRIu32 " %9" PRIu32 " %12" PRIu32
                " %11" PRIu32 " %14" PRIu32 " %16s\n",
                i + 1, width, flow, s->packets, loss(s), s->missing, s->duplicate, s->out_of_order,
                s->capture_gap, s->window_shrink, minwin);
    }
}
