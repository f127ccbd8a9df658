/* SPDX-License-Identifier: MIT */
/* --top N: the N flows with the most loss events (missing + duplicate +
 * out-of-order; see top_loss_events) over the whole replay, printed as a table at
 * the end. Flows that left the table earlier (expiry, eviction, port
 * reuse) count too: feed them from tcpwm_monitor_on_flow_end() and the
 * rest from tcpwm_monitor_foreach_flow() at the end. Memory is O(N): a
 * min-heap keeps the best N seen so far.
 *
 * Ties are broken so that the table never depends on table order: by
 * endpoints (VLANs, family, addresses, ports, encapsulation, ascending), then more
 * packets, more missing, duplicate, out-of-order, capture-gap and shrink
 * events, smaller minimum window, and finally the first and last packet
 * times. */
#ifndef TCPWM_CLI_TOP_H
#define TCPWM_CLI_TOP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tcpwm/monitor.h"

typedef struct top {
    size_t want;           /* N */
    size_t n;              /* flows kept, <= want */
    tcpwm_flow_view *heap; /* min-heap: heap[0] is the weakest kept */
    uint64_t seen;         /* flows offered */
} top;

/* The loss events of a flow, by which it ranks: missing + duplicate +
 * out_of_order, as the README's loss ratio counts them (a capture gap was
 * counted once already, as missing, when its hole opened). */
uint64_t top_loss_events(const tcpwm_flow_stats *s);

/* 0, or TCPWM_ENOMEM. */
int top_init(top *t, size_t want);
void top_free(top *t);

/* A tcpwm_flow_end_cb: offer one flow (ctx is the top). */
void top_offer(void *ctx, const tcpwm_flow_view *flow);

/* Sort the kept flows in place, best first: heap[0..n) is then the
 * ranking (--flows-json and /flows read it). */
void top_sort(top *t);

/* Print the table (best first). Sorts the kept flows in place. */
void top_print(top *t, FILE *f);

#endif
