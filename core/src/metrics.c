/* SPDX-License-Identifier: MIT */
/* Histogram bounds and observation, and the eviction-reason labels.
 *
 * Buckets follow Prometheus' `le` (less or equal) convention: an
 * observation equal to a bound belongs to that bound's bucket. Counts are
 * kept per bucket (not cumulative) so an observation is one increment;
 * the exposition writer accumulates them. */
#include "tcpwm/metrics.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* 2^6 .. 2^24 bytes: from a fraction of a segment to a whole window of
 * the largest scaled size in common use. */
const uint64_t tcpwm_gap_bounds[TCPWM_GAP_BUCKETS] = {
    64,    128,    256,    512,    1024,    2048,    4096,    8192,    16384,    32768,
    65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216,
};

/* 100 us .. 10 s in 1-2.5-5 steps (the Prometheus client defaults widened
 * downwards for LAN retransmissions). In nanoseconds, so that comparisons
 * with observed capture-time differences are exact. */
#define TCPWM__US 1000LL
#define TCPWM__MS 1000000LL
#define TCPWM__S 1000000000LL
const int64_t tcpwm_fill_bounds_ns[TCPWM_FILL_BUCKETS] = {
    100 * TCPWM__US,  250 * TCPWM__US,  500 * TCPWM__US, 1 * TCPWM__MS,
    2500 * TCPWM__US, 5 * TCPWM__MS,    10 * TCPWM__MS,  25 * TCPWM__MS,
    50 * TCPWM__MS,   100 * TCPWM__MS,  250 * TCPWM__MS, 500 * TCPWM__MS,
    1 * TCPWM__S,     2500 * TCPWM__MS, 5 * TCPWM__S,    10 * TCPWM__S,
};

/* The hole-fill bounds with 50 us in front: a LAN round trip is often
 * below 100 us. */
const int64_t tcpwm_rtt_bounds_ns[TCPWM_RTT_BUCKETS] = {
    50 * TCPWM__US,   100 * TCPWM__US,  250 * TCPWM__US, 500 * TCPWM__US,
    1 * TCPWM__MS,    2500 * TCPWM__US, 5 * TCPWM__MS,   10 * TCPWM__MS,
    25 * TCPWM__MS,   50 * TCPWM__MS,   100 * TCPWM__MS, 250 * TCPWM__MS,
    500 * TCPWM__MS,  1 * TCPWM__S,     2500 * TCPWM__MS, 5 * TCPWM__S,
    10 * TCPWM__S,
};

void tcpwm_hist_gap_observe(tcpwm_hist_gap *h, uint64_t bytes)
{
    size_t i = 0;
    while (i < TCPWM_GAP_BUCKETS && bytes > tcpwm_gap_bounds[i])
        i++;
    if (i < TCPWM_GAP_BUCKETS)
        h->bucket[i]++;
    else
        h->inf++;
    h->count++;
    h->sum += bytes; /* unsigned: wraps after 2^64 bytes, never UB */
}

/* A duration into a histogram of nanosecond bounds (hole fills, RTTs).
 * Capture time can step backwards (merged or reordered captures); a
 * duration cannot be negative, so such a one took "no time". The sum
 * saturates instead of overflowing (signed overflow is UB): it reaches
 * INT64_MAX only after ~292 years of accumulated time. */
static void observe_ns(const int64_t *bounds, size_t n, uint64_t *bucket, uint64_t *inf,
                       uint64_t *count, int64_t *sum_ns, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    /* The bucket's index is how many bounds lie below ns. A binary search
     * whose steps depend only on n (each step a conditional move), not a
     * scan that stops at a data-dependent place: RTTs vary from packet to
     * packet and a branch predictor cannot learn where such a scan ends.
     * The answer lies in [lo, lo + len] throughout. */
    size_t lo = 0, len = n;
#if defined(__GNUC__)
#pragma GCC unroll 8
#endif
    while (len > 1) {
        size_t half = len / 2;
        lo += ns > bounds[lo + half - 1] ? half : 0;
        len -= half;
    }
    size_t i = lo + (size_t)(ns > bounds[lo]);
    if (i < n)
        bucket[i]++;
    else
        (*inf)++;
    (*count)++;
    if (*sum_ns > 0 && ns > INT64_MAX - *sum_ns)
        *sum_ns = INT64_MAX;
    else
        *sum_ns += ns;
}

void tcpwm_hist_fill_observe(tcpwm_hist_fill *h, int64_t ns)
{
    observe_ns(tcpwm_fill_bounds_ns, TCPWM_FILL_BUCKETS, h->bucket, &h->inf, &h->count,
               &h->sum_ns, ns);
}

void tcpwm_hist_rtt_observe(tcpwm_hist_rtt *h, int64_t ns)
{
    observe_ns(tcpwm_rtt_bounds_ns, TCPWM_RTT_BUCKETS, h->bucket, &h->inf, &h->count,
               &h->sum_ns, ns);
}

static const char *const evict_labels[TCPWM_EVICT__COUNT] = {
#define TCPWM__EV_LABEL(name, label) [TCPWM_EVICT_##name] = label,
    TCPWM_EVICT_MAP(TCPWM__EV_LABEL)
#undef TCPWM__EV_LABEL
};

const char *tcpwm_evict_label(tcpwm_evict_reason r)
{
    if ((int)r < 0 || (int)r >= TCPWM_EVICT__COUNT)
        return NULL;
    return evict_labels[r];
}

const char *tcpwm_retx_label(tcpwm_retx_kind k)
{
    switch (k) {
    case TCPWM_RETX_FAST: return "fast";
    case TCPWM_RETX_SPURIOUS: return "spurious";
    case TCPWM_RETX_OTHER: return "other";
    case TCPWM_RETX_NONE: break;
    }
    return NULL;
}

/* The per-flow counters, by field (tcpwm/metrics.h). */
#define TCPWM__PER_FLOW_COUNTERS(XX)                                                          \
    XX(missing) XX(duplicate) XX(out_of_order) XX(capture_gap) XX(keepalive)                 \
    XX(zero_window_probe) XX(zero_window) XX(window_shrink) XX(right_edge_retreat)           \
    XX(scale_unknown) XX(conn_opened) XX(conn_closed) XX(dup_ack) XX(retransmissions[0])     \
    XX(retransmissions[1]) XX(retransmissions[2]) XX(reordered) XX(dsack)
_Static_assert(TCPWM_RETX_KINDS == 3, "TCPWM__PER_FLOW_COUNTERS lists every kind");

static int64_t sat_add(int64_t a, int64_t b)
{
    /* Both non-negative (observations are clamped at 0). */
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void add_buckets(uint64_t *to, const uint64_t *from, size_t n)
{
    for (size_t i = 0; i < n; i++)
        to[i] += from[i];
}

static void add_rtt(tcpwm_hist_rtt *to, const tcpwm_hist_rtt *from)
{
    add_buckets(to->bucket, from->bucket, TCPWM_RTT_BUCKETS);
    to->inf += from->inf;
    to->count += from->count;
    to->sum_ns = sat_add(to->sum_ns, from->sum_ns);
}

void tcpwm_metrics_add_per_flow(tcpwm_metrics *to, const tcpwm_metrics *from)
{
#define TCPWM__ADD(f) to->f += from->f;
    TCPWM__PER_FLOW_COUNTERS(TCPWM__ADD)
#undef TCPWM__ADD
    add_buckets(to->gap.bucket, from->gap.bucket, TCPWM_GAP_BUCKETS);
    to->gap.inf += from->gap.inf;
    to->gap.count += from->gap.count;
    to->gap.sum += from->gap.sum;
    add_buckets(to->fill.bucket, from->fill.bucket, TCPWM_FILL_BUCKETS);
    to->fill.inf += from->fill.inf;
    to->fill.count += from->fill.count;
    to->fill.sum_ns = sat_add(to->fill.sum_ns, from->fill.sum_ns);
    add_rtt(&to->ack_rtt, &from->ack_rtt);
    add_rtt(&to->handshake_rtt, &from->handshake_rtt);
}

void tcpwm_metrics_clear_per_flow(tcpwm_metrics *m)
{
#define TCPWM__CLEAR(f) m->f = 0;
    TCPWM__PER_FLOW_COUNTERS(TCPWM__CLEAR)
#undef TCPWM__CLEAR
    memset(&m->gap, 0, sizeof m->gap);
    memset(&m->fill, 0, sizeof m->fill);
    memset(&m->ack_rtt, 0, sizeof m->ack_rtt);
    memset(&m->handshake_rtt, 0, sizeof m->handshake_rtt);
}
