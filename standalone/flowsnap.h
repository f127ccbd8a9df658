/* SPDX-License-Identifier: MIT */
/* The hand-off of GET /flows between the HTTP thread and the capture
 * thread.
 *
 * The flow table belongs to the capture thread (the monitor is
 * single-threaded), and copying all of it for every /metrics snapshot
 * would cost the capture O(flows) every 50 ms. So a /flows request is a
 * question put to the capture thread: the HTTP thread posts it and waits;
 * the capture thread, between two batches of packets, ranks the table in
 * one pass (top.c's heap: O(flows log N) time, O(N) memory), hands the N
 * flow views over and wakes the HTTP thread, which renders them outside
 * any lock. The answer is the table at one instant of the capture, as
 * consistent as a /metrics snapshot; the HTTP thread never reads the
 * table. The capture thread only looks at an atomic flag when nobody
 * asks, and holds the mutex only to take the question and to hand over a
 * pointer: it never waits on a request.
 *
 * One question at a time: a second request waits for the first to be
 * answered. A question the capture thread does not answer within
 * FLOWSNAP_WAIT_MS (it is stopping, or stuck) fails. */
#ifndef TCPWM_CLI_FLOWSNAP_H
#define TCPWM_CLI_FLOWSNAP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwm/monitor.h"

#include "top.h"

/* How long a request waits for the capture thread. It answers within one
 * turn of its loop: at most a wake-up period when idle (live.h,
 * LIVE_IDLE_WAKE_MS) plus one batch and the ranking itself. */
#define FLOWSNAP_WAIT_MS 5000

/* An answer: the flows ranked, worst first, and the table around them. */
typedef struct flowsnap_answer {
    tcpwm_flow_view *flows; /* n views, malloc'ed: the receiver frees them */
    size_t n;
    uint64_t in_table; /* flows in the table then */
    uint64_t left;     /* flows that had left the table before */
    int64_t time_ns;   /* the capture clock then */
} flowsnap_answer;

typedef struct flowsnap {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* a question was answered or given up, or closed */
    atomic_bool pending; /* a question waits: the capture thread's only look */
    bool busy;           /* under mu: a question is out */
    bool closed;         /* under mu: the capture thread answers no more */
    uint64_t asked;      /* under mu: number of the latest question */
    uint64_t answered;   /* under mu: number of the question ans answers */
    uint32_t want;       /* under mu: N of the latest question */
    top_by by;           /* under mu: its ranking */
    flowsnap_answer ans; /* under mu */
} flowsnap;

/* 0, or -1 (the mutex or condition variable could not be made). */
int flowsnap_init(flowsnap *s);
void flowsnap_destroy(flowsnap *s);

/* HTTP thread: the want (>= 1) worst flows ranked by by (top.h's
 * order). 0 with *out filled (free out->flows), or -1: no answer (the
 * capture thread is stopping or did not answer in time). */
int flowsnap_query(flowsnap *s, uint32_t want, top_by by, flowsnap_answer *out);

/* Capture thread, once per turn of its loop: answer the question that
 * waits, if any, from the monitor as it is now. time_ns: the capture
 * clock; left: flows that left the table so far. */
void flowsnap_serve(flowsnap *s, const tcpwm_monitor *m, int64_t time_ns, uint64_t left);

/* Capture thread, when it stops capturing: questions waiting now or
 * asked later fail at once. */
void flowsnap_close(flowsnap *s);

#endif
