/* SPDX-License-Identifier: MIT */
/* --top N: the N worst flows over the whole replay, printed as a table at
 * the end; worst by loss events (missing + duplicate + out-of-order; see
 * top_loss_events), by retransmissions or by ACK RTT (--top-by, top_by).
 * Flows that left the table earlier (expiry, eviction, port reuse) count
 * too: feed them from tcpwm_monitor_on_flow_end() and the rest from
 * tcpwm_monitor_foreach_flow() at the end. Memory is O(N): a min-heap
 * keeps the best N seen so far. GET /flows and --flows-json rank the same
 * way.
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

/* What ranks a flow first; the ties are broken as above. */
typedef enum top_by {
    TOP_BY_LOSS = 0,        /* more loss events (top_loss_events) */
    TOP_BY_RETRANSMISSIONS, /* more retransmissions, fast + spurious + other */
    TOP_BY_RTT,             /* larger ACK RTT median estimate, then larger
                             * maximum; flows without a sample last */
} top_by;

/* The ranking's name, as --top-by and /flows?by= take it and the flows
 * document's "order" says it: "loss", "retransmissions", "rtt". */
const char *top_by_name(top_by by);

/* The ranking named s. 0, or -1 for another name. */
int top_by_parse(const char *s, top_by *by);

/* The names top_by_parse takes, for a usage message. */
#define TOP_BY_NAMES "loss, retransmissions or rtt"

typedef struct top {
    size_t want;           /* N */
    top_by by;             /* the ranking */
    size_t n;              /* flows kept, <= want */
    tcpwm_flow_view *heap; /* min-heap: heap[0] is the weakest kept */
    uint64_t seen;         /* flows offered */
} top;

/* The loss events of a flow, by which it ranks: missing + duplicate +
 * out_of_order, as the README's loss ratio counts them (a capture gap was
 * counted once already, as missing, when its hole opened). */
uint64_t top_loss_events(const tcpwm_flow_stats *s);

/* The retransmissions of a flow, of every kind Wireshark gives
 * (docs/semantics.md 7, rule 3): fast + spurious + other. */
uint64_t top_retransmissions(const tcpwm_flow_stats *s);

/* 0, or TCPWM_ENOMEM. */
int top_init(top *t, size_t want, top_by by);
void top_free(top *t);

/* A tcpwm_flow_end_cb: offer one flow (ctx is the top). */
void top_offer(void *ctx, const tcpwm_flow_view *flow);

/* Flows leaving the monitor's table (tcpwm_monitor_on_flow_end(m,
 * top_ends_cb, &ends)): counted, for the flows document's "flows_left",
 * and offered to the table of --top when there is one. Both belong to the
 * thread that feeds the monitor, or, while a replay runs the analysis on
 * its own thread (offload.h), to that thread: read them after
 * offload_stop(). */
typedef struct top_ends {
    top *t;        /* NULL without --top */
    uint64_t left; /* flows that left so far */
} top_ends;
void top_ends_cb(void *ctx, const tcpwm_flow_view *flow);

/* Sort the kept flows in place, best first: heap[0..n) is then the
 * ranking (--flows-json and /flows read it). */
void top_sort(top *t);

/* Print the table (best first). Sorts the kept flows in place. */
void top_print(top *t, FILE *f);

#endif
