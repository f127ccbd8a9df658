/* SPDX-License-Identifier: MIT */
/* Holes: sequence ranges [start, end) below a side's `next` that the
 * capture has not seen. A side's holes form a list sorted by start, which
 * is also their opening order (holes only open at `next`, which only
 * grows), so the head is both the lowest and the oldest. Records come
 * from one pool for all flows. */
#ifndef TCPWM_HOLES_H
#define TCPWM_HOLES_H

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

typedef struct tcpwm__hole {
    uint32_t start, end; /* [start, end) in serial arithmetic */
    int64_t opened_ns;   /* capture time the hole opened */
    uint32_t prev, next; /* list links within one side: next is TCPWM__NIL at the
                            tail; prev is the previous hole, the head's the tail */
} tcpwm__hole;

typedef struct tcpwm__hole_pool {
    tcpwm__pool records; /* of tcpwm__hole */
} tcpwm__hole_pool;

/* What a hole operation did, for the caller to count. */
typedef struct tcpwm__hole_report {
    uint32_t forgotten; /* holes dropped by a cap */
    uint32_t touched;   /* holes a fill overlapped */
    int64_t oldest_ns;  /* fill: largest (now - opened) among them */
} tcpwm__hole_report;

void tcpwm__holes_init(tcpwm__hole_pool *p, uint32_t limit);
void tcpwm__holes_destroy(tcpwm__hole_pool *p);
size_t tcpwm__holes_memory(const tcpwm__hole_pool *p);

/* Opens [start, end) at the top of h's list, forgetting the oldest hole
 * when h already has max_per_side or the pool is exhausted. */
void tcpwm__holes_open(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t start, uint32_t end,
                       int64_t now_ns, uint32_t max_per_side, tcpwm__hole_report *rep);

/* Closes the parts of h's holes that [seq, end) covers. fill_cb is called
 * with the age of each hole touched (for the fill-time histogram). A hole
 * split in two keeps only its lower part when h already has max_per_side
 * holes or the pool is exhausted (the upper part is forgotten). */
void tcpwm__holes_fill(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t seq, uint32_t end,
                       int64_t now_ns, uint32_t max_per_side,
                       void (*fill_cb)(void *ctx, int64_t age_ns), void *ctx,
                       tcpwm__hole_report *rep);

/* Forgets the holes that start more than max_distance bytes below `next`:
 * beyond 2^31 serial arithmetic could no longer order them. */
void tcpwm__holes_drop_far(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t max_distance,
                           tcpwm__hole_report *rep);

/* Closes every hole of h that ends at or before ack; returns how many. */
uint32_t tcpwm__holes_acked(tcpwm__hole_pool *p, tcpwm__half *h, uint32_t ack);

/* The last (highest, newest) of h's holes, or TCPWM__NIL: the head's
 * `prev` (a side keeps only its head, flow.h). */
uint32_t tcpwm__holes_tail(const tcpwm__hole_pool *p, const tcpwm__half *h);

/* Releases all of h's holes. */
void tcpwm__holes_clear(tcpwm__hole_pool *p, tcpwm__half *h);

#endif
